/**
 * Which tables `journey forget` clears is derived from the schema. These tests fail
 * when a migration adds a table that may hold a person's data and forget has no way to
 * find their rows in it, and check on the store itself that every derived table is
 * emptied of the person and keeps everyone else.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoreDb } from '../../src/store/db.js';
import { HASH_KEY_ENV, NO_PERSONAL_DATA, exportCustomer, forgetCustomers, personalDataPlan } from '../../src/store/privacy.js';
import { tempStore } from './helpers.js';

const KEY = 'test-key-'.padEnd(40, 'x');
let db: StoreDb;

beforeEach(() => {
  process.env[HASH_KEY_ENV] = KEY;
  db = tempStore();
});
afterEach(() => {
  db.close();
  delete process.env[HASH_KEY_ENV];
});

const tables = () => db.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).map((t) => t.name);

describe('the tables that hold a person', () => {
  it('every table of the latest schema is either cleared by forget or declared to hold no personal data', () => {
    const planned = new Set(personalDataPlan(db).map((p) => p.table));
    const unaccounted = tables().filter((t) => !planned.has(t) && !Object.hasOwn(NO_PERSONAL_DATA, t));
    expect(unaccounted).toEqual([]);
    for (const t of ['customers', 'customer_consents', 'customer_aliases', 'orders', 'order_items', 'order_status_history', 'events', 'suppressions', 'enrolments', 'step_log', 'segment_memberships', 'outbox_messages', 'outbox_delivery', 'message_events', 'customer_facts', 'customer_status_facts', 'customer_reachability', 'erased_customers']) {
      expect(planned.has(t), t).toBe(true);
    }
  });

  it('a declared table without personal data is not one forget clears (the list cannot hide a linked table)', () => {
    const planned = new Set(personalDataPlan(db).map((p) => p.table));
    for (const t of Object.keys(NO_PERSONAL_DATA)) expect(planned.has(t), t).toBe(false);
  });

  it('a new table linked by customer_id, order_id, enrolment_id or outbox_id is cleared with no change to forget', () => {
    db.exec(`CREATE TABLE gift_cards (code TEXT PRIMARY KEY, enrolment_id INTEGER, customer_id TEXT)`);
    db.exec(`CREATE TABLE delivery_receipts (outbox_id INTEGER, n INTEGER, error TEXT)`);
    const planned = new Set(personalDataPlan(db).map((p) => p.table));
    expect(planned.has('gift_cards')).toBe(true);
    expect(planned.has('delivery_receipts')).toBe(true);
    // the coupon codes issued to a person (migration 015) are theirs too
    expect(planned.has('coupon_codes')).toBe(true);
  });

  it('a new table that nothing links to a person stops forget and export with an error naming it', () => {
    db.exec(`CREATE TABLE newsletter_signups (recipient TEXT, signed_at INTEGER)`);
    expect(() => personalDataPlan(db)).toThrow(/newsletter_signups/);
    expect(() => forgetCustomers(db, ['c1'], { key: KEY, now: 0 })).toThrow(/newsletter_signups/);
  });
});

describe('forgetCustomers', () => {
  beforeEach(() => {
    db.exec(`
      INSERT INTO customers (id, email, phone, first_name, attributes) VALUES
        ('c1', 'Ann@Shop.test', '+420600000001', 'Ann', '{"whatsapp":"+420600000009","tier":"gold"}'),
        ('c2', 'bob@shop.test', '+420600000002', 'Bob', '{}');
      INSERT INTO customer_consents VALUES ('c1', 'email', 1, 0), ('c2', 'email', 1, 0);
      INSERT INTO orders (id, customer_id, placed_at, status, total) VALUES ('o1', 'c1', 0, 'delivered', 10), ('o2', 'c2', 0, 'delivered', 20);
      INSERT INTO order_items (order_id, line, product_id, sku, title, quantity, price) VALUES ('o1', 1, 'p', 's', 't', 1, 10), ('o2', 1, 'p', 's', 't', 1, 20);
      INSERT INTO order_status_history (order_id, status, changed_at, recorded_at) VALUES ('o1', 'delivered', 0, 0), ('o2', 'delivered', 0, 0);
      INSERT INTO enrolments (id, journey_id, version, customer_id, entry_key, trigger_at, entered_at, status) VALUES (1, 'j', 1, 'c1', 'k', 0, 0, 'active'), (2, 'j', 1, 'c2', 'k', 0, 0, 'active');
      INSERT INTO step_log (enrolment_id, at, outcome) VALUES (1, 0, 'entered'), (2, 0, 'entered');
      INSERT INTO outbox_messages (id, idempotency_key, enrolment_id, customer_id, channel, provider, template, address, created_at) VALUES
        (10, 'j:1:s', 1, 'c1', 'email', 'sg', 't', 'ann@shop.test', 0), (11, 'j:2:s', 2, 'c2', 'email', 'sg', 't', 'bob@shop.test', 0);
      INSERT INTO message_events (event_id, outbox_id, provider, kind, occurred_at, address) VALUES ('e1', 10, 'sg', 'opened', 0, 'ann@shop.test'), ('e2', 11, 'sg', 'opened', 0, 'bob@shop.test');
      INSERT INTO suppressions VALUES ('whatsapp', '+420600000009', 'unsubscribed', 0), ('email', 'bob@shop.test', 'bounce', 0);
    `);
  });

  it('deletes the person from every derived table and leaves everyone else', () => {
    const r = forgetCustomers(db, ['c1', 'nobody'], { key: KEY, now: 5 });
    expect(r.forgotten).toEqual(['c1']);
    expect(r.notFound).toEqual(['nobody']);
    expect(r.removed).toMatchObject({ customers: 1, orders: 1, order_items: 1, order_status_history: 1, enrolments: 1, step_log: 1, outbox_messages: 1, outbox_delivery: 1, message_events: 1, suppressions: 1, customer_consents: 1 });
    // e-mail, phone, and the WhatsApp number kept in an attribute
    expect(r.hashed).toBe(3);
    for (const t of tables()) {
      const dump = JSON.stringify(db.all(`SELECT * FROM "${t}"`));
      for (const needle of ['"c1"', 'ann@', 'Ann@', '+420600000001', '+420600000009', '"o1"']) expect(dump.includes(needle), `${needle} in ${t}`).toBe(false);
    }
    expect(db.get<{ n: number }>(`SELECT count(*) AS n FROM outbox WHERE customer_id = 'c2'`)!.n).toBe(1);
    expect(db.get<{ n: number }>(`SELECT count(*) AS n FROM suppressions`)!.n).toBe(1);
    expect(db.get<{ n: number }>(`PRAGMA foreign_key_check`)).toBeUndefined();
    expect(exportCustomer(db, 'c1', new Date(0))).toBeNull();
  });

  it('another customer with an erased address is kept and no longer reachable', () => {
    db.exec(`INSERT INTO customers (id, email) VALUES ('c3', 'ANN@shop.test'); INSERT INTO customer_consents VALUES ('c3', 'email', 1, 0);
             INSERT INTO customer_reachability VALUES ('email', 'c3')`);
    const r = forgetCustomers(db, ['c1'], { key: KEY, now: 5 });
    expect(r.sharing).toEqual(['c3']);
    expect(db.all(`SELECT customer_id FROM erased_customers`)).toEqual([{ customer_id: 'c3' }]);
    expect(db.all(`SELECT customer_id FROM customer_reachability WHERE customer_id = 'c3'`)).toEqual([]);
  });
});
