import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDemoData } from '../../src/demo-data/generate.js';
import { importFile } from '../../src/store/import/import.js';
import type { ImportKind } from '../../src/store/import/kinds.js';
import { tempDir, tempStore } from './helpers.js';

const NOW = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
/** The files of a folder (and of its future/ folder), by name and content. */
const hashDir = (dir: string) => {
  const h = createHash('sha256');
  for (const f of readdirSync(dir, { recursive: true }).map(String).sort()) {
    if (statSync(path.join(dir, f)).isFile()) h.update(f).update(readFileSync(path.join(dir, f)));
  }
  return h.digest('hex');
};
const mainFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.csv')).sort().map((f) => readFileSync(path.join(dir, f), 'utf8'));

describe('demo data', () => {
  it('gives the same bytes for the same seed and different ones for another seed', () => {
    const [a, b, c] = [tempDir(), tempDir(), tempDir()];
    generateDemoData({ customers: 500, seed: 'same', outDir: a, now: NOW });
    generateDemoData({ customers: 500, seed: 'same', outDir: b, now: NOW });
    generateDemoData({ customers: 500, seed: 'other', outDir: c, now: NOW });
    expect(hashDir(a)).toBe(hashDir(b));
    expect(hashDir(a)).not.toBe(hashDir(c));
  });

  it('gives the same bytes with a future too, and the same shop up to today whatever the future', () => {
    const [a, b, none] = [tempDir(), tempDir(), tempDir()];
    generateDemoData({ customers: 500, seed: 'same', outDir: a, now: NOW, future: 30 * DAY });
    generateDemoData({ customers: 500, seed: 'same', outDir: b, now: NOW, future: 30 * DAY });
    generateDemoData({ customers: 500, seed: 'same', outDir: none, now: NOW });
    expect(readdirSync(path.join(a, 'future')).sort()).toEqual(['customers.csv', 'order_items.csv', 'orders.csv']);
    expect(hashDir(a)).toBe(hashDir(b));
    expect(mainFiles(a)).toEqual(mainFiles(none));
  });

  it('keeps trading after today: new customers, first and repeat orders, each order moving through its statuses', async () => {
    const dir = tempDir();
    const result = generateDemoData({ customers: 3000, seed: 42, outDir: dir, now: NOW, future: 31 * DAY });
    const db = tempStore();
    const load = async (kind: ImportKind, file: string, now: number) => {
      const r = await importFile(db, { kind, file: path.join(dir, file), now });
      expect(r.rejected, file).toBe(0);
      return r;
    };
    for (const [kind, file] of [['customers', 'customers.csv'], ['products', 'products.csv'], ['orders', 'orders.csv'], ['order-items', 'order_items.csv']] as const) await load(kind, file, NOW);
    const q = <T>(sql: string, params: unknown[] = []) => db.get<T>(sql, params as never[])!;
    // up to today, nothing happens after it
    expect(q<{ m: number }>('SELECT max(placed_at) AS m FROM orders').m).toBeLessThanOrEqual(NOW);
    expect(q<{ m: number }>('SELECT max(changed_at) AS m FROM order_status_history').m).toBeLessThanOrEqual(NOW);
    const pastOrders = q<{ n: number }>('SELECT count(*) AS n FROM orders').n;
    const december = q<{ n: number }>('SELECT count(*) AS n FROM orders WHERE placed_at >= ?', [Date.UTC(2025, 11, 1)]).n;

    const customers = await load('customers', 'future/customers.csv', NOW);
    const orders = await load('orders', 'future/orders.csv', NOW);
    await load('order-items', 'future/order_items.csv', NOW);
    expect(orders.rows).toBe(result.files.find((f) => f.file === 'future/orders.csv')!.rows);
    // new registrations at the pace of a growing shop (about 9 a day per 5,000 customers), after today
    expect(customers.inserted).toBeGreaterThan(100);
    expect(q<{ m: number }>(`SELECT min(registered_at) AS m FROM customers WHERE id > 'c0003000'`).m).toBeGreaterThan(NOW);
    // a month of orders, fewer than in December (the Christmas peak) but not far off
    const newOrders = q<{ n: number }>('SELECT count(*) AS n FROM orders').n - pastOrders;
    expect(newOrders).toBe(orders.inserted);
    expect(newOrders).toBeGreaterThan(december * 0.3);
    expect(newOrders).toBeLessThan(december);
    expect(q<{ n: number }>('SELECT count(*) AS n FROM orders WHERE placed_at > ? AND id NOT IN (SELECT order_id FROM order_items)', [NOW]).n).toBe(0);
    // first orders of new customers, and repeat orders of old ones
    expect(q<{ n: number }>(`SELECT count(DISTINCT customer_id) AS n FROM orders WHERE placed_at > ? AND customer_id > 'c0003000'`, [NOW]).n).toBeGreaterThan(50);
    expect(q<{ n: number }>(`SELECT count(DISTINCT customer_id) AS n FROM orders WHERE placed_at > ? AND customer_id <= 'c0003000'`, [NOW]).n).toBeGreaterThan(200);
    // some first-time buyers order again within 30 days: what a second-purchase journey's goal counts
    const again = q<{ buyers: number; again: number }>(`
      SELECT count(*) AS buyers, sum(EXISTS (SELECT 1 FROM orders b WHERE b.customer_id = f.customer_id AND b.placed_at > f.placed_at AND b.placed_at <= f.placed_at + 30 * ${DAY})) AS again
      FROM (SELECT customer_id, min(placed_at) AS placed_at FROM orders GROUP BY customer_id) f WHERE f.placed_at > ?`, [NOW]);
    expect(again.again / again.buyers).toBeGreaterThan(0.03);
    // every order placed after today has its history from pending on, in time order, each change after the one before;
    // and orders placed before today that were on their way carry on (shipped -> delivered)
    const histories = db.all<{ order_id: string; placed_at: number; statuses: string; times: string }>(`
      SELECT h.order_id, o.placed_at, group_concat(h.status, ' ') AS statuses, group_concat(h.changed_at, ' ') AS times
      FROM order_status_history h JOIN orders o ON o.id = h.order_id WHERE o.placed_at > ? GROUP BY h.order_id`, [NOW]);
    expect(histories.length).toBe(newOrders);
    for (const h of histories) {
      const statuses = h.statuses.split(' ');
      const times = h.times.split(' ').map(Number);
      expect(statuses[0], h.order_id).toBe('pending');
      expect(times[0], h.order_id).toBe(h.placed_at);
      expect(times.every((t, i) => i === 0 || t > times[i - 1]!), h.order_id).toBe(true);
    }
    const paths = new Set(histories.map((h) => h.statuses));
    expect(paths).toContain('pending processing shipped delivered');
    expect([...paths].some((p) => p.endsWith('canceled'))).toBe(true);
    const carriedOn = q<{ n: number }>(`SELECT count(*) AS n FROM order_status_history h JOIN orders o ON o.id = h.order_id
      WHERE o.placed_at <= ? AND h.changed_at > ? AND h.previous_status = 'shipped' AND h.status = 'delivered'`, [NOW, NOW]).n;
    expect(carriedOn).toBeGreaterThan(10);
  });

  it('is a shop the importer loads with no flags, and looks like one', async () => {
    const dir = tempDir();
    const result = generateDemoData({ customers: 3000, seed: 42, outDir: dir, now: NOW });
    expect(result.files.map((f) => f.file)).toEqual(['products.csv', 'customers.csv', 'orders.csv', 'order_items.csv', 'events.csv', 'suppressions.csv']);
    const db = tempStore();
    const order: [ImportKind, string][] = [['customers', 'customers.csv'], ['products', 'products.csv'], ['orders', 'orders.csv'], ['order-items', 'order_items.csv'], ['events', 'events.csv'], ['suppressions', 'suppressions.csv']];
    for (const [kind, file] of order) {
      const r = await importFile(db, { kind, file: path.join(dir, file) });
      expect(r.rejected, `${file}`).toBe(0);
      expect(r.inserted, `${file}`).toBe(result.files.find((f) => f.file === file)!.rows);
      expect(r.ignoredColumns, `${file}`).toEqual([]);
    }
    const q = <T>(sql: string) => db.get<T>(sql)!;
    // skewed: many never buy, most buyers buy once, a tail buys often; about 5 orders a customer
    const perCustomer = db.all<{ n: number }>('SELECT count(o.id) AS n FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id');
    const share = (p: (n: number) => boolean) => perCustomer.filter((r) => p(r.n)).length / perCustomer.length;
    expect(share((n) => n === 0)).toBeGreaterThan(0.1);
    expect(share((n) => n === 1)).toBeGreaterThan(0.4);
    expect(share((n) => n >= 20)).toBeGreaterThan(0.03);
    const ordersPerCustomer = perCustomer.reduce((s, r) => s + r.n, 0) / perCustomer.length;
    expect(ordersPerCustomer).toBeGreaterThan(3);
    expect(ordersPerCustomer).toBeLessThan(7);
    // nothing after "now"; seasons: December busier than February
    expect(q<{ m: number }>('SELECT max(placed_at) AS m FROM orders').m).toBeLessThan(NOW);
    const month = (m: string) => q<{ n: number }>(`SELECT count(*) AS n FROM orders WHERE strftime('%m', placed_at / 1000, 'unixepoch') = '${m}'`).n;
    expect(month('12')).toBeGreaterThan(month('02') * 1.5);
    // cancellations and the other statuses, consent mixes, several zones, engagement
    const statuses = db.all<{ status: string }>('SELECT DISTINCT status FROM orders').map((r) => r.status);
    expect(statuses).toEqual(expect.arrayContaining(['delivered', 'shipped', 'canceled', 'refunded']));
    const emailConsent = q<{ yes: number; no: number }>(`SELECT sum(granted) AS yes, sum(1 - granted) AS no FROM customer_consents WHERE channel = 'email'`);
    expect(emailConsent.yes).toBeGreaterThan(emailConsent.no);
    expect(emailConsent.no).toBeGreaterThan(0);
    expect(q<{ n: number }>('SELECT count(DISTINCT timezone) AS n FROM customers').n).toBeGreaterThan(8);
    expect(q<{ n: number }>(`SELECT count(*) AS n FROM events WHERE type = 'email_clicked'`).n).toBeGreaterThan(0);
    // bought together: a product's related products show up in the same orders far more than chance
    const pairs = q<{ n: number }>(`SELECT count(*) AS n FROM order_items a JOIN order_items b ON a.order_id = b.order_id AND a.line = 1 AND b.line = 2`).n;
    const sameCategory = q<{ n: number }>(`SELECT count(*) AS n FROM order_items a JOIN order_items b ON a.order_id = b.order_id AND a.line = 1 AND b.line = 2
      JOIN products pa ON pa.id = a.product_id JOIN products pb ON pb.id = b.product_id WHERE pa.category = pb.category`).n;
    expect(sameCategory / pairs).toBeGreaterThan(0.3); // 8 categories: chance alone is about 0.125
  });
});
