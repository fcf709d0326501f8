/**
 * The outbox queries of the dispatcher (what `journey outbox` lists and settles is
 * outbox-operator.ts). A row moves
 *
 *   pending ──claim──▶ (sending) ──▶ sent | failed | dead
 *      ▲                   │
 *      └──retry/release────┘   (and back from failed/dead by `journey outbox retry`)
 *
 * A claim writes one lease row (the ids it took, and until when), not the rows
 * themselves (migration 009 says why). Before a request leaves, the ids it carries
 * are written to outbox_attempts (migration 014), group-committed: a row is
 * 'attempting' while it is pending in such an attempt of a live lease that has not
 * recorded its outcome, and 'in doubt' (in_doubt_since set) when an attempt may
 * have reached the provider without our learning the answer. The lease's id is the token a completion
 * must present: once a lease has run out and its rows were taken over, the lease is
 * gone, and a dispatcher that comes back late cannot overwrite what the one that
 * took over recorded.
 */
import type { SqlValue, StoreDb } from './db.js';

/** What outbox_delivery.status holds: pending covers queued, attempting and in doubt. */
export type StoredStatus = 'pending' | 'sent' | 'failed' | 'dead';

/**
 * A message's delivery as `journey outbox` shows it: queued (waiting for its turn),
 * attempting (its request is leaving or out), in_doubt (the request may have reached
 * the provider, the answer never came back), accepted (the provider took it),
 * failed (refused for good), dead (retries ran out).
 */
export type OutboxStatus = 'queued' | 'attempting' | 'in_doubt' | 'accepted' | 'failed' | 'dead';
export const OUTBOX_STATUSES: readonly OutboxStatus[] = ['queued', 'attempting', 'in_doubt', 'accepted', 'failed', 'dead'];
/** The names the listing used before the delivery states (still accepted by --status). */
export const STATUS_ALIASES: Readonly<Record<string, OutboxStatus>> = { pending: 'queued', sending: 'attempting', sent: 'accepted' };

/** next_attempt_at of a message held in doubt for `journey outbox resolve`: never due by itself. */
export const HELD = Number.MAX_SAFE_INTEGER;

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
  /** When the attempt began that left the row in doubt; null for a row that was not. */
  inDoubtSince: number | null;
}

/** Ids held by a lease (of one provider, when the caller adds `WHERE l.provider = ?`). */
export const LEASED_IDS = `SELECT j.value FROM outbox_leases l, json_each(l.ids) j`;

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
       WHERE d.status = 'pending' AND d.provider = ? AND d.next_attempt_at <= ? AND d.in_doubt_since IS NULL AND d.id NOT IN (${LEASED_IDS} WHERE l.provider = ?)
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
    return rows.map((c) => claimedRow(c, lease, null));
  });
}

/** A claimed row from its columns: MESSAGE_COLUMNS, then the attempts made. */
function claimedRow(c: readonly SqlValue[], lease: number, inDoubtSince: number | null): ClaimedRow {
  return {
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
    inDoubtSince,
  };
}

/**
 * Claims up to `limit` due rows of one provider that are in doubt, as one new lease,
 * with the columns their message is built from: the dispatcher settles each (asks
 * the provider, resends under the same key, or holds it) before anything else.
 */
export function claimInDoubt(db: StoreDb, provider: string, now: number, leaseUntil: number, limit: number): ClaimedRow[] {
  return db.transaction(() => {
    const lease = db.get<{ id: number }>(`INSERT INTO outbox_leases (provider, claimed_at, until, ids) VALUES (?, ?, ?, '[]') RETURNING id`, [provider, now, leaseUntil])!.id;
    const rows = db.arrays(
      `SELECT ${MESSAGE_COLUMNS}, d.attempts, d.in_doubt_since
       FROM outbox_delivery d JOIN outbox_messages m ON m.id = d.id
       WHERE d.in_doubt_since IS NOT NULL AND d.status = 'pending' AND d.provider = ? AND d.next_attempt_at <= ? AND d.id NOT IN (${LEASED_IDS} WHERE l.provider = ?)
       ORDER BY d.next_attempt_at LIMIT ?`,
      [provider, now, provider, limit],
    );
    if (rows.length === 0) {
      db.run(`DELETE FROM outbox_leases WHERE id = ?`, [lease]);
      return [];
    }
    db.run(`UPDATE outbox_leases SET ids = ? WHERE id = ?`, [`[${rows.map((r) => String(r[0])).join(',')}]`, lease]);
    return rows.map((c) => claimedRow(c, lease, c[10] as number));
  });
}

export const RECLAIM_ERROR = 'the dispatcher stopped during the request: in doubt until the provider is asked (or the message is resolved)';

