import type { Duration, Journey, Policies, Project, Step, Target } from '../project/model.js';
import { buildStepGraph, type StepGraph } from '../project/step-graph.js';
import { compileEnrolmentRule, compileSegment, storedReachability, compileRule, EN, type CompileOptions } from '../segments/compile.js';
import { compileOptionsFor } from '../segments/options.js';
import { printerFor } from '../segments/run.js';
import { and, cmp, col, param, select, type Expr, type Select, type SqlParam } from '../segments/sql/nodes.js';
import type { SqlPrinter } from '../segments/sql/printer.js';
import type { StoreDb } from '../store/db.js';
import { nextAllowed } from '../time/windows.js';
import {
  assignVariant,
  count,
  deferByZone,
  testEnrolments,
  testSample,
  zonesOf,
  customerZone,
  finish,
  insertEnrolments,
  insertOutbox,
  insertSync,
  laterThan,
  markChecked,
  minus,
  moveTo,
  overCap,
  patchAttributes,
  recordConversions,
  replaceMemberships,
  setCursor,
  setDue,
  withVariant,
  type IdSet,
} from '../store/enrolments.js';
import { deployedJourneys, deployVersion, eventCursors, restartTrigger, type DeployedJourney } from '../store/journey-state.js';
import { createTempTable, dropTempTable } from '../store/temp-tables.js';
import { countByStep, dueRange } from '../store/tick-report.js';
import { eventHappened, type WaitForEvent } from '../store/wait-for.js';
import { fillContent, issueStepCoupons } from './content-step.js';
import { entryFor, nextCheckAt } from './entry.js';
import { sourceHash } from './plan.js';
import { segmentUses } from './segment-changes.js';
import { recordSegmentVersions } from '../store/segment-versions.js';
import { parseJourneyText } from '../project/load-project.js';
import { testModeOf, TEST_SKIP, TEST_SKIP_PREFIX } from '../project/test-mode.js';

export interface TickOptions {
  now: Date;
  /** Stop after this many passes over the due enrolments (a guard; a tick normally settles in a few). */
  maxRounds?: number;
  /** Called between steps: a long tick keeps its lock alive through it. */
  heartbeat?: () => void;
  /**
   * Render the messages' content (default true). `journey plan` runs the tick only for
   * its counts, which rendering does not change (a row that cannot render is still
   * queued, and then failed), so it skips the step's costliest part.
   */
  render?: boolean;
}

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

export interface JourneyTick {
  journey: string;
  version: number;
  entered: number;
  exited: number;
  /** Outbox rows written for delivery (not yet sent: see the delivery report). */
  queued: number;
  skipped: number;
  deferred: number;
  completed: number;
  converted: number;
  /** Per step, in the file's order (nested steps after the step that holds them). */
  steps: StepTick[];
  /**
   * Test mode's part of this tick, present when there was one: messages and syncs
   * written for test addresses (counted in queued too), and the sends and syncs that
   * did not go out because of test mode, by reason (counted in skipped too).
   */
  testMode?: { sent: number; skipped: Record<string, number> };
  /** A segment trigger checked at this tick: how many customers were in the segment. */
  members?: number;
}

export interface TickReport {
  now: string;
  journeys: JourneyTick[];
  rounds: number;
}

const MESSAGE_EVENT_KIND: ReadonlyMap<string, string> = new Map(Object.entries({
  email_delivered: 'delivered',
  email_opened: 'opened',
  email_clicked: 'clicked',
  email_bounced: 'bounced',
  email_unsubscribed: 'unsubscribed',
  email_spam_report: 'spam_report',
  sms_delivered: 'delivered',
  sms_clicked: 'clicked',
  sms_replied: 'replied',
  sms_failed: 'failed',
  message_delivered: 'delivered',
  message_failed: 'failed',
}));

/**
 * One tick: record the journeys' versions, enter customers, exit those who meet
 * exit_when, record conversions, then move every due enrolment on, step by step, until
 * each waits again. Each step of each journey is one transaction over the whole set of
 * enrolments at it: the outbox rows a send writes commit with the move past the send,
 * so a crash anywhere loses nothing and repeats nothing.
 */
