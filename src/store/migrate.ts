import { JourneyError } from '../errors.js';
import type { StoreDb } from './db.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

export interface MigrateResult {
  /** The version before and after. */
  from: number;
  to: number;
  applied: { version: number; name: string }[];
}

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function currentVersion(db: StoreDb): number {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  return db.get<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations')?.v ?? 0;
}

/**
 * Brings the store to the latest schema, each migration in its own transaction so
 * that a failure leaves the store at the last good version, data intact.
 */
export function migrate(db: StoreDb, now: () => number = Date.now): MigrateResult {
  const from = currentVersion(db);
  if (from > LATEST_VERSION) {
    throw new JourneyError(`the store ${db.path} has schema version ${from}, newer than this journey knows (${LATEST_VERSION})`, {
      hint: 'upgrade journey; an older version must not write to a store a newer one has migrated',
    });
  }
  // every migration not yet recorded, not only those past the highest: a store made
  // between the releases of two branches' migrations still gets the lower-numbered one
  const done = new Set(db.all<{ version: number }>('SELECT version FROM schema_migrations').map((r) => r.version));
  const applied: Migration[] = [];
  for (const migration of MIGRATIONS) {
    if (done.has(migration.version)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [migration.version, migration.name, now()]);
    });
    applied.push(migration);
  }
  return { from, to: Math.max(from, LATEST_VERSION), applied: applied.map(({ version, name }) => ({ version, name })) };
}
