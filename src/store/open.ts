import type { StoreDb } from './db.js';
import { migrate } from './migrate.js';
import { openSqlite } from './sqlite.js';

/**
 * Opens the store file at its latest schema: every command that needs the store
 * comes through here, so none ever sees an old schema. Close it when done.
 */
export function openStore(file: string): StoreDb {
  const db = openSqlite(file);
  try {
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}
