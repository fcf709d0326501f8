/**
 * The outbox queries of the dispatcher and of `journey outbox`. A row moves
 *
 *   pending ──claim──▶ sending ──▶ sent | failed | dead
 *      ▲                  │
 *      └──retry/release───┘   (and back from failed/dead by `journey outbox retry`)
 *
 * A claim is a lease: `claimed_until` is both the time after which another
 * dispatcher may take the row over (the first one was killed) and the token a
 * completion must present, so that a dispatcher whose lease ran out cannot
 * overwrite what the one that took over recorded.
 */
import type { StoreDb } from './db.js';

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'dead';
export const OUTBOX_STATUSES: readonly OutboxStatus[] = ['pending', 'sending', 'sent', 'failed', 'dead'];

/** A row as the dispatcher claimed it. */
export interface ClaimedRow {
  id: number;
  idempotency_key: string;
  journey_id: string | null;
  step_id: string | null;
  channel: string;
  template: string;
  address: string;
  payload: string;
  /** Attempts made before this claim. */
  attempts: number;
  /** The lease, and the token completions must present. */
  claimed_until: number;
}

/**
 * Claims up to `limit` due rows of one provider, oldest due first, in one statement
 * (atomic: two dispatchers can never claim the same row).
 */
export function claimDue(db: StoreDb, provider: string, now: number, leaseUntil: number, limit: number): ClaimedRow[] {
  const rows = db.arrays(
    `UPDATE outbox SET status = 'sending', claimed_until = ?
     WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' AND provider = ? AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?)
     RETURNING id, idempotency_key, journey_id, step_id, channel, template, address, payload, attempts`,
    [leaseUntil, provider, now, limit],
  );
  // (arrays, not objects: this runs for every message the dispatcher sends)
  return rows.map((r) => ({
    id: r[0] as number,
    idempotency_key: r[1] as string,
    journey_id: r[2] as string | null,
    step_id: r[3] as string | null,
    channel: r[4] as string,
    template: r[5] as string,
    address: r[6] as string,
    payload: r[7] as string,
    attempts: r[8] as number,
    claimed_until: leaseUntil,
  }));
}

export const RECLAIM_ERROR = 'the dispatcher stopped during the send; sent again under the same key';

/**
 * Puts rows whose lease ran out (their dispatcher was killed) back to pending, due
 * now. The interrupted attempt counts: the request may have reached the provider,
 * and a message that kills its dispatcher every time must end up dead, not loop.
 */
export function reclaimExpired(db: StoreDb, now: number, maxAttempts: number): { reclaimed: number; dead: number } {
  const rows = db.all<{ status: OutboxStatus }>(
    `UPDATE outbox SET status = CASE WHEN attempts + 1 >= ? THEN 'dead' ELSE 'pending' END,
       attempts = attempts + 1, next_attempt_at = ?, claimed_until = NULL, last_error = ?
     WHERE status = 'sending' AND claimed_until <= ?
     RETURNING status`,
    [maxAttempts, now, RECLAIM_ERROR, now],
  );
  const dead = rows.filter((r) => r.status === 'dead').length;
  return { reclaimed: rows.length - dead, dead };
}

/** Providers with rows due now (the dispatcher opens a lane for each). */
export function dueProviders(db: StoreDb, now: number): string[] {
  return db.all<{ provider: string }>(`SELECT DISTINCT provider FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?`, [now]).map((r) => r.provider);
}

/** When the next pending row of a provider falls due; null if it has none. */
export function nextDueAt(db: StoreDb, provider: string): number | null {
  return db.get<{ t: number | null }>(`SELECT min(next_attempt_at) AS t FROM outbox WHERE status = 'pending' AND provider = ?`, [provider])?.t ?? null;
}

/** When the first lease of a row in 'sending' runs out (its dispatcher may be gone); null if none. */
export function nextLeaseEnd(db: StoreDb): number | null {
  return db.get<{ t: number | null }>(`SELECT min(claimed_until) AS t FROM outbox WHERE status = 'sending'`)?.t ?? null;
}

/** Fails every pending row of a provider the config no longer has (a rename, a typo). */
export function failProviderRows(db: StoreDb, provider: string, error: string): number {
  return db.run(`UPDATE outbox SET status = 'failed', last_error = ?, claimed_until = NULL WHERE status = 'pending' AND provider = ?`, [error, provider]).changes;
}

/** What became of one claimed row; recorded in batches by completeRows. */
export type Completion =
  | { kind: 'sent'; id: number; token: number; providerMessageId: string; at: number }
  | { kind: 'retry'; id: number; token: number; error: string; nextAttemptAt: number }
  | { kind: 'dead'; id: number; token: number; error: string }
  | { kind: 'failed'; id: number; token: number; error: string }
  /** Not attempted (circuit open, dispatcher stopping): back to pending, no attempt counted. */
  | { kind: 'release'; id: number; token: number; nextAttemptAt: number };

/**
 * Records a group of completions in one transaction (one fsync for the group, not
 * one per message). Returns how many rows were still ours to update.
 */
