/**
 * What imports learned from real exports.
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
`;
