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

/** A journey's enrolments at one moment: how many ever, where they are, and their goals. */
export interface EnrolmentCounts {
  journey_id: string;
  /** Every enrolment the store holds (enrolments are never deleted). */
  enrolments: number;
  active: number;
  completed: number;
  exited: number;
  converted: number;
  revenue: number;
}

export function enrolmentCounts(db: StoreDb): EnrolmentCounts[] {
  return db.all<EnrolmentCounts>(
    `SELECT journey_id, count(*) AS enrolments, sum(status = 'active') AS active, sum(status = 'completed') AS completed,
            sum(status = 'exited') AS exited, count(converted_at) AS converted, coalesce(sum(conversion_value), 0) AS revenue
     FROM enrolments GROUP BY journey_id ORDER BY journey_id`,
  );
}

/** Finished enrolments by journey, how they finished (completed or exited) and why. */
export function endReasons(db: StoreDb): { journey_id: string; status: 'completed' | 'exited'; reason: string; n: number }[] {
  return db.all(`SELECT journey_id, status, coalesce(exit_reason, '') AS reason, count(*) AS n FROM enrolments WHERE status <> 'active' GROUP BY 1, 2, 3 ORDER BY 1, 2, 4 DESC`);
}

/** Messages (and syncs) per step that the simulation's recorder sent, each journey's steps in the order they first sent. */
export function simulatedMessagesByStep(db: StoreDb): { journey_id: string; step_id: string; channel: string; n: number }[] {
  return db.all(
    `SELECT journey_id, step_id, channel, count(*) AS n FROM outbox WHERE provider_message_id LIKE ? || '%' AND status = 'sent'
     GROUP BY 1, 2, 3 ORDER BY 1, min(id)`,
    [SIMULATED],
  );
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
export function customerJourneys(
  db: StoreDb,
  customerId: string,
): { enrolment: CustomerEnrolment; log: { at: number; step_id: string | null; outcome: string; detail: string | null; delivery: string | null }[] }[] {
  const enrolments = db.all<CustomerEnrolment>(
    `SELECT id, journey_id, version, status, step_id, entered_at, step_started_at, due_at, exit_reason, exited_at, variant, converted_at, conversion_value
     FROM enrolments WHERE customer_id = ? ORDER BY entered_at DESC, id DESC`,
    [customerId],
  );
  return enrolments.map((enrolment) => ({
    enrolment,
    // a step's outcome 'sent' means its message was queued; where it stands with the provider is the outbox's
    log: db.all(
      `SELECT l.at, l.step_id, l.outcome, l.detail,
              CASE WHEN l.outcome = 'sent' THEN (SELECT group_concat(DISTINCT o.status) FROM outbox o WHERE o.enrolment_id = l.enrolment_id AND o.step_id = l.step_id) END AS delivery
       FROM step_log l WHERE l.enrolment_id = ? ORDER BY l.id`,
      [enrolment.id],
    ),
  }));
}

