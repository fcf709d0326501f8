/**
 * Recommendations on a hand-built shop, against lists worked out by hand:
 *
 *   orders (all in the last 30 days): o1 A B, o2 A B, o3 A C, o4 A E, o5 B C, o6 G, and
 *   ann's o9 A (her trigger order). E is out of stock (stock 0). Categories: A B E mugs,
 *   C saucers, D teapots, F G other; D and F are the newest products.
 *
 *   related (A): B with A in 2 orders, C in 1, E in 1 but out of stock; topped up by
 *     popular: A 5, B 3, C 2, E 1, G 1 -> B, C, then G (A is hers, E out of stock).
 *   popular: B (3), C (2).  new: F, D.  category (mugs, and saucers by the map): B 3, C 2.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreDb } from '../../src/store/db.js';
import { issueCoupons, randomCodes } from '../../src/store/coupons.js';
import { recommendFor, type RecommendationSpec } from '../../src/store/recommendations.js';
import { tempStore } from './helpers.js';

const NOW = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;
let db: StoreDb | undefined;
afterEach(() => {
  db?.close();
  db = undefined;
});

function shop(): StoreDb {
  const s = tempStore();
  const products: [string, string, number, string][] = [
    ['A', 'mugs', Date.UTC(2026, 0, 1), '{}'],
    ['B', 'mugs', Date.UTC(2026, 0, 1), '{}'],
    ['C', 'saucers', Date.UTC(2026, 0, 1), '{}'],
    ['D', 'teapots', Date.UTC(2026, 4, 10), '{}'],
    ['E', 'mugs', Date.UTC(2026, 0, 1), '{"stock":0}'],
    ['F', 'other', Date.UTC(2026, 4, 20), '{}'],
    ['G', 'other', Date.UTC(2026, 0, 1), '{}'],
  ];
  for (const [id, category, created, attributes] of products) s.run(`INSERT INTO products (id, title, category, price, created_at, attributes) VALUES (?, ?, ?, 10, ?, ?)`, [id, `Product ${id}`, category, created, attributes]);
  for (const c of ['ann', 'x', 'y']) s.run(`INSERT INTO customers (id, email) VALUES (?, ?)`, [c, `${c}@shop.test`]);
  const orders: [string, string, string[]][] = [
    ['o1', 'x', ['A', 'B']],
    ['o2', 'y', ['A', 'B']],
    ['o3', 'x', ['A', 'C']],
    ['o4', 'y', ['A', 'E']],
    ['o5', 'x', ['B', 'C']],
    ['o6', 'y', ['G']],
    ['o9', 'ann', ['A']],
  ];
  orders.forEach(([id, customer, items], i) => {
    s.run(`INSERT INTO orders (id, customer_id, placed_at, status, total) VALUES (?, ?, ?, 'delivered', 20)`, [id, customer, NOW - (10 - i) * DAY]);
    items.forEach((p, line) => s.run(`INSERT INTO order_items (order_id, line, product_id, quantity, price) VALUES (?, ?, ?, 1, 10)`, [id, line + 1, p]));
  });
  s.run(
    `INSERT INTO enrolments (journey_id, version, customer_id, entry_key, order_id, trigger_at, entered_at, status, step_id, step_started_at, due_at)
     VALUES ('j', 1, 'ann', 'o9', 'o9', ?, ?, 'active', 's', ?, ?)`,
    [NOW, NOW, NOW, NOW],
  );
  return s;
}

const ALL = { sql: `SELECT id FROM enrolments`, params: [] };
const spec = (over: Partial<RecommendationSpec>): RecommendationSpec => ({ strategy: 'related', count: 2, withinMs: null, category: null, excludePurchased: true, fallback: 'popular', categoryMap: {}, ...over });
const list = (s: StoreDb, sp: RecommendationSpec) => {
  recommendFor(s, ALL, sp, NOW, 'recs_test');
  return s.all<{ product_id: string }>(`SELECT product_id FROM temp.recs_test ORDER BY position`).map((r) => r.product_id);
};

describe('recommendations', () => {
  it('related: bought together with the trigger order, out of stock left out, topped up by popular', () => {
    db = shop();
    expect(list(db, spec({ strategy: 'related', count: 3 }))).toEqual(['B', 'C', 'G']);
    expect(list(db, spec({ strategy: 'related', count: 3, fallback: 'none' }))).toEqual(['B', 'C']);
    const why = db.all<{ reason: string }>(`SELECT reason FROM temp.recs_test ORDER BY position`).map((r) => r.reason);
    expect(why[0]).toBe('bought together with A in 2 orders');
  });
  it('a product withdrawn from sale (status draft or archived, published false, as the Shopify preset imports them) is never recommended', () => {
    db = shop();
    db.run(`UPDATE products SET attributes = '{"status":"draft"}' WHERE id = 'B'`);
    db.run(`UPDATE products SET attributes = '{"published":"false"}' WHERE id = 'C'`);
    db.run(`UPDATE products SET attributes = '{"status":"Archived"}' WHERE id = 'F'`);
    // related (A) was B, C; both withdrawn: popular tops up with G, the one left for sale
    expect(list(db, spec({ strategy: 'related', count: 3 }))).toEqual(['G']);
    expect(list(db, spec({ strategy: 'new' }))).toEqual(['D', 'G']);
    db.run(`UPDATE products SET attributes = '{"status":"active","published":"true"}' WHERE id IN ('B', 'C', 'F')`);
    expect(list(db, spec({ strategy: 'related', count: 3 }))).toEqual(['B', 'C', 'G']);
  });
  it('popular, new and category (with the category map)', () => {
    db = shop();
    expect(list(db, spec({ strategy: 'popular' }))).toEqual(['B', 'C']);
    expect(list(db, spec({ strategy: 'popular', excludePurchased: false }))).toEqual(['B', 'C']); // A is the trigger order's own
    expect(list(db, spec({ strategy: 'new' }))).toEqual(['F', 'D']);
    expect(list(db, spec({ strategy: 'category', categoryMap: { mugs: ['saucers'] }, fallback: 'none' }))).toEqual(['B', 'C']);
    expect(list(db, spec({ strategy: 'category', fallback: 'none' }))).toEqual(['B']);
  });
});

describe('coupon codes', () => {
  it('are drawn from the alphabet without look-alikes, and one per coupon and enrolment however often the step is retried', () => {
    db = shop();
    expect(randomCodes(200, 8, 'ABCDEFGHJKMNPQRSTUVWXYZ23456789').every((c) => /^[A-HJ-KMNP-Z2-9]{8}$/.test(c))).toBe(true);
    const issue = (coupon: string) =>
      issueCoupons(db!, ALL, { coupon, source: 'generated', prefix: 'T', length: 8, alphabet: 'ABCDEFGHJKMNPQRSTUVWXYZ23456789', validFor: { amount: 14, unit: 'd' }, journeyId: 'j', stepId: 's', now: NOW });
    issue('ladder-10');
    const first = db.all<{ code: string; expires_at: number }>(`SELECT code, expires_at FROM coupon_codes WHERE coupon = 'ladder-10'`);
    issue('ladder-10');
    expect(db.all(`SELECT code, expires_at FROM coupon_codes WHERE coupon = 'ladder-10'`)).toEqual(first);
    expect(first[0]!.expires_at).toBe(NOW + 14 * DAY);
    issue('ladder-15');
    const codes = db.all<{ code: string }>(`SELECT code FROM coupon_codes`).map((r) => r.code);
    expect(new Set(codes).size).toBe(2);
  });
  it('a pool gives its codes in import order, and an empty pool leaves the enrolment without one', () => {
    db = shop();
    const pool = (coupon: string) => issueCoupons(db!, ALL, { coupon, source: 'pool', prefix: null, length: 8, alphabet: 'X', validFor: null, journeyId: 'j', stepId: 's', now: NOW });
    db.run(`INSERT INTO coupon_codes (coupon, code, source, imported_at) VALUES ('p', 'POOL1', 'pool', 0), ('p', 'POOL2', 'pool', 0)`);
    expect(db.all(`SELECT * FROM (${pool('p').sql})`, pool('p').params)).toEqual([]);
    expect(db.get(`SELECT code FROM coupon_codes WHERE enrolment_id IS NOT NULL`)).toEqual({ code: 'POOL1' });
    const left = pool('empty');
    expect(db.all<{ id: number }>(`SELECT id FROM (${left.sql})`, left.params)).toHaveLength(1);
  });
});
