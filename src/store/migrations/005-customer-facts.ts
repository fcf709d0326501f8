/**
 * Per-customer order facts, so that segment queries read one short row per
 * customer instead of aggregating five million orders every time: measured here,
 * "first-time buyers" over 1M customers / 5M orders took 1.2-1.4 s over the orders
 * index and 0.04-0.05 s over a facts table (../shared/design/measured-here.md).
 *
 * The importer refreshes the facts of the customers an order import touched, in the
 * same transaction (src/store/facts.ts), so they are never behind the orders.
 * Conditions with a window, a product or category filter, or a total filter still
 * read the orders themselves.
 *
 * Reachability (address + consent + not suppressed, per channel) is kept the same way,
 * refreshed by customer and suppression imports.
 */
import { FACTS_REBUILD_SQL, REACHABILITY_REBUILD_SQL } from '../facts.js';

export const version = 5;
export const name = 'customer facts';
export const sql = `
-- one row per customer and order status
CREATE TABLE customer_status_facts (
  customer_id TEXT NOT NULL,
  status      TEXT NOT NULL,
  n           INTEGER NOT NULL,
  first_at    INTEGER NOT NULL,
  last_at     INTEGER NOT NULL,
  value       REAL,                -- sum of the totals; NULL when no order has one
  valued_n    INTEGER NOT NULL,    -- how many orders have a total (for averages)
  PRIMARY KEY (customer_id, status)
) WITHOUT ROWID;

-- the same over the orders conditions count by default (all but canceled, unavailable, refunded)
CREATE TABLE customer_facts (
  customer_id TEXT PRIMARY KEY,
  n           INTEGER NOT NULL,
  first_at    INTEGER NOT NULL,
  last_at     INTEGER NOT NULL,
  value       REAL,
  valued_n    INTEGER NOT NULL
) WITHOUT ROWID;
-- "last order between 30 days and 10 months ago" is a range over this index; it covers
-- the count and value too (and customer_id, the key), so the range needs no table reads
CREATE INDEX customer_facts_by_last_at ON customer_facts (last_at, n, value);
-- "lifetime value of 500 or more" likewise
CREATE INDEX customer_facts_by_value ON customer_facts (value, last_at, n);

-- Who can be sent to on each channel: an address, consent, and not suppressed. Nearly
-- every segment asks it; one probe here replaces three (customer, consent, suppression).
CREATE TABLE customer_reachability (
  channel     TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  PRIMARY KEY (channel, customer_id)
) WITHOUT ROWID;

${FACTS_REBUILD_SQL}
${REACHABILITY_REBUILD_SQL}
`;
