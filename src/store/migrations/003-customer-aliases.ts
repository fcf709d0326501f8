/**
 * Other ids a customer is known by. Olist gives a new customer_id per order and
 * names the person customer_unique_id; Shopify's order export names the customer
 * by e-mail only. An import resolves an order's customer by id first, then here.
 */
export const version = 3;
export const name = 'customer aliases';
export const sql = `
CREATE TABLE customer_aliases (
  alias       TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL REFERENCES customers(id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX customer_aliases_by_customer ON customer_aliases (customer_id);
`;
