/**
 * Co-purchase counts for `related` recommendations, kept as the orders change instead
 * of recounted by every step (that recount read every order of the window with its
 * items twice over: 29 s of a 100,000-customer step on the 1,000,000-customer shop).
 *
 * product_pairs: for two different products a and b and a UTC day (placed_at divided
 * by 86,400,000), n = how many orders placed that day, in a status that counts as a
 * purchase, hold both (a line each, or more: an order counts once). Both directions
 * are stored, (a, b) and (b, a), so that a product's partners are one range of the key.
 * A step sums the days of its window (whole UTC days: see recommendations.ts).
 *
 * Kept right by triggers, whatever writes the orders (imports, the simulation's
 * replay, `journey forget`, a fixture): an item added or removed, an item moved to
 * another product or order, an order changing to or from a status that does not count
 * (canceled, unavailable, refunded: NOT_COUNTED_BY_DEFAULT) or to another day, an
 * order deleted. A pair whose count falls to 0 is deleted. An item's own status
 * (migration 013) does not take it out: the pairs follow the order, as the recount did.
 *
 * The triggers read the order's other items through order_items' key (order_id, line),
 * so an item costs a few index lookups, however large the store.
 */
const DAY = 86_400_000;
const COUNTED = (status: string) => `${status} NOT IN ('canceled', 'unavailable', 'refunded')`;

/** The distinct ordered pairs of different products in the orders `orders` (a SELECT of ids), with each order's day. */
const pairsOf = (orders: string) => `SELECT DISTINCT i.product_id AS a, j.product_id AS b, o.placed_at / ${DAY} AS day
  FROM orders o JOIN order_items i ON i.order_id = o.id JOIN order_items j ON j.order_id = o.id
  WHERE o.id IN (${orders}) AND ${COUNTED('o.status')} AND i.product_id IS NOT NULL AND j.product_id IS NOT NULL AND i.product_id <> j.product_id`;

/** The pairs one product of an order makes with the order's other products, both directions (the order is known to count). */
const pairsWith = (orderId: string, productId: string) => `SELECT CASE d.k WHEN 0 THEN ${productId} ELSE q.product_id END AS a, CASE d.k WHEN 0 THEN q.product_id ELSE ${productId} END AS b,
    (SELECT placed_at / ${DAY} FROM orders WHERE id = ${orderId}) AS day
  FROM (SELECT DISTINCT product_id FROM order_items WHERE order_id = ${orderId} AND product_id IS NOT NULL AND product_id <> ${productId}) q, (SELECT 0 AS k UNION ALL SELECT 1) d`;

const add = (pairs: string) => `INSERT INTO product_pairs (a, b, day, n) SELECT a, b, day, 1 FROM (${pairs}) WHERE true
    ON CONFLICT (a, b, day) DO UPDATE SET n = n + 1;`;
const subtract = (pairs: string) => `UPDATE product_pairs SET n = n - 1 FROM (${pairs}) x WHERE product_pairs.a = x.a AND product_pairs.b = x.b AND product_pairs.day = x.day;
    DELETE FROM product_pairs WHERE n <= 0 AND (a, b, day) IN (SELECT a, b, day FROM (${pairs}));`;

