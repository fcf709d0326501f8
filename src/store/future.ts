import type { StoreDb } from './db.js';
import { rebuildCustomerFacts, rebuildReachability, refreshCustomerFacts, refreshReachability } from './facts.js';

/**
 * A simulation's store may already hold what happens later (a fixture, a copy of a
 * store whose data runs past --from). Segment facts and triggers cannot see a clock,
 * so the future is taken out of the copy before the first tick and put back as the
 * simulated clock reaches it: customers by registration, orders by placement (with
 * their items), status changes and events by their time. Put back, status changes and
 * events get new positions, so the journeys' cursors see them as new, as they would
 * have been when imported. Only ever used on a copy.
 *
 * An order is replayed as it happened, not as it was imported: a store often first
 * saw an order in a later status (imported delivered, its history starting at the
 * delivery), so its replay starts with the placement at placed_at (in the status the
 * history gives for that moment, else pending) and each later status change follows
 * at its own time. order_placed triggers then fire at the placement, status triggers
 * at the change, and an order placed before --from is never placed again.
 *
 * An item's own status changes (history rows with item_line, migration 018) are not
 * the order's: they stay out of the order's story, go back to the status each item
 * had before its first held change, and come back at their own time, so that an
 * `items: all` journey enters when the last item arrived.
 */
export function holdBackFuture(db: StoreDb, from: number): void {
  db.transaction(() => {
    db.exec(`
      DROP TABLE IF EXISTS held_customers; DROP TABLE IF EXISTS held_consents; DROP TABLE IF EXISTS held_orders;
      DROP TABLE IF EXISTS held_items; DROP TABLE IF EXISTS held_history; DROP TABLE IF EXISTS held_item_history; DROP TABLE IF EXISTS held_events;`);
    db.run(`CREATE TABLE held_customers AS SELECT * FROM customers c WHERE c.registered_at > ?
            AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.placed_at <= ?)`, [from, from]);
    db.run(`CREATE TABLE held_consents AS SELECT * FROM customer_consents WHERE customer_id IN (SELECT id FROM held_customers)`);
    db.run(`CREATE TABLE held_orders AS SELECT * FROM orders WHERE placed_at > ?`, [from]);
    db.run(`CREATE TABLE held_items AS SELECT * FROM order_items WHERE order_id IN (SELECT id FROM held_orders)`);
    replayOrders(db, from);
    holdItemChanges(db, from);
    db.run(`CREATE TABLE held_events AS SELECT * FROM events WHERE occurred_at > ? OR customer_id IN (SELECT id FROM held_customers)`, [from]);
    db.run(`DELETE FROM events WHERE seq IN (SELECT seq FROM held_events)`);
    db.run(`DELETE FROM order_status_history WHERE changed_at > ? OR order_id IN (SELECT id FROM held_orders)`, [from]);
    db.run(`DELETE FROM order_items WHERE order_id IN (SELECT id FROM held_orders)`);
    db.run(`DELETE FROM orders WHERE id IN (SELECT id FROM held_orders)`);
    db.run(`DELETE FROM customer_consents WHERE customer_id IN (SELECT id FROM held_customers)`);
    db.run(`DELETE FROM customers WHERE id IN (SELECT id FROM held_customers)`);
    // an order placed before --from is in the status it had then
    db.run(`UPDATE orders SET status = (SELECT r.status FROM held_replay r WHERE r.order_id = orders.id AND r.changed_at <= ? ORDER BY r.changed_at DESC, r.seq DESC LIMIT 1)
            WHERE id IN (SELECT order_id FROM held_replay WHERE changed_at <= ?)`, [from, from]);
    db.exec('DROP TABLE held_replay');
    rebuildCustomerFacts(db);
    rebuildReachability(db);
  });
}

/**
 * held_replay: the story of every order the simulation touches (placed after --from,
 * or changing status after it), one row per status from its placement on; a status
 * seen twice in a row is one. held_history: the part of it after --from, to put back.
 */
