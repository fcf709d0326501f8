import type { StoreDb } from './db.js';
import type { IdSet } from './enrolments.js';

/**
 * Reads that give a tick's report its detail (per step, per reason, until when). They
 * run over sets the tick already holds in temporary tables, so they cost little next
 * to the writes they describe.
 */

/** How many enrolments of a set sit at each step. */
export function countByStep(db: StoreDb, set: IdSet): Map<string, number> {
  const rows = db.all<{ step_id: string | null; n: number }>(`SELECT step_id, count(*) AS n FROM enrolments WHERE id IN (SELECT id FROM (${set.sql})) GROUP BY step_id`, set.params);
  return new Map(rows.map((r) => [r.step_id ?? '', r.n]));
}

/** The earliest and latest due time of a set's enrolments (null when the set is empty). */
export function dueRange(db: StoreDb, set: IdSet): { earliest: number; latest: number } | null {
  const r = db.get<{ earliest: number | null; latest: number | null }>(
    `SELECT min(due_at) AS earliest, max(due_at) AS latest FROM enrolments WHERE id IN (SELECT id FROM (${set.sql}))`,
    set.params,
  );
  return r && r.earliest !== null && r.latest !== null ? { earliest: r.earliest, latest: r.latest } : null;
}

/** The newest enrolment's id (0 when none): what a tick enters after it is new. */
export function lastEnrolmentId(db: StoreDb): number {
  return db.get<{ id: number | null }>('SELECT max(id) AS id FROM enrolments')?.id ?? 0;
}

/** Some of the customers a journey entered after enrolment `afterId`, in the order they entered. */
export function enteredSample(db: StoreDb, journeyId: string, afterId: number, limit: number): string[] {
  if (limit <= 0) return [];
  return db.all<{ customer_id: string }>('SELECT customer_id FROM enrolments WHERE journey_id = ? AND id > ? ORDER BY id LIMIT ?', [journeyId, afterId, limit]).map((r) => r.customer_id);
}

/**
 * Of the live enrolments a tick made in a journey (ids after `afterId`), those whose
 * customer had been in it in test mode only: they now enter for real.
 */
export function enteredAfterTestOnly(db: StoreDb, journeyId: string, afterId: number): number {
  return db.get<{ n: number }>(
    `SELECT count(*) AS n FROM enrolments e
     WHERE e.journey_id = ? AND e.id > ? AND e.test = 0
       AND EXISTS (SELECT 1 FROM enrolments t WHERE t.journey_id = e.journey_id AND t.customer_id = e.customer_id AND t.test = 1)
       AND NOT EXISTS (SELECT 1 FROM enrolments l WHERE l.journey_id = e.journey_id AND l.customer_id = e.customer_id AND l.test = 0 AND l.id <= ?)`,
    [journeyId, afterId, afterId],
  )!.n;
}
