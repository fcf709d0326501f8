import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StoreDb } from '../../src/store/db.js';
import { importFile } from '../../src/store/import/import.js';
import { shopifyStatus } from '../../src/store/import/presets/shopify.js';
import { fixture, HAS_OLIST, OLIST, OLIST_SKIP_NOTE, snapshot, tempDir, tempStore } from './helpers.js';

describe('shopify preset', () => {
  async function shopify(): Promise<StoreDb> {
    const db = tempStore();
    await importFile(db, { kind: 'customers', file: fixture('shopify', 'customers_export.csv'), preset: 'shopify' });
    return db;
  }

  it('imports the customers export: quoted ids, consent per channel, e-mail as an alias', async () => {
    const db = await shopify();
    expect(db.get('SELECT id, email, phone, city, country, attributes FROM customers WHERE id = ?', ['7029541372001'])).toEqual({
      id: '7029541372001',
      email: 'jane.doe@example.com',
      phone: '+15035550142',
      city: 'Portland',
      country: 'US',
      attributes: '{"shopify_total_spent":"152.40","shopify_total_orders":"2","tags":"vip, newsletter"}',
    });
    expect(db.all(`SELECT channel, granted FROM customer_consents WHERE customer_id = '7029541372003' ORDER BY channel`)).toEqual([
      { channel: 'email', granted: 1 },
      { channel: 'sms', granted: 1 },
    ]);
    expect(db.get(`SELECT customer_id FROM customer_aliases WHERE alias = 'marc.leroy@example.fr'`)).toEqual({ customer_id: '7029541372002' });
  });

  it('imports the orders export after the customers export: orders resolve to the Customer ID by e-mail, the store keeps what it knew, a new e-mail is a new customer', async () => {
    const db = await shopify();
    const before = db.all('SELECT * FROM customers ORDER BY id');
    const orders = await importFile(db, { kind: 'orders', file: fixture('shopify', 'orders_export.csv'), preset: 'shopify' });
    expect(orders).toMatchObject({ rows: 6, inserted: 5, skipped: 0, rejected: 0 });
    expect(orders.also).toEqual([
      { kind: 'customers', inserted: 1, updated: 0, unchanged: 3 },
      { kind: 'order-items', inserted: 6, updated: 0, unchanged: 0 },
    ]);
    expect(db.all('SELECT id, customer_id, status, total, currency, placed_at FROM orders ORDER BY id')).toEqual([
      { id: '#1001', customer_id: '7029541372001', status: 'shipped', total: 111.4, currency: 'USD', placed_at: Date.parse('2024-03-05T22:22:08Z') },
      { id: '#1002', customer_id: '7029541372001', status: 'processing', total: 41, currency: 'USD', placed_at: Date.parse('2024-04-01T16:58:00Z') },
      { id: '#1003', customer_id: '7029541372002', status: 'refunded', total: 0, currency: 'USD', placed_at: Date.parse('2024-04-02T05:59:00Z') },
      { id: '#1004', customer_id: '7029541372003', status: 'canceled', total: 15, currency: 'USD', placed_at: Date.parse('2024-04-05T02:00:00Z') },
      { id: '#1005', customer_id: 'ghost@example.com', status: 'pending', total: 9, currency: 'USD', placed_at: Date.parse('2024-04-06T12:00:00Z') },
    ]);
    expect(db.all(`SELECT * FROM customers WHERE id <> 'ghost@example.com' ORDER BY id`)).toEqual(before);
    expect(db.get(`SELECT changed_at, estimated FROM order_status_history WHERE order_id = '#1001'`)).toEqual({ changed_at: Date.parse('2024-03-06T17:00:00Z'), estimated: 0 });
    expect(db.all(`SELECT line, sku, title, quantity, price FROM order_items WHERE order_id = '#1001' ORDER BY line`)).toEqual([
      { line: 1, sku: 'TEE-ORG-M', title: 'Organic Cotton Tee - M', quantity: 2, price: 29 },
      { line: 2, sku: 'TOTE-CNV', title: 'Canvas Tote', quantity: 1, price: 40 },
    ]);

    // the items alone, as before: nothing left to add
    const items = await importFile(db, { kind: 'order-items', file: fixture('shopify', 'orders_export.csv'), preset: 'shopify' });
    expect(items).toMatchObject({ inserted: 0, updated: 0, unchanged: 6, rejected: 0 });
  });

  it('rejects customer ids a spreadsheet rounded into scientific notation instead of merging the people who share one', async () => {
    const db = tempStore();
    const file = fixture('shopify', 'customers_excel.csv');
    const error = await importFile(db, { kind: 'customers', file, preset: 'shopify' }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/^2 rows are invalid; nothing was imported\n  row 1, column Customer ID: "7\.02955E\+12" is a number a spreadsheet rounded into scientific notation/);
    expect((error as Error).message).toMatch(/\n  row 2, column Customer ID: "7\.02955E\+12" /);
    expect((error as Error).message).toMatch(/re-export the file from the shop without opening it in a spreadsheet, or key customers by e-mail/);
    expect(db.get<{ n: number }>('SELECT count(*) AS n FROM customers')!.n).toBe(0);

    const rejectsFile = path.join(tempDir(), 'rejects.csv');
    const result = await importFile(db, { kind: 'customers', file, preset: 'shopify', rejectsFile });
    expect(result).toMatchObject({ inserted: 1, updated: 0, rejected: 2 });
    expect(db.all('SELECT id, email FROM customers')).toEqual([{ id: '7029541372003', email: 'sam@example.com' }]);
  });

  it('reads the older customers export: country names become ISO codes, a phone kept as text with a leading apostrophe', async () => {
    const db = tempStore();
    const result = await importFile(db, { kind: 'customers', file: fixture('shopify', 'customers_old_format.csv'), preset: 'shopify' });
    expect(result).toMatchObject({ inserted: 3, rejected: 0 });
    expect(db.all('SELECT id, phone, country, city FROM customers ORDER BY id')).toEqual([
      { id: 'ana.silva@example.pt', phone: '+351912345678', country: 'PT', city: 'Lisboa' },
      { id: 'bob@example.com', phone: null, country: 'US', city: 'Austin' },
      { id: 'chloe@example.fr', phone: '+33612345678', country: 'FR', city: 'Lyon' },
    ]);
    expect(db.all(`SELECT customer_id, granted FROM customer_consents WHERE channel = 'email' ORDER BY 1`)).toEqual([
      { customer_id: 'ana.silva@example.pt', granted: 1 },
      { customer_id: 'bob@example.com', granted: 0 },
      { customer_id: 'chloe@example.fr', granted: 1 },
    ]);
  });

  it('imports an orders export on its own: its customers, orders and line items, in one import', async () => {
    const db = tempStore();
    const now = Date.parse('2026-12-01T00:00:00Z');
    const file = fixture('shopify', 'orders_only_export.csv');
    const result = await importFile(db, { kind: 'orders', file, preset: 'shopify', now });
    expect(result).toMatchObject({ rows: 5, inserted: 4, updated: 0, rejected: 0 });
    expect(result.also).toEqual([
      { kind: 'customers', inserted: 3, updated: 0, unchanged: 0 },
      { kind: 'order-items', inserted: 5, updated: 0, unchanged: 0 },
    ]);
    // Ana's newer order has no phone: the one her older order gives is kept
    expect(db.all('SELECT id, email, first_name, last_name, phone, country, city FROM customers ORDER BY id')).toEqual([
      { id: 'ana@example.pt', email: 'ana@example.pt', first_name: 'Ana', last_name: 'Silva', phone: '+351912345678', country: 'PT', city: 'Lisboa' },
      { id: 'bob@example.com', email: 'bob@example.com', first_name: 'Bob', last_name: 'Stone', phone: '+15125550100', country: 'US', city: 'Austin' },
      { id: 'carla@example.com', email: 'carla@example.com', first_name: 'Carla', last_name: 'Mendes Rocha', phone: null, country: 'PT', city: 'Porto' },
    ]);
    expect(db.all(`SELECT customer_id, granted FROM customer_consents WHERE channel = 'email' ORDER BY 1`)).toEqual([
      { customer_id: 'ana@example.pt', granted: 1 },
      { customer_id: 'bob@example.com', granted: 0 },
      { customer_id: 'carla@example.com', granted: 0 },
    ]);
    expect(db.all(`SELECT order_id, line, sku, quantity, price FROM order_items ORDER BY 1, 2`)).toEqual([
      { order_id: '#2001', line: 1, sku: 'JKT-RAIN', quantity: 1, price: 50 },
      { order_id: '#2002', line: 1, sku: 'BEANIE-W', quantity: 1, price: 39 },
      { order_id: '#2003', line: 1, sku: 'STICK-1', quantity: 1, price: 25 },
      { order_id: '#2004', line: 1, sku: 'TEE-ORG-M', quantity: 2, price: 30 },
      { order_id: '#2004', line: 2, sku: 'TOTE-CNV', quantity: 1, price: 40 },
    ]);
    // lifetime value counts what was kept: 70 of the partly refunded 100, plus 39
    expect(db.get(`SELECT n, value FROM customer_facts WHERE customer_id = 'ana@example.pt'`)).toEqual({ n: 2, value: 109 });
    // the import writes orders before their customers with foreign keys off: every reference holds when it commits
    expect(db.all('PRAGMA foreign_key_check')).toEqual([]);
    expect(db.get<{ foreign_keys: number }>('PRAGMA foreign_keys')!.foreign_keys).toBe(1);

    const before = snapshot(db);
    const again = await importFile(db, { kind: 'orders', file, preset: 'shopify', now: now + 86_400_000 });
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 4 });
    expect(again.also).toEqual([
      { kind: 'customers', inserted: 0, updated: 0, unchanged: 3 },
      { kind: 'order-items', inserted: 0, updated: 0, unchanged: 5 },
    ]);
    expect(snapshot(db)).toEqual(before);
  });

  it('rejects an order whose first row is bad together with its other rows, saying why, and imports the rest', async () => {
    const db = tempStore();
    const dir = tempDir();
    const file = path.join(dir, 'orders_export.csv');
    const text = readFileSync(fixture('shopify', 'orders_only_export.csv'), 'utf8');
    writeFileSync(file, text.replace('EUR,100.00,0.00,0.00,100.00,', 'EUR,100.00,0.00,0.00,1OO.00,'));
    const rejectsFile = path.join(dir, 'rejects.csv');
    const result = await importFile(db, { kind: 'orders', file, preset: 'shopify', rejectsFile });
    expect(result).toMatchObject({ rows: 5, inserted: 3, rejected: 2 });
    const rejected = readFileSync(rejectsFile, 'utf8').split('\n').slice(1, 3).map((l) => l.split(',').slice(0, 2).join(','));
    expect(rejected).toEqual(['1,Total', '2,Name']);
    expect(readFileSync(rejectsFile, 'utf8')).toContain('"""#2004"" is an order whose first row (row 1) was rejected"');
    expect(db.get<{ n: number }>(`SELECT count(*) AS n FROM order_items WHERE order_id = '#2004'`)!.n).toBe(0);
    // Ana is still imported from her other order
    expect(db.get(`SELECT phone FROM customers WHERE id = 'ana@example.pt'`)).toEqual({ phone: '+351912345678' });
  });

  it('rejects the line items of an order the export gives no first row for, at any batch size, and imports the rest', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'orders_export.csv');
    const [header, ...rows] = readFileSync(fixture('shopify', 'orders_only_export.csv'), 'utf8').trimEnd().split('\n');
    // #2004's first row is missing: its second row names an order that is nowhere (after #2003's, and first in the file)
    for (const lines of [[rows[2], rows[1], rows[3], rows[4]], [rows[1], rows[2], rows[3], rows[4]]]) {
      writeFileSync(file, [header, ...lines].join('\n') + '\n');
      for (const batchRows of [1, 2, 10_000]) {
        const db = tempStore();
        const rejectsFile = path.join(dir, 'rejects.csv');
        const result = await importFile(db, { kind: 'orders', file, preset: 'shopify', rejectsFile, batchRows });
        expect(result).toMatchObject({ rows: 4, inserted: 3, rejected: 1 });
        expect(readFileSync(rejectsFile, 'utf8')).toContain('"""#2004"" unknown order: no order has this id"');
        expect(db.all(`SELECT order_id FROM order_items ORDER BY 1`)).toEqual([{ order_id: '#2001' }, { order_id: '#2002' }, { order_id: '#2003' }]);
      }
    }
  });

  it("applies an order whose rows resume after another order's in file order, whatever the batch size", async () => {
    const dir = tempDir();
    const file = path.join(dir, 'orders_export.csv');
    const [header, first, second, ...rest] = readFileSync(fixture('shopify', 'orders_only_export.csv'), 'utf8').trimEnd().split('\n');
    // #2004's item row comes after #2003's: it is #2004's line 1 again, as a later export of it would say
    writeFileSync(file, [header, first, rest[0], second, ...rest.slice(1)].join('\n') + '\n');
    const now = Date.parse('2026-12-01T00:00:00Z');
    const results = [];
    const stores = [];
    for (const batchRows of [1, 10_000]) {
      const db = tempStore();
      results.push(await importFile(db, { kind: 'orders', file, preset: 'shopify', now, batchRows }));
      stores.push(snapshot(db));
      expect(db.all(`SELECT line, title FROM order_items WHERE order_id = '#2004'`)).toEqual([{ line: 1, title: 'Canvas Tote' }]);
    }
    expect(results[1]!.also).toEqual(results[0]!.also);
    expect(results[1]!.also!.find((p) => p.kind === 'order-items')).toMatchObject({ inserted: 4, updated: 1 });
    expect(stores[1]).toEqual(stores[0]);
  });

  it("takes a customer's values from their newest order that gives them, whatever order the export lists orders in and at any batch size", async () => {
    const dir = tempDir();
    const file = path.join(dir, 'orders_export.csv');
    const [header, ...rows] = readFileSync(fixture('shopify', 'orders_only_export.csv'), 'utf8').trimEnd().split('\n');
    // oldest order first; Ana's older order (#2002) gives another city and refuses e-mail marketing
    const older = rows[3]!.replace(',yes,EUR,', ',no,EUR,').replace(',Lisboa,', ',Porto,');
    writeFileSync(file, [header, rows[4], older, rows[2], rows[0], rows[1]].join('\n') + '\n');
    const now = Date.parse('2026-12-01T00:00:00Z');
    for (const batchRows of [1, 10_000]) {
      const db = tempStore();
      const result = await importFile(db, { kind: 'orders', file, preset: 'shopify', now, batchRows });
      expect(result.also).toContainEqual({ kind: 'customers', inserted: 3, updated: 0, unchanged: 0 });
      // the city and consent of her newest order (#2004), the phone that only the older one gives
      expect(db.get(`SELECT city, phone FROM customers WHERE id = 'ana@example.pt'`)).toEqual({ city: 'Lisboa', phone: '+351912345678' });
      expect(db.get(`SELECT granted FROM customer_consents WHERE customer_id = 'ana@example.pt' AND channel = 'email'`)).toEqual({ granted: 1 });
    }
  });

  it('keeps partial refunds, and dates a status the export does not date by the best time it holds, marked estimated', async () => {
    const db = tempStore();
    const now = Date.parse('2026-12-01T00:00:00Z');
    await importFile(db, { kind: 'orders', file: fixture('shopify', 'orders_only_export.csv'), preset: 'shopify', now });
    expect(db.all('SELECT id, status, total, refunded FROM orders ORDER BY id')).toEqual([
      { id: '#2001', status: 'refunded', total: 0, refunded: 50 },
      { id: '#2002', status: 'shipped', total: 39, refunded: 0 },
      { id: '#2003', status: 'processing', total: 25, refunded: 0 },
      { id: '#2004', status: 'partially_refunded', total: 70, refunded: 30 },
    ]);
    expect(db.all('SELECT order_id, status, changed_at, estimated FROM order_status_history ORDER BY order_id')).toEqual([
      // refunded some time after it was fulfilled, in 2022: never the import's own time
      { order_id: '#2001', status: 'refunded', changed_at: Date.parse('2022-03-02T10:00:00Z'), estimated: 1 },
      { order_id: '#2002', status: 'shipped', changed_at: Date.parse('2025-05-02T09:00:00Z'), estimated: 0 },
      // paid, with a blank "Paid at": the order's creation is all the row holds
      { order_id: '#2003', status: 'processing', changed_at: Date.parse('2026-10-01T16:00:00Z'), estimated: 1 },
      { order_id: '#2004', status: 'partially_refunded', changed_at: Date.parse('2026-11-21T09:00:00Z'), estimated: 1 },
    ]);
  });

  it('maps the two Shopify statuses to one', () => {
    expect(shopifyStatus('paid', 'fulfilled', '')).toBe('shipped');
    expect(shopifyStatus('paid', '', '')).toBe('processing');
    expect(shopifyStatus('authorized', 'unfulfilled', '')).toBe('pending');
    expect(shopifyStatus('partially_refunded', 'fulfilled', '')).toBe('partially_refunded');
    expect(shopifyStatus('refunded', 'fulfilled', '')).toBe('refunded');
    expect(shopifyStatus('paid', 'fulfilled', '2024-01-01 10:00:00 +0000')).toBe('canceled');
  });
});

