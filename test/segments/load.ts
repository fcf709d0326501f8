/**
 * Loads the differential test's rows into the two databases the printed SQL runs on:
 * a migrated SQLite store (with the store's SQL functions registered on the connection
 * that runs the queries) and an in-process PostgreSQL (PGlite) with DDL mirroring the
 * SQLite tables: times as BIGINT epoch ms, JSON as TEXT, REAL as double precision.
 */
import Database from 'better-sqlite3';
import { PGlite } from '@electric-sql/pglite';
import { openStore } from '../../src/store/open.js';
import { registerSqlFunctions } from '../../src/store/sql-functions.js';
import type { EdgeData } from './edge-data.js';

type Row = Record<string, string | number | null>;

/** Table name → rows, in an order that satisfies the foreign keys. */
function tables(data: EdgeData): Array<[string, Row[]]> {
  return [
    ['customers', data.customers as unknown as Row[]],
    ['customer_consents', data.consents as unknown as Row[]],
    ['products', data.products as unknown as Row[]],
    ['orders', data.orders as unknown as Row[]],
    ['order_items', data.orderItems as unknown as Row[]],
    ['events', data.events as unknown as Row[]],
    ['suppressions', data.suppressions as unknown as Row[]],
  ];
}

function insertSql(table: string, columns: string[], placeholder: (i: number) => string): string {
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => placeholder(i + 1)).join(', ')})`;
}

/**
 * Writes the rows into a new store file and returns a better-sqlite3 connection to it
 * with the SQL functions registered. Tables the store derives from orders (per-customer
 * facts, kept by the importer) are rebuilt after the raw inserts, when the store has them.
 */
export async function loadSqlite(data: EdgeData, file: string): Promise<Database.Database> {
  const store = openStore(file);
  try {
    store.transaction(() => {
      for (const [table, rows] of tables(data)) {
        for (const row of rows) {
          const columns = Object.keys(row);
          store.run(insertSql(table, columns, () => '?'), columns.map((c) => row[c] ?? null));
        }
      }
    });
    // every rebuildX(db) of the store's derived tables (customer facts, reachability, ...)
    const derived = (await import('../../src/store/facts.js').catch(() => null)) as Record<string, unknown> | null;
    for (const [name, fn] of Object.entries(derived ?? {})) {
      if (/^rebuild[A-Z]/.test(name) && typeof fn === 'function' && fn.length === 1) (fn as (db: typeof store) => void)(store);
    }
  } finally {
    store.close();
  }
  const db = new Database(file);
  registerSqlFunctions(db);
  return db;
}

/** SQLite DDL of a derived table in PostgreSQL's types (times and counts BIGINT, REAL double precision). */
function toPostgresDdl(sql: string): string {
  return sql
    .replace(/\bWITHOUT ROWID\b/gi, '')
    .replace(/\bAUTOINCREMENT\b/gi, '')
    .replace(/\bINTEGER\b/gi, 'BIGINT')
    .replace(/\bREAL\b/gi, 'DOUBLE PRECISION');
}

/**
 * Copies every other table of the loaded SQLite store (those the store derives from
 * the rows: customer facts, reachability, ...; and the journey tables, empty) into
 * PostgreSQL, DDL translated, so that both databases hold the same state whatever
 * tables later migrations add.
 */
async function copyDerivedTables(sqlite: Database.Database, pg: PGlite, schema: string): Promise<void> {
  const own = new Set(tables({ customers: [], consents: [], products: [], orders: [], orderItems: [], events: [], suppressions: [] }).map(([t]) => t));
  const existing = new Set((await pg.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = $1`, [schema])).rows.map((r) => r.tablename));
  const derived = sqlite.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql IS NOT NULL AND name NOT LIKE 'sqlite_%'`).all() as Array<{ name: string; sql: string }>;
  for (const t of derived) {
    if (own.has(t.name)) continue;
    const rows = sqlite.prepare(`SELECT * FROM "${t.name}"`).all() as Row[];
    if (!existing.has(t.name)) await pg.exec(toPostgresDdl(t.sql));
    for (const row of rows) {
      const columns = Object.keys(row);
      await pg.query(insertSql(t.name, columns, (i) => `$${i}`), columns.map((c) => row[c] ?? null));
    }
  }
}

export const POSTGRES_DDL = `
CREATE TABLE customers (
  id            TEXT PRIMARY KEY,
  email         TEXT,
  phone         TEXT,
  first_name    TEXT,
  last_name     TEXT,
  registered_at BIGINT,
  timezone      TEXT,
  locale        TEXT,
  country       TEXT,
  city          TEXT,
  attributes    TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE customer_consents (
  customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  channel     TEXT NOT NULL,
  granted     INTEGER NOT NULL CHECK (granted IN (0, 1)),
  updated_at  BIGINT NOT NULL,
  PRIMARY KEY (customer_id, channel)
);
CREATE TABLE products (
  id         TEXT PRIMARY KEY,
  sku        TEXT,
  title      TEXT,
  category   TEXT,
  price      DOUBLE PRECISION,
  currency   TEXT,
  url        TEXT,
  image_url  TEXT,
  created_at BIGINT,
  attributes TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE orders (
  id          TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id),
  placed_at   BIGINT NOT NULL,
  status      TEXT NOT NULL,
  total       DOUBLE PRECISION,
  currency    TEXT,
  attributes  TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE order_status_history (
  id              BIGSERIAL PRIMARY KEY,
  order_id        TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  previous_status TEXT,
  status          TEXT NOT NULL,
  changed_at      BIGINT NOT NULL,
  recorded_at     BIGINT NOT NULL
);
CREATE TABLE order_items (
  order_id   TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  line       INTEGER NOT NULL,
  product_id TEXT,
  sku        TEXT,
  title      TEXT,
  quantity   INTEGER NOT NULL,
  price      DOUBLE PRECISION,
  PRIMARY KEY (order_id, line)
);
CREATE TABLE events (
  seq         BIGINT PRIMARY KEY,
  id          TEXT NOT NULL UNIQUE,
  customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
  type        TEXT NOT NULL,
  occurred_at BIGINT NOT NULL,
  properties  TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE suppressions (
  channel    TEXT NOT NULL,
  address    TEXT NOT NULL,
  reason     TEXT,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (channel, address)
);
CREATE TABLE customer_aliases (
  alias       TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE
);
CREATE INDEX orders_by_customer ON orders (customer_id, status, placed_at, total);
CREATE INDEX order_items_by_product ON order_items (product_id);
CREATE INDEX events_by_customer_type_time ON events (customer_id, type, occurred_at);
`;

/**
 * The tables and the rows (and the derived tables of the loaded SQLite store) in a
 * PostgreSQL schema: `public` of a fresh PGlite by default, or another schema of an
 * existing one (small data sets of single cases), left as the search_path.
 */
export async function loadPostgres(data: EdgeData, sqlite: Database.Database, into?: { pg: PGlite; schema: string }): Promise<PGlite> {
  const pg = into?.pg ?? new PGlite();
  const schema = into?.schema ?? 'public';
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`not a schema name: ${schema}`);
  if (schema !== 'public') await pg.exec(`CREATE SCHEMA ${schema}; SET search_path TO ${schema}`);
  await pg.exec(POSTGRES_DDL);
  await pg.transaction(async (tx) => {
    for (const [table, rows] of tables(data)) {
      for (const row of rows) {
        const columns = Object.keys(row);
        await tx.query(insertSql(table, columns, (i) => `$${i}`), columns.map((c) => row[c] ?? null));
      }
    }
  });
  await copyDerivedTables(sqlite, pg, schema);
  return pg;
}
