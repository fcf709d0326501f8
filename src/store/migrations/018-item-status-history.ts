/**
 * Item status changes as trigger positions (issue 25). An order-items import that
 * changes an item's own status appends a row to order_status_history with the item's
 * line in item_line, so that `items: all|any` triggers see an item reaching the status
 * after its order did (the last parcel delivered a day later), with the order's rows
 * in one id sequence: one cursor per journey still covers both.
 *
 * item_line NULL: the order's own status (every row before this migration). Whatever
 * reads the history as the order's status (order_placed, status triggers without
 * `items`, wait_for, simulate's replay) reads only those rows. No foreign key to
 * order_items: SQLite cannot add a composite one to an existing table, and the row
 * goes with its order (ON DELETE CASCADE on order_id) as the item does.
 */
export const version = 18;
export const name = 'item status history';
export const sql = `
ALTER TABLE order_status_history ADD COLUMN item_line INTEGER;
`;