/**
 * Takes over the leases that ran out (their dispatcher was killed). Their rows
 * without an outcome split in two: those in an attempt of the lease (their request
 * may have reached the provider) are now in doubt, with the interrupted attempt
 * counted, and are never sent again blindly; the others never left and simply go
 * back to the queue by the lease's end, untouched. Rows whose outcome the lease did
 * record (a retry, a release) keep it.
 */
export function reclaimExpired(db: StoreDb, now: number, _maxAttempts?: number): { reclaimed: number; inDoubt: number; dead: number } {
  return db.transaction(() => {
    const taken = db.get<{ n: number }>(
      `SELECT count(*) AS n FROM outbox_leases l, json_each(l.ids) j JOIN outbox_delivery d ON d.id = j.value
       WHERE l.until <= ? AND d.status = 'pending' AND d.lease_id IS NOT l.id`,
      [now],
    )!.n;
    const inDoubt = db.run(
      `UPDATE outbox_delivery SET attempts = attempts + 1, in_doubt_since = x.started, next_attempt_at = ?, lease_id = NULL, last_error = ?
       FROM (SELECT l.id AS lease, j.value AS row_id, max(a.started_at) AS started
             FROM outbox_leases l JOIN outbox_attempts a ON a.lease = l.id, json_each(a.ids) j WHERE l.until <= ? GROUP BY l.id, j.value) AS x
       WHERE outbox_delivery.id = x.row_id AND outbox_delivery.status = 'pending' AND outbox_delivery.lease_id IS NOT x.lease`,
      [now, RECLAIM_ERROR, now],
    ).changes;
    db.run(`DELETE FROM outbox_attempts WHERE lease IN (SELECT id FROM outbox_leases WHERE until <= ?)`, [now]);
    db.run(`DELETE FROM outbox_leases WHERE until <= ?`, [now]);
    // (dead: a message is never given up on while in doubt; the dispatcher decides once it knows)
    return { reclaimed: taken, inDoubt, dead: 0 };
  });
}

/** Providers with rows due now (the dispatcher opens a lane for each). */
export function dueProviders(db: StoreDb, now: number): string[] {
  return db.all<{ provider: string }>(`SELECT DISTINCT provider FROM outbox_delivery WHERE status = 'pending' AND next_attempt_at <= ?`, [now]).map((r) => r.provider);
}

/** When the next pending row of a provider that no lease holds falls due; null if it has none. */
export function nextDueAt(db: StoreDb, provider: string): number | null {
  return (
    db.get<{ t: number | null }>(`SELECT min(next_attempt_at) AS t FROM outbox_delivery WHERE status = 'pending' AND provider = ? AND next_attempt_at < ? AND id NOT IN (${LEASED_IDS} WHERE l.provider = ?)`, [
      provider,
      HELD,
      provider,
    ])?.t ?? null
  );
}

/** When the first lease runs out (its dispatcher may be gone); null if none is held. */
/** Pending messages in doubt, and how many of them are held for journey outbox resolve. */
/** Messages not delivered, per provider: pending (due later, to retry, untried), of those in doubt, and of those held. */
export function inDoubtCounts(db: StoreDb): { inDoubt: number; held: number; byProvider: Map<string, { pending: number; inDoubt: number; held: number }> } {
  const rows = db.all<{ provider: string; pending: number; n: number; held: number }>(
    `SELECT provider, count(*) AS pending, count(in_doubt_since) AS n, count(CASE WHEN in_doubt_since IS NOT NULL AND next_attempt_at >= ? THEN 1 END) AS held
     FROM outbox_delivery WHERE status = 'pending' GROUP BY provider`,
    [HELD],
  );
  const byProvider = new Map(rows.map((r) => [r.provider, { pending: r.pending, inDoubt: r.n, held: r.held }]));
  return { inDoubt: rows.reduce((n, r) => n + r.n, 0), held: rows.reduce((n, r) => n + r.held, 0), byProvider };
}

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
  /** Not attempted (circuit open, dispatcher stopping): back to pending, no attempt counted. A row in doubt stays so. */
  | { kind: 'release'; id: number; lease: number; nextAttemptAt: number }
  /** The request may have reached the provider, its answer never came (a timeout, a reset): in doubt since `since`. */
  | { kind: 'in_doubt'; id: number; lease: number; error: string; since: number; nextAttemptAt: number }
  /** A row in doubt that the provider does not have: back in the queue (to go in a batch again), no attempt counted. */
  | { kind: 'requeue'; id: number; lease: number; nextAttemptAt: number }
  /** A row in doubt that stays so: asked again (or held, at HELD) from nextAttemptAt; no attempt counted. */
  | { kind: 'in_doubt_wait'; id: number; lease: number; error: string; nextAttemptAt: number }
  /** A row in doubt, the provider does not know it, and its attempts ran out: dead, no request more. */
  | { kind: 'dead_unaccepted'; id: number; lease: number; error: string };

