/**
 * The outbox's leases (migration 009): a claim writes one lease, not the rows it
 * takes; completions present the lease; a lease that runs out is taken over. And
 * the split of each row into its message and its delivery (migration 010); the
 * attempts written before requests leave, and what a takeover makes of them: in
 * doubt or back in the queue (migration 014).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StoreDb } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { openStore } from '../../src/store/open.js';
import { claimDue, claimInDoubt, commitGroup, completeRows, nextDueAt, nextLeaseEnd, reclaimExpired, RECLAIM_ERROR } from '../../src/store/outbox.js';
import { countByStatus, listRows } from '../../src/store/outbox-operator.js';
import { openSqlite } from '../../src/store/sqlite.js';
import { tempDir } from './helpers.js';

const NOW = 1_767_225_600_000;

function insert(db: StoreDb, n: number, provider = 'sendgrid', due = 0): void {
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      db.run(
        `INSERT INTO outbox_messages (idempotency_key, enrolment_id, journey_id, step_id, customer_id, channel, provider, template, address, payload, created_at)
         VALUES (?, ?, 'j', 'send', ?, 'email', ?, 'welcome', ?, '{}', ?)`,
        [`j:${provider}:${i}`, i, `c${i}`, provider, `u${i}@example.test`, due + i],
      );
    }
  });
}

/** A store at an older schema version, as a journey of that time left it. */
function storeAt(version: number): StoreDb {
  const db = openSqlite(path.join(tempDir(), `v${version}.db`));
  db.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  for (const m of MIGRATIONS.filter((m) => m.version <= version)) {
    db.exec(m.sql);
    db.run('INSERT INTO schema_migrations VALUES (?, ?, 0)', [m.version, m.name]);
  }
  return db;
}

/** Rows as stores before migration 010 held them: the outbox was one table. */
function insertV8(db: StoreDb, n: number): void {
  for (let i = 0; i < n; i++) {
    db.run(
      `INSERT INTO outbox (idempotency_key, enrolment_id, journey_id, step_id, customer_id, channel, provider, template, address, payload, next_attempt_at, created_at)
       VALUES (?, ?, 'j', 'send', ?, 'email', 'sendgrid', 'welcome', ?, '{}', ?, 0)`,
      [`j:sendgrid:${i}`, i, `c${i}`, `u${i}@example.test`, i + 1],
    );
  }
}

const stored = (db: StoreDb) => db.all<{ id: number; status: string; attempts: number; next_attempt_at: number; last_error: string | null }>(`SELECT id, status, attempts, next_attempt_at, last_error FROM outbox ORDER BY id`);

