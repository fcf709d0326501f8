import { freeCodes, poolCoupons, poolPlans, type PoolPlan } from './coupon-pools.js';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { JourneyError } from '../errors.js';
import { parseJourneyText } from '../project/load-project.js';
import type { Journey, Policies, Project, Step, TestMode } from '../project/model.js';
import { buildStepGraph, type StepGraph } from '../project/step-graph.js';
import { compileSegment, type CompileOptions } from '../segments/compile.js';
import { compileOptionsFor } from '../segments/options.js';
import { printerFor } from '../segments/run.js';
import { select, type Select, type SqlParam } from '../segments/sql/nodes.js';
import type { StoreDb } from '../store/db.js';
import { activeByStep, deployedJourneys, dueByStep, eventCursors, type DeployedJourney } from '../store/journey-state.js';
import { openStore } from '../store/open.js';
import { withRolledBack } from '../store/rolled-back.js';
import { enteredAfterTestOnly, enteredSample, lastEnrolmentId } from '../store/tick-report.js';
import { diffJourney, type JourneyDiff } from './diff.js';
import { entryFor } from './entry.js';
import { changesTargeting, segmentPlanner, type SegmentChange } from './segment-changes.js';
import { policiesOf } from './send-step.js';
import { runTick, type DeferReason, type StepTick } from './tick.js';

export type PlanStatus = 'new' | 'unchanged' | 'changed' | 'removed';

/** A step of the next tick, as the tick reported it, with what a reader needs to say it plainly. */
export interface PlannedStep extends StepTick {
  /** "send email thank-you", "wait 7d", ... */
  description: string;
  /** Per deferral reason, the policy's words: "to 08:00 customer time (quiet hours)", ... */
  deferredTo: Partial<Record<DeferReason, string>>;
}

export interface JourneyPlan {
  journey: string;
  name: string;
  file: string | null;
  status: PlanStatus;
  enabled: boolean;
  version: { deployed: number | null; hash: string | null };
  trigger: { description: string; population: number | null };
  /**
   * Who the next tick enters (the tick's own count; the sample is of the customers it
   * entered). `test`: they enter as test enrolments (the journey is in test mode).
   * `afterTest`: of a live journey's entrants, those who were in it in test mode only,
   * and now enter for real.
   */
  entering: { count: number; note: string | null; sample: string[]; test: boolean; afterTest: number };
  /**
   * What the next tick does: the real tick, run on the store inside a transaction that
   * is rolled back, so these are the numbers `journey run` reports at this --now
   * (null for a removed journey: its customers exit, see entering.note).
   */
  tick: { entered: number; queued: number; deferred: number; skipped: number; exited: number; completed: number; converted: number; steps: PlannedStep[] } | null;
  /** Enrolments already inside whose wait is over, per step, and where they go next (before the tick). */
  due: { step: string; count: number; next: string }[];
  inside: number;
  diff: JourneyDiff | null;
  /** Segments the journey uses that changed since the last run (then the journey is changed too). */
  segments: SegmentChange[];
  /** Test mode, or null when the journey is live. */
  testMode: TestModePlan | null;
}

/** Where test mode sends, and what it does not send at all. */
export interface TestModePlan {
  /** Channel -> the test addresses its messages go to. */
  recipients: Record<string, string[]>;
  /** Provider -> the test profile its syncs go to. */
  sync: Record<string, string>;
  /** Copies of each step per test address, at most. */
  sample: number;
  /** The journey's channels and sync providers with no test target: not sent at all. */
  notSent: { channels: string[]; syncs: string[] };
}

export interface ProjectPlan {
  now: string;
  journeys: JourneyPlan[];
  /** Each pool coupon at the next tick: codes drawn and left, and a warning when it runs low or dry. */
  couponPools: PoolPlan[];
  /** Whether applying the plan changes what is deployed (new, changed or removed journeys). */
  changes: boolean;
}

export interface PlanOptions {
  now: Date;
  storePath: string;
  /** Journey ids or files to plan; all when empty. */
  only: string[];
  sample: number;
  /** The project's test mode (journey.config.yaml test_recipients), for journeys without their own. */
  projectTestRecipients?: TestMode | null;
}

export function sourceHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * `journey plan`: reads the project and the store, and runs the next tick inside a
 * transaction it rolls back, so that what it says the tick does is what the tick does.
 * It writes nothing but a schema upgrade.
 */
