/**
 * An order item's own status, where the source has one (a line item fulfilled,
 * canceled or returned while the rest of the order is not). NULL: the item has no
 * status of its own and follows its order's. An order_status_changed trigger with
 * `items: all` enters only when every item that came with the order has the status;
 * `items: any` when at least one has it.
 */
export const version = 13;
export const name = 'order item status';
export const sql = `
ALTER TABLE order_items ADD COLUMN status TEXT;
`;
