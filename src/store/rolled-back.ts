import type { StoreDb } from './db.js';

/**
 * Runs `fn` inside one transaction that is rolled back at the end, whatever happens:
 * `fn` sees its own writes, no other connection ever does, and the store is left as
 * it was (`journey plan` runs the real tick this way). `fn` gets a store whose own
 * transactions (begin/commit, transaction()) are savepoints inside the outer one.
 *
 * The outer transaction holds the store's write lock from start to end: a concurrent
 * writer (a tick, an import) waits for it, up to the busy timeout, and this waits for
 * theirs.
 */
export function withRolledBack<T>(db: StoreDb, fn: (db: StoreDb) => T): T {
  db.begin();
  let depth = 0;
  const savepoint = (n: number) => `rolled_back_${n}`;
  const inner: StoreDb = {
    dialect: db.dialect,
    path: db.path,
    exec: (sql) => db.exec(sql),
    run: (sql, params) => db.run(sql, params),
    get: (sql, params) => db.get(sql, params),
    all: (sql, params) => db.all(sql, params),
    arrays: (sql, params) => db.arrays(sql, params),
    iterate: (sql, params) => db.iterate(sql, params),
    // better-sqlite3 runs a transaction function called inside a transaction as a savepoint
    transaction: (f) => db.transaction(f),
    begin: () => db.exec(`SAVEPOINT ${savepoint(++depth)}`),
    commit: () => db.exec(`RELEASE ${savepoint(depth--)}`),
    rollback: () => {
      if (depth === 0) return;
      db.exec(`ROLLBACK TO ${savepoint(depth)}`);
      db.exec(`RELEASE ${savepoint(depth--)}`);
    },
    close: () => {
      throw new Error('a rolled-back view of the store is closed by its owner');
    },
  };
  try {
    return fn(inner);
  } finally {
    db.rollback();
  }
}
