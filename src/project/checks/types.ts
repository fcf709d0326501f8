import type { PendingDiagnostic } from '../diagnostic.js';
import type { Project } from '../model.js';

/** The sections of journey.config.yaml whose entries journeys name. */
export type ConfigSection = 'channels' | 'providers' | 'templates' | 'coupons';

/** What every check can see: the built project, and what the loader could tell about the rest. */
export interface CheckContext {
  project: Project;
  /** false when journey.config.yaml has errors: checks of references into it would only add noise. */
  configUsable: boolean;
  /** Segment names declared anywhere, including in files that failed the schema; null outside a project, where they cannot be known. */
  segmentNames: Set<string> | null;
  /**
   * Entries of the config that are declared but have schema errors (reported there), so
   * they are left out of the built config; a reference to one is not an unknown name.
   * 'all' when the whole section is unusable.
   */
  brokenConfig?: Partial<Record<ConfigSection, ReadonlySet<string> | 'all'>>;
  /**
   * The step ids of every version the store recorded, per journey id: what a
   * removed_steps entry can name. null when there is no store to ask; undefined when
   * not looked at (commands other than validate).
   */
  recordedSteps?: ReadonlyMap<string, ReadonlySet<string>> | null;
}

/** Whether a name the config declares was left out of the built config because its entry has errors. */
export function isBrokenEntry(ctx: CheckContext, section: ConfigSection, name: string): boolean {
  const broken = ctx.brokenConfig?.[section];
  return broken === 'all' || (broken !== undefined && broken.has(name));
}

export interface Finding {
  file: string;
  diagnostic: PendingDiagnostic;
}
