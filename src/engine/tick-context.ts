/**
 * What the tick's step handlers share: the tick's context, sets kept in temporary
 * tables for the length of a step, and the step report's tallies (each move past a
 * step counted where it happened, so that plan reports the same numbers).
 */
import type { Project } from '../project/model.js';
import { EN, type CompileOptions } from '../segments/compile.js';
import { col, select, type Expr, type Select, type SqlParam } from '../segments/sql/nodes.js';
import type { SqlPrinter } from '../segments/sql/printer.js';
import type { StoreDb } from '../store/db.js';
import { moveTo, type IdSet } from '../store/enrolments.js';
import { createTempTable, dropTempTable } from '../store/temp-tables.js';
import { dueRange } from '../store/tick-report.js';

export type DeferReason = 'quiet_hours' | 'send_window' | 'frequency_cap';

/**
 * What a tick did at one step. `journey plan` runs the tick and rolls it back, so it
 * reports these same numbers; the journey's counts are their sums.
 */
export interface StepTick {
  step: string;
  /** Outbox rows written: queued for delivery. Sent is only what a provider later accepts. */
  queued: number;
  /** Moved past the step without its action. */
  skipped: number;
  /** Why, each reason once: when, not_reachable:<channel>, frequency_cap. */
  skips: { reason: string; count: number }[];
  /** Held at the step until a policy allows the send. */
  deferred: number;
  /** Why and until when (the earliest and latest due time of the customers deferred). */
  deferrals: { reason: DeferReason; count: number; earliest: string; latest: string }[];
  /** Went on to another step after the step's action (a send: the queued). */
  moved: number;
  /** Left the journey while at the step: exit_when. */
  exited: number;
  /** Finished the journey at the step: an exit step, or the last step done or skipped. */
  completed: number;
  /** Test mode: of the queued, the copies for test addresses (and syncs to a test profile). */
  testCopies?: number;
}

export interface Ctx {
  db: StoreDb;
  /** Whether sends render their messages (TickOptions.render). */
  render: boolean;
  project: Project;
  compile: CompileOptions;
  printer: SqlPrinter;
  now: number;
  date: Date;
  /** Temporary tables kept during the current step, dropped when it is done. */
  kept: Set<string>;
}

export const print = (ctx: Ctx, q: Select): IdSet => {
  const { sql, params } = ctx.printer.print(q);
  return { sql, params: params as SqlParam[] };
};

/** A set kept in a temporary table, usable as SQL text and as a condition of the syntax tree. */
export interface Kept extends IdSet {
  table: string;
}

/** Keeps a set as it is now, so that later statements in the step do not change what it holds. */
export function keep(ctx: Ctx, name: string, set: IdSet): Kept {
  createTempTable(ctx.db, name, set.sql, set.params);
  ctx.kept.add(name);
  return { sql: `SELECT id FROM temp.${name}`, params: [], table: name };
}

/** Drops the temporary tables of the sets kept so far. */
export function release(ctx: Ctx): void {
  for (const t of ctx.kept) dropTempTable(ctx.db, t);
  ctx.kept.clear();
}

/** en.id IN (the kept set). */
export function inKept(set: Kept): Expr {
  return { kind: 'in_query', expr: col(EN, 'id'), query: select({ columns: [{ expr: col('k', 'id'), alias: 'id' }], from: { kind: 'cte_ref', name: set.table, alias: 'k' } }), negated: false };
}

export const emptyStep = (step: string): StepTick => ({ step, queued: 0, skipped: 0, skips: [], deferred: 0, deferrals: [], moved: 0, exited: 0, completed: 0 });


/** Moves a set past the step without its action (moveTo with outcome skipped), counted by reason. */
export function skipOn(ctx: Ctx, tally: StepTick, set: IdSet, target: string | null, reason: string): number {
  const n = moveTo(ctx.db, set, target, ctx.now, 'skipped', reason);
  if (n === 0) return 0;
  tally.skipped += n;
  if (target === null) tally.completed += n;
  const s = tally.skips.find((x) => x.reason === reason);
  if (s) s.count += n;
  else tally.skips.push({ reason, count: n });
  return n;
}

/** Counts a deferral and reads when the deferred are due again (a step's passes merge into one entry per reason). */
export function countDeferral(ctx: Ctx, tally: StepTick, reason: DeferReason, set: IdSet, n: number): void {
  const range = n > 0 ? dueRange(ctx.db, set) : null;
  if (!range) return;
  tally.deferred += n;
  const iso = (t: number) => new Date(t).toISOString();
  const d = tally.deferrals.find((x) => x.reason === reason);
  if (!d) tally.deferrals.push({ reason, count: n, earliest: iso(range.earliest), latest: iso(range.latest) });
  else {
    d.count += n;
    if (range.earliest < Date.parse(d.earliest)) d.earliest = iso(range.earliest);
    if (range.latest > Date.parse(d.latest)) d.latest = iso(range.latest);
  }
}

/** moveTo, counted in the step's report: on to another step, or completed at the end. */
export function moveOn(ctx: Ctx, tally: StepTick, set: IdSet, target: string | null, outcome: string, detail: string | null = null): number {
  const n = moveTo(ctx.db, set, target, ctx.now, outcome, detail);
  if (target === null) tally.completed += n;
  else tally.moved += n;
  return n;
}