export function planProject(project: Project, opts: PlanOptions): ProjectPlan {
  if (!existsSync(opts.storePath)) {
    throw new JourneyError(`no store at ${opts.storePath}`, { hint: 'import the shop data first: journey import customers FILE (and orders, ...)' });
  }
  const selected = project.journeys.filter((j) => opts.only.length === 0 || opts.only.some((o) => o === j.id || j.file === o || j.file.endsWith(`/${o}`)));
  if (opts.only.length > 0 && selected.length === 0) {
    // an error, not plan's "changes" (2): a CI step must not read it as a plan to comment on
    throw new JourneyError(`no journey matches ${opts.only.join(', ')}`, { hint: `journeys: ${project.journeys.map((j) => j.id).join(', ')}` });
  }
  const db = openStore(opts.storePath);
  try {
    const deployed = deployedJourneys(db);
    const compile = compileOptionsFor(project, opts.now);
    const startCursors = eventCursors(db);
    const withProject = { ...opts, projectTestRecipients: project.config.testRecipients };
    const segmentsOf = segmentPlanner(db, project, compile, opts.sample);
    const plans = selected.map((j) => withSegments(planJourney(db, j, deployed.get(j.id) ?? null, compile, startCursors, withProject), deployed.has(j.id) ? segmentsOf(j) : []));
    if (opts.only.length === 0) {
      const present = new Set(project.journeys.map((j) => j.id));
      for (const d of deployed.values()) if (!present.has(d.id)) plans.push(planRemoved(db, d));
    }
    // the whole project ticks (a frequency cap counts every journey's messages), and the
    // selected journeys report what it did to them
    let pools: PoolPlan[] = [];
    withRolledBack(db, (inner) => {
      const before = lastEnrolmentId(inner);
      const free = freeCodes(inner, poolCoupons(project));
      // (the counts only: rendering the messages changes none of them)
      const report = runTick(inner, project, { now: opts.now, render: false });
      pools = poolPlans(inner, free, report);
      const tick = new Map(report.journeys.map((t) => [t.journey, t]));
      for (const plan of plans) {
        const t = tick.get(plan.journey);
        const journey = selected.find((j) => j.id === plan.journey);
        if (!t || !journey) continue;
        const graph = buildStepGraph(journey);
        const policies = policiesOf(project, journey);
        plan.entering.count = t.entered;
        if (t.members !== undefined) plan.trigger.population = t.members;
        plan.entering.sample = enteredSample(inner, plan.journey, before, opts.sample);
        if (!plan.entering.test) plan.entering.afterTest = enteredAfterTestOnly(inner, plan.journey, before);
        plan.tick = {
          entered: t.entered,
          queued: t.queued,
          deferred: t.deferred,
          skipped: t.skipped,
          exited: t.exited,
          completed: t.completed,
          converted: t.converted,
          steps: t.steps.map((s) => ({
            ...s,
            description: graph.nodes.has(s.step) ? describeStep(graph.nodes.get(s.step)!.step).replace(/^\S+ \((.*)\)$/, '$1') : 'no longer in the file',
            deferredTo: Object.fromEntries(s.deferrals.map((d) => [d.reason, deferredTo(d.reason, policies)])),
          })),
        };
      }
    });
    // segments the tick did not check now (their next check is later) are counted on their own
    for (const plan of plans) {
      const journey = selected.find((j) => j.id === plan.journey);
      if (journey?.trigger.kind === 'segment' && plan.trigger.population === null) plan.trigger.population = segmentPopulation(db, compileSegment(journey.trigger.segment, compile));
    }
    return { now: opts.now.toISOString(), journeys: plans, couponPools: pools, changes: plans.some((p) => p.status !== 'unchanged') };
  } finally {
    db.close();
  }
}

function planJourney(
  db: StoreDb,
  journey: Journey,
  deployed: DeployedJourney | null,
  compile: CompileOptions,
  startCursors: { events: number; statusChanges: number },
  opts: PlanOptions,
): JourneyPlan {
  const hash = sourceHash(journey.source);
  const status: PlanStatus = deployed === null ? 'new' : deployed.hash === hash ? 'unchanged' : 'changed';
  const graph = buildStepGraph(journey);
  // who enters and what they get comes from the tick (planProject); the entry rule says why nobody would
  const mode = journey.testRecipients ?? opts.projectTestRecipients ?? null;
  const entry = entryFor({ journey, deployed, now: opts.now, compile, startCursors, test: mode !== null });
  const entering: JourneyPlan['entering'] = { count: 0, note: entry.kind === 'none' ? entry.reason : entry.note, sample: [], test: mode !== null, afterTest: 0 };

  const atSteps = activeByStep(db, journey.id);
  const inside = [...atSteps.values()].reduce((a, b) => a + b, 0);
  const due = [...dueByStep(db, journey.id, opts.now.getTime())].map(([step, n]) => {
    const node = graph.nodes.get(step);
    const next = node ? node.successors.map((id) => describeStep(graph.nodes.get(id)?.step)).join(' or ') || 'the end' : `step ${step} (no longer in the file)`;
    return { step, count: n, next };
  });

  let diff: JourneyDiff | null = null;
  if (status === 'changed' && deployed) {
    const before = parseJourneyText(deployed.source, `${journey.id} v${deployed.version}`);
    diff = before ? diffJourney(before, journey, atSteps) : { steps: [], settings: ['(the deployed version no longer parses; every step counts as changed)'] };
  }
  return {
    journey: journey.id,
    name: journey.name,
    file: journey.file,
    status,
    enabled: journey.enabled,
    version: { deployed: deployed?.version ?? null, hash },
    // a segment trigger's population: counted by the tick when it checks the segment, else after it (planProject)
    trigger: { description: describeTrigger(journey), population: null },
    entering,
    tick: null,
    due,
    inside,
    diff,
    segments: [],
    testMode: mode && testModePlan(mode, buildStepGraph(journey)),
  };
}