export function completeRows(db: StoreDb, completions: readonly Completion[]): number {
  if (completions.length === 0) return 0;
  return db.transaction(() => {
    let changed = 0;
    const sent = completions.filter((c): c is Extract<Completion, { kind: 'sent' }> => c.kind === 'sent');
    for (let i = 0; i < sent.length; ) {
      // the common case, a sent message, goes in multi-row statements of a few sizes,
      // so that their prepared statements are reused
      const size = SENT_CHUNKS.find((n) => n <= sent.length - i)!;
      changed += markSent(db, sent.slice(i, i + size));
      i += size;
    }
    for (const c of completions) if (c.kind !== 'sent') changed += completeRow(db, c);
    return changed;
  });
}

const SENT_CHUNKS = [256, 64, 16, 4, 1];

function markSent(db: StoreDb, rows: Extract<Completion, { kind: 'sent' }>[]): number {
  return db.run(
    `WITH done (id, token, message_id, at) AS (VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')})
     UPDATE outbox SET status = 'sent', attempts = attempts + 1, provider_message_id = done.message_id, sent_at = done.at,
       last_error = NULL, claimed_until = NULL
     FROM done WHERE outbox.id = done.id AND outbox.status = 'sending' AND outbox.claimed_until = done.token`,
    rows.flatMap((r) => [r.id, r.token, r.providerMessageId, r.at]),
  ).changes;
}

function completeRow(db: StoreDb, c: Completion): number {
  switch (c.kind) {
    case 'sent':
      return db.run(
        `UPDATE outbox SET status = 'sent', attempts = attempts + 1, provider_message_id = ?, sent_at = ?, last_error = NULL, claimed_until = NULL
         WHERE id = ? AND status = 'sending' AND claimed_until = ?`,
        [c.providerMessageId, c.at, c.id, c.token],
      ).changes;
    case 'retry':
      return db.run(
        `UPDATE outbox SET status = 'pending', attempts = attempts + 1, next_attempt_at = ?, last_error = ?, claimed_until = NULL
         WHERE id = ? AND status = 'sending' AND claimed_until = ?`,
        [c.nextAttemptAt, c.error, c.id, c.token],
      ).changes;
    case 'dead':
    case 'failed':
      return db.run(
        `UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, claimed_until = NULL
         WHERE id = ? AND status = 'sending' AND claimed_until = ?`,
        [c.kind, c.error, c.id, c.token],
      ).changes;
    case 'release':
      return db.run(`UPDATE outbox SET status = 'pending', next_attempt_at = ?, claimed_until = NULL WHERE id = ? AND status = 'sending' AND claimed_until = ?`, [
        c.nextAttemptAt,
        c.id,
        c.token,
      ]).changes;
    default:
      return unexpected(c);
  }
}

function unexpected(value: never): never {
  throw new Error(`unexpected completion ${JSON.stringify(value)}`);
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
}

export function countByStatus(db: StoreDb): Record<OutboxStatus, number> {
  const counts = Object.fromEntries(OUTBOX_STATUSES.map((s) => [s, 0])) as Record<OutboxStatus, number>;
  for (const r of db.all<{ status: OutboxStatus; n: number }>(`SELECT status, count(*) AS n FROM outbox GROUP BY status`)) counts[r.status] = r.n;
  return counts;
}

/** The newest rows in these statuses, newest first. */
export function listRows(db: StoreDb, statuses: readonly OutboxStatus[], limit: number): OutboxListRow[] {
  const marks = statuses.map(() => '?').join(', ');
  return db.all<OutboxListRow>(
    `SELECT id, idempotency_key, status, channel, provider, template, address, attempts, next_attempt_at, last_error, provider_message_id, created_at, sent_at
     FROM outbox WHERE status IN (${marks}) ORDER BY id DESC LIMIT ?`,
    [...statuses, limit],
  );
}

/**
 * Puts failed (and, when asked, dead) rows back to pending, due at `now`, with a
 * fresh attempt budget; the key stays, so a provider that did get an earlier
 * attempt can still tell. ids limits it to those rows.
 */
export function requeueRows(db: StoreDb, statuses: readonly OutboxStatus[], now: number, ids?: readonly number[]): { requeued: number[]; skipped: { id: number; status: OutboxStatus | null }[] } {
  const marks = statuses.map(() => '?').join(', ');
  return db.transaction(() => {
    if (!ids) {
      const rows = db.all<{ id: number }>(`UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, claimed_until = NULL WHERE status IN (${marks}) RETURNING id`, [now, ...statuses]);
      return { requeued: rows.map((r) => r.id).sort((a, b) => a - b), skipped: [] };
    }
    const requeued: number[] = [];
    const skipped: { id: number; status: OutboxStatus | null }[] = [];
    for (const id of ids) {
      const changed = db.run(`UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, claimed_until = NULL WHERE id = ? AND status IN (${marks})`, [now, id, ...statuses]).changes;
      if (changed) requeued.push(id);
      else skipped.push({ id, status: db.get<{ status: OutboxStatus }>(`SELECT status FROM outbox WHERE id = ?`, [id])?.status ?? null });
    }
    return { requeued, skipped };
  });
}
