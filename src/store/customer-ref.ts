/**
 * A customer as an operator names one on the command line: the store's id, an id the
 * imports recorded as an alias (a Shopify Customer ID after an orders-first import, the
 * e-mail an orders export keyed a customer by), or the customer's e-mail address or
 * phone number (an erasure request comes with an address, not an id).
 */
import { JourneyError } from '../errors.js';
import type { StoreDb } from './db.js';
import { normalisePhone } from './import/values.js';

export type CustomerMatch =
  | { kind: 'one'; id: string; by: 'id' | 'alias' | 'email' | 'phone' }
  | { kind: 'many'; ids: string[]; by: 'email' | 'phone' }
  | { kind: 'none' };

export function findCustomer(db: StoreDb, ref: string): CustomerMatch {
  if (db.get('SELECT 1 AS one FROM customers WHERE id = ?', [ref])) return { kind: 'one', id: ref, by: 'id' };
  const alias = db.get<{ id: string }>('SELECT a.customer_id AS id FROM customer_aliases a JOIN customers c ON c.id = a.customer_id WHERE a.alias = ?', [ref]);
  if (alias) return { kind: 'one', id: alias.id, by: 'alias' };
  const address = ref.trim();
  const byAddress = (by: 'email' | 'phone', sql: string, value: string): CustomerMatch => {
    const ids = db.all<{ id: string }>(sql, [value]).map((r) => r.id);
    if (ids.length === 0) return { kind: 'none' };
    return ids.length === 1 ? { kind: 'one', id: ids[0]!, by } : { kind: 'many', ids, by };
  };
  if (address.includes('@')) return byAddress('email', 'SELECT id FROM customers WHERE email = ? ORDER BY id LIMIT 20', address.toLowerCase());
  const phone = /^[+\d\s().'-]+$/.test(address) ? normalisePhone(address) : undefined;
  return phone ? byAddress('phone', 'SELECT id FROM customers WHERE phone = ? ORDER BY id LIMIT 20', phone) : { kind: 'none' };
}

/**
 * The one customer a reference names, else a JourneyError that says why: nobody, or
 * several customers at one address (then they are named by id). (Output masks the
 * addresses in an error's text unless --show-pii.)
 */
export function customerIdOf(db: StoreDb, ref: string): string {
  const m = findCustomer(db, ref);
  switch (m.kind) {
    case 'one':
      return m.id;
    case 'many':
      throw ambiguous(ref, m);
    case 'none':
      throw new JourneyError(`no customer '${ref}' in the store`, {
        hint: "give a customer's id, an id of the shop system the imports recorded, or their e-mail address or phone number",
      });
    default: {
      const never: never = m;
      throw new Error(`unknown match ${JSON.stringify(never)}`);
    }
  }
}

/** Several customers at the address a reference gives: they are named by id. */
export function ambiguous(ref: string, m: Extract<CustomerMatch, { kind: 'many' }>): JourneyError {
  return new JourneyError(`${m.ids.length} customers have the ${m.by === 'email' ? 'e-mail address' : 'phone number'} '${ref}': ${m.ids.join(', ')}${m.ids.length === 20 ? ', ...' : ''}`, {
    hint: 'name one of them by its id',
  });
}
