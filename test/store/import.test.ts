import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { JourneyError } from '../../src/errors.js';
import type { StoreDb } from '../../src/store/db.js';
import { importFile, type ImportOptions } from '../../src/store/import/import.js';
import { fixture, snapshot, tempDir, tempStore } from './helpers.js';

const NOW = Date.UTC(2024, 9, 1);
const load = (db: StoreDb, kind: ImportOptions['kind'], file: string, more: Partial<ImportOptions> = {}) =>
  importFile(db, { kind, file, now: NOW, ...more });

async function shop(): Promise<StoreDb> {
  const db = tempStore();
  await load(db, 'customers', fixture('customers.csv'));
  await load(db, 'orders', fixture('orders.csv'));
  return db;
}

async function failure(promise: Promise<unknown>): Promise<JourneyError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(JourneyError);
  return err as JourneyError;
}

describe('importing customers', () => {
  it('normalises contacts, converts times to UTC and keeps consent per channel and extra attributes', async () => {
    const db = tempStore();
    const result = await load(db, 'customers', fixture('customers.csv'));
    expect(result).toMatchObject({ rows: 3, inserted: 3, updated: 0, unchanged: 0, rejected: 0 });
    expect(db.get('SELECT * FROM customers WHERE id = ?', ['c1'])).toEqual({
      id: 'c1',
      email: 'ada@example.com',
      phone: '+33612345678',
      first_name: 'Ada',
      last_name: 'Lovelace',
      registered_at: Date.parse('2024-01-15T10:00:00Z'),
      timezone: 'Europe/Paris',
      locale: 'fr-FR',
      country: 'FR',
      city: 'Paris',
      attributes: '{"tier":"gold"}',
    });
    expect(db.get<{ registered_at: number }>('SELECT registered_at FROM customers WHERE id = ?', ['c3'])!.registered_at).toBe(Date.parse('2024-06-30T21:00:00Z'));
    expect(db.all('SELECT customer_id, channel, granted FROM customer_consents ORDER BY 1, 2')).toEqual([
      { customer_id: 'c1', channel: 'email', granted: 1 },
      { customer_id: 'c1', channel: 'sms', granted: 0 },
      { customer_id: 'c2', channel: 'email', granted: 0 },
    ]);
  });

  it('a re-import changes nothing, and a file with fewer columns leaves the others alone', async () => {
    const db = await shop();
    const before = snapshot(db);
    const again = await load(db, 'customers', fixture('customers.csv'), { now: NOW + 1000 });
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 3 });
    expect(snapshot(db)).toEqual(before);

    const dir = tempDir();
    writeFileSync(path.join(dir, 'emails.csv'), 'id,email,consent_email\nc2,bobby@example.com,yes\n');
    const partial = await load(db, 'customers', path.join(dir, 'emails.csv'));
    expect(partial).toMatchObject({ inserted: 0, updated: 1, unchanged: 0 });
    expect(db.get('SELECT email, first_name, last_name FROM customers WHERE id = ?', ['c2'])).toEqual({ email: 'bobby@example.com', first_name: 'Bob', last_name: 'Smith, Jr.' });
    expect(db.get('SELECT granted, updated_at FROM customer_consents WHERE customer_id = ? AND channel = ?', ['c2', 'email'])).toEqual({ granted: 1, updated_at: NOW });
  });
});

