import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JourneyError } from '../../src/errors.js';
import { migrate, LATEST_VERSION } from '../../src/store/migrate.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { openStore } from '../../src/store/open.js';
import { openSqlite } from '../../src/store/sqlite.js';
import { tempDir } from './helpers.js';

/** A store as version 1 of journey left it: only the first migration, with data in it. */
function makeVersion1Store(file: string): void {
  const db = openSqlite(file);
  db.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  db.exec(MIGRATIONS[0]!.sql);
  db.run('INSERT INTO schema_migrations VALUES (1, ?, 0)', [MIGRATIONS[0]!.name]);
  db.run(`INSERT INTO customers (id, email, attributes) VALUES ('c1', 'ada@example.com', '{"tier":"gold"}')`);
  db.run(`INSERT INTO customer_consents VALUES ('c1', 'email', 1, 1700000000000)`);
  db.run(`INSERT INTO orders (id, customer_id, placed_at, status, total, currency) VALUES ('o1', 'c1', 1700000000000, 'delivered', 59.9, 'EUR')`);
  db.run(`INSERT INTO order_status_history (order_id, status, changed_at, recorded_at) VALUES ('o1', 'delivered', 1700000000000, 1700000000000)`);
  db.run(`INSERT INTO order_items VALUES ('o1', 1, 'p1', 'SKU-1', 'Shirt', 1, 59.9)`);
  db.close();
}

describe('migrations', () => {
  it('upgrade a version 1 store with data to the latest version without losing a row', () => {
    const file = path.join(tempDir(), 'old.db');
    makeVersion1Store(file);

    const db = openStore(file);
    expect(db.get<{ v: number }>('SELECT max(version) AS v FROM schema_migrations')!.v).toBe(LATEST_VERSION);
    expect(db.all('SELECT id, email, attributes FROM customers')).toEqual([{ id: 'c1', email: 'ada@example.com', attributes: '{"tier":"gold"}' }]);
    expect(db.all('SELECT customer_id, channel, granted FROM customer_consents')).toEqual([{ customer_id: 'c1', channel: 'email', granted: 1 }]);
    expect(db.all('SELECT id, status, total FROM orders')).toEqual([{ id: 'o1', status: 'delivered', total: 59.9 }]);
    expect(db.all('SELECT order_id, status FROM order_status_history')).toEqual([{ order_id: 'o1', status: 'delivered' }]);
    expect(db.all('SELECT order_id, line, quantity FROM order_items')).toEqual([{ order_id: 'o1', line: 1, quantity: 1 }]);
    // what the later migrations add is there and usable with the old rows
    db.run(`INSERT INTO customer_aliases VALUES ('per-order-id', 'c1')`);
    const plan = db.all<{ detail: string }>(`EXPLAIN QUERY PLAN SELECT count(*), max(placed_at), sum(total) FROM orders WHERE customer_id = 'c1' AND status = 'delivered'`);
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/COVERING INDEX orders_by_customer/);
    db.close();
  });

  it('is a no-op on an up-to-date store', () => {
    const db = openStore(path.join(tempDir(), 'store.db'));
    expect(migrate(db)).toEqual({ from: LATEST_VERSION, to: LATEST_VERSION, applied: [] });
    db.close();
  });

  it('refuses a store migrated by a newer journey', () => {
    const file = path.join(tempDir(), 'future.db');
    const db = openStore(file);
    db.run('INSERT INTO schema_migrations VALUES (?, ?, 0)', [LATEST_VERSION + 1, 'from the future']);
    db.close();
    expect(() => openStore(file)).toThrow(JourneyError);
    expect(() => openStore(file)).toThrow(/newer than this journey knows/);
  });

  it('opens the store in WAL mode with foreign keys on', () => {
    const db = openStore(path.join(tempDir(), 'store.db'));
    expect(db.get<{ journal_mode: string }>('PRAGMA journal_mode')!.journal_mode).toBe('wal');
    expect(db.get<{ foreign_keys: number }>('PRAGMA foreign_keys')!.foreign_keys).toBe(1);
    expect(() => db.run(`INSERT INTO orders (id, customer_id, placed_at, status) VALUES ('o1', 'nobody', 0, 'pending')`)).toThrow(/FOREIGN KEY/);
    db.close();
  });
});
