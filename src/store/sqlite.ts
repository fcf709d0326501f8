import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { JourneyError } from '../errors.js';
import type { Dialect, SqlParams, SqlValue, StoreDb } from './db.js';
import { registerPrivacyFunctions } from './privacy.js';
import { registerSqlFunctions } from './sql-functions.js';

/**
 * Pragmas. measured-here.md found mmap and a large page cache decisive when segment
 * queries aggregated the orders (~8 s to ~0.6 s); since they read the per-customer
 * facts instead, a 64 MB page cache is enough and mmap only added its mapped pages to
 * the process's memory: without it `journey plan` on 1M customers / 5M orders went
 * from 309 MB to 212 MB peak at the same speed (node bench/run.js plan, segments).
 * WAL lets a tick read while an import writes; synchronous=NORMAL is durable across
 * application crashes in WAL mode and only risks the last transactions on power loss,
 * which a re-import or the next tick redoes.
 */
const QUERY_PRAGMAS = [
  'journal_mode = WAL',
  'synchronous = NORMAL',
  'foreign_keys = ON',
  'busy_timeout = 5000',
  'temp_store = MEMORY',
  'mmap_size = 0',
  'cache_size = -65536',
];

class SqliteStore implements StoreDb {
  readonly dialect: Dialect = 'sqlite';
  private readonly statements = new Map<string, Database.Statement>();

  constructor(
    readonly path: string,
    private readonly db: Database.Database,
  ) {}

  /** Prepared statements are cached by text: preparing costs more than running. */
  private statement(sql: string, raw = false): Database.Statement {
    // raw mode is a property of the statement, so raw statements are cached apart
    const key = raw ? `raw:${sql}` : sql;
    let stmt = this.statements.get(key);
    if (!stmt) {
      stmt = prepare(this.db, sql);
      if (raw) stmt.raw(true);
      this.statements.set(key, stmt);
    }
    return stmt;
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  run(sql: string, params: SqlParams = []): { changes: number } {
    return { changes: this.statement(sql).run(params as never).changes };
  }

  get<T>(sql: string, params: SqlParams = []): T | undefined {
    return this.statement(sql).get(params as never) as T | undefined;
  }

  all<T>(sql: string, params: SqlParams = []): T[] {
    return this.statement(sql).all(params as never) as T[];
  }

  arrays(sql: string, params: SqlParams = []): SqlValue[][] {
    return this.statement(sql, true).all(params as never) as SqlValue[][];
  }

  iterate<T>(sql: string, params: SqlParams = []): IterableIterator<T> {
    // a statement being iterated cannot run again until it is done: no cache here
    return prepare(this.db, sql).iterate(params as never) as IterableIterator<T>;
  }

  transaction<T>(fn: () => T): T {
    // IMMEDIATE: in WAL mode a deferred transaction that reads and then writes fails
    // at once (SQLITE_BUSY, no busy wait) when another connection (journey serve, a
    // second dispatcher, a store thread) committed in between
    return this.db.transaction(fn).immediate();
  }

  begin(): void {
    // IMMEDIATE takes the write lock now, so a concurrent writer fails at once
    // instead of midway through an import
    this.db.exec('BEGIN IMMEDIATE');
  }

  commit(): void {
    this.db.exec('COMMIT');
  }

  rollback(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
  }

  close(): void {
    this.statements.clear();
    this.db.close();
  }
}

/** Opens (creating if needed) a SQLite file with the project's pragmas; no migrations. */
/**
 * SQLite's limits on one statement, which a query compiled from segments can pass
 * (segments that each name the one below twice, 16 deep, expand to more than 65,535
 * references to a table): the user's rules made it, so it is their error, not a bug.
 */
const TOO_COMPLEX = /too many references to|Expression tree is too large|parser stack overflow|too many FROM clause terms|at most \d+ tables in a join|too many terms in compound SELECT/;

function prepare(db: Database.Database, sql: string): Database.Statement {
  try {
    return db.prepare(sql);
  } catch (err) {
    if (err instanceof Error && TOO_COMPLEX.test(err.message)) {
      throw new JourneyError(`the query is too complex for SQLite (${err.message})`, {
        hint: 'segments that name the same segments many times over, many levels deep, expand beyond what SQLite compiles: name fewer segments within segments',
        cause: err,
      });
    }
    throw err;
  }
}

export function openSqlite(file: string): StoreDb {
  try {
    if (file !== ':memory:' && !existsSync(file)) {
      // A store holds people's addresses: readable by its owner only. SQLite gives the
      // WAL and shared-memory files the database file's mode, so creating the file
      // ourselves (0600) before SQLite does (0644 less the umask) covers all three.
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      try {
        closeSync(openSync(file, 'wx', 0o600));
      } catch (err) {
        // another process created it between the check and here: its mode stands
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    const db = new Database(file);
    try {
      for (const pragma of QUERY_PRAGMAS) db.pragma(pragma);
    } catch (err) {
      db.close();
      throw err;
    }
    registerSqlFunctions(db);
    registerPrivacyFunctions(db);
    return new SqliteStore(file, db);
  } catch (err) {
    throw cannotOpen(file, err);
  }
}

/**
 * What the file system or SQLite refused (a path too long or not writable, a file that
 * is not a database), as an error that names the store; anything else is a bug and stays one.
 */
function cannotOpen(file: string, err: unknown): unknown {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !(err instanceof Error)) return err;
  const reason = code === 'SQLITE_NOTADB' ? 'it is not a SQLite database' : code === 'ENAMETOOLONG' ? 'the path is too long' : err.message;
  return new JourneyError(`cannot open the store ${file}: ${reason}`, {
    location: { file },
    hint: 'the store is store.path of journey.config.yaml, in the project folder (-C DIR)',
    cause: err,
  });
}
