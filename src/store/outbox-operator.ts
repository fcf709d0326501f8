/**
 * The outbox as an operator sees and settles it (`journey outbox`, `outbox retry`,
 * `outbox resolve`, the counts of `journey run`): the listed state of each row, derived
 * from its stored status, its doubt and the attempts in flight. The dispatcher's own
 * path (claims, attempts, completions) is outbox.ts.
 */
import type { SqlValue, StoreDb } from './db.js';
import { HELD, LEASED_IDS, type OutboxStatus, type StoredStatus } from './outbox.js';

/** Rows attempting: pending, in an attempt of a live lease that has not recorded their outcome. */
const ATTEMPTING = `SELECT o.id FROM outbox_leases l JOIN outbox_attempts a ON a.lease = l.id, json_each(a.ids) j JOIN outbox_delivery o ON o.id = j.value
  WHERE o.status = 'pending' AND o.lease_id IS NOT l.id`;

/** The state of an outbox row as listed, from its stored status, its doubt and the attempts in flight. */
const STATE = `CASE WHEN d.status = 'sent' THEN 'accepted' WHEN d.status <> 'pending' THEN d.status
  WHEN d.id IN (${ATTEMPTING}) THEN 'attempting' WHEN d.in_doubt_since IS NOT NULL THEN 'in_doubt' ELSE 'queued' END`;

/**
 * Rows per state. Only pending, failed and dead rows are indexed by status (the
 * dispatcher writes every sent row, and an index entry more per message shows in
 * its bench), so accepted is the rest of the table, counted off the smallest index.
 */
export function countByStatus(db: StoreDb): Record<OutboxStatus, number> {
  const count = (sql: string, params: SqlValue[] = []) => db.get<{ n: number }>(sql, params)!.n;
  const total = count(`SELECT count(*) AS n FROM outbox_delivery`);
  const pending = count(`SELECT count(*) AS n FROM outbox_delivery WHERE status = 'pending'`);
  const attempting = count(`SELECT count(DISTINCT id) AS n FROM (${ATTEMPTING})`);
  const inDoubt = count(`SELECT count(*) AS n FROM outbox_delivery d WHERE in_doubt_since IS NOT NULL AND status = 'pending' AND id NOT IN (${ATTEMPTING})`);
  const failed = count(`SELECT count(*) AS n FROM outbox_delivery WHERE status = 'failed'`);
  const dead = count(`SELECT count(*) AS n FROM outbox_delivery WHERE status = 'dead'`);
  return { queued: pending - attempting - inDoubt, attempting, in_doubt: inDoubt, accepted: total - pending - failed - dead, failed, dead };
}

/** One row as `journey outbox` lists it. */
export interface OutboxListRow {
  id: number;
  idempotency_key: string;
  status: OutboxStatus;
  channel: string;
  provider: string;
  template: string;
  address: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  provider_message_id: string | null;
  created_at: number;
  sent_at: number | null;
  /** When the attempt began that left it in doubt; null unless in doubt. */
  in_doubt_since: number | null;
  /** In doubt and held for `journey outbox resolve` (the provider cannot be asked). */
  held: boolean;
}

const STORED_OF: Record<OutboxStatus, StoredStatus> = { queued: 'pending', attempting: 'pending', in_doubt: 'pending', accepted: 'sent', failed: 'failed', dead: 'dead' };

/** The newest rows in these states, newest first. */
export function listRows(db: StoreDb, statuses: readonly OutboxStatus[], limit: number): OutboxListRow[] {
  const stored = [...new Set(statuses.map((s) => STORED_OF[s]))];
  const rows = db.all<Omit<OutboxListRow, 'held'>>(
    `SELECT * FROM (
       SELECT m.id, m.idempotency_key, ${STATE} AS status, m.channel, d.provider, m.template, m.address, d.attempts, d.next_attempt_at, d.last_error,
         d.provider_message_id, m.created_at, d.sent_at, CASE WHEN d.status = 'pending' THEN d.in_doubt_since END AS in_doubt_since
       FROM outbox_delivery d JOIN outbox_messages m ON m.id = d.id WHERE d.status IN (${stored.map(() => '?').join(', ')}))
     WHERE status IN (${statuses.map(() => '?').join(', ')}) ORDER BY id DESC LIMIT ?`,
    [...stored, ...statuses, limit],
  );
  return rows.map((r) => ({ ...r, held: r.status === 'in_doubt' && r.next_attempt_at >= HELD }));
}

