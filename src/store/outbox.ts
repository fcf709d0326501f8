/**
 * The outbox queries of the dispatcher and of `journey outbox`. A row moves
 *
 *   pending ──claim──▶ (sending) ──▶ sent | failed | dead
 *      ▲                   │
 *      └──retry/release────┘   (and back from failed/dead by `journey outbox retry`)
 *
 * A claim writes one lease row (the ids it took, and until when), not the rows
 * themselves (migration 009 says why): a row is 'sending' while it is pending in a
 * lease that has not recorded its outcome. The lease's id is the token a completion
 * must present: once a lease has run out and its rows were taken over, the lease is
 * gone, and a dispatcher that comes back late cannot overwrite what the one that
 * took over recorded.
 */
import type { StoreDb } from './db.js';

export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'failed' | 'dead';
export const OUTBOX_STATUSES: readonly OutboxStatus[] = ['pending', 'sending', 'sent', 'failed', 'dead'];

/** An outbox row's columns that a message is built from. */
export interface MessageColumns {
  id: number;
  idempotency_key: string;
  journey_id: string | null;
  step_id: string | null;
  channel: string;
  template: string;
  address: string;
  /** The template variables (JSON), which a provider's own template renders from. */
  payload: string;
  /** The message as rendered when the step sent it (JSON: subject, preheader, html, text, body), or null. */
  content: string | null;
}

/** A row as the dispatcher claimed it. */
export interface ClaimedRow extends MessageColumns {
  /** Attempts made before this claim. */
  attempts: number;
  /** The lease that holds the row: the token its completion presents. */
  lease: number;
}

/** Ids held by a lease (of one provider, when the caller adds `WHERE l.provider = ?`). */
const LEASED_IDS = `SELECT j.value FROM outbox_leases l, json_each(l.ids) j`;

const MESSAGE_COLUMNS = 'm.id, idempotency_key, journey_id, step_id, channel, template, address, payload, content';

/**
 * Claims up to `limit` due rows of one provider, oldest due first, as one new lease.
 * The transaction starts by writing the lease, so it holds the store's write lock
 * before it reads: two dispatchers can never claim the same row.
 */
export function claimDue(db: StoreDb, provider: string, now: number, leaseUntil: number, limit: number): ClaimedRow[] {
  return db.transaction(() => {
    const lease = db.get<{ id: number }>(`INSERT INTO outbox_leases (provider, claimed_at, until, ids) VALUES (?, ?, ?, '[]') RETURNING id`, [provider, now, leaseUntil])!.id;
    // (arrays, not objects: this runs for every message the dispatcher sends)
    const rows = db.arrays(
      `SELECT ${MESSAGE_COLUMNS}, d.attempts
       FROM outbox_delivery d JOIN outbox_messages m ON m.id = d.id
       WHERE d.status = 'pending' AND d.provider = ? AND d.next_attempt_at <= ? AND d.id NOT IN (${LEASED_IDS} WHERE l.provider = ?)
       ORDER BY d.next_attempt_at LIMIT ?`,
      [provider, now, provider, limit],
    );
    if (rows.length === 0) {
      db.run(`DELETE FROM outbox_leases WHERE id = ?`, [lease]);
      return [];
    }
    let ids = '';
    for (const r of rows) ids += (ids ? ',' : '') + String(r[0]);
    db.run(`UPDATE outbox_leases SET ids = ? WHERE id = ?`, [`[${ids}]`, lease]);
    return rows.map(
      (c): ClaimedRow => ({
        id: c[0] as number,
        idempotency_key: c[1] as string,
        journey_id: c[2] as string | null,
        step_id: c[3] as string | null,
        channel: c[4] as string,
        template: c[5] as string,
        address: c[6] as string,
        payload: c[7] as string,
        content: c[8] as string | null,
        attempts: c[9] as number,
        lease,
      }),
    );
  });
}

export const RECLAIM_ERROR = 'the dispatcher stopped during the send; sent again under the same key';

/**
 * Takes over the leases that ran out (their dispatcher was killed): their rows
 * still in flight go back to pending, due now. The interrupted attempt counts: the
 * request may have reached the provider, and a message that kills its dispatcher
 * every time must end up dead, not loop. Rows whose outcome the lease did record
 * (a retry, a release) keep it.
 */
export function reclaimExpired(db: StoreDb, now: number, maxAttempts: number): { reclaimed: number; dead: number } {
  return db.transaction(() => {
    const rows = db.all<{ status: OutboxStatus }>(
      `UPDATE outbox_delivery SET status = CASE WHEN attempts + 1 >= ? THEN 'dead' ELSE 'pending' END,
         attempts = attempts + 1, next_attempt_at = ?, lease_id = NULL, last_error = ?
       FROM (SELECT l.id AS lease, j.value AS row_id FROM outbox_leases l, json_each(l.ids) j WHERE l.until <= ?) AS expired
       WHERE outbox_delivery.id = expired.row_id AND outbox_delivery.status = 'pending' AND outbox_delivery.lease_id IS NOT expired.lease
       RETURNING status`,
      [maxAttempts, now, RECLAIM_ERROR, now],
    );
    db.run(`DELETE FROM outbox_leases WHERE until <= ?`, [now]);
    const dead = rows.filter((r) => r.status === 'dead').length;
    return { reclaimed: rows.length - dead, dead };
  });
}