export function runTick(db: StoreDb, project: Project, opts: TickOptions): TickReport {
  const now = opts.now.getTime();
  const compile = compileOptionsFor(project, opts.now);
  const printer = printerFor(db.dialect);
  const ctx: Ctx = { db, project, compile, printer, now, date: opts.now, kept: new Set(), render: opts.render !== false };
  const reports = new Map<string, JourneyTick>();
  const versions = deploy(ctx);
  const graphs = new Map(project.journeys.map((j) => [j.id, buildStepGraph(j)]));

  for (const journey of project.journeys) {
    const steps = graphs.get(journey.id)!.order.map((s) => emptyStep(s.id));
    const report: JourneyTick = { journey: journey.id, version: versions.get(journey.id)!, entered: 0, exited: 0, queued: 0, skipped: 0, deferred: 0, completed: 0, converted: 0, steps };
    reports.set(journey.id, report);
    if (!journey.enabled) {
      // a paused date journey catches up nothing of its pause when it resumes
      if (journey.trigger.kind === 'date') setCursor(db, journey.id, now);
      continue;
    }
    const entry = enter(ctx, journey, report.version);
    report.entered = entry.entered;
    if (entry.members !== null) report.members = entry.members;
    for (const [step, n] of exitWhen(ctx, journey, activeSet(journey))) stepOf(report, step).exited += n;
    report.converted = conversions(ctx, journey);
  }

  let rounds = 0;
  const maxRounds = opts.maxRounds ?? 64;
  for (; rounds < maxRounds; rounds++) {
    let moved = 0;
    for (const journey of project.journeys) {
      if (!journey.enabled) continue;
      const graph = graphs.get(journey.id)!;
      for (const step of graph.order) {
        moved += advance(ctx, journey, graph, step, stepOf(reports.get(journey.id)!, step.id));
        opts.heartbeat?.();
      }
    }
    if (moved === 0) break;
  }
  for (const r of reports.values()) {
    for (const k of ['exited', 'queued', 'skipped', 'deferred', 'completed'] as const) r[k] = r.steps.reduce((a, s) => a + s[k], 0);
    const testMode = testModeTally(r.steps);
    if (testMode) r.testMode = testMode;
  }
  return { now: opts.now.toISOString(), journeys: [...reports.values()], rounds: rounds + 1 };
}

/** Test mode's part of a journey's tick: copies to test targets, and skips for a test_mode: reason. */
function testModeTally(steps: readonly StepTick[]): JourneyTick['testMode'] | null {
  const sent = steps.reduce((a, s) => a + (s.testCopies ?? 0), 0);
  const skipped: Record<string, number> = {};
  for (const s of steps) for (const k of s.skips) if (k.reason.startsWith(TEST_SKIP_PREFIX)) skipped[k.reason] = (skipped[k.reason] ?? 0) + k.count;
  return sent > 0 || Object.keys(skipped).length > 0 ? { sent, skipped } : null;
}

const emptyStep = (step: string): StepTick => ({ step, queued: 0, skipped: 0, skips: [], deferred: 0, deferrals: [], moved: 0, exited: 0, completed: 0 });

/** A step's report (a step no longer in the file gets one too, appended). */
function stepOf(report: JourneyTick, step: string): StepTick {
  let s = report.steps.find((t) => t.step === step);
  if (!s) report.steps.push((s = emptyStep(step)));
  return s;
}

