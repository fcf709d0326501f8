import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoreDb } from '../../src/store/db.js';
import { importFile } from '../../src/store/import/import.js';
import { openStore } from '../../src/store/open.js';

// The facts and reachability tables are derived data: after any import they must equal
// what the orders, customers, consents and suppressions say, computed from scratch.
let dir: string;
let db: StoreDb;

const csv = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text.trim() + '\n');
  return file;
};

const facts = () => db.all('SELECT customer_id, n, first_at, last_at, value, valued_n FROM customer_facts ORDER BY customer_id');
const expectedFacts = () =>
  db.all(`SELECT customer_id, count(*) AS n, min(placed_at) AS first_at, max(placed_at) AS last_at, sum(total) AS value, count(total) AS valued_n
          FROM orders WHERE status NOT IN ('canceled', 'unavailable', 'refunded') GROUP BY customer_id ORDER BY customer_id`);
const reachable = (channel: string) => db.all<{ customer_id: string }>('SELECT customer_id FROM customer_reachability WHERE channel = ? ORDER BY customer_id', [channel]).map((r) => r.customer_id);

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'journey-facts-'));
  db = openStore(path.join(dir, 'store.db'));
  await importFile(db, {
    kind: 'customers',
    file: csv(
      'customers.csv',
      `
id,email,phone,consent_email,consent_sms
a,a@shop.test,+420700000001,yes,yes
b,b@shop.test,,yes,yes
c,,+420700000003,yes,no`,
    ),
  });
  await importFile(db, {
    kind: 'orders',
    file: csv(
      'orders.csv',
      `
id,customer_id,placed_at,status,total
o1,a,2026-01-01T10:00:00Z,delivered,10
o2,a,2026-02-01T10:00:00Z,delivered,
o3,b,2026-03-01T10:00:00Z,canceled,30`,
    ),
  });
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('customer facts', () => {
  it('match the orders after an import', () => {
    expect(facts()).toEqual(expectedFacts());
    expect(facts()).toHaveLength(1); // b's only order is canceled: b has no facts row
  });

  it('follow a status change, a new order and an order that moves to another customer', async () => {
    await importFile(db, {
      kind: 'orders',
      file: csv(
        'orders-2.csv',
        `
id,customer_id,placed_at,status,total
o1,a,2026-01-01T10:00:00Z,refunded,10
o3,b,2026-03-01T10:00:00Z,delivered,30
o4,c,2026-04-01T10:00:00Z,delivered,40
o2,c,2026-02-01T10:00:00Z,delivered,`,
      ),
    });
    expect(facts()).toEqual(expectedFacts());
    expect(facts().map((f) => (f as { customer_id: string }).customer_id)).toEqual(['b', 'c']);
  });

  it('stay as they were when an import fails', async () => {
    const before = facts();
    await expect(importFile(db, { kind: 'orders', file: csv('bad.csv', 'id,customer_id,placed_at,status\no5,a,not a date,delivered') })).rejects.toThrow();
    expect(facts()).toEqual(before);
  });
});

describe('reachability', () => {
  it('needs an address, consent and no suppression', async () => {
    expect(reachable('email')).toEqual(['a', 'b']);
    expect(reachable('sms')).toEqual(['a']); // b has no phone, c refused SMS
    await importFile(db, { kind: 'suppressions', file: csv('suppressions.csv', 'channel,address,reason\nemail,B@shop.test,hard_bounce') });
    expect(reachable('email')).toEqual(['a']);
  });

  it('follows a changed address or consent', async () => {
    await importFile(db, { kind: 'customers', file: csv('customers-2.csv', 'id,email,phone,consent_email,consent_sms\nc,c@shop.test,+420700000003,yes,yes\na,,+420700000001,yes,no') });
    expect(reachable('email')).toEqual(['b', 'c']);
    expect(reachable('sms')).toEqual(['c']);
  });
});