/**
 * Puts failed (and, when asked, dead) rows back to pending, due at `now`, with a
 * fresh attempt budget; the key stays, so a provider that did get an earlier
 * attempt can still tell. ids limits it to those rows.
 */
export function requeueRows(db: StoreDb, statuses: readonly StoredStatus[], now: number, ids?: readonly number[]): { requeued: number[]; skipped: { id: number; status: OutboxStatus | null }[] } {
  const marks = statuses.map(() => '?').join(', ');
  return db.transaction(() => {
    if (!ids) {
      const rows = db.all<{ id: number }>(`UPDATE outbox_delivery SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_id = NULL WHERE status IN (${marks}) RETURNING id`, [now, ...statuses]);
      return { requeued: rows.map((r) => r.id).sort((a, b) => a - b), skipped: [] };
    }
    const requeued: number[] = [];
    const skipped: { id: number; status: OutboxStatus | null }[] = [];
    for (const id of ids) {
      const changed = db.run(`UPDATE outbox_delivery SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_id = NULL WHERE id = ? AND status IN (${marks})`, [now, id, ...statuses]).changes;
      if (changed) requeued.push(id);
      // as the listing names it: a pending message may be queued, in an attempt or in doubt
      else skipped.push({ id, status: db.get<{ status: OutboxStatus }>(`SELECT ${STATE} AS status FROM outbox_delivery d WHERE d.id = ?`, [id])?.status ?? null });
    }
    return { requeued, skipped };
  });
}

/** How `journey outbox resolve` settles a message in doubt. */
export type Resolution = { kind: 'accepted'; providerMessageId: string | null } | { kind: 'resend' };

/**
 * Settles messages in doubt that no dispatcher holds: accepted (someone checked the
 * provider's console: it went out) or resend (it did not: send it again under the
 * same key). Rows not in doubt, or in a lease right now, are skipped with their state.
 */
export function resolveRows(
  db: StoreDb,
  ids: readonly number[] | 'all-held',
  resolution: Resolution,
  now: number,
): { resolved: number[]; skipped: { id: number; status: OutboxStatus | null }[] } {
  return db.transaction(() => {
    const targets =
      ids === 'all-held'
        ? db.all<{ id: number }>(`SELECT id FROM outbox_delivery WHERE in_doubt_since IS NOT NULL AND status = 'pending' AND next_attempt_at >= ? ORDER BY id`, [HELD]).map((r) => r.id)
        : ids;
    const resolved: number[] = [];
    const skipped: { id: number; status: OutboxStatus | null }[] = [];
    for (const id of targets) {
      const where = `id = ? AND status = 'pending' AND in_doubt_since IS NOT NULL AND id NOT IN (${LEASED_IDS})`;
      const changed =
        resolution.kind === 'accepted'
          ? db.run(
              `UPDATE outbox_delivery SET status = 'sent', provider_message_id = coalesce(?, provider_message_id), sent_at = coalesce(sent_at, in_doubt_since), in_doubt_since = NULL,
                 last_error = 'resolved by hand: accepted', lease_id = NULL WHERE ${where}`,
              [resolution.providerMessageId, id],
            ).changes
          : db.run(`UPDATE outbox_delivery SET in_doubt_since = NULL, next_attempt_at = ?, last_error = 'resolved by hand: sent again under the same key', lease_id = NULL WHERE ${where}`, [
              now,
              id,
            ]).changes;
      if (changed) resolved.push(id);
      else {
        const row = db.get<{ status: OutboxStatus }>(`SELECT ${STATE} AS status FROM outbox_delivery d WHERE d.id = ?`, [id]);
        skipped.push({ id, status: row?.status ?? null });
      }
    }
    return { resolved, skipped };
  });
}
