import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { JourneyError } from '../errors.js';
import { parseJourneyText } from '../project/load-project.js';
import type { Journey, Project, Step, TestMode } from '../project/model.js';
import { buildStepGraph, type StepGraph } from '../project/step-graph.js';
import { compileRule, compileSegment, storedReachability, type CompileOptions } from '../segments/compile.js';
import { compileOptionsFor } from '../segments/options.js';
import { printerFor } from '../segments/run.js';
import { col, param, select, type FromItem, type Select, type SqlParam } from '../segments/sql/nodes.js';
import type { StoreDb } from '../store/db.js';
import { activeByStep, deployedJourneys, dueByStep, eventCursors, type DeployedJourney } from '../store/journey-state.js';
import { openStore } from '../store/open.js';
import { createTempTable, dropTempTable } from '../store/temp-tables.js';
import { diffJourney, type JourneyDiff } from './diff.js';
import { entryFor } from './entry.js';

export type PlanStatus = 'new' | 'unchanged' | 'changed' | 'removed';

/** What the next tick would do with one send step for the customers reaching it. */
export interface PlannedSend {
  step: string;
  channel: string;
  template: string;
  /** Customers who reach the step this tick. */
  reaching: number;
  /** Of those, how many can be sent to (address, consent, not suppressed). */
  reachable: number;
  /** The step only sends when this holds (checked per customer at the time). */
  guarded: boolean;
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
   * `test`: they enter as test enrolments (the journey is in test mode). `afterTest`: of
   * a live journey's entrants, those who were in it in test mode only, and now enter for real.
   */
  entering: { count: number; note: string | null; sample: string[]; test: boolean; afterTest: number };
  /** What new entrants do at once, until their first wait or branch. */
  firstSteps: PlannedSend[];
  stopsAt: string | null;
  /** Enrolments already inside whose wait is over, per step, and where they go next. */
  due: { step: string; count: number; next: string }[];
  inside: number;
  diff: JourneyDiff | null;
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

/** `journey plan`: reads the project and the store, writes nothing but a schema upgrade. */
export function planProject(project: Project, opts: PlanOptions): ProjectPlan {
  if (!existsSync(opts.storePath)) {
    throw new JourneyError(`no store at ${opts.storePath}`, { hint: 'import the shop data first: journey import customers FILE (and orders, ...)' });
  }
  const selected = project.journeys.filter((j) => opts.only.length === 0 || opts.only.some((o) => o === j.id || j.file === o || j.file.endsWith(`/${o}`)));
  if (opts.only.length > 0 && selected.length === 0) {
    throw new JourneyError(`no journey matches ${opts.only.join(', ')}`, { exitCode: 2, hint: `journeys: ${project.journeys.map((j) => j.id).join(', ')}` });
  }
  const db = openStore(opts.storePath);
  try {
    const deployed = deployedJourneys(db);
    const compile = compileOptionsFor(project, opts.now);
    const startCursors = eventCursors(db);
    const withProject = { ...opts, projectTestRecipients: project.config.testRecipients };
    const plans = selected.map((j) => planJourney(db, j, deployed.get(j.id) ?? null, compile, startCursors, withProject));
    if (opts.only.length === 0) {
      const present = new Set(project.journeys.map((j) => j.id));
      for (const d of deployed.values()) if (!present.has(d.id)) plans.push(planRemoved(db, d));
    }
    return { now: opts.now.toISOString(), journeys: plans, changes: plans.some((p) => p.status !== 'unchanged') };
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
  const printer = printerFor(db.dialect);
  const count = (query: Select): number => {
    const { sql, params } = printer.print(select({ columns: [{ expr: { kind: 'aggregate', fn: 'count', arg: '*' }, alias: 'n' }], from: { kind: 'derived', query, alias: 'q' } }));
    return Number(db.get<{ n: number }>(sql, params as SqlParam[])?.n ?? 0);
  };

  const graph = buildStepGraph(journey);
  // The trigger segment's members and the entrants are each computed once, into
  // temporary tables, and counted, sampled and checked for reachability from there.
  const trigger = journey.trigger;
  let population: number | null = null;
  let membersTable: string | undefined;
  if (trigger.kind === 'segment') {
    const { sql, params } = printer.print(compileSegment(trigger.segment, compile));
    population = createTempTable(db, 'plan_members', sql, params as SqlParam[]);
    membersTable = 'plan_members';
  }
  const mode = journey.testRecipients ?? opts.projectTestRecipients ?? null;
  const entry = entryFor({ journey, deployed, now: opts.now, compile, startCursors, membersTable, test: mode !== null });
  let entering: JourneyPlan['entering'] = { count: 0, note: entry.kind === 'none' ? entry.reason : entry.note, sample: [], test: mode !== null, afterTest: 0 };
  let firstSteps: PlannedSend[] = [];
  let stopsAt: string | null = null;
  if (entry.kind === 'query') {
    const { sql, params } = printer.print(entry.query);
    const n = createTempTable(db, 'plan_entrants', sql, params as SqlParam[]);
    const entrants: FromItem = { kind: 'cte_ref', name: 'plan_entrants', alias: 'e' };
    const sample = printer.print(select({ columns: [{ expr: col('e', 'customer_id'), alias: 'customer_id' }], from: entrants, limit: param(opts.sample) }));
    entering = {
      count: n,
      note: entry.note,
      sample: opts.sample > 0 ? db.all<{ customer_id: string }>(sample.sql, sample.params as SqlParam[]).map((r) => r.customer_id) : [],
      test: mode !== null,
      afterTest: mode !== null ? 0 : enteredInTestOnly(db, journey.id),
    };
    if (n > 0) ({ sends: firstSteps, stopsAt } = firstStepsFor(graph, entrants, n, compile, count));
  }
  dropTempTable(db, 'plan_members');
  dropTempTable(db, 'plan_entrants');

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
    trigger: { description: describeTrigger(journey), population },
    entering,
    firstSteps,
    stopsAt,
    due,
    inside,
    diff,
    testMode: mode && testModePlan(mode, graph),
  };
}

/** Of the entrants (plan_entrants), those with a test enrolment in the journey and no live one. */
function enteredInTestOnly(db: StoreDb, journeyId: string): number {
  return db.get<{ n: number }>(
    `SELECT count(*) AS n FROM temp.plan_entrants e
     WHERE EXISTS (SELECT 1 FROM enrolments en WHERE en.journey_id = ? AND en.customer_id = e.customer_id AND en.test = 1)
       AND NOT EXISTS (SELECT 1 FROM enrolments en WHERE en.journey_id = ? AND en.customer_id = e.customer_id AND en.test = 0)`,
    [journeyId, journeyId],
  )!.n;
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
    firstSteps: [],
    stopsAt: null,
    due: [],
    inside,
    diff: null,
    testMode: null,
  };
}