describe('importing orders', () => {
  it('stores canonical lower-case statuses and starts each order history', async () => {
    const db = await shop();
    expect(db.all('SELECT id, status, total, currency FROM orders ORDER BY id')).toEqual([
      { id: 'o1', status: 'delivered', total: 59.9, currency: 'EUR' },
      { id: 'o2', status: 'shipped', total: 120, currency: 'EUR' },
      { id: 'o3', status: 'canceled', total: 15.5, currency: 'USD' },
      { id: 'o4', status: 'pending', total: 42, currency: 'EUR' },
    ]);
    expect(db.get<{ n: number }>('SELECT count(*) AS n FROM order_status_history')!.n).toBe(4);
  });

  it('updates an order whose status changed and appends exactly one history row per change, none on re-import', async () => {
    const db = await shop();
    const changed = await load(db, 'orders', fixture('orders-status-changed.csv'), { now: NOW + 60_000 });
    expect(changed).toMatchObject({ inserted: 0, updated: 2, unchanged: 2 });
    expect(db.all('SELECT order_id, previous_status, status, changed_at, recorded_at FROM order_status_history WHERE previous_status IS NOT NULL ORDER BY id')).toEqual([
      { order_id: 'o2', previous_status: 'shipped', status: 'delivered', changed_at: Date.parse('2024-05-14T16:00:00Z'), recorded_at: NOW + 60_000 },
      { order_id: 'o4', previous_status: 'pending', status: 'processing', changed_at: Date.parse('2024-07-01T10:00:00Z'), recorded_at: NOW + 60_000 },
    ]);
    const before = snapshot(db);
    const again = await load(db, 'orders', fixture('orders-status-changed.csv'), { now: NOW + 120_000 });
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 4 });
    expect(snapshot(db)).toEqual(before);
  });

  it('applies an order listed twice in one file in file order', async () => {
    const db = await shop();
    const dir = tempDir();
    writeFileSync(path.join(dir, 'o.csv'), 'id,customer_id,placed_at,status\no9,c1,2024-09-01T00:00:00Z,pending\no9,c1,2024-09-01T00:00:00Z,shipped\n');
    await load(db, 'orders', path.join(dir, 'o.csv'));
    expect(db.all(`SELECT previous_status, status FROM order_status_history WHERE order_id = 'o9' ORDER BY id`)).toEqual([
      { previous_status: null, status: 'pending' },
      { previous_status: 'pending', status: 'shipped' },
    ]);
  });

  it('aborts on bad rows with every bad row number, column and value, and leaves the store unchanged', async () => {
    const db = await shop();
    const before = snapshot(db);
    const err = await failure(load(db, 'orders', fixture('orders-broken.csv')));
    expect(err.message).toMatch(/^4 rows are invalid; nothing was imported/);
    expect(err.message).toContain('row 2, column placed_at: "2024-13-01T12:00:00Z" is not a date-time');
    expect(err.message).toContain('row 3, column total: "ten" is not a number');
    expect(err.message).toContain('row 4, column customer_id: "nobody" unknown customer');
    expect(err.message).toContain('row 6: has 4 fields, the header has 6');
    expect(err.location).toMatchObject({ file: fixture('orders-broken.csv'), row: 2, field: 'placed_at' });
    expect(err.hint).toMatch(/--skip-invalid/);
    expect(snapshot(db)).toEqual(before);
  });

  it('with a rejects file imports the valid rows and writes the others with row number and reason', async () => {
    const db = await shop();
    const rejectsFile = path.join(tempDir(), 'rejected.csv');
    const result = await load(db, 'orders', fixture('orders-broken.csv'), { rejectsFile });
    expect(result).toMatchObject({ inserted: 2, rejected: 4, rejectsFile });
    expect(db.all(`SELECT id FROM orders WHERE id LIKE 'o1_' ORDER BY id`)).toEqual([{ id: 'o10' }, { id: 'o14' }]);
    const lines = readFileSync(rejectsFile, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('_row,_column,_reason,id,customer_id,placed_at,status,total,currency');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 2).join(','))).toEqual(['2,placed_at', '3,total', '4,customer_id', '6,']);
    expect(lines[2]).toContain('o12,c2,2024-08-03T12:00:00Z,delivered,ten,EUR');
  });

  it('reads a mapping file: own column names, day-first dates in a zone, own status words, attributes', async () => {
    const db = await shop();
    const result = await load(db, 'orders', fixture('custom-export.csv'), { mappingFile: fixture('custom-export.mapping.yaml') });
    expect(result).toMatchObject({ inserted: 3, ignoredColumns: ['Internal note'] });
    expect(db.all(`SELECT id, customer_id, placed_at, status, attributes FROM orders WHERE id LIKE 'A-%' ORDER BY id`)).toEqual([
      { id: 'A-100', customer_id: 'c1', placed_at: Date.parse('2024-01-31T13:30:00Z'), status: 'processing', attributes: '{"gift_wrap":"yes"}' },
      { id: 'A-101', customer_id: 'c2', placed_at: Date.parse('2024-02-01T08:05:00Z'), status: 'shipped', attributes: '{"gift_wrap":"no"}' },
      { id: 'A-102', customer_id: 'c3', placed_at: Date.parse('2024-07-15T21:59:00Z'), status: 'delivered', attributes: '{}' },
    ]);
  });

  it('reports mistakes in a mapping file at file:line:col', async () => {
    const db = await shop();
    const unknownField = await failure(load(db, 'orders', fixture('custom-export.csv'), { mappingFile: fixture('bad-field.mapping.yaml') }));
    expect(unknownField.message).toMatch(/column "Client": orders has no field "customer"/);
    expect(unknownField.location).toEqual({ file: fixture('bad-field.mapping.yaml'), line: 3, col: 11 });
    const badZone = await failure(load(db, 'orders', fixture('custom-export.csv'), { mappingFile: fixture('bad-timezone.mapping.yaml') }));
    expect(badZone.message).toMatch(/Europe\/Pariss" is not an IANA time zone/);
    expect(badZone.location).toEqual({ file: fixture('bad-timezone.mapping.yaml'), line: 5, col: 13 });
  });

  it('says which required column a file lacks before reading any row', async () => {
    const db = await shop();
    const err = await failure(load(db, 'orders', fixture('custom-export.csv')));
    expect(err.message).toMatch(/has no column for id, customer_id, placed_at, status, required for orders/);
    expect(err.hint).toMatch(/Order No, Client, Date/);
  });
});