/** Moves a set past the step without its action (moveTo with outcome skipped), counted by reason. */
function skipOn(ctx: Ctx, tally: StepTick, set: IdSet, target: string | null, reason: string): number {
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
function countDeferral(ctx: Ctx, tally: StepTick, reason: DeferReason, set: IdSet, n: number): void {
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
function moveOn(ctx: Ctx, tally: StepTick, set: IdSet, target: string | null, outcome: string, detail: string | null = null): number {
  const n = moveTo(ctx.db, set, target, ctx.now, outcome, detail);
  if (target === null) tally.completed += n;
  else tally.moved += n;
  return n;
}

interface Ctx {
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

const print = (ctx: Ctx, q: Select): IdSet => {
  const { sql, params } = ctx.printer.print(q);
  return { sql, params: params as SqlParam[] };
};

/** In one IMMEDIATE transaction: a concurrent import waits for it instead of failing midway. */
function atomically<T>(db: StoreDb, fn: () => T): T {
  db.begin();
  try {
    const out = fn();
    db.commit();
    return out;
  } catch (err) {
    db.rollback();
    throw err;
  }
}

/** A set kept in a temporary table, usable as SQL text and as a condition of the syntax tree. */
interface Kept extends IdSet {
  table: string;
}

/** Keeps a set as it is now, so that later statements in the step do not change what it holds. */
function keep(ctx: Ctx, name: string, set: IdSet): Kept {
  createTempTable(ctx.db, name, set.sql, set.params);
  ctx.kept.add(name);
  return { sql: `SELECT id FROM temp.${name}`, params: [], table: name };
}

/** Drops the temporary tables of the sets kept so far. */
function release(ctx: Ctx): void {
  for (const t of ctx.kept) dropTempTable(ctx.db, t);
  ctx.kept.clear();
}

/** en.id IN (the kept set). */
function inKept(set: Kept): Expr {
  return { kind: 'in_query', expr: col(EN, 'id'), query: select({ columns: [{ expr: col('k', 'id'), alias: 'id' }], from: { kind: 'cte_ref', name: set.table, alias: 'k' } }), negated: false };
}

// ---- versions, removed steps and journeys

function deploy(ctx: Ctx): Map<string, number> {
  const { db, project, now } = ctx;
  const before = deployedJourneys(db);
  const cursors = eventCursors(db);
  const startOf = (j: Journey) => (j.trigger.kind === 'custom_event' ? cursors.events : j.trigger.kind === 'order_status_changed' || j.trigger.kind === 'order_placed' ? cursors.statusChanges : 0);
  const versions = new Map<string, number>();
  for (const journey of project.journeys) {
    const version = deployVersion(db, { id: journey.id, source: journey.source, hash: sourceHash(journey.source), enabled: journey.enabled }, now, startOf(journey));
    versions.set(journey.id, version);
    recordSegmentVersions(db, journey.id, segmentUses(journey, project.segments), now);
    const previous = before.get(journey.id);
    if (previous && previous.version !== version) {
      relocateRemovedSteps(ctx, journey);
      // a new trigger starts afresh: no history floods in, a new segment is a first check
      const old = parseJourneyText(previous.source, `${journey.id} v${previous.version}`);
      if (!old || JSON.stringify(withoutPaths(old.trigger)) !== JSON.stringify(withoutPaths(journey.trigger))) restartTrigger(db, journey.id, startOf(journey));
    }
  }
  for (const gone of [...before.values()].filter((d) => !project.journeys.some((j) => j.id === d.id))) {
    atomically(db, () => {
      finish(db, { sql: `SELECT id FROM enrolments WHERE journey_id = ? AND status = 'active'`, params: [gone.id] }, 'exited', 'journey_removed', now);
      db.run('UPDATE journeys SET removed_at = ? WHERE id = ?', [now, gone.id]);
    });
  }
  return versions;
}

const withoutPaths = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x) => (k === 'path' ? undefined : x)));

/** Customers at a step an edit removed move to the step the author named, or exit (step_removed). */
function relocateRemovedSteps(ctx: Ctx, journey: Journey): void {
  const present = new Set(buildStepGraph(journey).nodes.keys());
  const stranded = ctx.db.all<{ step_id: string }>(`SELECT DISTINCT step_id FROM enrolments WHERE journey_id = ? AND status = 'active' AND step_id IS NOT NULL`, [journey.id]);
  atomically(ctx.db, () => {
    for (const { step_id: step } of stranded) {
      if (present.has(step)) continue;
      const set: IdSet = { sql: `SELECT id FROM enrolments WHERE journey_id = ? AND status = 'active' AND step_id = ?`, params: [journey.id, step] };
      const movedTo = journey.removedSteps[step];
      if (movedTo) moveTo(ctx.db, set, movedTo, ctx.now, 'moved', `step ${step} was removed`);
      else finish(ctx.db, set, 'exited', 'step_removed', ctx.now);
    }
  });
}

// ---- entry