/** The ids whose requests are about to leave under a lease, written before they do. */
export interface AttemptMark {
  lease: number;
  at: number;
  ids: readonly number[];
}

export interface GroupResult {
  /** Rows updated by the completions. */
  changed: number;
  /** Leases whose attempt marks were refused (the lease ran out or was taken over): their rows must not be sent. */
  refused: number[];
}

/**
 * One group commit of the dispatcher: the attempts about to leave (only for leases
 * that are still live and not run out at the attempt's time), the outcomes, and the
 * leases that end with them, in one transaction.
 */
export function commitGroup(db: StoreDb, attempts: readonly AttemptMark[], completions: readonly Completion[], endedLeases: readonly number[]): GroupResult {
  if (attempts.length === 0 && completions.length === 0 && endedLeases.length === 0) return { changed: 0, refused: [] };
  return db.transaction(() => {
    const refused: number[] = [];
    for (const a of attempts) {
      if (!db.get(`SELECT 1 AS ok FROM outbox_leases WHERE id = ? AND until > ?`, [a.lease, a.at])) {
        refused.push(a.lease);
        continue;
      }
      db.run(`INSERT INTO outbox_attempts (lease, started_at, ids) VALUES (?, ?, ?)`, [a.lease, a.at, `[${a.ids.join(',')}]`]);
    }
    return { changed: completeRowsIn(db, completions, endedLeases), refused };
  });
}

/**
 * Records a group of completions in one transaction (one fsync for the group, not
 * one per message), and ends the leases whose every row now has its outcome.
 * Completions of a lease that is gone (it ran out and was taken over) are dropped.
 * Returns how many rows were updated.
 */
export function completeRows(db: StoreDb, completions: readonly Completion[], endedLeases: readonly number[] = []): number {
  if (completions.length === 0 && endedLeases.length === 0) return 0;
  return db.transaction(() => completeRowsIn(db, completions, endedLeases));
}

function completeRowsIn(db: StoreDb, completions: readonly Completion[], endedLeases: readonly number[]): number {
  {
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
      const marks = chunk.map(() => '?').join(', ');
      db.run(`DELETE FROM outbox_attempts WHERE lease IN (${marks})`, chunk);
      db.run(`DELETE FROM outbox_leases WHERE id IN (${marks})`, chunk);
    }
    return changed;
  }
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
       last_error = NULL, lease_id = NULL, in_doubt_since = NULL
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
      return db.run(`UPDATE outbox_delivery SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, lease_id = ?, in_doubt_since = NULL WHERE id = ? AND status = 'pending'`, [
        c.nextAttemptAt,
        c.error,
        c.lease,
        c.id,
      ]).changes;
    case 'dead':
    case 'failed':
      return db.run(`UPDATE outbox_delivery SET status = ?, attempts = attempts + 1, last_error = ?, lease_id = NULL, in_doubt_since = NULL WHERE id = ? AND status = 'pending'`, [
        c.kind,
        c.error,
        c.id,
      ]).changes;
    case 'dead_unaccepted':
      return db.run(`UPDATE outbox_delivery SET status = 'dead', last_error = ?, lease_id = NULL, in_doubt_since = NULL WHERE id = ? AND status = 'pending'`, [c.error, c.id]).changes;
    case 'in_doubt':
      return db.run(`UPDATE outbox_delivery SET attempts = attempts + 1, in_doubt_since = ?, next_attempt_at = ?, last_error = ?, lease_id = ? WHERE id = ? AND status = 'pending'`, [
        c.since,
        c.nextAttemptAt,
        c.error,
        c.lease,
        c.id,
      ]).changes;
    case 'requeue':
      return db.run(`UPDATE outbox_delivery SET in_doubt_since = NULL, next_attempt_at = ?, lease_id = ? WHERE id = ? AND status = 'pending'`, [c.nextAttemptAt, c.lease, c.id]).changes;
    case 'in_doubt_wait':
      return db.run(`UPDATE outbox_delivery SET next_attempt_at = ?, last_error = ?, lease_id = ? WHERE id = ? AND status = 'pending' AND in_doubt_since IS NOT NULL`, [
        c.nextAttemptAt,
        c.error,
        c.lease,
        c.id,
      ]).changes;
    case 'release':
      return db.run(`UPDATE outbox_delivery SET next_attempt_at = ?, lease_id = ? WHERE id = ? AND status = 'pending'`, [c.nextAttemptAt, c.lease, c.id]).changes;
    default:
      return unexpected(c);
  }
}

function unexpected(value: never): never {
  throw new Error(`unexpected completion ${JSON.stringify(value)}`);
}