describe('other kinds and formats', () => {
  it('imports order items (lines numbered per order when the file has none) and rejects unknown orders', async () => {
    const db = await shop();
    const result = await load(db, 'order-items', fixture('order-items.csv'));
    expect(result).toMatchObject({ inserted: 4 });
    expect(db.all(`SELECT order_id, line, product_id, quantity, price FROM order_items ORDER BY 1, 2`)).toEqual([
      { order_id: 'o1', line: 1, product_id: 'p1', quantity: 1, price: 39.9 },
      { order_id: 'o1', line: 2, product_id: 'p2', quantity: 1, price: 20 },
      { order_id: 'o2', line: 1, product_id: 'p1', quantity: 3, price: 40 },
      { order_id: 'o4', line: 1, product_id: 'p3', quantity: 2, price: 21 },
    ]);
    expect((await load(db, 'order-items', fixture('order-items.csv'))).unchanged).toBe(4);
  });

  it('reads CSV with a BOM, CRLF, mixed quoting and a newline inside a quoted field', async () => {
    const db = tempStore();
    await load(db, 'products', fixture('products-rfc4180.csv'));
    expect(db.all('SELECT id, title, category, price, url FROM products ORDER BY id')).toEqual([
      { id: 'p1', title: 'Linen Shirt, blue', category: 'apparel', price: 39.9, url: 'https://shop.example.com/p1' },
      { id: 'p2', title: 'Canvas Belt', category: 'accessories', price: 20, url: null },
      { id: 'p3', title: 'The "Classic" Mug\r\nwith a lid', category: 'kitchen', price: 21, url: 'https://shop.example.com/p3' },
    ]);
  });

  it('imports JSON Lines events with content-derived ids so that a re-import adds nothing', async () => {
    const db = await shop();
    expect(await load(db, 'events', fixture('events.jsonl'))).toMatchObject({ format: 'jsonl', inserted: 3 });
    expect(db.all('SELECT customer_id, type, occurred_at, properties FROM events ORDER BY seq')).toEqual([
      { customer_id: 'c1', type: 'email_opened', occurred_at: Date.parse('2024-06-01T09:00:00Z'), properties: '{"campaign":"summer"}' },
      { customer_id: 'c1', type: 'email_clicked', occurred_at: Date.parse('2024-06-01T09:02:00Z'), properties: '{"campaign":"summer","url":"https://shop.example.com/p1"}' },
      { customer_id: 'c2', type: 'page_viewed', occurred_at: 1717232400000, properties: '{"path":"/sale"}' },
    ]);
    expect(await load(db, 'events', fixture('events.jsonl'))).toMatchObject({ inserted: 0, unchanged: 3 });
  });

  it('reports a bad JSON line by its line number', async () => {
    const db = await shop();
    const file = path.join(tempDir(), 'events.ndjson');
    writeFileSync(file, '{"customer_id":"c1","type":"x","occurred_at":"2024-01-01T00:00:00Z"}\n\n{"customer_id": "c1", oops}\n');
    const err = await failure(load(db, 'events', file));
    expect(err.location).toMatchObject({ file, line: 3 });
    expect(err.message).toMatch(/line 3: not valid JSON/);
  });

  it('reads gzip by its magic bytes, whatever the name, and stdin', async () => {
    const db = await shop();
    const dir = tempDir();
    const gz = path.join(dir, 'items.csv.gz');
    writeFileSync(gz, gzipSync(readFileSync(fixture('order-items.csv'))));
    expect(await load(db, 'order-items', gz)).toMatchObject({ inserted: 4 });
    const disguised = path.join(dir, 'events.jsonl');
    writeFileSync(disguised, gzipSync(readFileSync(fixture('events.jsonl'))));
    expect(await load(db, 'events', disguised)).toMatchObject({ inserted: 3 });
    const stdin = createReadStream(fixture('suppressions.csv'));
    expect(await load(db, 'suppressions', '-', { stdin })).toMatchObject({ file: 'stdin', format: 'csv', inserted: 2 });
    expect(db.all('SELECT channel, address, reason FROM suppressions ORDER BY 1')).toEqual([
      { channel: 'email', address: 'bob@example.com', reason: 'hard_bounce' },
      { channel: 'sms', address: '+15550100199', reason: 'stop_reply' },
    ]);
    const jsonStdin = Readable.from([Buffer.from('{"channel":"email","address":"x@example.com"}\n')]);
    expect(await load(db, 'suppressions', '-', { stdin: jsonStdin })).toMatchObject({ format: 'jsonl', inserted: 1 });
  });
});
