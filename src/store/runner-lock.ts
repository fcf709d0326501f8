import type { StoreDb } from './db.js';

/**
 * The lock that keeps two runners from ticking one store at once. Taking it is one
 * statement (atomic in SQLite and PostgreSQL alike): it succeeds when nobody holds the
 * lock, the holder's lease expired (a killed runner), or we hold it already. Times are
 * the real clock's, never the simulated one.
 */
export function acquireLock(db: StoreDb, name: string, owner: string, now: number, ttlMs: number): boolean {
  const { changes } = db.run(
    `INSERT INTO runner_lock (name, owner, acquired_at, expires_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
     WHERE runner_lock.expires_at < ? OR runner_lock.owner = excluded.owner`,
    [name, owner, now, now + ttlMs, now],
  );
  return changes === 1;
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
