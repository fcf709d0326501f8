import type { SqlParams, StoreDb } from './db.js';

/**
 * A query's rows kept for the rest of the connection, so that a result several later
 * queries read (a segment's members, a tick's entrants) is computed once. Temporary
 * tables live outside the store file: making one writes nothing to it.
 */
export function createTempTable(db: StoreDb, name: string, sql: string, params: SqlParams): number {
  checkName(name);
  db.exec(`DROP TABLE IF EXISTS temp.${name}`);
  db.run(`CREATE TEMP TABLE ${name} AS ${sql}`, params);
  return db.get<{ n: number }>(`SELECT count(*) AS n FROM temp.${name}`)!.n;
}

export function dropTempTable(db: StoreDb, name: string): void {
  checkName(name);
  db.exec(`DROP TABLE IF EXISTS temp.${name}`);
}

function checkName(name: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a temporary table name: ${name}`);
}

/** A consistent copy of the store in another file, even while another process writes to it (WAL). */
export function copyStoreTo(db: StoreDb, file: string): void {
  db.exec(`VACUUM INTO '${file.replace(/'/g, "''")}'`);
}