function replayOrders(db: StoreDb, from: number): void {
  db.exec('DROP TABLE IF EXISTS held_replay; DROP TABLE IF EXISTS temp.replayed_orders');
  db.run(
    `CREATE TEMP TABLE replayed_orders AS SELECT id, placed_at, status FROM orders
     WHERE placed_at > ? OR id IN (SELECT order_id FROM order_status_history WHERE changed_at > ? AND item_line IS NULL)`,
    [from, from],
  );
  db.exec(`
    CREATE TABLE held_replay AS
    WITH placement AS (
      SELECT o.id AS order_id, o.placed_at AS changed_at, 0 AS seq,
        CASE WHEN NOT EXISTS (SELECT 1 FROM order_status_history h WHERE h.order_id = o.id AND h.item_line IS NULL) THEN o.status
             ELSE coalesce((SELECT h.status FROM order_status_history h WHERE h.order_id = o.id AND h.item_line IS NULL AND h.changed_at <= o.placed_at
                            ORDER BY h.changed_at DESC, h.id DESC LIMIT 1), 'pending') END AS status
      FROM temp.replayed_orders o
    ), later AS (
      SELECT h.order_id, h.changed_at, h.id AS seq, h.status FROM order_status_history h JOIN temp.replayed_orders o ON o.id = h.order_id
      WHERE h.changed_at > o.placed_at AND h.item_line IS NULL
    ), story AS (
      SELECT order_id, changed_at, seq, status, lag(status) OVER (PARTITION BY order_id ORDER BY changed_at, seq) AS previous_status
      FROM (SELECT * FROM placement UNION ALL SELECT * FROM later)
    )
    SELECT order_id, previous_status, status, changed_at, seq FROM story WHERE previous_status IS NULL OR previous_status <> status`);
  db.run(
    `CREATE TABLE held_history AS
     SELECT row_number() OVER (ORDER BY r.changed_at, r.order_id, r.seq) AS id, r.order_id, r.previous_status, r.status, r.changed_at
     FROM held_replay r JOIN temp.replayed_orders o ON o.id = r.order_id WHERE o.placed_at > ? OR r.changed_at > ?`,
    [from, from],
  );
  db.exec('DROP TABLE temp.replayed_orders');
}

/**
 * held_item_history: the item status changes to replay (after --from, or of an order
 * placed after it), in the order they were recorded (seq). Each such item is set back
 * to the status it had before the first of them.
 */
function holdItemChanges(db: StoreDb, from: number): void {
  db.run(
    `CREATE TABLE held_item_history AS
     SELECT h.id AS seq, h.order_id, h.item_line, h.previous_status, h.status, h.changed_at FROM order_status_history h
     WHERE h.item_line IS NOT NULL AND (h.changed_at > ? OR h.order_id IN (SELECT id FROM held_orders))`,
    [from],
  );
  const before = (table: string) => `UPDATE ${table} SET status = (SELECT h.previous_status FROM held_item_history h
      WHERE h.order_id = ${table}.order_id AND h.item_line = ${table}.line ORDER BY h.changed_at, h.seq LIMIT 1)
    WHERE EXISTS (SELECT 1 FROM held_item_history h WHERE h.order_id = ${table}.order_id AND h.item_line = ${table}.line)`;
  db.run(before('order_items'));
  db.run(before('held_items'));
}

