import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { LATEST_VERSION } from '../../src/store/migrate.js';
import { fixture, HAS_OLIST, OLIST, OLIST_SKIP_NOTE, tempDir } from '../store/helpers.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/journey.js');

/** Runs the built CLI as a user would (npm run build first), in a project folder. */
function journey(cwd: string, args: string[], input?: string | Buffer) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, input, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const count = (project: string, table: string) => {
  const db = new Database(path.join(project, '.journey/store.db'), { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('journey import (CLI)', () => {
  it('loads the demo shop with no flags and prints one summary line per file', () => {
    const project = tempDir();
    expect(journey(project, ['demo-data', '--customers', '300', '--seed', '3', '--out', 'shop']).code).toBe(0);
    const customers = journey(project, ['import', 'customers', 'shop/customers.csv']);
    expect(customers.code).toBe(0);
    expect(customers.stdout).toMatch(/^imported 300 customers: 300 new, 0 updated, 0 unchanged, 0 rejected in \d+\.\d\d s\n$/);
    expect(journey(project, ['import', 'orders', 'shop/orders.csv']).code).toBe(0);
    const items = journey(project, ['import', 'order-items', 'shop/order_items.csv']);
    expect(items.stdout).toMatch(/^imported [\d,]+ order items: [\d,]+ new, 0 updated, 0 unchanged, 0 rejected/);
    const again = journey(project, ['import', 'order-items', 'shop/order_items.csv']);
    expect(again.stdout).toMatch(/: 0 new, 0 updated, [\d,]+ unchanged, 0 rejected/);
    expect(existsSync(path.join(project, '.journey/store.db'))).toBe(true);
  });

  it('prints JSON for scripts, reads stdin and gzip', () => {
    const project = tempDir();
    journey(project, ['import', 'customers', fixture('customers.csv')]);
    const stdin = journey(project, ['import', 'orders', '-', '--json'], readFileSync(fixture('orders.csv')));
    expect(stdin.code).toBe(0);
    expect(JSON.parse(stdin.stdout)).toMatchObject({ kind: 'orders', file: 'stdin', format: 'csv', rows: 4, inserted: 4, rejected: 0 });
    writeFileSync(path.join(project, 'events.gz'), gzipSync(readFileSync(fixture('events.jsonl'))));
    const gz = journey(project, ['import', 'events', 'events.gz', '--format', 'jsonl', '--json']);
    expect(JSON.parse(gz.stdout)).toMatchObject({ format: 'jsonl', inserted: 3 });
  });

  it('exits 1 on bad rows, naming them, and writes nothing', () => {
    const project = tempDir();
    journey(project, ['import', 'customers', fixture('customers.csv')]);
    const r = journey(project, ['import', 'orders', fixture('orders-broken.csv')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error ${fixture('orders-broken.csv')}, row 2, field placed_at: 4 rows are invalid; nothing was imported`);
    expect(r.stderr).toContain('row 4, column customer_id: "nobody" unknown customer');
    expect(r.stderr).toMatch(/hint: .*--skip-invalid/);
    expect(count(project, 'orders')).toBe(0);
  });

  it('--skip-invalid imports the rest and writes the rejected rows next to the input, readable by its owner only', () => {
    const project = tempDir();
    const input = path.join(tempDir(), 'orders-broken.csv');
    copyFileSync(fixture('orders-broken.csv'), input);
    journey(project, ['import', 'customers', fixture('customers.csv')]);
    const r = journey(project, ['import', 'orders', input, '--skip-invalid']);
    expect(r.code).toBe(0);
    const rejects = path.join(path.dirname(input), 'orders-broken.rejected.csv');
    expect(r.stdout).toContain(`imported 2 orders: 2 new, 0 updated, 0 unchanged, 4 rejected`);
    expect(r.stdout).toContain(`rejected rows written to ${rejects}`);
    expect(readFileSync(rejects, 'utf8').split('\n').slice(1, 5).map((l) => l.split(',')[0])).toEqual(['2', '3', '4', '6']);
    // the customers' rows, addresses and all: as private as the store
    expect(statSync(rejects).mode & 0o777).toBe(0o600);
    expect(readdirSync(project)).toEqual(['.journey']);
    expect(count(project, 'orders')).toBe(2);
  });

  it('--skip-invalid writes no rejects file for an input without rejected rows, and a folder import leaves the rejects files in it alone', () => {
    const project = tempDir();
    const dir = path.join(project, 'exports');
    mkdirSync(dir);
    copyFileSync(fixture('customers.csv'), path.join(dir, 'customers.csv'));
    copyFileSync(fixture('orders-broken.csv'), path.join(dir, 'orders.csv'));
    const r = journey(project, ['import', 'exports', '--skip-invalid']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^customers\.csv: imported 3 customers: .*\nno row rejected: no rejects file written\n/);
    expect(r.stdout).toContain(`rejected rows written to ${path.join(dir, 'orders.rejected.csv')}`);
    expect(readdirSync(dir).sort()).toEqual(['customers.csv', 'orders.csv', 'orders.rejected.csv']);
    // its name says orders, but its rows are the ones that failed
    const again = journey(project, ['import', 'exports', '--skip-invalid']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('orders.rejected.csv: not imported (rows an import --skip-invalid rejected: fix them and import the file alone)');
    expect(again.stdout).not.toMatch(/^orders\.rejected\.csv: imported/m);
    expect(readdirSync(dir).sort()).toEqual(['customers.csv', 'orders.csv', 'orders.rejected.csv']);
  });

  it('imports a folder of exports in dependency order, one file at a time, whatever order the names sort in', () => {
    const project = tempDir();
    expect(journey(project, ['demo-data', '--customers', '200', '--seed', '5', '--out', 'shop']).code).toBe(0);
    // names that sort before the customers they refer to, and a file that is no kind
    renameSync(path.join(project, 'shop/orders.csv'), path.join(project, 'shop/a_orders.csv'));
    renameSync(path.join(project, 'shop/order_items.csv'), path.join(project, 'shop/a_order_items.csv'));
    writeFileSync(path.join(project, 'shop/notes.csv'), 'note\nhello\n');
    const r = journey(project, ['import', 'shop']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).map((l) => l.replace(/: imported.*/, ''))).toEqual([
      'notes.csv: not imported (its name says no kind)',
      'customers.csv',
      'products.csv',
      'a_orders.csv',
      'a_order_items.csv',
      'events.csv',
      'suppressions.csv',
    ]);
    expect(count(project, 'customers')).toBe(200);
    expect(count(project, 'order_items')).toBeGreaterThan(0);
    expect(journey(project, ['import', 'shop']).stdout).not.toMatch(/[1-9][\d,]* (new|updated)/);
  });

  it('a folder import stops at the first file that fails, keeps the ones before it, and says which were not imported', () => {
    const project = tempDir();
    const dir = path.join(project, 'exports');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'customers.csv'), readFileSync(fixture('customers.csv')));
    writeFileSync(path.join(dir, 'orders.csv'), readFileSync(fixture('orders-broken.csv')));
    writeFileSync(path.join(dir, 'order_items.csv'), readFileSync(fixture('order-items.csv')));
    const r = journey(project, ['import', 'exports']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^customers\.csv: imported \d+ customers/);
    expect(r.stderr).toContain('orders.csv (orders): 4 rows are invalid; nothing was imported');
    expect(r.stderr).toContain('Imported before it: customers.csv. Not imported: orders.csv, order_items.csv');
    expect(count(project, 'customers')).toBeGreaterThan(0);
    expect(count(project, 'orders')).toBe(0);
    expect(journey(project, ['import', 'exports', '--mapping', 'map.yaml']).code).toBe(64);
    expect(journey(project, ['import', 'customers']).code).toBe(64);
  });

  it('an orders export from Shopify is all a new shop needs: customers, orders and items in one command', () => {
    const project = tempDir();
    const r = journey(project, ['import', 'orders', fixture('shopify', 'orders_only_export.csv'), '--preset', 'shopify']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^imported 4 orders: 4 new, 0 updated, 0 unchanged, 0 rejected in [\d.]+ s\n/);
    expect(r.stdout).toContain('imported 3 customers from the same file: 3 new, 0 updated, 0 unchanged\n');
    expect(r.stdout).toContain('imported 5 order items from the same file: 5 new, 0 updated, 0 unchanged\n');
    expect(count(project, 'customers')).toBe(3);
  });

  it('a Shopify orders export and customers export, imported in either order, give one customer per person with all their orders', () => {
    const [orders, customers] = [fixture('shopify', 'orders_export.csv'), fixture('shopify', 'customers_export.csv')];
    // what the store knows of each person, by e-mail, whatever id it keeps them under
    const people = (project: string) => {
      const db = new Database(path.join(project, '.journey/store.db'), { readonly: true });
      try {
        return db
          .prepare(
            `SELECT c.email, count(*) OVER (PARTITION BY c.email) AS rows_for_person, c.first_name, c.last_name, c.phone, c.country, c.city,
               json_extract(c.attributes, '$.tags') AS tags,
               (SELECT group_concat(o.id, ' ') FROM (SELECT id FROM orders WHERE customer_id = c.id ORDER BY id) o) AS orders,
               (SELECT group_concat(channel || '=' || granted, ' ') FROM (SELECT * FROM customer_consents WHERE customer_id = c.id ORDER BY channel)) AS consents,
               (SELECT n FROM customer_facts f WHERE f.customer_id = c.id) AS orders_count
             FROM customers c ORDER BY c.email`,
          )
          .all();
      } finally {
        db.close();
      }
    };
    const ordersFirst = tempDir();
    expect(journey(ordersFirst, ['import', 'orders', orders, '--preset', 'shopify']).code).toBe(0);
    const later = journey(ordersFirst, ['import', 'customers', customers, '--preset', 'shopify']);
    expect(later.code).toBe(0);
    // the three people the orders export named are the customers the export describes
    expect(later.stdout).toMatch(/^imported 3 customers: 0 new, 3 updated, 0 unchanged, 0 rejected/);
    const customersFirst = tempDir();
    expect(journey(customersFirst, ['import', 'customers', customers, '--preset', 'shopify']).code).toBe(0);
    expect(journey(customersFirst, ['import', 'orders', orders, '--preset', 'shopify']).code).toBe(0);

    expect(count(ordersFirst, 'customers')).toBe(4);
    expect(people(ordersFirst)).toEqual(people(customersFirst));
    expect(people(ordersFirst).find((p: any) => p.email === 'jane.doe@example.com')).toMatchObject({
      rows_for_person: 1, first_name: 'Jane', last_name: 'Doe', phone: '+15035550142', country: 'US', city: 'Portland',
      orders: '#1001 #1002', orders_count: 2, consents: 'email=1 sms=0',
    });
    // again, in either order: nothing new, nothing split
    for (const project of [ordersFirst, customersFirst]) {
      expect(journey(project, ['import', 'customers', customers, '--preset', 'shopify']).stdout).toMatch(/^imported 3 customers: 0 new, 0 updated, 3 unchanged/);
      expect(journey(project, ['import', 'orders', orders, '--preset', 'shopify']).stdout).toContain('imported 4 customers from the same file: 0 new, 0 updated, 4 unchanged');
      expect(count(project, 'customers')).toBe(4);
    }
    // an event naming the customer by Shopify's id reaches the same person
    writeFileSync(path.join(ordersFirst, 'events.csv'), 'id,customer_id,type,occurred_at\ne1,7029541372001,email_clicked,2024-05-01T10:00:00Z\n');
    expect(journey(ordersFirst, ['import', 'events', 'events.csv']).code).toBe(0);
    const db = new Database(path.join(ordersFirst, '.journey/store.db'), { readonly: true });
    expect(db.prepare(`SELECT c.email FROM events e JOIN customers c ON c.id = e.customer_id`).all()).toEqual([{ email: 'jane.doe@example.com' }]);
    db.close();
  });

  it("after an orders-first import, commands find a person by the shop's customer id, e-mail or phone, as an operator names them", () => {
    const project = tempDir();
    expect(journey(project, ['import', 'orders', fixture('shopify', 'orders_export.csv'), '--preset', 'shopify']).code).toBe(0);
    expect(journey(project, ['import', 'customers', fixture('shopify', 'customers_export.csv'), '--preset', 'shopify']).code).toBe(0);
    // Jane is kept under the id the orders export gave her (her e-mail); the Shopify id is an alias
    for (const ref of ['7029541372001', 'jane.doe@example.com', 'Jane.Doe@Example.com', '+1 503 555 0142']) {
      const r = journey(project, ['inspect', ref, '--json']);
      expect(r.code, `${ref}: ${r.stderr}`).toBe(0);
      expect(JSON.parse(r.stdout).customer).toBe('jane.doe@example.com');
    }
    const exported = journey(project, ['export', '7029541372001']);
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout).tables.orders.map((o: { id: string }) => o.id)).toEqual(['#1001', '#1002']);
    // her id is an address: human output masks it as it masks every address, unless --show-pii
    const human = journey(project, ['inspect', '7029541372001']);
    expect(human.stdout).not.toContain('jane.doe@example.com');
    expect(human.stdout).toMatch(/^customer ja\*+@example\.com\n/);
    expect(journey(project, ['--show-pii', 'inspect', '7029541372001']).stdout).toMatch(/^customer jane\.doe@example\.com\n/);
    const nobody = journey(project, ['inspect', 'nobody@example.com']);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(/^error: no customer 'no\*+@example\.com' in the store/);
  });

  it("links Shopify's line items, which name no product, to the products export's products by SKU or title, in either order of import", () => {
    const lines = (project: string) => {
      const db = new Database(path.join(project, '.journey/store.db'), { readonly: true });
      try {
        return db.prepare(`SELECT order_id || ' ' || coalesce(title, '') || ' -> ' || coalesce(product_id, '-') AS line FROM order_items ORDER BY order_id, line`).all().map((r: any) => r.line);
      } finally {
        db.close();
      }
    };
    const expected = [
      '#1001 Canvas Tote -> canvas-tote', // by SKU
      '#1001 Organic Cotton Tee - M -> organic-cotton-tee', // the variant's SKU is on a later row: by the title before " - "
      '#1002 Canvas Tote -> canvas-tote',
      '#1003 Wool Beanie -> wool-beanie',
      '#1004 Sticker Pack -> -', // not in the catalogue
      '#1005 Sticker Pack -> -',
    ];
    const ordersFirst = tempDir();
    expect(journey(ordersFirst, ['import', 'orders', fixture('shopify', 'orders_export.csv'), '--preset', 'shopify']).code).toBe(0);
    expect(journey(ordersFirst, ['import', 'products', fixture('shopify', 'products_export.csv'), '--preset', 'shopify']).code).toBe(0);
    expect(lines(ordersFirst)).toEqual(expected);
    const productsFirst = tempDir();
    expect(journey(productsFirst, ['import', 'products', fixture('shopify', 'products_export.csv'), '--preset', 'shopify']).code).toBe(0);
    expect(journey(productsFirst, ['import', 'orders', fixture('shopify', 'orders_export.csv'), '--preset', 'shopify']).code).toBe(0);
    expect(lines(productsFirst)).toEqual(expected);
    // so the tee and the tote, bought together in #1001, are a pair related recommendations read
    const db = new Database(path.join(productsFirst, '.journey/store.db'), { readonly: true });
    expect(db.prepare(`SELECT a, b, n FROM product_pairs ORDER BY a`).all()).toEqual([
      { a: 'canvas-tote', b: 'organic-cotton-tee', n: 1 },
      { a: 'organic-cotton-tee', b: 'canvas-tote', n: 1 },
    ]);
    // its Status and Published columns, which recommendations read (a draft product is not recommended)
    expect(db.prepare(`SELECT json_extract(attributes, '$.status') AS status, json_extract(attributes, '$.published') AS published FROM products WHERE id = 'canvas-tote'`).get()).toEqual({ status: 'active', published: 'true' });
    db.close();
  });

  it('refuses customer ids a spreadsheet rounded, saying why and what to do, and merges no one', () => {
    const project = tempDir();
    const r = journey(project, ['import', 'customers', fixture('shopify', 'customers_excel.csv'), '--preset', 'shopify']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('2 rows are invalid; nothing was imported');
    expect(r.stderr).toContain('row 1, column Customer ID: "7.02955E+12" is a number a spreadsheet rounded into scientific notation');
    expect(r.stderr).toContain('re-export the file from the shop without opening it in a spreadsheet, or key customers by e-mail');
    expect(count(project, 'customers')).toBe(0);
  });

  it('exits 64 on a usage error', () => {
    const project = tempDir();
    const r = journey(project, ['import', 'carts', fixture('orders.csv')]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/unknown kind "carts"/);
    // a likely kind is named, and the list holds coupons too
    const typo = journey(project, ['import', 'order', fixture('orders.csv')]);
    expect(typo.code).toBe(64);
    expect(typo.stderr).toContain(`error: unknown kind "order" — did you mean 'orders'?`);
    expect(typo.stderr).toContain('suppressions, coupons');
    expect(journey(project, ['import', 'orders', fixture('orders.csv'), '--preset', 'magento']).code).toBe(64);
  });

  it.runIf(HAS_OLIST)(`imports the Olist excerpt with the preset and reports what it rejects${OLIST_SKIP_NOTE}`, () => {
    const project = tempDir();
    expect(journey(project, ['import', 'customers', path.join(OLIST, 'olist_customers_dataset.csv'), '--preset', 'olist']).code).toBe(0);
    const r = journey(project, ['import', 'orders', path.join(OLIST, 'olist_orders_dataset.csv'), '--preset', 'olist', '--skip-invalid', 'olist-orders.rejected.csv']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^imported \d+ orders: \d+ new, 0 updated, 0 unchanged, [\d,]+ rejected/);
    expect(r.stdout).toContain(path.join(project, 'olist-orders.rejected.csv'));
  });
});

describe('journey migrate (CLI)', () => {
  it('creates the store where journey.config.yaml says, then reports it up to date', () => {
    const project = tempDir();
    writeFileSync(path.join(project, 'journey.config.yaml'), 'store:\n  path: data/shop.db\n');
    const first = journey(project, ['migrate']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`migrated .*data/shop\\.db from version 0 to ${LATEST_VERSION}: 001 core tables, 002 segment indexes, 003 customer aliases`));
    expect(journey(project, ['migrate']).stdout).toContain(`is up to date (schema version ${LATEST_VERSION})`);
    expect(JSON.parse(journey(project, ['migrate', '--json']).stdout)).toMatchObject({ from: LATEST_VERSION, to: LATEST_VERSION, applied: [] });
  });
});