/** Sends new entrants reach at once: steps in order until the first wait, branch or exit. */
function firstStepsFor(graph: StepGraph, entrants: FromItem, n: number, compile: CompileOptions, count: (q: Select) => number): { sends: PlannedSend[]; stopsAt: string | null } {
  const sends: PlannedSend[] = [];
  let id = graph.entry;
  const seen = new Set<string>();
  while (id && !seen.has(id)) {
    seen.add(id);
    const step = graph.nodes.get(id)!.step;
    if (step.kind === 'send') {
      const query = select({
        columns: [{ expr: col('e', 'customer_id'), alias: 'customer_id' }],
        from: entrants,
        where: storedReachability(step.channel, col('e', 'customer_id'), compile) ?? {
          kind: 'in_query',
          expr: col('e', 'customer_id'),
          query: compileRule({ kind: 'reachable', channel: step.channel, path: [] }, compile),
          negated: false,
        },
      });
      sends.push({ step: step.id, channel: step.channel, template: step.template, reaching: n, reachable: count(query), guarded: step.when !== null });
      id = step.next ?? graph.nodes.get(id)!.fallthrough;
      continue;
    }
    if (step.kind === 'update' || step.kind === 'sync') {
      id = step.next ?? graph.nodes.get(id)!.fallthrough;
      continue;
    }
    return { sends, stopsAt: describeStep(step) };
  }
  return { sends, stopsAt: null };
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
