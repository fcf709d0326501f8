import type { StoreDb } from './db.js';
import { SYNC_CHANNEL } from './enrolments.js';

/** The provider message ids the simulation's recorder gives: how its messages are told from a real run's. */
const SIMULATED = 'simulated:';

/** Simulation's recorder: every pending message counts as sent at `now`, under a made-up provider id. */
export function recordPendingAsSent(db: StoreDb, now: number): number {
  return db.run(`UPDATE outbox_delivery SET status = 'sent', sent_at = ?, attempts = attempts + 1, provider_message_id = ? || id WHERE status = 'pending'`, [now, SIMULATED]).changes;
}

export interface TimelineRow {
  at: number;
  journey_id: string;
  step_id: string;
  customer_id: string;
  channel: string;
  template: string;
  address: string;
}

/** The messages the simulation's recorder sent, in order (not what real runs sent before it started). */
export function simulatedTimeline(db: StoreDb, limit: number): TimelineRow[] {
  return db.all<TimelineRow>(
    `SELECT sent_at AS at, journey_id, step_id, customer_id, channel, template, address
     FROM outbox WHERE channel <> ? AND provider_message_id LIKE ? || '%' AND status = 'sent' ORDER BY sent_at, id LIMIT ?`,
    [SYNC_CHANNEL, SIMULATED, limit],
  );
}

export interface JourneyOutcome {
  journey_id: string;
  entered: number;
  active: number;
  completed: number;
  exited: number;
  converted: number;
  revenue: number;
}

export function journeyOutcomes(db: StoreDb): JourneyOutcome[] {
  return db.all<JourneyOutcome>(
    `SELECT journey_id, count(*) AS entered, sum(status = 'active') AS active, sum(status = 'completed') AS completed,
            sum(status = 'exited') AS exited, count(converted_at) AS converted, coalesce(sum(conversion_value), 0) AS revenue
     FROM enrolments GROUP BY journey_id ORDER BY journey_id`,
  );
}

export function exitReasons(db: StoreDb): { journey_id: string; reason: string; n: number }[] {
  return db.all(`SELECT journey_id, exit_reason AS reason, count(*) AS n FROM enrolments WHERE status <> 'active' GROUP BY 1, 2 ORDER BY 1, 3 DESC`);
}

/** Messages (and syncs) per step that the simulation's recorder sent. */
export function simulatedMessagesByStep(db: StoreDb): { journey_id: string; step_id: string; n: number }[] {
  return db.all(`SELECT journey_id, step_id, count(*) AS n FROM outbox WHERE provider_message_id LIKE ? || '%' AND status = 'sent' GROUP BY 1, 2 ORDER BY 1, 2`, [SIMULATED]);
}

export interface CustomerEnrolment {
  id: number;
  journey_id: string;
  version: number;
  status: string;
  step_id: string | null;
  entered_at: number;
  step_started_at: number | null;
  due_at: number | null;
  exit_reason: string | null;
  exited_at: number | null;
  variant: string | null;
  converted_at: number | null;
  conversion_value: number | null;
}

/** A customer's enrolments, newest first, and each one's step log in order. */
export function customerJourneys(db: StoreDb, customerId: string): { enrolment: CustomerEnrolment; log: { at: number; step_id: string | null; outcome: string; detail: string | null }[] }[] {
  const enrolments = db.all<CustomerEnrolment>(
    `SELECT id, journey_id, version, status, step_id, entered_at, step_started_at, due_at, exit_reason, exited_at, variant, converted_at, conversion_value
     FROM enrolments WHERE customer_id = ? ORDER BY entered_at DESC, id DESC`,
    [customerId],
  );
  return enrolments.map((enrolment) => ({
    enrolment,
    log: db.all(`SELECT at, step_id, outcome, detail FROM step_log WHERE enrolment_id = ? ORDER BY id`, [enrolment.id]),
  }));
}

export function customerExists(db: StoreDb, customerId: string): boolean {
  return db.get('SELECT 1 AS one FROM customers WHERE id = ?', [customerId]) !== undefined;
}