/** Enrols the trigger's newcomers; a segment checked now also says its size (null otherwise). */
function enter(ctx: Ctx, journey: Journey, version: number): { entered: number; members: number | null } {
  const { db, now } = ctx;
  const deployed: DeployedJourney | null = deployedJourneys(db).get(journey.id) ?? null;
  // a segment trigger's first check records the members (and enters them only with backfill);
  // event triggers were given their starting cursor when the journey was deployed
  const state = journey.trigger.kind === 'segment' && deployed?.lastCheckAt == null ? null : deployed;
  const trigger = journey.trigger;
  const first = journey.steps[0]!.id;
  const test = testModeOf(journey, ctx.project.config) !== null;
  return atomically(db, () => {
    if (trigger.kind === 'segment') {
      const next = nextCheckAt(trigger, deployed?.lastCheckAt ?? null);
      if (next !== null && next > now) return { entered: 0, members: null };
      const members = print(ctx, compileSegment(trigger.segment, ctx.compile));
      const size = createTempTable(db, 'tick_members', members.sql, members.params);
      const entry = entryFor({ journey, deployed: state, now: ctx.date, compile: ctx.compile, startCursors: { events: 0, statusChanges: 0 }, membersTable: 'tick_members', test });
      let entered = 0;
      let notYet: IdSet | null = null;
      if (entry.kind === 'query') {
        keep(ctx, 'tick_candidates', print(ctx, { ...entry.query, limit: null }));
        entered = insertEnrolments(db, print(ctx, entry.query), { journeyId: journey.id, version, stepId: first, now, test }).count;
        // newcomers the per-tick cap kept out stay newcomers: they enter at a later tick
        notYet = {
          sql: `SELECT customer_id FROM temp.tick_candidates WHERE customer_id NOT IN (SELECT customer_id FROM enrolments WHERE journey_id = ? AND entered_at = ?)`,
          params: [journey.id, now],
        };
      }
      replaceMemberships(db, journey.id, 'tick_members', notYet, now);
      // newcomers a max_per_tick left out enter at the next tick, not at the next check
      const waiting = notYet ? db.get<{ n: number }>(`SELECT count(*) AS n FROM (${notYet.sql})`, notYet.params)!.n : 0;
      if (waiting === 0) markChecked(db, journey.id, now);
      release(ctx);
      dropTempTable(db, 'tick_members');
      return { entered, members: size };
    }
    const cursors = eventCursors(db);
    const entry = entryFor({ journey, deployed: state, now: ctx.date, compile: ctx.compile, startCursors: cursors, test });
    if (entry.kind !== 'query') return { entered: 0, members: null };
    const candidates = print(ctx, entry.query);
    const taken = createTempTable(db, 'tick_entrants', candidates.sql, candidates.params);
    const entered = insertEnrolments(db, { sql: `SELECT * FROM temp.tick_entrants`, params: [] }, { journeyId: journey.id, version, stepId: first, now, test }).count;
    // a date trigger's cursor is its last tick: a day with no tick after its `at` is caught up
    if (trigger.kind === 'date') setCursor(db, journey.id, now);
    else {
      // with max_per_tick the cursor stops after the last event taken; the rest wait for the next tick
      const upTo = trigger.kind === 'custom_event' ? cursors.events : cursors.statusChanges;
      const capped = journey.entry.maxPerTick !== null && taken >= journey.entry.maxPerTick;
      const last = db.get<{ p: number | null }>('SELECT max(position) AS p FROM temp.tick_entrants')?.p ?? upTo;
      setCursor(db, journey.id, capped ? last : upTo);
    }
    dropTempTable(db, 'tick_entrants');
    return { entered, members: null };
  });
}

// ---- exits and goals

function activeSet(journey: Journey): Expr {
  return and(cmp('=', col(EN, 'journey_id'), param(journey.id)), cmp('=', col(EN, 'status'), param('active')));
}

/** Customers who meet any exit_when rule leave, wherever they are (even mid-wait); how many, per step. */
function exitWhen(ctx: Ctx, journey: Journey, scope: Expr): Map<string, number> {
  if (journey.exitWhen.length === 0) return new Map();
  const rule = journey.exitWhen.length === 1 ? journey.exitWhen[0]! : { kind: 'any' as const, rules: journey.exitWhen, path: ['exit_when'] };
  const set = print(ctx, compileEnrolmentRule(rule, ctx.compile, scope));
  return atomically(ctx.db, () => {
    const kept = keep(ctx, 'tick_exit', set);
    const byStep = countByStep(ctx.db, kept);
    finish(ctx.db, kept, 'exited', 'exit_when', ctx.now);
    release(ctx);
    return byStep;
  });
}

