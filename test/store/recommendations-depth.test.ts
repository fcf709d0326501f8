/**
 * How deep into a ranked list an enrolment reads (recommendations.ts): as deep as the
 * products it leaves out need, so that it still gets `count` of them.
 *
 *   A's partners, by orders together: P1 6, P2 5, P3 4, P4 3, P5 2, P6 1 (orders of x).
 *   B's partners: P3 2, P6 2 (orders of y).
 *   ann bought A in o-ann (her trigger order) and, earlier, P1 and P2.
 *   bea bought A and B in o-bea (her trigger order).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { StoreDb } from '../../src/store/db.js';
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
  for (const p of ['A', 'B', 'P1', 'P2', 'P3', 'P4', 'P5', 'P6']) s.run(`INSERT INTO products (id, title, price) VALUES (?, ?, 10)`, [p, `Product ${p}`]);
  for (const c of ['ann', 'bea', 'x', 'y']) s.run(`INSERT INTO customers (id, email) VALUES (?, ?)`, [c, `${c}@shop.test`]);
  let n = 0;
  const order = (customer: string, items: string[], id = `o${++n}`) => {
    s.run(`INSERT INTO orders (id, customer_id, placed_at, status, total) VALUES (?, ?, ?, 'delivered', 20)`, [id, customer, NOW - 5 * DAY]);
    items.forEach((p, i) => s.run(`INSERT INTO order_items (order_id, line, product_id, quantity, price) VALUES (?, ?, ?, 1, 10)`, [id, i + 1, p]));
  };
  ['P1', 'P2', 'P3', 'P4', 'P5', 'P6'].forEach((p, i) => {
    for (let k = 0; k < 6 - i; k++) order('x', ['A', p]);
  });
  for (let k = 0; k < 2; k++) order('y', ['B', 'P3', 'P6']);
  order('ann', ['P1', 'P2']);
  order('ann', ['A'], 'o-ann');
  order('bea', ['A', 'B'], 'o-bea');
  for (const [c, o] of [['ann', 'o-ann'], ['bea', 'o-bea']]) {
    s.run(
      `INSERT INTO enrolments (journey_id, version, customer_id, entry_key, order_id, trigger_at, entered_at, status, step_id, step_started_at, due_at)
       VALUES ('j', 1, ?, ?, ?, ?, ?, 'active', 's', ?, ?)`,
      [c, o, o, NOW, NOW, NOW, NOW],
    );
  }
  return s;
}

const spec = (over: Partial<RecommendationSpec>): RecommendationSpec => ({ strategy: 'related', count: 2, withinMs: null, category: null, excludePurchased: true, fallback: 'none', categoryMap: {}, ...over });
const lists = (s: StoreDb, sp: RecommendationSpec) => {
  recommendFor(s, { sql: `SELECT id FROM enrolments`, params: [] }, sp, NOW, 'recs_test');
  const rows = s.all<{ customer_id: string; product_id: string; reason: string }>(
    `SELECT en.customer_id, r.product_id, r.reason FROM temp.recs_test r JOIN enrolments en ON en.id = r.enrolment_id ORDER BY en.customer_id, r.position`,
  );
  const out: Record<string, string[]> = {};
  for (const r of rows) (out[r.customer_id] ??= []).push(`${r.product_id}: ${r.reason}`);
  return out;
};

describe('recommendations read each list as deep as an enrolment needs', () => {
  it('past the products the customer already bought, to the first `count` they did not', () => {
    db = shop();
    expect(lists(db, spec({ count: 2 })).ann).toEqual(['P3: bought together with A in 4 orders', 'P4: bought together with A in 3 orders']);
    // without exclude_purchased only the trigger order's own products are left out
    expect(lists(db, spec({ count: 2, excludePurchased: false })).ann).toEqual(['P1: bought together with A in 6 orders', 'P2: bought together with A in 5 orders']);
  });

  it('with several basis products, a partner of both scores the sum of its orders with each', () => {
    db = shop();
    // P3: 4 with A + 2 with B; P6: 1 with A + 2 with B (both within what bea reads of each
    // list); A and B are hers (each is the other's partner through her own order)
    expect(lists(db, spec({ count: 6 })).bea).toEqual([
      'P1: bought together with A in 6 orders',
      'P3: bought together with A, B in 6 orders',
      'P2: bought together with A in 5 orders',
      'P4: bought together with A in 3 orders',
      'P6: bought together with A, B in 3 orders',
      'P5: bought together with A in 2 orders',
    ]);
  });
});