/** Providers with rows due now (the dispatcher opens a lane for each). */
export function dueProviders(db: StoreDb, now: number): string[] {
  return db.all<{ provider: string }>(`SELECT DISTINCT provider FROM outbox_delivery WHERE status = 'pending' AND next_attempt_at <= ?`, [now]).map((r) => r.provider);
}

/** When the next pending row of a provider that no lease holds falls due; null if it has none. */
export function nextDueAt(db: StoreDb, provider: string): number | null {
  return (
    db.get<{ t: number | null }>(`SELECT min(next_attempt_at) AS t FROM outbox_delivery WHERE status = 'pending' AND provider = ? AND id NOT IN (${LEASED_IDS} WHERE l.provider = ?)`, [
      provider,
      provider,
    ])?.t ?? null
  );
}

/** When the first lease runs out (its dispatcher may be gone); null if none is held. */
export function nextLeaseEnd(db: StoreDb): number | null {
  return db.get<{ t: number | null }>(`SELECT min(until) AS t FROM outbox_leases`)?.t ?? null;
}

/** Fails every pending row of a provider the config no longer has (a rename, a typo). */
export function failProviderRows(db: StoreDb, provider: string, error: string): number {
  return db.run(`UPDATE outbox_delivery SET status = 'failed', last_error = ?, lease_id = NULL WHERE status = 'pending' AND provider = ? AND id NOT IN (${LEASED_IDS} WHERE l.provider = ?)`, [
    error,
    provider,
    provider,
  ]).changes;
}

/** What became of one claimed row; recorded in batches by completeRows. */
export type Completion =
  /** byId: the provider's delivery events may name the message by providerMessageId alone (it gets indexed). */
  | { kind: 'sent'; id: number; lease: number; providerMessageId: string; byId: boolean; at: number }
  | { kind: 'retry'; id: number; lease: number; error: string; nextAttemptAt: number }
  | { kind: 'dead'; id: number; lease: number; error: string }
  | { kind: 'failed'; id: number; lease: number; error: string }
  /** Not attempted (circuit open, dispatcher stopping): back to pending, no attempt counted. */
  | { kind: 'release'; id: number; lease: number; nextAttemptAt: number };

/**
 * Records a group of completions in one transaction (one fsync for the group, not
 * one per message), and ends the leases whose every row now has its outcome.
 * Completions of a lease that is gone (it ran out and was taken over) are dropped.
 * Returns how many rows were updated.
 */
export function completeRows(db: StoreDb, completions: readonly Completion[], endedLeases: readonly number[] = []): number {
  if (completions.length === 0 && endedLeases.length === 0) return 0;
  return db.transaction(() => {
    const live = liveLeases(db, completions);
    let changed = 0;
    const sent: Extract<Completion, { kind: 'sent' }>[] = [];
    for (const c of completions) {
      if (!live.has(c.lease)) continue;
      if (c.kind === 'sent') sent.push(c);
      else changed += completeRow(db, c);
    }
    for (let i = 0; i < sent.length; ) {
      // the common case, a sent message, goes in multi-row statements of a few sizes,
      // so that their prepared statements are reused
      const size = SENT_CHUNKS.find((n) => n <= sent.length - i)!;
      changed += markSent(db, sent, i, size);
      i += size;
    }
    for (let i = 0; i < endedLeases.length; i += 500) {
      const chunk = endedLeases.slice(i, i + 500);
      db.run(`DELETE FROM outbox_leases WHERE id IN (${chunk.map(() => '?').join(', ')})`, chunk);
    }
    return changed;
  });
}

/** The leases among the completions' that still exist. */
function liveLeases(db: StoreDb, completions: readonly Completion[]): Set<number> {
  const asked = new Set<number>();
  for (const c of completions) asked.add(c.lease);
  const live = new Set<number>();
  for (const id of asked) if (db.get(`SELECT 1 AS ok FROM outbox_leases WHERE id = ?`, [id])) live.add(id);
  return live;
}

const SENT_CHUNKS = [256, 64, 16, 4, 1];
const SENT_SQL = new Map(
  SENT_CHUNKS.map((n) => [
    n,
    `WITH done (id, message_id, by_id, at) AS (VALUES ${Array.from({ length: n }, () => '(?, ?, ?, ?)').join(', ')})
     UPDATE outbox_delivery SET status = 'sent', attempts = attempts + 1, provider_message_id = done.message_id, events_by_id = done.by_id, sent_at = done.at,
       last_error = NULL, lease_id = NULL
     FROM done WHERE outbox_delivery.id = done.id AND outbox_delivery.status = 'pending'`,
  ]),
);

