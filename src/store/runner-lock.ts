import type { StoreDb } from './db.js';

/**
 * The lock that keeps two runners from ticking one store at once. Taking it is one
 * statement (atomic in SQLite and PostgreSQL alike): it succeeds when nobody holds the
 * lock, the holder's lease expired (a killed runner), or we hold it already. Times are
 * the real clock's, never the simulated one.
 */
export function acquireLock(db: StoreDb, name: string, owner: string, now: number, ttlMs: number): boolean {
  // Reading never waits in WAL mode: a live lease held by another runner refuses at
  // once, even while that runner is inside one of its write transactions.
  const held = lockHolder(db, name);
  if (held && held.owner !== owner && held.expiresAt >= now) return false;
  // Taking it needs the write lock, which a ticking runner holds most of the time:
  // try without waiting, and on busy look again at who holds the lease.
  const timeout = db.get<{ timeout: number }>('PRAGMA busy_timeout')?.timeout ?? 5000;
  db.exec('PRAGMA busy_timeout = 0');
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const { changes } = db.run(
          `INSERT INTO runner_lock (name, owner, acquired_at, expires_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
           WHERE runner_lock.expires_at < ? OR runner_lock.owner = excluded.owner`,
          [name, owner, now, now + ttlMs, now],
        );
        return changes === 1;
      } catch (err) {
        if (!isBusy(err) || attempt >= 50) throw err;
        const again = lockHolder(db, name);
        if (again && again.owner !== owner && again.expiresAt >= now) return false;
        sleepMs(20); // an import or a dispatcher holds the write lock for a moment
      }
    }
  } finally {
    db.exec(`PRAGMA busy_timeout = ${Number(timeout)}`);
  }
}

function isBusy(err: unknown): boolean {
  return err instanceof Error && 'code' in err && String((err as { code: unknown }).code).startsWith('SQLITE_BUSY');
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Extends our lease; false when the lock is no longer ours (it expired and someone took it). */
export function renewLock(db: StoreDb, name: string, owner: string, now: number, ttlMs: number): boolean {
  return db.run('UPDATE runner_lock SET expires_at = ? WHERE name = ? AND owner = ?', [now + ttlMs, name, owner]).changes === 1;
}

export function releaseLock(db: StoreDb, name: string, owner: string): void {
  db.run('DELETE FROM runner_lock WHERE name = ? AND owner = ?', [name, owner]);
}

export function lockHolder(db: StoreDb, name: string): { owner: string; expiresAt: number } | null {
  const row = db.get<{ owner: string; expires_at: number }>('SELECT owner, expires_at FROM runner_lock WHERE name = ?', [name]);
  return row ? { owner: row.owner, expiresAt: row.expires_at } : null;
}
