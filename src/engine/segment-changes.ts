/**
 * Segment edits as changes. A journey's file may be untouched while a segment it
 * uses (its trigger, a condition, or a segment one of those includes) is edited, and
 * that changes who the journey targets. A run records the segment versions each
 * journey ran with; the plan compares the files with them and shows, per changed
 * segment, which condition changed and who would join and leave, by compiling both
 * versions to SQL and diffing the member sets.
 */
import { createHash } from 'node:crypto';
import { parseSegmentDefinition } from '../project/load-project.js';
import type { Journey, Project, Segment } from '../project/model.js';
import { journeyRules, ruleNodes } from '../project/rule-walk.js';
import { compileSegment, type CompileOptions } from '../segments/compile.js';
import { printerFor } from '../segments/run.js';
import type { SqlParam } from '../segments/sql/nodes.js';
import type { StoreDb } from '../store/db.js';
import { countMembers, diffMembers, recordedSegments, type RecordedSegment, type SegmentUse } from '../store/segment-versions.js';

/** One edit of a rule: where, and the value before and after as written (null: absent). */
export interface RuleEdit {
  path: string;
  before: string | null;
  after: string | null;
}

export type SegmentChange = {
  segment: string;
  /** `trigger`, `condition`, or `inside:<segment>`. */
  usedAs: string;
  /** The version the last run used. */
  recordedVersion: number | null;
} & (
  | {
      status: 'changed';
      /** The segment's own rule edits (empty when only segments it includes changed). */
      rule: RuleEdit[];
      /** Segments it includes (directly or further down) that changed, appeared or went away. */
      through: string[];
      /** Against the recorded version; null when that version could not be compiled (see note). */
      joining: { count: number; sample: string[] } | null;
      leaving: { count: number; sample: string[] } | null;
      note: string | null;
    }
  /** Used now, not at the last run (an edit made a segment include it). */
  | { status: 'new'; members: number }
  /** Used at the last run, not now. */
  | { status: 'removed' }
  /** The last run recorded no segment versions (it predates them): nothing to compare with. */
  | { status: 'unrecorded' }
);

/** Whether a journey's segment changes make it a change to deploy. */
export const changesTargeting = (changes: readonly SegmentChange[]): boolean => changes.some((c) => c.status === 'changed' || c.status === 'new' || c.status === 'removed');

/** Sorted keys, so that reordering keys in the YAML is not a new version. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** A segment version's hash: its rule's, so that a new description is not a new version. */
export const segmentHash = (segment: Segment): string => createHash('sha256').update(canonical(segment.definition.rule)).digest('hex');

/** The segment names a rule tree names directly. */
function namedIn(segment: Segment): string[] {
  return [...ruleNodes(segment.rule)].flatMap((r) => (r.kind === 'segment' ? [r.name] : []));
}

/**
 * The segments a journey uses: its trigger, its conditions (exit_when, guards, branch
 * cases), and every segment those include, each with how the journey first reaches it.
 */
export function segmentUses(journey: Journey, segments: ReadonlyMap<string, Segment>): SegmentUse[] {
  const usedAs = new Map<string, string>();
  const queue: string[] = [];
  const reach = (name: string, as: string) => {
    if (usedAs.has(name) || !segments.has(name)) return;
    usedAs.set(name, as);
    queue.push(name);
  };
  if (journey.trigger.kind === 'segment') reach(journey.trigger.segment, 'trigger');
  for (const r of journeyRules(journey)) if (r.kind === 'segment') reach(r.name, 'condition');
  for (let i = 0; i < queue.length; i++) for (const inner of namedIn(segments.get(queue[i]!)!)) reach(inner, `inside:${queue[i]}`);
  return queue.map((name) => {
    const segment = segments.get(name)!;
    return { segment: name, hash: segmentHash(segment), definition: JSON.stringify(segment.definition), usedAs: usedAs.get(name)! };
  });
}

/** The segments a segment includes, directly or further down, in a map of segments. */
function included(name: string, segments: ReadonlyMap<string, Segment>): Set<string> {
  const out = new Set<string>();
  const queue = [name];
  for (let i = 0; i < queue.length; i++) {
    const s = segments.get(queue[i]!);
    if (!s) continue;
    for (const inner of namedIn(s)) if (inner !== name && !out.has(inner)) (out.add(inner), queue.push(inner));
  }
  return out;
}

/**
 * For one plan: the segment changes of each deployed journey, compared with the
 * versions its last run recorded. Member diffs are computed once per segment and set
 * of recorded versions, however many journeys use the segment.
 */
