import { JourneyError } from '../errors.js';
import type { Project } from '../project/model.js';
import { openStore } from '../store/open.js';
import { withStoreCopy } from '../store/store-copy.js';
import { exitReasons, journeyOutcomes, recordPendingAsSent, simulatedMessagesByStep, simulatedTimeline, type JourneyOutcome, type TimelineRow } from '../store/reports.js';
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

export interface SimulationResult {
  from: string;
  to: string;
  ticks: number;
  timeline: (Omit<TimelineRow, 'at'> & { at: string })[];
  journeys: (JourneyOutcome & { exits: Record<string, number>; messages: Record<string, number> })[];
}

/**
 * Runs ticks against a moving clock on a copy of the store, with the providers
 * replaced by a recorder (every message counts as sent when its tick ends), and
 * reports who got what, when, and how each journey ended. What the store holds for
 * times after --from (orders, status changes, events, registrations) is put back as
 * the clock reaches it. The real store is never written.
 */
export function simulate(project: Project, opts: SimulateOptions): SimulationResult {
  if (opts.to.getTime() < opts.from.getTime()) throw new JourneyError('--to is before --from', { exitCode: 2 });
  if (opts.stepMs <= 0) throw new JourneyError('--step must be a positive duration', { exitCode: 2 });
  return withStoreCopy(opts.storePath, 'simulate', (copy) => {
    const db = openStore(copy);
    try {
      let ticks = 0;
      holdBackFuture(db, opts.from.getTime());
      // The store may hold real runs' history: the report is what the simulation
      // added to it (enrolments only grow and end, never go away).
      const before = { outcomes: journeyOutcomes(db), exits: exitReasons(db) };
      for (let t = opts.from.getTime(); t <= opts.to.getTime(); t += opts.stepMs) {
        releaseFuture(db, t);
        tickWithLock(db, project, new Date(t));
        recordPendingAsSent(db, t);
        ticks++;
      }
      const exits = subtractExits(exitReasons(db), before.exits);
      const messages = simulatedMessagesByStep(db);
      return {
        from: opts.from.toISOString(),
        to: opts.to.toISOString(),
        ticks,
        timeline: simulatedTimeline(db, opts.timelineLimit ?? 10_000).map((r) => ({ ...r, at: new Date(r.at).toISOString() })),
        journeys: subtractOutcomes(journeyOutcomes(db), before.outcomes).map((o) => ({
          ...o,
          exits: Object.fromEntries(exits.filter((e) => e.journey_id === o.journey_id).map((e) => [e.reason, e.n])),
          messages: Object.fromEntries(messages.filter((m) => m.journey_id === o.journey_id).map((m) => [m.step_id, m.n])),
        })),
      };
    } finally {
      db.close();
    }
  });
}

/** What happened during the simulation: the counts at its end less those at its start; `active` is as at the end. */
function subtractOutcomes(after: JourneyOutcome[], before: JourneyOutcome[]): JourneyOutcome[] {
  const start = new Map(before.map((o) => [o.journey_id, o]));
  return after.map((o) => {
    const b = start.get(o.journey_id);
    if (!b) return o;
    return {
      journey_id: o.journey_id,
      entered: o.entered - b.entered,
      active: o.active,
      completed: o.completed - b.completed,
      exited: o.exited - b.exited,
      converted: o.converted - b.converted,
      revenue: o.revenue - b.revenue,
    };
  });
}

function subtractExits(after: ExitCount[], before: ExitCount[]): ExitCount[] {
  const start = new Map(before.map((e) => [`${e.journey_id}\0${e.reason}`, e.n]));
  return after.map((e) => ({ ...e, n: e.n - (start.get(`${e.journey_id}\0${e.reason}`) ?? 0) })).filter((e) => e.n > 0);
}

type ExitCount = ReturnType<typeof exitReasons>[number];
