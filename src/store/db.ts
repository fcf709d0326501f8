/**
 * The small interface every part of the project uses to talk to the store. It is
 * deliberately narrow (run, get, all, iterate, exec, transaction) so that a
 * PostgreSQL adapter can implement it later; SQL text stays in src/store and is
 * written in the subset both dialects share (ON CONFLICT upserts, UPDATE ... FROM,
 * aggregate FILTER) wherever possible, with `dialect` telling callers which printer
 * to use where they differ.
 */
export type SqlValue = string | number | bigint | null;
export type SqlParams = readonly SqlValue[] | Readonly<Record<string, SqlValue>>;

export type Dialect = 'sqlite';

export interface StoreDb {
  readonly dialect: Dialect;
  /** The database file. */
  readonly path: string;
  /** Runs one or more statements without parameters (DDL, pragmas). */
  exec(sql: string): void;
  run(sql: string, params?: SqlParams): { changes: number };
  get<T>(sql: string, params?: SqlParams): T | undefined;
  all<T>(sql: string, params?: SqlParams): T[];
  /**
   * Rows as arrays of values in column order. For hot paths only (the dispatcher's
   * claims): an object per row costs more than the query that finds it.
   */
  arrays(sql: string, params?: SqlParams): SqlValue[][];
  /** Streams rows one by one: use it for results that may not fit in memory. */
  iterate<T>(sql: string, params?: SqlParams): IterableIterator<T>;
  /**
   * Runs fn in one write transaction: committed when fn returns, rolled back when it
   * throws. The write lock is taken at the start (a concurrent writer waits, up to
   * the busy timeout), so what fn reads stays true until it commits.
   */
  transaction<T>(fn: () => T): T;
  /** For long work that awaits between statements (an import): begin now, then commit or roll back. */
  begin(): void;
  commit(): void;
  rollback(): void;
  close(): void;
}