function conversions(ctx: Ctx, journey: Journey): number {
  const goal = journey.goal;
  if (!goal || goal.kind !== 'order_placed') return 0;
  return atomically(ctx.db, () => recordConversions(ctx.db, journey.id, goal.within, goal.minTotal, ctx.now));
}

// ---- steps

function targetStep(target: Target | null, fallback: string | null): string | null {
  if (!target) return fallback;
  return target.kind === 'goto' ? target.step : (target.steps[0]?.id ?? fallback);
}

function advance(ctx: Ctx, journey: Journey, graph: StepGraph, step: Step, report: StepTick): number {
  const { db, now } = ctx;
  const node = graph.nodes.get(step.id)!;
  const next = step.next ?? node.fallthrough;
  // wait_for steps are looked at every tick (the event may have come); others when due
  const due = step.kind === 'wait_for' ? [] : [cmp('<=', col(EN, 'due_at'), param(now))];
  const scope = and(activeSet(journey), cmp('=', col(EN, 'step_id'), param(step.id)), ...due);
  const base = print(ctx, select({ columns: [{ expr: col(EN, 'id'), alias: 'id' }], from: { kind: 'table', table: 'enrolments', alias: EN }, where: scope }));
  if (count(db, base) === 0) return 0;
  report.exited += exitWhen(ctx, journey, scope).get(step.id) ?? 0;

  return atomically(db, () => {
    let group = keep(ctx, 'tick_group', base);
    let moved = count(db, group);
    if (moved === 0) return 0;
    if (step.when) {
      // the guard is looked at when the step is reached; a wait_for step seen again at a
      // later tick (armed: its due time is its deadline, not its arrival) is past it
      const arriving =
        step.kind === 'wait_for'
          ? keep(ctx, 'tick_arriving', { sql: `SELECT id FROM enrolments WHERE id IN (SELECT id FROM temp.tick_group) AND due_at = step_started_at`, params: [] })
          : group;
      const pass = keep(ctx, 'tick_pass', print(ctx, compileEnrolmentRule(step.when, ctx.compile, inKept(arriving))));
      const skipped = keep(ctx, 'tick_skip', minus(arriving, pass));
      skipOn(ctx, report, skipped, next, 'when');
      group = keep(ctx, 'tick_guarded', minus(group, skipped));
    }
    switch (step.kind) {
      case 'send':
        moved = send(ctx, journey, step, group, next, report);
        break;
      case 'wait': {
        const end = waitEnd(ctx, step);
        const later = keep(ctx, 'tick_later', laterThan(group, end.sql, end.params, now));
        setDue(db, later, end.sql, end.params, 'waiting', null, now);
        moved = moveOn(ctx, report, minus(group, later), next, 'waited');
        break;
      }
      case 'wait_for': {
        const happened = keep(ctx, 'tick_event', eventHappened(group, waitForEvent(step), now));
        moved = moveOn(ctx, report, happened, step.onEvent ?? next, 'event', step.event);
        const rest = keep(ctx, 'tick_rest', minus(group, happened));
        const deadline = { sql: `journey_shift(en.step_started_at, ?, ?)`, params: [step.timeout.amount, step.timeout.unit] };
        const waiting = keep(ctx, 'tick_waiting', laterThan(rest, deadline.sql, deadline.params, now));
        moved += moveOn(ctx, report, minus(rest, waiting), step.onTimeout ?? next, 'timeout', step.timeout.text);
        // newly arrived: look again at the deadline at the latest (and at every tick for the event)
        setDue(db, { sql: `SELECT id FROM temp.tick_waiting WHERE id IN (SELECT id FROM enrolments WHERE due_at <= ?)`, params: [now] }, deadline.sql, deadline.params, null, null, now);
        break;
      }
      case 'branch': {
        let remaining = group;
        moved = 0;
        step.cases.forEach((c, i) => {
          const taken = keep(ctx, `tick_case${i}`, print(ctx, compileEnrolmentRule(c.when, ctx.compile, inKept(remaining))));
          moved += moveOn(ctx, report, taken, targetStep(c.then, next), 'branched', `case ${i + 1}`);
          remaining = keep(ctx, `tick_rest${i + 1}`, minus(remaining, taken));
        });
        moved += moveOn(ctx, report, remaining, targetStep(step.otherwise, next), 'branched', 'else');
        break;
      }
      case 'split': {
        let upTo = 0;
        const variants = step.variants.map((v) => ({ name: v.name, upTo: (upTo += Math.round(v.weight * 100)) }));
        assignVariant(db, group, journey.id, step.id, variants);
        moved = 0;
        for (const v of step.variants) moved += moveOn(ctx, report, keep(ctx, 'tick_variant', withVariant(group, step.id, v.name)), targetStep(v.then, next), 'split', v.name);
        break;
      }
      case 'update': {
        // test mode changes nobody's real attributes: its enrolments pass the step unapplied
        const test = testPart(ctx, journey, group, 'tick_update_test');
        const live = test ? keep(ctx, 'tick_update_live', minus(group, test.set)) : group;
        patchAttributes(db, live, step.set);
        moved = moveOn(ctx, report, live, next, 'updated');
        if (test) moved += skipOn(ctx, report, test.set, next, TEST_SKIP.updateNotApplied);
        break;
      }
      case 'sync':
        moved = sync(ctx, journey, step, group, next, report);
        break;
      case 'exit':
        moved = finish(db, group, 'completed', step.reason, now);
        report.completed += moved;
        break;
      default: {
        const never: never = step;
        throw new Error(`unknown step ${JSON.stringify(never)}`);
      }
    }
    release(ctx);
    return moved;
  });
}