function segmentPopulation(db: StoreDb, query: Select): number {
  const { sql, params } = printerFor(db.dialect).print(select({ columns: [{ expr: { kind: 'aggregate', fn: 'count', arg: '*' }, alias: 'n' }], from: { kind: 'derived', query, alias: 'q' } }));
  return Number(db.get<{ n: number }>(sql, params as SqlParam[])?.n ?? 0);
}

/** An unchanged journey whose segments changed is changed: it targets other customers. */
function withSegments(plan: JourneyPlan, segments: SegmentChange[]): JourneyPlan {
  return { ...plan, segments, status: plan.status === 'unchanged' && changesTargeting(segments) ? 'changed' : plan.status };
}

function testModePlan(mode: TestMode, graph: StepGraph): TestModePlan {
  const steps = [...graph.nodes.values()].map((n) => n.step);
  const channels = [...new Set(steps.flatMap((s) => (s.kind === 'send' ? [s.channel] : [])))];
  const syncs = [...new Set(steps.flatMap((s) => (s.kind === 'sync' ? [s.provider] : [])))];
  return {
    recipients: mode.recipients,
    sync: mode.sync,
    sample: mode.sample,
    notSent: { channels: channels.filter((c) => !mode.recipients[c]), syncs: syncs.filter((p) => !mode.sync[p]) },
  };
}

function planRemoved(db: StoreDb, deployed: DeployedJourney): JourneyPlan {
  const inside = [...activeByStep(db, deployed.id).values()].reduce((a, b) => a + b, 0);
  return {
    journey: deployed.id,
    name: deployed.id,
    file: null,
    status: 'removed',
    enabled: false,
    version: { deployed: deployed.version, hash: deployed.hash },
    trigger: { description: 'the file is gone', population: null },
    entering: { count: 0, note: `its ${inside} active enrolment(s) exit with reason journey_removed`, sample: [], test: false, afterTest: 0 },
    tick: null,
    due: [],
    inside,
    diff: null,
    segments: [],
    testMode: null,
  };
}

/** When a policy lets a deferred message go, in the reader's words. */
function deferredTo(reason: DeferReason, p: Policies): string {
  const zone = (tz: string) => (tz === 'customer' ? 'customer time' : tz);
  switch (reason) {
    case 'quiet_hours':
      return `to ${p.quietHours ? `${p.quietHours.to} ${zone(p.quietHours.timezone)}` : 'the end of quiet hours'} (quiet hours)`;
    case 'send_window': {
      const w = p.sendWindow;
      return `to the send window${w ? ` (${w.days.length ? `${w.days.join(',')} ` : ''}${w.from}-${w.to} ${zone(w.timezone)})` : ''}`;
    }
    case 'frequency_cap': {
      const c = p.frequencyCap;
      return `until the frequency cap allows${c ? ` (${c.max} per ${typeof c.per === 'string' ? c.per : c.per.text}${c.channel ? ` on ${c.channel}` : ''})` : ''}`;
    }
    default: {
      const never: never = reason;
      throw new Error(`unknown deferral ${JSON.stringify(never)}`);
    }
  }
}

function describeStep(step: Step | undefined): string {
  if (!step) return 'the end';
  switch (step.kind) {
    case 'send':
      return `${step.id} (send ${step.channel} ${step.template})`;
    case 'wait':
      return `${step.id} (wait ${step.duration ? step.duration.text : `until ${step.until}`})`;
    case 'wait_for':
      return `${step.id} (wait for ${step.event}, at most ${step.timeout.text})`;
    case 'branch':
      return `${step.id} (branch)`;
    case 'split':
      return `${step.id} (split ${step.variants.map((v) => `${v.name} ${v.weight}%`).join(' / ')})`;
    case 'update':
      return `${step.id} (update)`;
    case 'sync':
      return `${step.id} (sync to ${step.provider})`;
    case 'exit':
      return `${step.id} (exit: ${step.reason})`;
    default: {
      const never: never = step;
      throw new Error(`unknown step ${JSON.stringify(never)}`);
    }
  }
}

function describeTrigger(journey: Journey): string {
  const t = journey.trigger;
  switch (t.kind) {
    case 'segment':
      return `segment ${t.segment}${t.check ? `, checked at '${t.check}'` : ''}${t.backfill ? ', with backfill' : ''}`;
    case 'order_status_changed':
      return `order status changed to ${t.statuses.join(' or ')}${t.nth ? ` (order #${t.nth})` : ''}${t.maxAge ? `, at most ${t.maxAge.text} old` : ''}`;
    case 'order_placed':
      return `order placed${t.nth ? ` (order #${t.nth})` : ''}`;
    case 'custom_event':
      return `event ${t.event}`;
    case 'date':
      return `date ${t.field}${t.every ? `, every ${t.every.text}` : ''}${t.after ? `, ${t.after.text} after` : ''} at ${t.at}`;
    default: {
      const never: never = t;
      throw new Error(`unknown trigger ${JSON.stringify(never)}`);
    }
  }
}
