import type { PendingDiagnostic } from '../diagnostic.js';
import type { Project } from '../model.js';

/** What every check can see: the built project, and what the loader could tell about the rest. */
export interface CheckContext {
  project: Project;
  /** false when journey.config.yaml has errors: checks of references into it would only add noise. */
  configUsable: boolean;
  /** Segment names declared anywhere, including in files that failed the schema; null outside a project, where they cannot be known. */
  segmentNames: Set<string> | null;
}

export interface Finding {
  file: string;
  diagnostic: PendingDiagnostic;
}
