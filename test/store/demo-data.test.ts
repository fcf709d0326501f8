import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDemoData } from '../../src/demo-data/generate.js';
import { importFile } from '../../src/store/import/import.js';
import type { ImportKind } from '../../src/store/import/kinds.js';
import { tempDir, tempStore } from './helpers.js';

const NOW = Date.UTC(2026, 0, 1);
const hashDir = (dir: string) => {
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort()) h.update(f).update(readFileSync(path.join(dir, f)));
  return h.digest('hex');
};

describe('demo data', () => {
  it('gives the same bytes for the same seed and different ones for another seed', () => {
    const [a, b, c] = [tempDir(), tempDir(), tempDir()];
    generateDemoData({ customers: 500, seed: 'same', outDir: a, now: NOW });
    generateDemoData({ customers: 500, seed: 'same', outDir: b, now: NOW });
    generateDemoData({ customers: 500, seed: 'other', outDir: c, now: NOW });
    expect(hashDir(a)).toBe(hashDir(b));
    expect(hashDir(a)).not.toBe(hashDir(c));
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
