import { existsSync } from 'node:fs';
import { JourneyError } from '../errors.js';
import { didYouMean } from '../project/did-you-mean.js';
import type { Project } from '../project/model.js';
import { openStore } from '../store/open.js';
import { compileOptionsFor } from './options.js';
import { countSegment, explainSegment, printSegment, sampleSegment, type SampleRow } from './run.js';
import type { SqlParam } from './sql/nodes.js';

export interface SegmentInspection {
  segment: string;
  description: string | null;
  now: string;
  count: number;
  ms: number;
  sample?: SampleRow[];
  sql?: { text: string; params: SqlParam[] };
  plan?: string[];
}

export interface InspectOptions {
  now: Date;
  storePath: string;
  sample?: number;
  sql?: boolean;
  explain?: boolean;
}

/** What `journey segment NAME` shows: the count, and on request a sample, the SQL and the query plan. */
export function inspectSegment(project: Project, name: string, opts: InspectOptions): SegmentInspection {
  const segment = project.segments.get(name);
  if (!segment) {
    const guess = didYouMean(name, project.segments.keys());
    throw new JourneyError(`unknown segment '${name}'`, { hint: guess ? `did you mean '${guess}'?` : `segments: ${[...project.segments.keys()].join(', ')}` });
  }
  if (!existsSync(opts.storePath)) {
    throw new JourneyError(`no store at ${opts.storePath}`, { hint: 'import the shop data first: journey import customers FILE (and orders, order-items, ...)' });
  }
  const compile = compileOptionsFor(project, opts.now);
  const db = openStore(opts.storePath);
  try {
    const { count, ms } = countSegment(db, name, compile);
    const out: SegmentInspection = { segment: name, description: segment.description, now: opts.now.toISOString(), count, ms };
    if (opts.sample) out.sample = sampleSegment(db, name, compile, opts.sample);
    if (opts.sql || opts.explain) {
      const printed = printSegment(name, compile, db.dialect);
      out.sql = { text: printed.sql, params: printed.params };
    }
    if (opts.explain) out.plan = explainSegment(db, name, compile);
    return out;
  } finally {
    db.close();
  }
}
