import type { SqlValue } from './db.js';
import type { IdSet } from './enrolments.js';

/** What a wait_for step waits for, as the store can look it up. */
export type WaitForEvent =
  /** A delivery event (opened, clicked, ...) of a message this enrolment was sent (by one step, or any). */
  | { kind: 'message'; event: string; ofStep: string | null }
  | { kind: 'order_placed' }
  | { kind: 'order_status_changed'; statuses: string[]; sameOrder: boolean }
  /** A custom event; `match` pairs its property with the triggering event's. */
  | { kind: 'custom'; type: string; where: Record<string, string | number | boolean>; match: Record<string, string> };

/**
 * The enrolments of a set for which the awaited event has happened. Events count
 * from the moment the wait became possible (the trigger: the abandoned cart, the
 * delivery; for segment entries, the entry), not from when the step was reached: a
 * checkout a minute after the abandon must end the wait even if the tick came later.
 */
export function eventHappened(set: IdSet, e: WaitForEvent, now: number): IdSet {
  const base = `SELECT en.id AS id FROM enrolments en WHERE en.id IN (SELECT id FROM (${set.sql})) AND EXISTS`;
  switch (e.kind) {
    case 'message':
      return {
        sql: `${base} (SELECT 1 FROM outbox ob JOIN message_events me ON me.outbox_id = ob.id
                WHERE ob.enrolment_id = en.id ${e.ofStep ? 'AND ob.step_id = ?' : ''} AND me.kind = ? AND me.occurred_at <= ?)`,
        params: [...set.params, ...(e.ofStep ? [e.ofStep] : []), e.event, now],
      };
    case 'order_placed':
      return {
        sql: `${base} (SELECT 1 FROM orders o WHERE o.customer_id = en.customer_id AND o.placed_at >= en.trigger_at AND o.placed_at <= ?
                AND (en.order_id IS NULL OR o.id <> en.order_id) AND o.status NOT IN ('canceled', 'unavailable', 'refunded'))`,
        params: [...set.params, now],
      };
    case 'order_status_changed': {
      const statuses = e.statuses.map(() => '?').join(', ');
      return {
        // the order's own status: an item's row (item_line, migration 018) is not the order delivered
        sql: `${base} (SELECT 1 FROM order_status_history h JOIN orders o ON o.id = h.order_id
                WHERE h.item_line IS NULL AND ${e.sameOrder ? 'h.order_id = en.order_id' : 'o.customer_id = en.customer_id'}
                AND h.changed_at >= en.trigger_at AND h.changed_at <= ? ${e.statuses.length ? `AND h.status IN (${statuses})` : ''})`,
        params: [...set.params, now, ...e.statuses],
      };
    }
    case 'custom': {
      const where = Object.keys(e.where).map(() => `AND json_extract(ev.properties, '$.' || ?) = ?`).join(' ');
      const whereParams: SqlValue[] = Object.entries(e.where).flatMap(([k, v]) => [k, typeof v === 'boolean' ? (v ? 1 : 0) : v]);
      // match: { cart_id: trigger.cart_id } compares with the event that entered the customer (entry_key event:<id>)
      const match = Object.entries(e.match)
        .map(() => `AND json_extract(ev.properties, '$.' || ?) = (SELECT json_extract(t.properties, '$.' || ?) FROM events t WHERE 'event:' || t.id = en.entry_key)`)
        .join(' ');
      const matchParams: SqlValue[] = Object.entries(e.match).flatMap(([k, v]) => [k, v.slice('trigger.'.length)]);
      return {
        sql: `${base} (SELECT 1 FROM events ev WHERE ev.customer_id = en.customer_id AND ev.type = ? AND ev.occurred_at >= en.trigger_at AND ev.occurred_at <= ? ${where} ${match})`,
        params: [...set.params, e.type, now, ...whereParams, ...matchParams],
      };
    }
    default: {
      const never: never = e;
      throw new Error(`unknown wait_for event ${JSON.stringify(never)}`);
    }
  }
}
