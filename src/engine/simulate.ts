import { JourneyError } from '../errors.js';
import type { Project } from '../project/model.js';
import { testModeOf } from '../project/test-mode.js';
import { openStore } from '../store/open.js';
import { withStoreCopy } from '../store/store-copy.js';
import { SYNC_CHANNEL } from '../store/enrolments.js';
import { endReasons, enrolmentCounts, recordPendingAsSent, simulatedMessagesByStep, simulatedTimeline, type EnrolmentCounts, type TimelineRow } from '../store/reports.js';
import { tickWithLock } from './runner.js';
import { holdBackFuture, releaseFuture } from '../store/future.js';

export interface SimulateOptions {
  storePath: string;
  from: Date;
  to: Date;
  stepMs: number;
  /** At most this many messages in the timeline. */
  timelineLimit?: number;
}

/**
 * A journey over the simulated period. Enrolments only begin and end, so for every
 * journey: inside_at_start + entered = completed + exited + inside_at_end.
 */
export interface JourneyOutcome {
  journey_id: string;
  /** Customers inside (active) when the first tick began: entered by real runs before --from. */
  inside_at_start: number;
  /** Enrolments begun by the simulation's ticks. */
  entered: number;
  /** Enrolments that reached the end or an exit step during the period, whenever they began. */
  completed: number;
  /** Enrolments ended during the period by exit_when, a removed step or a removed journey, whenever they began. */
  exited: number;
  /** Customers inside when the last tick ended. */
  inside_at_end: number;
  /** `completed` by reason (`end`: ran past the last step; else the exit step's reason). */
  completions: Record<string, number>;
  /** `exited` by reason. */
  exits: Record<string, number>;
  /** The goal the engine measures, as `order_placed within 30d`; null without one (an event goal is not measured yet). */
  goal: string | null;
  /** Goals reached during the period, whenever the enrolment began; 0 when `goal` is null. */
  converted: number;
  revenue: number;
  /** Messages the recorder sent during the period (syncs to a marketing platform not included). */
  sent: number;
  /** Messages and syncs per step. */
  messages: Record<string, number>;
  /** In test mode (test_recipients): its messages went to the test addresses, so its customers' conversions are not its doing. */
  test_mode: boolean;
}

export interface SimulationResult {
  from: string;
  to: string;
  ticks: number;
  timeline: (Omit<TimelineRow, 'at'> & { at: string })[];
  /** Every journey of the project (and any other the store has enrolments of), by id. */
  journeys: JourneyOutcome[];
}

/**
 * Runs ticks against a moving clock on a copy of the store, with the providers
 * replaced by a recorder (every message counts as sent when its tick ends), and
 * reports who got what, when, and how each journey ended. What the store holds for
 * times after --from (orders, status changes, events, registrations) is put back as
 * the clock reaches it. The real store is never written.
 */
export function simulate(project: Project, opts: SimulateOptions): SimulationResult {
  if (opts.to.getTime() < opts.from.getTime()) throw new JourneyError('--to is before --from', { exitCode: 64 });
  if (opts.stepMs <= 0) throw new JourneyError('--step must be a positive duration', { exitCode: 64 });
  return withStoreCopy(opts.storePath, 'simulate', (copy) => {
    const db = openStore(copy);
    try {
      let ticks = 0;
      holdBackFuture(db, opts.from.getTime());
      // The store may hold real runs' history: the report is what the simulation
      // added to it (enrolments only begin and end, never go away).
      const before = enrolmentCounts(db);
      const endsBefore = endReasons(db);
      for (let t = opts.from.getTime(); t <= opts.to.getTime(); t += opts.stepMs) {
        releaseFuture(db, t);
        tickWithLock(db, project, new Date(t));
        recordPendingAsSent(db, t);
        ticks++;
      }
      return {
        from: opts.from.toISOString(),
        to: opts.to.toISOString(),
        ticks,
        timeline: simulatedTimeline(db, opts.timelineLimit ?? 10_000).map((r) => ({ ...r, at: new Date(r.at).toISOString() })),
        journeys: outcomes(project, { counts: before, ends: endsBefore }, { counts: enrolmentCounts(db), ends: endReasons(db) }, simulatedMessagesByStep(db)),
      };
    } finally {
      db.close();
    }
  });
}

type Snapshot = { counts: EnrolmentCounts[]; ends: ReturnType<typeof endReasons> };

/** What happened during the simulation: the counts at its end less those at its start. */
function outcomes(project: Project, start: Snapshot, end: Snapshot, messages: ReturnType<typeof simulatedMessagesByStep>): JourneyOutcome[] {
  const none: EnrolmentCounts = { journey_id: '', enrolments: 0, active: 0, completed: 0, exited: 0, converted: 0, revenue: 0 };
  const at = (s: Snapshot, id: string) => s.counts.find((c) => c.journey_id === id) ?? none;
  const ends = (id: string, status: 'completed' | 'exited') => {
    const startN = (reason: string) => start.ends.find((e) => e.journey_id === id && e.status === status && e.reason === reason)?.n ?? 0;
    const byReason = end.ends.filter((e) => e.journey_id === id && e.status === status).map((e) => [e.reason, e.n - startN(e.reason)] as const);
    return Object.fromEntries(byReason.filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]));
  };
  const ids = [...new Set([...project.journeys.map((j) => j.id), ...end.counts.map((c) => c.journey_id)])].sort();
  return ids.map((id) => {
    const [a, b] = [at(start, id), at(end, id)];
    const steps = messages.filter((m) => m.journey_id === id);
    const journey = project.journeys.find((j) => j.id === id);
    const goal = journey?.goal;
    return {
      journey_id: id,
      inside_at_start: a.active,
      entered: b.enrolments - a.enrolments,
      completed: b.completed - a.completed,
      exited: b.exited - a.exited,
      inside_at_end: b.active,
      completions: ends(id, 'completed'),
      exits: ends(id, 'exited'),
      goal: goal?.kind === 'order_placed' ? `order_placed within ${goal.within.text}` : null,
      converted: b.converted - a.converted,
      revenue: Math.round((b.revenue - a.revenue) * 100) / 100,
      sent: steps.filter((m) => m.channel !== SYNC_CHANNEL).reduce((n, m) => n + m.n, 0),
      messages: Object.fromEntries(steps.map((m) => [m.step_id, m.n])),
      test_mode: journey ? testModeOf(journey, project.config) !== null : false,
    };
  });
}