function waitEnd(ctx: Ctx, step: Extract<Step, { kind: 'wait' }>): { sql: string; params: SqlParam[] } {
  if (step.duration) {
    const base = step.from === 'entry' ? 'en.entered_at' : step.from === 'trigger' ? 'en.trigger_at' : 'en.step_started_at';
    return { sql: `journey_shift(${base}, ?, ?)`, params: [step.duration.amount, step.duration.unit] };
  }
  const zone = step.timezone === 'customer' ? customerZone(ctx.project.config.timezone) : { sql: '?', params: [step.timezone] };
  return { sql: `journey_next_time(en.step_started_at, ${zone.sql}, ?, ?)`, params: [...(zone.params as SqlParam[]), step.until!, step.days.join(',')] };
}

function waitForEvent(step: Extract<Step, { kind: 'wait_for' }>): WaitForEvent {
  const kind = MESSAGE_EVENT_KIND.get(step.event);
  if (kind) return { kind: 'message', event: kind, ofStep: step.of };
  if (step.event === 'order_placed') return { kind: 'order_placed' };
  if (step.event === 'order_status_changed') return { kind: 'order_status_changed', statuses: step.statuses, sameOrder: step.sameOrder };
  return { kind: 'custom', type: step.event, where: step.where, match: step.match };
}

/** Policies of a journey, each falling back to the project's default. */
export function policiesOf(project: Project, journey: Journey): Policies {
  const d = project.config.policies;
  return { quietHours: journey.policies.quietHours ?? d.quietHours, sendWindow: journey.policies.sendWindow ?? d.sendWindow, frequencyCap: journey.policies.frequencyCap ?? d.frequencyCap };
}

function durationMs(d: Duration): number {
  return d.amount * ({ m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, mo: 30 * 86_400_000, y: 365 * 86_400_000 } as const)[d.unit];
}

