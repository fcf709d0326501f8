/**
 * `journey recommend` through the built CLI, on the hand-built shop of
 * test/store/recommendations.test.ts (lists worked out by hand there):
 *
 *   orders in the last 30 days: o1 A B, o2 A B, o3 A C, o4 A E, o5 B C, o6 G, and ann's
 *   o9 A. E is out of stock. D and F are the newest products.
 *   related (A) for ann: B (with A in 2 orders), C (1), E out of stock; topped up by
 *   popular: G (A is hers). new: F, D.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { journeyAt } from '../helpers/spawn.js';
import { Shop, journey } from '../engine/helpers/shop.js';

const NOW = '2026-06-01T00:00:00Z';
const DAY = 86_400_000;

let shop: Shop | undefined;
afterEach(() => {
  shop?.close();
  shop = undefined;
});

const cli = (dir: string, ...args: string[]) => journeyAt(dir, NOW, args);

async function setUp(): Promise<Shop> {
  const s = await Shop.create({ journeys: { j: journey('j', `\ntrigger: { segment: everyone }\nsteps:\n  - id: done\n    exit: { reason: x }\n`) } });
  const now = Date.parse(NOW);
  const products: [string, string, number, string][] = [
    ['A', 'mugs', Date.UTC(2026, 0, 1), '{}'],
    ['B', 'mugs', Date.UTC(2026, 0, 1), '{}'],
    ['C', 'saucers', Date.UTC(2026, 0, 1), '{}'],
    ['D', 'teapots', Date.UTC(2026, 4, 10), '{}'],
    ['E', 'mugs', Date.UTC(2026, 0, 1), '{"stock":0}'],
    ['F', 'other', Date.UTC(2026, 4, 20), '{}'],
    ['G', 'other', Date.UTC(2026, 0, 1), '{}'],
  ];
  for (const [id, category, created, attributes] of products) s.db.run(`INSERT INTO products (id, title, category, price, created_at, attributes) VALUES (?, ?, ?, 10, ?, ?)`, [id, `Product ${id}`, category, created, attributes]);
  for (const c of ['ann', 'x', 'y']) s.db.run(`INSERT INTO customers (id, email) VALUES (?, ?)`, [c, `${c}@shop.test`]);
  const orders: [string, string, string[]][] = [['o1', 'x', ['A', 'B']], ['o2', 'y', ['A', 'B']], ['o3', 'x', ['A', 'C']], ['o4', 'y', ['A', 'E']], ['o5', 'x', ['B', 'C']], ['o6', 'y', ['G']], ['o9', 'ann', ['A']]];
  orders.forEach(([id, customer, items], i) => {
    s.db.run(`INSERT INTO orders (id, customer_id, placed_at, status, total) VALUES (?, ?, ?, 'delivered', 20)`, [id, customer, now - (10 - i) * DAY]);
    items.forEach((p, line) => s.db.run(`INSERT INTO order_items (order_id, line, product_id, quantity, price) VALUES (?, ?, ?, 1, 10)`, [id, line + 1, p]));
  });
  s.db.close();
  return s;
}

describe('journey recommend', () => {
  it('lists the products of a strategy with why each was chosen, topped up by the fallback; writes nothing', async () => {
    shop = await setUp();
    const r = await cli(shop.dir, 'recommend', 'ann', '--strategy', 'related', '--count', '3', '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.basisOrder).toBe('o9');
    expect(out.products.map((p: { id: string; reason: string }) => [p.id, p.reason])).toEqual([
      ['B', 'bought together with A in 2 orders'],
      ['C', 'bought together with A in 1 order'],
      ['G', 'popular: 1 order'],
    ]);
    // the heading does not claim a top-up that did not happen: each product's reason says where it came from
    const two = await cli(shop.dir, 'recommend', 'ann', '--strategy', 'related', '--count', '2');
    expect(two.stdout.split('\n')[0]).toBe('ann: related, from order o9; popular fills in where it finds too few');
    expect(two.stdout).not.toContain('popular:');
    const human = await cli(shop.dir, 'recommend', 'ann', '--strategy', 'new', '--count', '2', '--fallback', 'none');
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/1\. F {2}Product F \[other\] {2}— new: added 2026-05-20\n {2}2\. D {2}Product D \[teapots\] {2}— new: added 2026-05-10/);
    const { openStore } = await import('../../src/store/open.js');
    const db = openStore(path.join(shop.dir, '.journey/store.db'));
    expect(db.get<{ n: number }>('SELECT count(*) AS n FROM enrolments')!.n).toBe(0);
    db.close();
  });

  it('says when fewer products fit than asked, and refuses an unknown customer or another customer\'s order (exit 1)', async () => {
    shop = await setUp();
    const few = await cli(shop.dir, 'recommend', 'ann', '--strategy', 'related', '--fallback', 'none', '--count', '5');
    expect(few.stdout).toContain('2 of 5: no more products fit');
    const nobody = await cli(shop.dir, 'recommend', 'zed', '--strategy', 'popular');
    expect(nobody.status).toBe(1);
    expect(nobody.stderr).toContain("no customer 'zed'");
    const theirs = await cli(shop.dir, 'recommend', 'ann', '--strategy', 'related', '--order', 'o1');
    expect(theirs.status).toBe(1);
    expect(theirs.stderr).toContain("customer 'ann' has no order 'o1'");
    const usage = await cli(shop.dir, 'recommend', 'ann', '--strategy', 'best');
    expect(usage.status).toBe(64);
  });
});