export const version = 19;
export const name = 'product pairs';
export const sql = `
CREATE TABLE product_pairs (
  a   TEXT NOT NULL,
  b   TEXT NOT NULL,
  day INTEGER NOT NULL,
  n   INTEGER NOT NULL,
  PRIMARY KEY (a, b, day)
) WITHOUT ROWID;

-- an item of a product the order did not hold yet pairs it with the order's others (the
-- conditions are in WHEN, which costs an import far less than running the body: an
-- order's first item, most items, has no others)
CREATE TRIGGER product_pairs_item_added AFTER INSERT ON order_items
WHEN NEW.product_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM order_items WHERE order_id = NEW.order_id AND product_id <> NEW.product_id)
  AND NOT EXISTS (SELECT 1 FROM order_items WHERE order_id = NEW.order_id AND product_id = NEW.product_id AND line <> NEW.line)
  AND EXISTS (SELECT 1 FROM orders WHERE id = NEW.order_id AND ${COUNTED('status')})
BEGIN
  ${add(pairsWith('NEW.order_id', 'NEW.product_id'))}
END;

-- the last item of a product in the order takes its pairs away (after the order itself
-- is deleted, its row is gone and this finds nothing: the order's trigger subtracted them)
CREATE TRIGGER product_pairs_item_removed AFTER DELETE ON order_items
WHEN OLD.product_id IS NOT NULL
  AND EXISTS (SELECT 1 FROM order_items WHERE order_id = OLD.order_id AND product_id <> OLD.product_id)
  AND NOT EXISTS (SELECT 1 FROM order_items WHERE order_id = OLD.order_id AND product_id = OLD.product_id)
  AND EXISTS (SELECT 1 FROM orders WHERE id = OLD.order_id AND ${COUNTED('status')})
BEGIN
  ${subtract(pairsWith('OLD.order_id', 'OLD.product_id'))}
END;

-- an item moved to another product or order: the orders' pairs as they were out, as they are in
CREATE TRIGGER product_pairs_item_changing BEFORE UPDATE OF order_id, product_id ON order_items
WHEN OLD.order_id IS NOT NEW.order_id OR OLD.product_id IS NOT NEW.product_id
BEGIN
  ${subtract(pairsOf('SELECT OLD.order_id UNION SELECT NEW.order_id'))}
END;
CREATE TRIGGER product_pairs_item_changed AFTER UPDATE OF order_id, product_id ON order_items
WHEN OLD.order_id IS NOT NEW.order_id OR OLD.product_id IS NOT NEW.product_id
BEGIN
  ${add(pairsOf('SELECT OLD.order_id UNION SELECT NEW.order_id'))}
END;

-- an order whose items came first (foreign keys deferred or off); an import's new order has none
CREATE TRIGGER product_pairs_order_added AFTER INSERT ON orders
WHEN ${COUNTED('NEW.status')} AND EXISTS (SELECT 1 FROM order_items WHERE order_id = NEW.id)
BEGIN
  ${add(pairsOf('SELECT NEW.id'))}
END;

-- canceled, refunded, back to counted, or placed on another day
CREATE TRIGGER product_pairs_order_changed AFTER UPDATE OF status, placed_at ON orders
WHEN (${COUNTED('OLD.status')}) IS NOT (${COUNTED('NEW.status')}) OR OLD.placed_at / ${DAY} IS NOT NEW.placed_at / ${DAY}
BEGIN
  UPDATE product_pairs SET n = n - 1 FROM (SELECT DISTINCT i.product_id AS a, j.product_id AS b FROM order_items i JOIN order_items j ON j.order_id = i.order_id
      WHERE i.order_id = OLD.id AND i.product_id IS NOT NULL AND j.product_id IS NOT NULL AND i.product_id <> j.product_id) x
    WHERE ${COUNTED('OLD.status')} AND product_pairs.a = x.a AND product_pairs.b = x.b AND product_pairs.day = OLD.placed_at / ${DAY};
  DELETE FROM product_pairs WHERE n <= 0 AND day = OLD.placed_at / ${DAY} AND (a, b) IN (SELECT i.product_id, j.product_id FROM order_items i JOIN order_items j ON j.order_id = i.order_id
      WHERE i.order_id = OLD.id AND i.product_id IS NOT NULL AND j.product_id IS NOT NULL AND i.product_id <> j.product_id);
  ${add(pairsOf('SELECT NEW.id'))}
END;

-- before the delete: the cascade then removes the items of an order that is gone
CREATE TRIGGER product_pairs_order_removed BEFORE DELETE ON orders
WHEN ${COUNTED('OLD.status')} AND EXISTS (SELECT 1 FROM order_items WHERE order_id = OLD.id)
BEGIN
  ${subtract(pairsOf('SELECT OLD.id'))}
END;

-- the orders already in the store (from the orders, their items read in place)
INSERT INTO product_pairs (a, b, day, n)
SELECT i.product_id, j.product_id, o.placed_at / ${DAY}, count(DISTINCT o.id)
FROM orders o CROSS JOIN order_items i ON i.order_id = o.id CROSS JOIN order_items j ON j.order_id = o.id
WHERE ${COUNTED('o.status')} AND i.product_id IS NOT NULL AND j.product_id IS NOT NULL AND i.product_id <> j.product_id
GROUP BY i.product_id, j.product_id, o.placed_at / ${DAY};
`;