describe.runIf(HAS_OLIST)(`olist preset on the real, messy excerpt${OLIST_SKIP_NOTE}`, () => {
  const olist = (f: string) => path.join(OLIST, f);

  it('takes order totals from the payments file, so that lifetime value is known', async () => {
    // the excerpt's orders mostly name customers its customers file lacks: a customer per
    // order's customer_id, written to a temporary file, lets every order in
    const db = tempStore();
    const customersFile = path.join(tempDir(), 'customers.csv');
    const ids = readFileSync(olist('olist_orders_dataset.csv'), 'utf8').split('\n').slice(1).map((l) => l.split(',')[1]!.replace(/"/g, ''));
    writeFileSync(customersFile, `customer_id,customer_unique_id,customer_city,customer_state\n${ids.map((id) => `${id},${id},sao paulo,SP`).join('\n')}\n`);
    await importFile(db, { kind: 'customers', file: customersFile, preset: 'olist' });
    const orders = await importFile(db, { kind: 'orders', file: olist('olist_orders_dataset.csv'), preset: 'olist' });
    expect(orders.inserted).toBe(4071);
    expect(db.get<{ n: number }>('SELECT count(*) AS n FROM customer_facts WHERE value IS NOT NULL')!.n).toBe(0);

    const rejectsFile = path.join(tempDir(), 'payments.rejected.csv');
    const payments = await importFile(db, { kind: 'payments', file: olist('olist_order_payments_dataset.csv'), preset: 'olist', rejectsFile });
    expect(payments.rows).toBe(4733);
    expect(payments.inserted).toBeGreaterThan(0);
    expect(payments.inserted + payments.rejected).toBe(4733);
    expect(readFileSync(rejectsFile, 'utf8').trimEnd().split('\n').slice(1).every((l) => /unknown order: no order has this id/.test(l))).toBe(true);
    // an order's total is the sum of its payments (vouchers and cards alike)
    const expected = new Map<string, number>();
    for (const line of readFileSync(olist('olist_order_payments_dataset.csv'), 'utf8').split('\n').slice(1)) {
      const cells = line.split(',');
      const order = cells[0]!.replace(/"/g, '');
      expected.set(order, (expected.get(order) ?? 0) + Number(cells[4]));
    }
    const totals = db.all<{ id: string; total: number }>('SELECT id, total FROM orders WHERE total IS NOT NULL');
    expect(totals.length).toBeGreaterThan(0);
    for (const { id, total } of totals) expect(total).toBeCloseTo(expected.get(id)!, 2);
    // and lifetime value follows, for each customer with a paid order
    const paidCustomers = db.get<{ n: number }>('SELECT count(DISTINCT customer_id) AS n FROM orders WHERE total IS NOT NULL AND status NOT IN (\'canceled\', \'unavailable\')')!.n;
    expect(db.get<{ n: number }>('SELECT count(*) AS n FROM customer_facts WHERE value > 0')!.n).toBe(paidCustomers);

    const again = await importFile(db, { kind: 'payments', file: olist('olist_order_payments_dataset.csv'), preset: 'olist', rejectsFile });
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: payments.inserted });
  });

  it('imports what it can and reports exactly what it rejects and why', async () => {
    const db = tempStore();
    const dir = tempDir();
    const customers = await importFile(db, { kind: 'customers', file: olist('olist_customers_dataset.csv'), preset: 'olist' });
    // 200 per-order customer ids, fewer people: the person is customer_unique_id
    const people = db.get<{ n: number }>('SELECT count(*) AS n FROM customers')!.n;
    expect(customers.rows).toBe(200);
    expect(customers.inserted).toBe(people);
    expect(db.get<{ n: number }>('SELECT count(*) AS n FROM customer_aliases')!.n).toBe(200);
    expect(db.get(`SELECT id, city, country, timezone FROM customers WHERE id = '861eff4711a542e4b93843c6dd7febb0'`)).toEqual({
      id: '861eff4711a542e4b93843c6dd7febb0',
      city: 'franca',
      country: 'BR',
      timezone: 'America/Sao_Paulo',
    });

    const products = await importFile(db, { kind: 'products', file: olist('olist_products_dataset.csv'), preset: 'olist' });
    expect(products).toMatchObject({ rows: 751, inserted: 751, rejected: 0 });
    expect(db.get<{ n: number }>('SELECT count(*) AS n FROM products WHERE category IS NULL')!.n).toBeGreaterThan(0);

    const ordersRejects = path.join(dir, 'orders.rejected.csv');
    const orders = await importFile(db, { kind: 'orders', file: olist('olist_orders_dataset.csv'), preset: 'olist', rejectsFile: ordersRejects });
    const rejectLines = readFileSync(ordersRejects, 'utf8').trimEnd().split('\n').slice(1);
    expect(orders.rows).toBe(4071);
    expect(orders.inserted + orders.rejected).toBe(4071);
    expect(orders.inserted).toBeGreaterThan(0);
    // the delivery/carrier/approval dates date the status; nothing is silently dropped
    expect(orders.ignoredColumns).toEqual([]);
    expect(rejectLines).toHaveLength(orders.rejected);
    expect(rejectLines.every((l) => /^\d+,customer_id,"""[0-9a-f]{32}"" unknown customer: no customer has this id or alias"/.test(l))).toBe(true);
    // every imported order belongs to a known person, through the alias table
    expect(db.get<{ n: number }>('SELECT count(*) AS n FROM orders o JOIN customers c ON c.id = o.customer_id')!.n).toBe(orders.inserted);
    const sample = db.get<{ placed_at: number; status: string }>(`SELECT placed_at, status FROM orders WHERE id = 'f11b36b3bc7bacf06deef862ed611f02'`);
    if (sample) expect(new Date(sample.placed_at).toISOString()).toBe('2018-05-15T12:10:20.000Z'); // 09:10:20 in São Paulo

    const itemsRejects = path.join(dir, 'items.rejected.csv');
    const items = await importFile(db, { kind: 'order-items', file: olist('olist_order_items_dataset.csv'), preset: 'olist', rejectsFile: itemsRejects });
    expect(items.rows).toBe(5154);
    expect(items.inserted + items.rejected).toBe(5154);
    expect(readFileSync(itemsRejects, 'utf8')).toMatch(/unknown order: no order has this id/);
    expect(db.get<{ n: number }>('SELECT count(*) AS n FROM order_items')!.n).toBe(items.inserted);

    // and without --skip-invalid nothing at all is written
    const before = snapshot(db);
    await expect(importFile(db, { kind: 'orders', file: olist('olist_orders_dataset.csv'), preset: 'olist' })).rejects.toThrow(
      new RegExp(`^${orders.rejected.toLocaleString('en-US')} rows are invalid; nothing was imported`),
    );
    expect(snapshot(db)).toEqual(before);
  });
});