function markSent(db: StoreDb, sent: readonly Extract<Completion, { kind: 'sent' }>[], from: number, size: number): number {
  const params: (string | number)[] = new Array(size * 4);
  for (let i = 0; i < size; i++) {
    const c = sent[from + i]!;
    params[i * 4] = c.id;
    params[i * 4 + 1] = c.providerMessageId;
    params[i * 4 + 2] = c.byId ? 1 : 0;
    params[i * 4 + 3] = c.at;
  }
  return db.run(SENT_SQL.get(size)!, params).changes;
}

/** One completion other than a send; retries and releases note their lease, so that a takeover leaves them be. */
function completeRow(db: StoreDb, c: Exclude<Completion, { kind: 'sent' }>): number {
  switch (c.kind) {
    case 'retry':
      return db.run(`UPDATE outbox_delivery SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, lease_id = ? WHERE id = ? AND status = 'pending'`, [
        c.nextAttemptAt,
        c.error,
        c.lease,
        c.id,
      ]).changes;
    case 'dead':
    case 'failed':
      return db.run(`UPDATE outbox_delivery SET status = ?, attempts = attempts + 1, last_error = ?, lease_id = NULL WHERE id = ? AND status = 'pending'`, [c.kind, c.error, c.id])
        .changes;
    case 'release':
      return db.run(`UPDATE outbox_delivery SET next_attempt_at = ?, lease_id = ? WHERE id = ? AND status = 'pending'`, [c.nextAttemptAt, c.lease, c.id]).changes;
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

/** Rows in flight: pending, in a lease that has not recorded their outcome. */
const IN_FLIGHT = `SELECT o.id FROM outbox_leases l, json_each(l.ids) j JOIN outbox_delivery o ON o.id = j.value WHERE o.status = 'pending' AND o.lease_id IS NOT l.id`;

/**
 * Rows per status. Only pending, failed and dead rows are indexed by status (the
 * dispatcher writes every sent row, and an index entry more per message shows in
 * its bench), so sent is the rest of the table, counted off the smallest index.
 */
export function countByStatus(db: StoreDb): Record<OutboxStatus, number> {
  const count = (sql: string) => db.get<{ n: number }>(sql)!.n;
  const total = count(`SELECT count(*) AS n FROM outbox_delivery`);
  const pending = count(`SELECT count(*) AS n FROM outbox_delivery WHERE status = 'pending'`);
  const sending = count(`SELECT count(*) AS n FROM (${IN_FLIGHT})`);
  const failed = count(`SELECT count(*) AS n FROM outbox_delivery WHERE status = 'failed'`);
  const dead = count(`SELECT count(*) AS n FROM outbox_delivery WHERE status = 'dead'`);
  return { pending: pending - sending, sending, sent: total - pending - failed - dead, failed, dead };
}

/** The newest rows in these statuses, newest first. */
export function listRows(db: StoreDb, statuses: readonly OutboxStatus[], limit: number): OutboxListRow[] {
  // 'sending' is stored as pending
  const stored = [...new Set(statuses.map((s) => (s === 'sending' ? 'pending' : s)))];
  return db.all<OutboxListRow>(
    `SELECT * FROM (
       SELECT id, idempotency_key, CASE WHEN status = 'pending' AND id IN (${IN_FLIGHT}) THEN 'sending' ELSE status END AS status,
         channel, provider, template, address, attempts, next_attempt_at, last_error, provider_message_id, created_at, sent_at
       FROM outbox WHERE status IN (${stored.map(() => '?').join(', ')}))
     WHERE status IN (${statuses.map(() => '?').join(', ')}) ORDER BY id DESC LIMIT ?`,
    [...stored, ...statuses, limit],
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
      const rows = db.all<{ id: number }>(`UPDATE outbox_delivery SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_id = NULL WHERE status IN (${marks}) RETURNING id`, [now, ...statuses]);
      return { requeued: rows.map((r) => r.id).sort((a, b) => a - b), skipped: [] };
    }
    const requeued: number[] = [];
    const skipped: { id: number; status: OutboxStatus | null }[] = [];
    for (const id of ids) {
      const changed = db.run(`UPDATE outbox_delivery SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_id = NULL WHERE id = ? AND status IN (${marks})`, [now, id, ...statuses]).changes;
      if (changed) requeued.push(id);
      else skipped.push({ id, status: db.get<{ status: OutboxStatus }>(`SELECT status FROM outbox_delivery WHERE id = ?`, [id])?.status ?? null });
    }
    return { requeued, skipped };
  });
}
