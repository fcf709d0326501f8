import type { SqlParams, StoreDb } from './db.js';

/** The database's plan for a query, a line per step, indented by depth. */
export function explainQuery(db: StoreDb, sql: string, params: SqlParams): string[] {
  switch (db.dialect) {
    case 'sqlite': {
      const rows = db.all<{ id: number; parent: number; detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
      const depth = new Map<number, number>([[0, 0]]);
      return rows.map((r) => {
        const d = (depth.get(r.parent) ?? 0) + 1;
        depth.set(r.id, d);
        return `${'  '.repeat(d - 1)}${r.detail}`;
      });
    }
    default: {
      const never: never = db.dialect;
      throw new Error(`no query plan for dialect ${String(never)}`);
    }
  }
}
