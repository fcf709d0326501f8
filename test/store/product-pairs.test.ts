/**
 * The co-purchase counts `related` recommendations read (product_pairs, migration 019)
 * are kept by the store's triggers as orders come and change. Each test checks them
 * against counts worked out by hand, and against a recount from the orders.
 *
 *   o1 c1 2024-02-01 delivered: p1 p2 p3 p1 (p1 on two lines: the order counts once)
 *   o2 c1 2024-05-10 shipped:   p1 p2
 *   o3 c2 2024-02-01 delivered: p1 p2   (the same day as o1: (p1, p2) that day is 2)
 *   o4 c3 2024-07-01 cancelled: p1 p3   (does not count)
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreDb } from '../../src/store/db.js';
import { importFile } from '../../src/store/import/import.js';
import { openStore } from '../../src/store/open.js';
import { forgetCustomers, HASH_KEY_ENV } from '../../src/store/privacy.js';
import { recommendFor } from '../../src/store/recommendations.js';
import { fixture, tempDir } from './helpers.js';

const NOW = Date.UTC(2024, 9, 1);
const DAY = 86_400_000;
const D1 = Date.UTC(2024, 1, 1) / DAY;
const D2 = Date.UTC(2024, 4, 10) / DAY;
const D4 = Date.UTC(2024, 6, 1) / DAY;

const ORDERS = `id,customer_id,placed_at,status,total,currency
o1,c1,2024-02-01T12:00:00Z,delivered,59.90,EUR
o2,c1,2024-05-10T08:15:00Z,Shipped,120.00,EUR
o3,c2,2024-02-01T18:00:00Z,delivered,15.5,EUR
o4,c3,2024-07-01T09:00:00Z,Cancelled,42,EUR
`;
const ITEMS = `order_id,line,product_id,quantity
o1,1,p1,1
o1,2,p2,1
o1,3,p3,1
o1,4,p1,2
o2,1,p1,1
o2,2,p2,1
o3,1,p1,1
o3,2,p2,1
o4,1,p1,1
o4,2,p3,1
`;

let db: StoreDb | undefined;
let dir: string;
afterEach(() => {
  db?.close();
  db = undefined;
  delete process.env[HASH_KEY_ENV];
});

const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

async function shop(): Promise<StoreDb> {
  dir = tempDir();
  const s = openStore(path.join(dir, 'store.db'));
  await importFile(s, { kind: 'customers', file: fixture('customers.csv'), now: NOW });
  await importFile(s, { kind: 'orders', file: file('orders.csv', ORDERS), now: NOW });
  await importFile(s, { kind: 'order-items', file: file('items.csv', ITEMS), now: NOW });
  return s;
}

type Pair = [a: string, b: string, day: number, n: number];
const both = (a: string, b: string, day: number, n: number): Pair[] => [
  [a, b, day, n],
  [b, a, day, n],
];
const sorted = (pairs: Pair[]) => [...pairs].sort((x, y) => x[0].localeCompare(y[0]) || x[1].localeCompare(y[1]) || x[2] - y[2]);
const pairs = (s: StoreDb): Pair[] => s.all<{ a: string; b: string; day: number; n: number }>(`SELECT a, b, day, n FROM product_pairs ORDER BY a, b, day`).map((r) => [r.a, r.b, r.day, r.n]);
/** The counts as the orders give them now, counted from scratch. */
const recount = (s: StoreDb): Pair[] =>
  s
    .all<{ a: string; b: string; day: number; n: number }>(
      `SELECT i.product_id AS a, j.product_id AS b, o.placed_at / ${DAY} AS day, count(DISTINCT o.id) AS n
       FROM orders o JOIN order_items i ON i.order_id = o.id JOIN order_items j ON j.order_id = o.id
       WHERE o.status NOT IN ('canceled', 'unavailable', 'refunded') AND i.product_id <> j.product_id
       GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    )
    .map((r) => [r.a, r.b, r.day, r.n]);

const IMPORTED = sorted([...both('p1', 'p2', D1, 2), ...both('p1', 'p3', D1, 1), ...both('p2', 'p3', D1, 1), ...both('p1', 'p2', D2, 1)]);

describe('product pairs', () => {
  it('are counted by the import, an order once however many lines of a product it has, and a re-import changes nothing', async () => {
    db = await shop();
    expect(pairs(db)).toEqual(IMPORTED);
    await importFile(db, { kind: 'order-items', file: file('items.csv', ITEMS), now: NOW });
    await importFile(db, { kind: 'orders', file: file('orders.csv', ORDERS), now: NOW });
    expect(pairs(db)).toEqual(IMPORTED);
  });

  it('are counted for the lines of an export that names no product, linked to the catalogue by SKU or title as they are imported', async () => {
    dir = tempDir();
    db = openStore(path.join(dir, 'store.db'));
    await importFile(db, { kind: 'customers', file: fixture('customers.csv'), now: NOW });
    await importFile(db, { kind: 'orders', file: file('orders.csv', ORDERS), now: NOW });
    await importFile(db, { kind: 'products', file: file('products.csv', 'id,sku,title\np1,SKU-1,Tee\np2,SKU-2,Tote\np3,,Cap\n'), now: NOW });
    // lines by SKU, by title, and by the title before " - " (a variant); o1's second line of p1 too
    const lines = 'order_id,line,sku,title,quantity\no1,1,SKU-1,,1\no1,2,,Tote,1\no1,3,,Cap - Red,1\no1,4,SKU-1,,2\no2,1,SKU-1,,1\no2,2,SKU-2,,1\no3,1,,Tee,1\no3,2,,Tote,1\n';
    await importFile(db, { kind: 'order-items', file: file('lines.csv', lines), now: NOW });
    expect(db.all(`SELECT count(*) AS n FROM order_items WHERE product_id IS NULL`)).toEqual([{ n: 0 }]);
    expect(pairs(db)).toEqual(IMPORTED);
    expect(pairs(db)).toEqual(recount(db));
    const again = await importFile(db, { kind: 'order-items', file: file('lines.csv', lines), now: NOW });
    expect(again).toMatchObject({ inserted: 0, updated: 0 });
    expect(pairs(db)).toEqual(IMPORTED);
  });

  it('follow an item moved to another product, and a line removed', async () => {
    db = await shop();
    // o2's second line becomes p3: (p1, p2) leaves o2's day, (p1, p3) comes
    await importFile(db, { kind: 'order-items', file: file('moved.csv', 'order_id,line,product_id,quantity\no2,2,p3,1\n'), now: NOW });
    expect(pairs(db)).toEqual(sorted([...both('p1', 'p2', D1, 2), ...both('p1', 'p3', D1, 1), ...both('p2', 'p3', D1, 1), ...both('p1', 'p3', D2, 1)]));
    // o1 keeps p1 on line 4 when line 1 goes; without line 4 too, p1's pairs of o1 go
    db.run(`DELETE FROM order_items WHERE order_id = 'o1' AND line = 1`);
    expect(pairs(db)).toEqual(recount(db));
    expect(pairs(db)).toContainEqual(['p1', 'p3', D1, 1]);
    db.run(`DELETE FROM order_items WHERE order_id = 'o1' AND line = 4`);
    expect(pairs(db)).toEqual(sorted([...both('p1', 'p2', D1, 1), ...both('p2', 'p3', D1, 1), ...both('p1', 'p3', D2, 1)]));
    expect(pairs(db)).toEqual(recount(db));
  });

  it('lose an order that is canceled or refunded, get it back when it counts again, and move with its day', async () => {
    db = await shop();
    const status = (s3: string, s4: string, placed1 = '2024-02-01T12:00:00Z') =>
      file('status.csv', `id,customer_id,placed_at,status,total,currency\no1,c1,${placed1},delivered,59.90,EUR\no3,c2,2024-02-01T18:00:00Z,${s3},15.5,EUR\no4,c3,2024-07-01T09:00:00Z,${s4},42,EUR\n`);
    await importFile(db, { kind: 'orders', file: status('canceled', 'delivered'), now: NOW });
    expect(pairs(db)).toEqual(sorted([...both('p1', 'p2', D1, 1), ...both('p1', 'p3', D1, 1), ...both('p2', 'p3', D1, 1), ...both('p1', 'p2', D2, 1), ...both('p1', 'p3', D4, 1)]));
    await importFile(db, { kind: 'orders', file: status('delivered', 'refunded'), now: NOW });
    expect(pairs(db)).toEqual(IMPORTED);
    // placed a day later: o1's pairs move to that day
    await importFile(db, { kind: 'orders', file: status('delivered', 'refunded', '2024-02-02T12:00:00Z'), now: NOW });
    expect(pairs(db)).toEqual(sorted([...both('p1', 'p2', D1, 1), ...both('p1', 'p2', D1 + 1, 1), ...both('p1', 'p3', D1 + 1, 1), ...both('p2', 'p3', D1 + 1, 1), ...both('p1', 'p2', D2, 1)]));
    expect(pairs(db)).toEqual(recount(db));
  });

  it('lose the orders of a forgotten person, and of an order deleted with its items', async () => {
    db = await shop();
    process.env[HASH_KEY_ENV] = 'test-key-'.padEnd(40, 'x');
    forgetCustomers(db, ['c1'], { key: process.env[HASH_KEY_ENV]!, now: NOW });
    expect(pairs(db)).toEqual(sorted(both('p1', 'p2', D1, 1)));
    // the cascade deletes o3's items after o3: counted once, not twice
    db.run(`INSERT INTO orders (id, customer_id, placed_at, status) VALUES ('o5', 'c2', ?, 'delivered')`, [D1 * DAY]);
    db.run(`INSERT INTO order_items (order_id, line, product_id, quantity) VALUES ('o5', 1, 'p1', 1), ('o5', 2, 'p2', 1)`);
    expect(pairs(db)).toEqual(sorted(both('p1', 'p2', D1, 2)));
    db.run(`DELETE FROM orders WHERE id = 'o3'`);
    expect(pairs(db)).toEqual(sorted(both('p1', 'p2', D1, 1)));
  });

  it('are counted from the orders already in a store that had none', async () => {
    db = await shop();
    const store = db.path;
    db.exec(`DROP TABLE product_pairs; DELETE FROM schema_migrations WHERE version = 19`);
    for (const t of db.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'product_pairs%'`)) db.exec(`DROP TRIGGER ${t.name}`);
    db.close();
    db = openStore(store);
    expect(pairs(db)).toEqual(IMPORTED);
  });

  it('give related recommendations that stop counting a canceled order', async () => {
    db = await shop();
    for (const p of ['p1', 'p2', 'p3']) db.run(`INSERT INTO products (id, title) VALUES (?, ?)`, [p, `Product ${p}`]);
    db.run(
      `INSERT INTO enrolments (journey_id, version, customer_id, entry_key, order_id, trigger_at, entered_at, status, step_id, step_started_at, due_at)
       VALUES ('j', 1, 'c3', 'o4', 'o4', ?, ?, 'active', 's', ?, ?)`,
      [NOW, NOW, NOW, NOW],
    );
    const related = () => {
      recommendFor(db!, { sql: 'SELECT id FROM enrolments', params: [] }, { strategy: 'related', count: 2, withinMs: 365 * DAY, category: null, excludePurchased: false, fallback: 'none', categoryMap: {} }, NOW, 'recs_test');
      return db!.all<{ product_id: string; reason: string }>(`SELECT product_id, reason FROM temp.recs_test ORDER BY position`);
    };
    // c3's o4 holds p1 and p3: p2 was bought with p1 in o1, o2 and o3 (and with p3 in o1)
    expect(related()).toEqual([{ product_id: 'p2', reason: 'bought together with p1, p3 in 4 orders' }]);
    await importFile(db, { kind: 'orders', file: file('o3.csv', 'id,customer_id,placed_at,status,total,currency\no3,c2,2024-02-01T18:00:00Z,canceled,15.5,EUR\n'), now: NOW });
    expect(related()).toEqual([{ product_id: 'p2', reason: 'bought together with p1, p3 in 3 orders' }]);
  });
});