function send(ctx: Ctx, journey: Journey, step: Extract<Step, { kind: 'send' }>, group: Kept, next: string | null, report: StepTick): number {
  const { db, now, project } = ctx;
  let moved = 0;
  // consent, a valid address and no suppression, checked now: otherwise skipped, with the reason
  const reachable = storedReachability(step.channel, col(EN, 'customer_id'), ctx.compile) ?? {
    kind: 'in_query' as const,
    expr: col(EN, 'customer_id'),
    query: compileRule({ kind: 'reachable', channel: step.channel, path: [] }, ctx.compile),
    negated: false,
  };
  const ok = keep(ctx, 'tick_reachable', print(ctx, select({ columns: [{ expr: col(EN, 'id'), alias: 'id' }], from: { kind: 'table', table: 'enrolments', alias: EN }, where: and(inKept(group), reachable) })));
  const unreachable = keep(ctx, 'tick_unreachable', minus(group, ok));
  moved += skipOn(ctx, report, unreachable, next, `not_reachable:${step.channel}`);

  let sendable: Kept = ok;
  const policies = policiesOf(project, journey);
  if (policies.quietHours || policies.sendWindow) {
    const q = policies.quietHours;
    const w = policies.sendWindow;
    const policy = { quietFrom: q?.from ?? null, quietTo: q?.to ?? null, windowFrom: w?.from ?? null, windowTo: w?.to ?? null, windowDays: w?.days ?? [] };
    const fixedZone = [q?.timezone, w?.timezone].find((tz) => tz && tz !== 'customer');
    // every customer of a zone has the same next allowed instant: computed once per zone
    const zones = fixedZone ? [fixedZone] : zonesOf(db, sendable, project.config.timezone);
    const allowedIn = (tz: string) => {
      try {
        return nextAllowed(now, tz, policy);
      } catch {
        return nextAllowed(now, project.config.timezone, policy); // not a zone (imported before zones were checked)
      }
    };
    const dueByZone = new Map(zones.map((tz) => [tz, allowedIn(tz)]));
    const quiet = fixedZone
      ? (dueByZone.get(fixedZone)! > now ? sendable : null)
      : deferByZone(db, sendable, dueByZone, project.config.timezone, q ? 'quiet_hours' : 'send_window', now, 'tick_quiet');
    if (quiet === sendable) {
      countDeferral(ctx, report, q ? 'quiet_hours' : 'send_window', sendable, setDue(db, sendable, '?', [dueByZone.get(fixedZone!)!], 'deferred', q ? 'quiet_hours' : 'send_window', now));
      return moved;
    }
    if (quiet) {
      countDeferral(ctx, report, q ? 'quiet_hours' : 'send_window', quiet, count(db, quiet));
      sendable = keep(ctx, 'tick_send1', minus(sendable, quiet));
    }
  }
  const cap = policies.frequencyCap;
  // a cap on one channel limits only sends on that channel
  if (cap && (cap.channel === null || cap.channel === step.channel)) {
    const over = overCap(sendable, { max: cap.max, channel: cap.channel, per: typeof cap.per === 'string' ? cap.per : durationMs(cap.per), defaultZone: project.config.timezone }, now);
    const capped = keep(ctx, 'tick_capped', over.set);
    if (cap.onCap === 'skip') {
      moved += skipOn(ctx, report, capped, next, 'frequency_cap');
    } else {
      countDeferral(ctx, report, 'frequency_cap', capped, setDue(db, capped, over.until.sql, over.until.params, 'deferred', 'frequency_cap', now));
    }
    sendable = keep(ctx, 'tick_send2', minus(sendable, capped));
  }
  const channel = project.config.channels[step.channel];
  const provider = step.provider ?? channel?.provider ?? step.channel;
  const outbox = (set: IdSet, testRecipients: string[] | null) =>
    insertOutbox(db, set, {
      journeyId: journey.id,
      stepId: step.id,
      channel: step.channel,
      provider,
      template: step.template,
      addressField: ctx.compile.channelAddress(step.channel),
      testRecipients,
      data: step.data,
      now,
    });
  const test = testPart(ctx, journey, sendable, 'tick_send_test');
  if (test) {
    const recipients = test.mode?.recipients[step.channel] ?? null;
    const { sample, skipped } = testSplit(ctx, journey, step.id, test, recipients !== null, TEST_SKIP.noRecipient(step.channel));
    // test copies issue no coupon code: the team sees a TEST- code, the shop's codes stay unused
    const n = outbox(sample, recipients);
    if (ctx.render) fillContent(db, project, journey, step, sample, now, { testCopy: true });
    report.queued += n;
    report.testCopies = (report.testCopies ?? 0) + n;
    moved += moveOn(ctx, report, sample, next, 'sent', `${step.channel} ${step.template} to test ${recipients?.join(', ')}`);
    moved += skipTest(ctx, skipped, next, report);
    sendable = keep(ctx, 'tick_send_live', minus(sendable, test.set));
  }
  // content: a coupon pool that ran dry skips the send; the rest is rendered into the rows (engine/content-step.ts)
  const dry = issueStepCoupons(db, project, journey, step, sendable, now);
  if (dry && count(db, dry) > 0) {
    moved += skipOn(ctx, report, keep(ctx, 'tick_dry', dry), next, `coupon_pool_empty:${step.coupon}`);
    sendable = keep(ctx, 'tick_send3', minus(sendable, { sql: 'SELECT id FROM temp.tick_dry', params: [] }));
  }
  const sent = outbox(sendable, null);
  if (ctx.render) fillContent(db, project, journey, step, sendable, now);
  report.queued += sent;
  moved += moveOn(ctx, report, sendable, next, 'sent', `${step.channel} ${step.template}`);
  return moved;
}

