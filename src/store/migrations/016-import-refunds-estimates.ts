/**
 * What imports learned from real exports.
 *
 * - order_payments: Olist's payments file, the only place its order totals are.
 *
 * - order_status_history.estimated: the source did not say when the status began
 *   (a Shopify refund, a paid order with a blank "Paid at"); changed_at is then the
 *   best time the file holds (the latest it gives for the order), never the import's
 *   own time. An estimated change is history, not news: event triggers do not enter it.
 * - orders.refunded: the amount refunded so far. orders.total is net of it, so that
 *   lifetime value and goal revenue count what the customer kept paying for.
 */
export const version = 16;
export const name = 'import refunds and estimated status times';
export const sql = `
ALTER TABLE order_status_history ADD COLUMN estimated INTEGER NOT NULL DEFAULT 0 CHECK (estimated IN (0, 1));
ALTER TABLE orders ADD COLUMN refunded REAL;

-- An order's payments, for exports that give no order total (Olist): the import sets
-- the order's total to their sum.
CREATE TABLE order_payments (
  order_id     TEXT NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
  sequence     INTEGER NOT NULL,
  method       TEXT,
  installments INTEGER,
  value        REAL NOT NULL,
  PRIMARY KEY (order_id, sequence)
) WITHOUT ROWID;
`;
