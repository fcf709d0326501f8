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
 */
export function holdBackFuture(db: StoreDb, from: number): void {
  db.transaction(() => {
    db.exec(`
      DROP TABLE IF EXISTS held_customers; DROP TABLE IF EXISTS held_consents; DROP TABLE IF EXISTS held_orders;
      DROP TABLE IF EXISTS held_items; DROP TABLE IF EXISTS held_history; DROP TABLE IF EXISTS held_events;`);
    db.run(`CREATE TABLE held_customers AS SELECT * FROM customers c WHERE c.registered_at > ?
            AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = c.id AND o.placed_at <= ?)`, [from, from]);
    db.run(`CREATE TABLE held_consents AS SELECT * FROM customer_consents WHERE customer_id IN (SELECT id FROM held_customers)`);
    db.run(`CREATE TABLE held_orders AS SELECT * FROM orders WHERE placed_at > ?`, [from]);
    db.run(`CREATE TABLE held_items AS SELECT * FROM order_items WHERE order_id IN (SELECT id FROM held_orders)`);
    db.run(`CREATE TABLE held_history AS SELECT * FROM order_status_history WHERE changed_at > ? OR order_id IN (SELECT id FROM held_orders)`, [from]);
    db.run(`CREATE TABLE held_events AS SELECT * FROM events WHERE occurred_at > ? OR customer_id IN (SELECT id FROM held_customers)`, [from]);
    db.run(`DELETE FROM events WHERE seq IN (SELECT seq FROM held_events)`);
    db.run(`DELETE FROM order_status_history WHERE id IN (SELECT id FROM held_history)`);
    db.run(`DELETE FROM order_items WHERE order_id IN (SELECT id FROM held_orders)`);
    db.run(`DELETE FROM orders WHERE id IN (SELECT id FROM held_orders)`);
    db.run(`DELETE FROM customer_consents WHERE customer_id IN (SELECT id FROM held_customers)`);
    db.run(`DELETE FROM customers WHERE id IN (SELECT id FROM held_customers)`);
    // an order placed before --from is in the status it had then
    db.run(`UPDATE orders SET status = coalesce((SELECT h.status FROM order_status_history h WHERE h.order_id = orders.id ORDER BY h.changed_at DESC, h.id DESC LIMIT 1), status)
            WHERE id IN (SELECT order_id FROM held_history)`);
    rebuildCustomerFacts(db);
    rebuildReachability(db);
  });
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
    // status changes and events come back in time order, with new positions (cursors see them as new)
    n += db.run(
      `INSERT INTO order_status_history (order_id, previous_status, status, changed_at, recorded_at)
       SELECT order_id, previous_status, status, changed_at, changed_at FROM held_history
       WHERE changed_at <= ? AND order_id IN (SELECT id FROM orders) ORDER BY changed_at, id`,
      [until],
    ).changes;
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