describe('outbox leases', () => {
  it('claims oldest due first, never the same row twice, and leaves the rows themselves unwritten', () => {
    const db = openStore(path.join(tempDir(), 'store.db'));
    insert(db, 5);
    insert(db, 2, 'postmark');
    const first = claimDue(db, 'sendgrid', NOW, NOW + 60_000, 3);
    const second = claimDue(db, 'sendgrid', NOW, NOW + 60_000, 3);
    expect(first.map((r) => r.id)).toEqual([1, 2, 3]);
    expect(second.map((r) => r.id)).toEqual([4, 5]);
    expect(new Set(first.map((r) => r.lease)).size).toBe(1);
    expect(second[0]!.lease).not.toBe(first[0]!.lease);
    expect(claimDue(db, 'sendgrid', NOW, NOW + 60_000, 3)).toEqual([]);
    expect(stored(db).every((r) => r.status === 'pending' && r.attempts === 0)).toBe(true);
    // claimed is not attempting: only the rows whose requests are about to leave are
    expect(countByStatus(db)).toEqual({ queued: 7, attempting: 0, in_doubt: 0, accepted: 0, failed: 0, dead: 0 });
    expect(commitGroup(db, [{ lease: first[0]!.lease, at: NOW, ids: [1, 2, 3] }], [], [])).toEqual({ changed: 0, refused: [] });
    expect(countByStatus(db)).toEqual({ queued: 4, attempting: 3, in_doubt: 0, accepted: 0, failed: 0, dead: 0 });
    expect(listRows(db, ['attempting'], 10).map((r) => r.id)).toEqual([3, 2, 1]);
    expect(listRows(db, ['queued'], 10).map((r) => [r.id, r.status])).toEqual([
      [7, 'queued'],
      [6, 'queued'],
      [5, 'queued'],
      [4, 'queued'],
    ]);
    // leased rows are not due for anyone else
    expect(nextDueAt(db, 'sendgrid')).toBeNull();
    expect(nextDueAt(db, 'postmark')).toBe(0);
    expect(nextLeaseEnd(db)).toBe(NOW + 60_000);
    db.close();
  });

  it('records outcomes, ends the lease with its last row, and frees rows that stay pending for the next claim', () => {
    const db = openStore(path.join(tempDir(), 'store.db'));
    insert(db, 3);
    const [a, b, c] = claimDue(db, 'sendgrid', NOW, NOW + 60_000, 10);
    const lease = a!.lease;
    expect(completeRows(db, [{ kind: 'sent', id: a!.id, lease, providerMessageId: 'm-1', byId: false, at: NOW }], [])).toBe(1);
    expect(completeRows(db, [{ kind: 'retry', id: b!.id, lease, error: 'HTTP 503', nextAttemptAt: NOW + 1_000 }], [])).toBe(1);
    expect(countByStatus(db)).toMatchObject({ accepted: 1, attempting: 0, queued: 2 });
    // b is due again but still inside a lease that has not ended
    expect(claimDue(db, 'sendgrid', NOW + 5_000, NOW + 60_000, 10)).toEqual([]);
    expect(completeRows(db, [{ kind: 'failed', id: c!.id, lease, error: 'HTTP 400: bad address' }], [lease])).toBe(1);
    expect(db.get(`SELECT count(*) AS n FROM outbox_leases`)).toEqual({ n: 0 });
    expect(stored(db).map((r) => [r.status, r.attempts, r.last_error])).toEqual([
      ['sent', 1, null],
      ['pending', 1, 'HTTP 503'],
      ['failed', 1, 'HTTP 400: bad address'],
    ]);
    expect(claimDue(db, 'sendgrid', NOW + 5_000, NOW + 60_000, 10).map((r) => [r.id, r.attempts])).toEqual([[2, 1]]);
    db.close();
  });

  it('drops the completions of a lease that ran out and was taken over', () => {
    const db = openStore(path.join(tempDir(), 'store.db'));
    insert(db, 2);
    const old = claimDue(db, 'sendgrid', NOW, NOW + 1_000, 10);
    expect(reclaimExpired(db, NOW + 1_000, 8)).toEqual({ reclaimed: 2, inDoubt: 0, dead: 0 });
    // never attempted: back in the queue as they were
    const fresh = claimDue(db, 'sendgrid', NOW + 1_000, NOW + 60_000, 10);
    expect(fresh.map((r) => [r.id, r.attempts])).toEqual([
      [1, 0],
      [2, 0],
    ]);
    // nor may the late dispatcher start a request under its old lease
    expect(commitGroup(db, [{ lease: old[0]!.lease, at: NOW + 1_500, ids: [1] }], [], []).refused).toEqual([old[0]!.lease]);
    // the first dispatcher comes back late: nothing it says lands
    expect(completeRows(db, old.map((r) => ({ kind: 'failed' as const, id: r.id, lease: r.lease, error: 'late' })), [old[0]!.lease])).toBe(0);
    expect(completeRows(db, fresh.map((r) => ({ kind: 'sent' as const, id: r.id, lease: r.lease, providerMessageId: `m${r.id}`, at: NOW })), [fresh[0]!.lease])).toBe(2);
    expect(stored(db).map((r) => [r.status, r.attempts])).toEqual([
      ['sent', 1],
      ['sent', 1],
    ]);
    db.close();
  });

  it('on takeover, puts the rows its lease attempted without an outcome in doubt, counting the attempt, and the others back in the queue', () => {
    const db = openStore(path.join(tempDir(), 'store.db'));
    insert(db, 4);
    db.run(`UPDATE outbox_delivery SET attempts = 7 WHERE id = 4`);
    const rows = claimDue(db, 'sendgrid', NOW, NOW + 1_000, 10);
    const lease = rows[0]!.lease;
    // 1 and 3 went out; 1's answer came back (a retry); 2 was put back unattempted; 4 never left
    commitGroup(
      db,
      [{ lease, at: NOW + 10, ids: [1, 3] }],
      [
        { kind: 'retry', id: 1, lease, error: 'HTTP 500', nextAttemptAt: NOW + 30_000 },
        { kind: 'release', id: 2, lease, nextAttemptAt: NOW + 20_000 },
      ],
      [],
    );
    // an attempt may not start when the lease has run out by then
    expect(commitGroup(db, [{ lease, at: NOW + 1_000, ids: [4] }], [], []).refused).toEqual([lease]);
    // the dispatcher is killed here; its lease runs out
    expect(reclaimExpired(db, NOW + 999, 8)).toEqual({ reclaimed: 0, inDoubt: 0, dead: 0 });
    expect(reclaimExpired(db, NOW + 1_000, 8)).toEqual({ reclaimed: 2, inDoubt: 1, dead: 0 });
    expect(stored(db).map((r) => [r.status, r.attempts, r.next_attempt_at, r.last_error])).toEqual([
      ['pending', 1, NOW + 30_000, 'HTTP 500'],
      ['pending', 0, NOW + 20_000, null],
      ['pending', 1, NOW + 1_000, RECLAIM_ERROR],
      ['pending', 7, 3, null],
    ]);
    expect(countByStatus(db)).toMatchObject({ in_doubt: 1, queued: 3 });
    expect(listRows(db, ['in_doubt'], 10).map((r) => [r.id, r.in_doubt_since, r.held])).toEqual([[3, NOW + 10, false]]);
    // a claim never sends a row in doubt; the claim of rows in doubt takes it, since when it says
    expect(claimDue(db, 'sendgrid', NOW + 40_000, NOW + 60_000, 10).map((r) => r.id)).toEqual([4, 2, 1]);
    expect(claimInDoubt(db, 'sendgrid', NOW + 40_000, NOW + 60_000, 10).map((r) => [r.id, r.inDoubtSince])).toEqual([[3, NOW + 10]]);
    expect(nextLeaseEnd(db)).toBe(NOW + 60_000);
    expect(db.get(`SELECT count(*) AS n FROM outbox_attempts`)).toEqual({ n: 0 });
    db.close();
  });

  it('migration 009 puts rows an older dispatcher left in sending back to pending, due when their lease would have ended; 010 keeps them as they were', () => {
    const old = storeAt(8);
    insertV8(old, 3);
    old.run(`UPDATE outbox SET status = 'sending', claimed_until = ? WHERE id = 1`, [NOW + 5_000]);
    old.run(`UPDATE outbox SET status = 'sent', attempts = 1 WHERE id = 2`);
    // (later migrations follow)
    expect(migrate(old).applied.filter((m) => m.version <= 10)).toEqual([
      { version: 9, name: 'outbox-leases' },
      { version: 10, name: 'outbox-delivery' },
    ]);
    expect(stored(old).map((r) => [r.status, r.attempts, r.next_attempt_at, r.last_error])).toEqual([
      // (009's own words, from before rows could be in doubt)
      ['pending', 1, NOW + 5_000, 'the dispatcher stopped during the send; sent again under the same key'],
      ['sent', 1, 2, null],
      ['pending', 0, 3, null],
    ]);
    expect(claimDue(old, 'sendgrid', NOW, NOW + 60_000, 10).map((r) => r.id)).toEqual([3]);
    old.close();
  });

  it('migration 010 splits each row into its message and its delivery, keeps events pointing at the message, and gives new messages a delivery', () => {
    const old = storeAt(9);
    insertV8(old, 2);
    old.run(`UPDATE outbox SET status = 'sent', attempts = 1, provider_message_id = 'sg-2', sent_at = ? WHERE id = 2`, [NOW]);
    old.run(`INSERT INTO message_events (event_id, outbox_id, provider, kind, occurred_at) VALUES ('e1', 2, 'sendgrid', 'delivered', ?)`, [NOW]);
    const before = old.all(`SELECT * FROM outbox ORDER BY id`);
    expect(migrate(old).applied.filter((m) => m.version <= 10)).toEqual([{ version: 10, name: 'outbox-delivery' }]);
    // the view reads as the table did, column for column (012 adds test, 0 for every message before it)
    const after = old.all<Record<string, unknown>>(`SELECT * FROM outbox ORDER BY id`);
    expect(after.map(({ test, ...row }) => row)).toEqual(before);
    expect(after.map((r) => r.test)).toEqual([0, 0]);
    expect(old.all(`SELECT name FROM pragma_table_info('outbox_messages') WHERE name IN ('status', 'attempts', 'provider_message_id')`)).toEqual([]);
    // delivery events still find the message and its provider id through the index
    expect(old.get(`SELECT o.idempotency_key, e.kind FROM message_events e JOIN outbox o ON o.id = e.outbox_id WHERE o.provider = 'sendgrid' AND o.provider_message_id = 'sg-2'`)).toEqual({
      idempotency_key: 'j:sendgrid:1',
      kind: 'delivered',
    });
    // a message sent before 010 stays findable by its provider id alone, as it was
    expect(old.all(`SELECT id, events_by_id FROM outbox_delivery ORDER BY id`)).toEqual([
      { id: 1, events_by_id: 0 },
      { id: 2, events_by_id: 1 },
    ]);
    expect(() => old.run(`INSERT INTO message_events (event_id, outbox_id, provider, kind, occurred_at) VALUES ('e2', 99, 'sendgrid', 'opened', 0)`)).toThrow(/FOREIGN KEY/);
    insert(old, 1, 'postmark', NOW);
    expect(old.get(`SELECT provider, status, attempts, next_attempt_at FROM outbox WHERE idempotency_key = 'j:postmark:0'`)).toEqual({
      provider: 'postmark',
      status: 'pending',
      attempts: 0,
      next_attempt_at: NOW,
    });
    old.close();
  });
});
