import type { StoreDb } from './db.js';
import { NOT_COUNTED_BY_DEFAULT } from './order-statuses.js';

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
