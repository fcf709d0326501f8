import type { Journey, Project, Step, Target } from '../project/model.js';
import { buildStepGraph, type StepGraph } from '../project/step-graph.js';
import { compileEnrolmentRule, compileSegment, EN } from '../segments/compile.js';
import { compileOptionsFor } from '../segments/options.js';
import { printerFor } from '../segments/run.js';
import { and, cmp, col, param, select, type Expr, type SqlParam } from '../segments/sql/nodes.js';
import type { StoreDb } from '../store/db.js';
import {
  assignVariant,
  count,
  customerZone,
  finish,
  insertEnrolments,
  laterThan,
  markChecked,
  minus,
  moveTo,
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
import { countByStep } from '../store/tick-report.js';
import { eventHappened, type WaitForEvent } from '../store/wait-for.js';
import { entryFor, nextCheckAt } from './entry.js';
import { sourceHash } from './plan.js';
import { segmentUses } from './segment-changes.js';
import { recordSegmentVersions } from '../store/segment-versions.js';
import { parseJourneyText } from '../project/load-project.js';
import { testModeOf, TEST_SKIP, TEST_SKIP_PREFIX } from '../project/test-mode.js';
import { send, sync, testPart } from './send-step.js';
import { emptyStep, inKept, keep, moveOn, print, release, skipOn, type Ctx, type StepTick } from './tick-context.js';

export type { DeferReason, StepTick } from './tick-context.js';

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

/** A step's report (a step no longer in the file gets one too, appended). */
function stepOf(report: JourneyTick, step: string): StepTick {
  let s = report.steps.find((t) => t.step === step);
  if (!s) report.steps.push((s = emptyStep(step)));
  return s;
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
