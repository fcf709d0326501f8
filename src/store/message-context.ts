/**
 * What a step's messages are rendered from, read for all of them in one query: the
 * outbox rows the step just wrote, each with its customer, the order that started the
 * journey and the customer's latest order (with their items), the coupon code issued
 * to the enrolment, and the recommended products (the temporary table the
 * recommendations of the step were computed into). Then the rendered content goes
 * back into the rows.
 */
import type { SqlValue, StoreDb } from './db.js';
import type { IdSet } from './enrolments.js';

const inSet = (set: IdSet) => `IN (SELECT id FROM (${set.sql}))`;

export interface MessageContextRow {
  outbox_id: number;
  enrolment_id: number;
  customer_id: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone: string | null;
  locale: string | null;
  timezone: string | null;
  country: string | null;
  city: string | null;
  attributes: string;
  variant: string | null;
  trigger_order: string | null;
  last_order: string | null;
  coupon: string | null;
  /** The recommended products in order, as JSON: [[product id, reason], ...] (the products themselves: recommendedProducts). */
  products: string | null;
}

/** A recommended product as the variables show it, without the reason (which is the enrolment's). */
export interface ProductRow {
  id: string;
  title: string | null;
  url: string | null;
  image: string | null;
  price: number | null;
  currency: string | null;
  category: string | null;
}

/** The products a step recommends (its table of recommendations), each once, by id: the same few for many messages. */
export function recommendedProducts(db: StoreDb, recommendations: string): Map<string, ProductRow> {
  const rows = db.all<ProductRow>(
    `SELECT p.id, p.title, p.url, p.image_url AS image, p.price, p.currency, p.category FROM products p WHERE p.id IN (SELECT product_id FROM temp.${recommendations})`,
  );
  return new Map(rows.map((p) => [p.id, p]));
}

const ORDER_JSON = (alias: string) => `json_object('id', ${alias}.id, 'placed_at', ${alias}.placed_at, 'status', ${alias}.status, 'total', ${alias}.total, 'currency', ${alias}.currency,
  'items', (SELECT json_group_array(json_object('product_id', i.product_id, 'sku', i.sku, 'title', coalesce(i.title, p.title), 'quantity', i.quantity, 'price', i.price, 'url', p.url, 'image', p.image_url))
            FROM (SELECT * FROM order_items WHERE order_id = ${alias}.id ORDER BY line) i LEFT JOIN products p ON p.id = i.product_id))`;

/** The step's new outbox rows, read in order a part at a time (a 100,000-message step need not be held at once, and its parts can be rendered while the next is read). */
export interface StepMessages {
  readonly count: number;
  /**
   * Rows from..from+limit-1 (0-based) in outbox order; their products from the table of
   * recommendations named (recommendFor's), or null there (none, or given apart).
   */
  read(from: number, limit: number, recommendations: string | null): MessageContextRow[];
  /** Drops what reading kept. */
  done(): void;
}

const MESSAGES = 'tick_messages';

/** The step's new outbox rows (of the enrolments in `set`, written at `now`) with what their templates need. */
export function stepMessages(db: StoreDb, set: IdSet, s: { journeyId: string; stepId: string; now: number; coupon: string | null }): StepMessages {
  // the rows numbered in order once: each part is then a range of that key
  db.exec(`DROP TABLE IF EXISTS temp.${MESSAGES}; CREATE TEMP TABLE ${MESSAGES} (n INTEGER PRIMARY KEY, id INTEGER NOT NULL)`);
  const count = db.run(
    `INSERT INTO temp.${MESSAGES} (n, id) SELECT row_number() OVER (ORDER BY o.id) - 1, o.id FROM outbox_messages o
     WHERE o.enrolment_id ${inSet(set)} AND o.journey_id = ? AND o.step_id = ? AND o.created_at = ?`,
    [...set.params, s.journeyId, s.stepId, s.now],
  ).changes;
  const params: SqlValue[] = [];
  const coupon = s.coupon ? `(SELECT json_object('code', cc.code, 'expires_at', cc.expires_at) FROM coupon_codes cc WHERE cc.coupon = ? AND cc.enrolment_id = en.id)` : 'NULL';
  if (s.coupon) params.push(s.coupon);
  const sql = (recommendations: string | null) => {
    const products = recommendations
      ? // ids and reasons only: each product's fields are read once for the step (recommendedProducts), not once per message
        `(SELECT json_group_array(json_array(r.product_id, r.reason) ORDER BY r.position) FROM temp.${recommendations} r WHERE r.enrolment_id = en.id)`
      : 'NULL';
    return `SELECT o.id AS outbox_id, en.id AS enrolment_id, c.id AS customer_id, c.first_name, c.last_name, c.email, c.phone, c.locale, c.timezone, c.country, c.city, c.attributes,
            en.variant,
            (SELECT ${ORDER_JSON('t')} FROM orders t WHERE t.id = en.order_id) AS trigger_order,
            (SELECT ${ORDER_JSON('l')} FROM orders l WHERE l.customer_id = c.id ORDER BY l.placed_at DESC, l.id DESC LIMIT 1) AS last_order,
            ${coupon} AS coupon, ${products} AS products
     FROM temp.${MESSAGES} k JOIN outbox_messages o ON o.id = k.id JOIN enrolments en ON en.id = o.enrolment_id JOIN customers c ON c.id = o.customer_id
     WHERE k.n >= ? AND k.n < ?
     ORDER BY k.n`;
  };
  return {
    count,
    read: (from, limit, recommendations) => db.all<MessageContextRow>(sql(recommendations), [...params, from, from + limit]),
    done: () => db.exec(`DROP TABLE IF EXISTS temp.${MESSAGES}`),
  };
}

/**
 * Writes rendered rows, given as id, payload (the variables) and content (the rendered
 * message, or null for a provider's template), three values a row.
 */
export function writeContent(db: StoreDb, values: readonly SqlValue[]): void {
  // one prepared UPDATE a row: joined from a VALUES list of 500 rows the same update
  // cost half as much again (100,000 rows of 3.4 KB: 1.6 s against 1.0 s), and wrapped
  // in one JSON text a batch, every message was escaped into it and parsed out again (9 s)
  const update = 'UPDATE outbox_messages SET payload = ?, content = ? WHERE id = ?';
  for (let i = 0; i < values.length; i += 3) db.run(update, [values[i + 1]!, values[i + 2]!, values[i]!]);
}

/** Marks rows that could not be rendered as failed, with the reason (they are never sent half-filled). */
export function failMessages(db: StoreDb, failures: readonly { id: number; error: string }[]): void {
  for (const f of failures) db.run(`UPDATE outbox_delivery SET status = 'failed', last_error = ? WHERE id = ?`, [f.error, f.id]);
}
