/**
 * How commands find the customer an operator names: the store's id, an alias the
 * imports recorded, an e-mail or a phone number; an address several customers share
 * names nobody in particular, and an erasure by it removes nothing.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { customerIdOf, findCustomer } from '../../src/store/customer-ref.js';
import { importFile } from '../../src/store/import/import.js';
import { forgetCustomers } from '../../src/store/privacy.js';
import { tempDir, tempStore } from './helpers.js';

const NOW = Date.UTC(2026, 0, 1);

async function store() {
  const db = tempStore();
  const file = path.join(tempDir(), 'customers.csv');
  writeFileSync(file, 'id,email,phone\nc1,ann@shop.test,+420601000001\nc2,family@shop.test,\nc3,family@shop.test,\n');
  await importFile(db, { kind: 'customers', file, now: NOW });
  db.run(`INSERT INTO customer_aliases (alias, customer_id) VALUES ('7029541372001', 'c1')`);
  return db;
}

describe('a customer named on the command line', () => {
  it('is found by id, alias, e-mail in any case, or phone as written', async () => {
    const db = await store();
    for (const ref of ['c1', '7029541372001', 'Ann@Shop.test', '+420 601 000 001']) expect(customerIdOf(db, ref), ref).toBe('c1');
    expect(findCustomer(db, 'nobody@shop.test')).toEqual({ kind: 'none' });
    expect(() => customerIdOf(db, 'nobody@shop.test')).toThrow("no customer 'nobody@shop.test' in the store");
    db.close();
  });

  it('an address two customers share is an error naming both, and forget by it removes nothing', async () => {
    const db = await store();
    expect(() => customerIdOf(db, 'family@shop.test')).toThrow("2 customers have the e-mail address 'family@shop.test': c2, c3");
    expect(() => forgetCustomers(db, ['family@shop.test'], { key: 'k'.repeat(40), now: NOW })).toThrow(/2 customers have the e-mail address/);
    expect(db.all('SELECT id FROM customers ORDER BY id')).toEqual([{ id: 'c1' }, { id: 'c2' }, { id: 'c3' }]);
    db.close();
  });
});