export function segmentPlanner(db: StoreDb, project: Project, compile: CompileOptions, sample: number): (journey: Journey) => SegmentChange[] {
  const printer = printerFor(db.dialect);
  const cache = new Map<string, SegmentChange>();
  const print = (name: string, segments: ReadonlyMap<string, Segment>) => {
    const { sql, params } = printer.print(compileSegment(name, { ...compile, segments }));
    return { sql, params: params as SqlParam[] };
  };

  return (journey) => {
    const recorded = recordedSegments(db, journey.id);
    const current = segmentUses(journey, project.segments);
    if (recorded === null) return current.map((u) => ({ segment: u.segment, usedAs: u.usedAs, recordedVersion: null, status: 'unrecorded' }));

    // The segments as the last run had them: the recorded versions over the current files.
    const old = new Map(project.segments);
    const unreadable = new Set<string>();
    for (const r of recorded.values()) {
      const parsed = parseRecorded(r);
      if (parsed) old.set(r.segment, parsed);
      else unreadable.add(r.segment);
    }
    const now = new Map(current.map((u) => [u.segment, u]));
    const edited = (name: string) => {
      const r = recorded.get(name);
      const u = now.get(name);
      return !r || !u || r.hash !== u.hash;
    };

    const changes: SegmentChange[] = [];
    for (const use of current) {
      const r = recorded.get(use.segment);
      if (!r) {
        changes.push({ segment: use.segment, usedAs: use.usedAs, recordedVersion: null, status: 'new', members: countMembers(db, print(use.segment, project.segments)) });
        continue;
      }
      const inner = new Set([...included(use.segment, project.segments), ...included(use.segment, old)]);
      const through = [...inner].filter(edited).sort();
      if (r.hash === use.hash && through.length === 0) continue;
      const key = `${use.segment}:${[use.segment, ...inner].map((s) => `${s}@${recorded.get(s)?.version ?? '-'}`).join(',')}`;
      let change = cache.get(key);
      if (!change) {
        change = compare(use, r, through, unreadable, old);
        cache.set(key, change);
      }
      changes.push({ ...change, usedAs: use.usedAs });
    }
    for (const r of recorded.values()) if (!now.has(r.segment)) changes.push({ segment: r.segment, usedAs: r.usedAs, recordedVersion: r.version, status: 'removed' });
    return changes;
  };

  function compare(use: SegmentUse, r: RecordedSegment, through: string[], unreadable: Set<string>, old: ReadonlyMap<string, Segment>): SegmentChange {
    const rule = diffRules((JSON.parse(r.definition) as { rule?: unknown }).rule, project.segments.get(use.segment)!.definition.rule);
    const base = { segment: use.segment, usedAs: use.usedAs, recordedVersion: r.version, status: 'changed' as const, rule, through };
    const broken = [use.segment, ...through].filter((s) => unreadable.has(s));
    if (broken.length > 0) {
      return { ...base, joining: null, leaving: null, note: `the recorded version of ${broken.join(', ')} no longer passes the language: who joins and leaves is not known` };
    }
    try {
      const diff = diffMembers(db, print(use.segment, old), print(use.segment, project.segments), sample);
      return { ...base, ...diff, note: null };
    } catch (err) {
      return { ...base, joining: null, leaving: null, note: `the recorded version cannot be compiled (${(err as Error).message}): who joins and leaves is not known` };
    }
  }
}

function parseRecorded(r: RecordedSegment): Segment | null {
  try {
    return parseSegmentDefinition(r.segment, JSON.parse(r.definition), `${r.segment} v${r.version}`);
  } catch {
    return null;
  }
}

// ---- a readable diff of two rules as written

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A value as flow YAML: [30d, 10mo], { count: 1, status: delivered }. */
export function flow(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`;
  if (isObject(v)) {
    const entries = Object.entries(v);
    return entries.length === 0 ? '{}' : `{ ${entries.map(([k, x]) => `${k}: ${flow(x)}`).join(', ')} }`;
  }
  if (typeof v === 'string') return /^[A-Za-z0-9_][A-Za-z0-9_.@+/-]*$/.test(v) && !/^(true|false|null|yes|no|on|off|~)$/i.test(v) && Number.isNaN(Number(v)) ? v : JSON.stringify(v);
  return String(v);
}

/**
 * Where two rules as written differ, as paths into the rule (`all[0].last_order_at.between`)
 * with the values before and after. Lists of conditions are matched by equality first,
 * so that adding a condition to an `all` does not show every later one as changed.
 */
export function diffRules(before: unknown, after: unknown, at = ''): RuleEdit[] {
  if (canonical(before) === canonical(after)) return [];
  const here = at || 'rule';
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => {
      const path = at ? `${at}.${k}` : k;
      if (!(k in after)) return [{ path, before: flow(before[k]), after: null }];
      if (!(k in before)) return [{ path, before: null, after: flow(after[k]) }];
      return diffRules(before[k], after[k], path);
    });
  }
  if (Array.isArray(before) && Array.isArray(after) && [...before, ...after].every(isObject)) return diffLists(before, after, here);
  return [{ path: here, before: flow(before), after: flow(after) }];
}

function diffLists(before: unknown[], after: unknown[], at: string): RuleEdit[] {
  const a = before.map(canonical);
  const b = after.map(canonical);
  // longest common subsequence of equal items
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const edits: RuleEdit[] = [];
  let i = 0;
  let j = 0;
  const gap = (i0: number, i1: number, j0: number, j1: number) => {
    // unmatched items between two equal ones: the first ones of each side are edits of each other
    const paired = Math.min(i1 - i0, j1 - j0);
    for (let k = 0; k < paired; k++) edits.push(...diffRules(before[i0 + k], after[j0 + k], `${at}[${j0 + k}]`));
    for (let k = i0 + paired; k < i1; k++) edits.push({ path: `${at}[${k}]`, before: flow(before[k]), after: null });
    for (let k = j0 + paired; k < j1; k++) edits.push({ path: `${at}[${k}]`, before: null, after: flow(after[k]) });
  };
  let gi = 0;
  let gj = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      gap(gi, i, gj, j);
      i++;
      j++;
      gi = i;
      gj = j;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) i++;
    else j++;
  }
  gap(gi, a.length, gj, b.length);
  return edits;
}