/**
 * The enrolments of a set that test mode handles: all of them while the journey is
 * in test mode (even those that entered live before it was switched on), else its
 * test enrolments only, which never reach their customer. Null when there are none.
 */
function testPart(ctx: Ctx, journey: Journey, set: Kept, name: string): { set: Kept; mode: ReturnType<typeof testModeOf> } | null {
  const mode = testModeOf(journey, ctx.project.config);
  if (mode) return { set, mode };
  const tests = keep(ctx, name, testEnrolments(set));
  return count(ctx.db, tests) > 0 ? { set: tests, mode: null } : null;
}

/**
 * Splits test mode's enrolments at a step into those that go to the test target
 * (at most the sample, when there is a target) and those skipped, each with the reason.
 */
function testSplit(
  ctx: Ctx,
  journey: Journey,
  stepId: string,
  test: { set: Kept; mode: ReturnType<typeof testModeOf> },
  hasTarget: boolean,
  noTarget: string,
): { sample: Kept; skipped: { set: IdSet; reason: string }[] } {
  const none = keep(ctx, 'tick_test_none', { sql: 'SELECT id FROM enrolments WHERE false', params: [] });
  if (!test.mode) return { sample: none, skipped: [{ set: test.set, reason: TEST_SKIP.off }] };
  if (!hasTarget) return { sample: none, skipped: [{ set: test.set, reason: noTarget }] };
  const sample = keep(ctx, 'tick_test_sample', testSample(test.set, journey.id, stepId, test.mode.sample));
  return { sample, skipped: [{ set: minus(test.set, sample), reason: TEST_SKIP.sampleReached }] };
}

/** Moves test mode's skipped enrolments past the step, each with its reason (test_mode:...) in the step log and the report. */
function skipTest(ctx: Ctx, skipped: { set: IdSet; reason: string }[], next: string | null, report: StepTick): number {
  let moved = 0;
  for (const { set, reason } of skipped) moved += skipOn(ctx, report, set, next, reason);
  return moved;
}

/** A sync step: live enrolments push to the customer's profile; test mode's only to the test profile named for the provider. */
function sync(ctx: Ctx, journey: Journey, step: Extract<Step, { kind: 'sync' }>, group: Kept, next: string | null, report: StepTick): number {
  const { db, now } = ctx;
  const payload = { profile: step.profile, event: step.event, properties: step.properties };
  let live: IdSet = group;
  let moved = 0;
  const test = testPart(ctx, journey, group, 'tick_sync_test');
  if (test) {
    const target = test.mode?.sync[step.provider] ?? null;
    const { sample, skipped } = testSplit(ctx, journey, step.id, test, target !== null, TEST_SKIP.noSyncTarget(step.provider));
    report.testCopies = (report.testCopies ?? 0) + insertSync(db, sample, { journeyId: journey.id, stepId: step.id, provider: step.provider, payload, testTarget: target, now });
    moved += moveOn(ctx, report, sample, next, 'synced', `to test ${target}`);
    moved += skipTest(ctx, skipped, next, report);
    live = minus(group, test.set);
  }
  insertSync(db, live, { journeyId: journey.id, stepId: step.id, provider: step.provider, payload, now });
  return moved + moveOn(ctx, report, live, next, 'synced');
}
