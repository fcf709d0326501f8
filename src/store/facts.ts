import type { StoreDb } from './db.js';
import { NOT_COUNTED_BY_DEFAULT } from './order-statuses.js';

/** journey_address_hash(address, check_value): HMAC-SHA256 hex of the normalised address, or NULL for none (registered by privacy.ts). */
export const ADDRESS_HASH_FUNCTION = 'journey_address_hash';
const ADDRESS_HASH = ADDRESS_HASH_FUNCTION;

const COUNTED = `status NOT IN (${NOT_COUNTED_BY_DEFAULT.map((s) => `'${s}'`).join(', ')})`;

const statusFactsSelect = (where: string) => `
  SELECT customer_id, status, count(*), min(placed_at), max(placed_at), sum(total), count(total)
  FROM orders ${where} GROUP BY customer_id, status`;

const customerFactsSelect = (where: string) => `
  SELECT customer_id, sum(n), min(first_at), max(last_at), sum(value), sum(valued_n)
  FROM customer_status_facts WHERE ${COUNTED} ${where} GROUP BY customer_id`;

/** Every customer's facts from the orders, from nothing (a migration, a full rebuild). */
export const FACTS_REBUILD_SQL = `
DELETE FROM customer_status_facts;
DELETE FROM customer_facts;
INSERT INTO customer_status_facts (customer_id, status, n, first_at, last_at, value, valued_n) ${statusFactsSelect('')};
INSERT INTO customer_facts (customer_id, n, first_at, last_at, value, valued_n) ${customerFactsSelect('')};
`;

/**
 * Recomputes the facts of the customers listed in `touched` (a table or temp table
 * with a customer_id column), set by set. Call it inside the transaction that
 * changed their orders.
 */
export function refreshCustomerFacts(db: StoreDb, touched: string): void {
  if (!/^[a-z_][a-z0-9_.]*$/i.test(touched)) throw new Error(`not a table name: ${touched}`);
  const inTouched = `customer_id IN (SELECT customer_id FROM ${touched})`;
  db.exec(`
    DELETE FROM customer_status_facts WHERE ${inTouched};
    DELETE FROM customer_facts WHERE ${inTouched};
    INSERT INTO customer_status_facts (customer_id, status, n, first_at, last_at, value, valued_n) ${statusFactsSelect(`WHERE ${inTouched}`)};
    INSERT INTO customer_facts (customer_id, n, first_at, last_at, value, valued_n) ${customerFactsSelect(`AND ${inTouched}`)};
  `);
}

/** Recomputes every customer's facts (after a bulk change, or to repair). */
export function rebuildCustomerFacts(db: StoreDb): void {
  db.exec(FACTS_REBUILD_SQL);
}

/**
 * The address a channel sends to, as the store reads it: the e-mail for 'email', the
 * phone number for every other channel. A project that keeps a channel's address
 * elsewhere (config channels.X.address) is answered from the live tables instead.
 */
export function storedAddressField(channel: string): 'email' | 'phone' {
  return channel === 'email' ? 'email' : 'phone';
}

/**
 * Reachable: consent, an address, not suppressed, and (erasure) not someone whose
 * address was erased. `erased` is false only for migration 005, which ran before the
 * erasure tables existed and must stay as it was.
 */
const reachableSelect = (where: string, erased = true) => `
  SELECT cc.channel, cc.customer_id
  FROM customer_consents cc JOIN customers c ON c.id = cc.customer_id
  WHERE cc.granted = 1 ${where}
    AND CASE WHEN cc.channel = 'email' THEN lower(c.email) ELSE c.phone END <> ''
    AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.channel = cc.channel
                    AND s.address = CASE WHEN cc.channel = 'email' THEN lower(c.email) ELSE c.phone END)${
                      erased ? `
    AND NOT EXISTS (SELECT 1 FROM erased_customers x WHERE x.customer_id = cc.customer_id)` : ''}`;

/** For migration 005 only (see reachableSelect). */
export const REACHABILITY_REBUILD_SQL = `
DELETE FROM customer_reachability;
INSERT INTO customer_reachability (channel, customer_id) ${reachableSelect('', false)};
`;

/**
 * Marks the customers in `touched` whose e-mail or phone hashes to an erased address
 * (journey forget; see migration 017). The hash function is called only when the store
 * holds erased addresses: a store that never erased anyone needs no key.
 */
export function refreshErased(db: StoreDb, touched: string): void {
  if (!/^[a-z_][a-z0-9_.]*$/i.test(touched)) throw new Error(`not a table name: ${touched}`);
  db.exec(`
    DELETE FROM erased_customers WHERE customer_id IN (SELECT customer_id FROM ${touched});
    ${erasedInsert(`c.id IN (SELECT customer_id FROM ${touched})`)}
  `);
}

const erasedInsert = (which: string) => `
    INSERT INTO erased_customers (customer_id)
    SELECT c.id FROM customers c
    WHERE EXISTS (SELECT 1 FROM erased_addresses) AND ${which}
      AND EXISTS (SELECT 1 FROM erased_addresses e WHERE e.hash IN (
        ${ADDRESS_HASH}(c.email, (SELECT check_value FROM erasure_key WHERE id = 1)),
        ${ADDRESS_HASH}(c.phone, (SELECT check_value FROM erasure_key WHERE id = 1))));`;

/** Recomputes who is reachable on which channel, for the customers listed in `touched`. */
export function refreshReachability(db: StoreDb, touched: string): void {
  if (!/^[a-z_][a-z0-9_.]*$/i.test(touched)) throw new Error(`not a table name: ${touched}`);
  refreshErased(db, touched);
  db.exec(`
    DELETE FROM customer_reachability WHERE customer_id IN (SELECT customer_id FROM ${touched});
    INSERT INTO customer_reachability (channel, customer_id) ${reachableSelect(`AND cc.customer_id IN (SELECT customer_id FROM ${touched})`)};
  `);
}

/** Recomputes reachability for everyone (after a suppression import). */
export function rebuildReachability(db: StoreDb): void {
  db.exec(`
    DELETE FROM erased_customers;
    ${erasedInsert('1')}
    DELETE FROM customer_reachability;
    INSERT INTO customer_reachability (channel, customer_id) ${reachableSelect('')};
  `);
}