/** Puts back what the store held for times up to `until`; returns how many rows came back. */
export function releaseFuture(db: StoreDb, until: number): number {
  return db.transaction(() => {
    db.exec(`DROP TABLE IF EXISTS temp.released_customers; CREATE TEMP TABLE released_customers (customer_id TEXT PRIMARY KEY) WITHOUT ROWID`);
    let n = 0;
    n += db.run(`INSERT INTO customers SELECT * FROM held_customers WHERE registered_at <= ?`, [until]).changes;
    db.run(`INSERT INTO temp.released_customers SELECT id FROM held_customers WHERE registered_at <= ?`, [until]);
    db.run(`INSERT INTO customer_consents SELECT * FROM held_consents WHERE customer_id IN (SELECT customer_id FROM temp.released_customers)`);
    db.run(`DELETE FROM held_consents WHERE customer_id IN (SELECT customer_id FROM temp.released_customers)`);
    db.run(`DELETE FROM held_customers WHERE registered_at <= ?`, [until]);
    n += db.run(`INSERT INTO orders SELECT * FROM held_orders WHERE placed_at <= ? AND customer_id IN (SELECT id FROM customers)`, [until]).changes;
    db.run(`INSERT OR IGNORE INTO temp.released_customers SELECT customer_id FROM held_orders WHERE id IN (SELECT id FROM orders)`);
    db.run(`INSERT INTO order_items SELECT * FROM held_items WHERE order_id IN (SELECT id FROM orders)`);
    db.run(`DELETE FROM held_items WHERE order_id IN (SELECT id FROM orders)`);
    db.run(`DELETE FROM held_orders WHERE id IN (SELECT id FROM orders)`);
    // status changes (the orders', then their items' at the same instant) and events come
    // back in time order, with new positions (cursors see them as new)
    n += db.run(
      `INSERT INTO order_status_history (order_id, item_line, previous_status, status, changed_at, recorded_at)
       SELECT order_id, item_line, previous_status, status, changed_at, changed_at FROM (
         SELECT order_id, NULL AS item_line, previous_status, status, changed_at, 0 AS item, id AS seq FROM held_history
         WHERE changed_at <= ? AND order_id IN (SELECT id FROM orders)
         UNION ALL
         SELECT order_id, item_line, previous_status, status, changed_at, 1 AS item, seq FROM held_item_history
         WHERE changed_at <= ? AND order_id IN (SELECT id FROM orders))
       ORDER BY changed_at, item, seq`,
      [until, until],
    ).changes;
    db.run(`UPDATE order_items SET status = (SELECT h.status FROM held_item_history h WHERE h.order_id = order_items.order_id AND h.item_line = order_items.line
              AND h.changed_at <= ? ORDER BY h.changed_at DESC, h.seq DESC LIMIT 1)
            WHERE EXISTS (SELECT 1 FROM held_item_history h WHERE h.order_id = order_items.order_id AND h.item_line = order_items.line AND h.changed_at <= ?)`, [until, until]);
    db.run(`DELETE FROM held_item_history WHERE changed_at <= ? AND order_id IN (SELECT id FROM orders)`, [until]);
    db.run(`INSERT OR IGNORE INTO temp.released_customers SELECT o.customer_id FROM held_history h JOIN orders o ON o.id = h.order_id WHERE h.changed_at <= ?`, [until]);
    db.run(`UPDATE orders SET status = (SELECT h.status FROM held_history h WHERE h.order_id = orders.id AND h.changed_at <= ? ORDER BY h.changed_at DESC, h.id DESC LIMIT 1)
            WHERE id IN (SELECT order_id FROM held_history WHERE changed_at <= ?)`, [until, until]);
    db.run(`DELETE FROM held_history WHERE changed_at <= ? AND order_id IN (SELECT id FROM orders)`, [until]);
    n += db.run(
      `INSERT INTO events (id, customer_id, type, occurred_at, properties)
       SELECT id, customer_id, type, occurred_at, properties FROM held_events
       WHERE occurred_at <= ? AND customer_id IN (SELECT id FROM customers) ORDER BY occurred_at, seq`,
      [until],
    ).changes;
    db.run(`DELETE FROM held_events WHERE occurred_at <= ? AND customer_id IN (SELECT id FROM customers)`, [until]);
    if (n > 0) {
      refreshCustomerFacts(db, 'temp.released_customers');
      refreshReachability(db, 'temp.released_customers');
    }
    db.exec('DROP TABLE IF EXISTS temp.released_customers');
    return n;
  });
}
