import { usageError } from '../../errors.js';

/** What `journey import KIND` can load. */
export type ImportKind = 'customers' | 'orders' | 'order-items' | 'products' | 'events' | 'suppressions' | 'payments';
/** In the order a folder of exports is imported: a kind after the kinds its rows refer to. */
export const IMPORT_KINDS: readonly ImportKind[] = ['customers', 'products', 'orders', 'order-items', 'payments', 'events', 'suppressions'];

export type FieldType =
  | 'id'
  | 'text'
  | 'lower'
  | 'email'
  | 'phone'
  | 'timestamp'
  | 'number'
  | 'integer'
  | 'status'
  | 'timezone'
  | 'country'
  | 'currency'
  | 'json';

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  readonly required?: boolean;
}

/**
 * The fields a source can fill, per kind, in stage-table order. Besides these,
 * customers take `consent.<channel>` and `alias`; customers, orders and products take
 * `attributes.<key>`, events `properties.<key>`.
 */
export const FIELDS: Record<ImportKind, readonly FieldSpec[]> = {
  customers: [
    { name: 'id', type: 'id', required: true },
    { name: 'email', type: 'email' },
    { name: 'phone', type: 'phone' },
    { name: 'first_name', type: 'text' },
    { name: 'last_name', type: 'text' },
    { name: 'registered_at', type: 'timestamp' },
    { name: 'timezone', type: 'timezone' },
    { name: 'locale', type: 'text' },
    { name: 'country', type: 'country' },
    { name: 'city', type: 'text' },
    { name: 'attributes', type: 'json' },
  ],
  orders: [
    { name: 'id', type: 'id', required: true },
    { name: 'customer_id', type: 'id', required: true },
    { name: 'placed_at', type: 'timestamp', required: true },
    { name: 'status', type: 'status', required: true },
    { name: 'status_changed_at', type: 'timestamp' },
    { name: 'total', type: 'number' },
    { name: 'currency', type: 'currency' },
    { name: 'attributes', type: 'json' },
    { name: 'refunded', type: 'number' },
    // the best time the source holds when it does not date the status (stage only)
    { name: 'status_changed_estimate', type: 'timestamp' },
  ],
  'order-items': [
    { name: 'order_id', type: 'id', required: true },
    { name: 'line', type: 'integer' },
    { name: 'product_id', type: 'id' },
    { name: 'sku', type: 'text' },
    { name: 'title', type: 'text' },
    { name: 'quantity', type: 'integer' },
    { name: 'price', type: 'number' },
    // the item's own status, where the source has one (else it follows the order's)
    { name: 'status', type: 'status' },
    // when the item reached it, where the source says (stage only: it dates the history row)
    { name: 'status_changed_at', type: 'timestamp' },
  ],
  products: [
    { name: 'id', type: 'id', required: true },
    { name: 'sku', type: 'text' },
    { name: 'title', type: 'text' },
    { name: 'category', type: 'text' },
    { name: 'price', type: 'number' },
    { name: 'currency', type: 'currency' },
    { name: 'url', type: 'text' },
    { name: 'image_url', type: 'text' },
    { name: 'created_at', type: 'timestamp' },
    { name: 'attributes', type: 'json' },
  ],
  events: [
    { name: 'id', type: 'id' },
    { name: 'customer_id', type: 'id', required: true },
    { name: 'type', type: 'lower', required: true },
    { name: 'occurred_at', type: 'timestamp', required: true },
    { name: 'properties', type: 'json' },
  ],
  // an order's payments: its total becomes their sum (exports that carry no order total, Olist's)
  payments: [
    { name: 'order_id', type: 'id', required: true },
    { name: 'sequence', type: 'integer' },
    { name: 'method', type: 'lower' },
    { name: 'installments', type: 'integer' },
    { name: 'value', type: 'number', required: true },
  ],
  suppressions: [
    { name: 'channel', type: 'lower', required: true },
    { name: 'address', type: 'text', required: true },
    { name: 'reason', type: 'text' },
    { name: 'created_at', type: 'timestamp' },
  ],
};

/** The JSON column that `attributes.<key>` / `properties.<key>` columns merge into, if any. */
export function bagField(kind: ImportKind): 'attributes' | 'properties' | undefined {
  switch (kind) {
    case 'customers':
    case 'orders':
    case 'products':
      return 'attributes';
    case 'events':
      return 'properties';
    case 'order-items':
    case 'payments':
    case 'suppressions':
      return undefined;
  }
}

/** Singular and plural nouns for summaries ("5,153 order items"). */
export function kindNoun(kind: ImportKind, count: number): string {
  const one: Record<ImportKind, string> = {
    customers: 'customer',
    orders: 'order',
    'order-items': 'order item',
    products: 'product',
    events: 'event',
    suppressions: 'suppression',
    payments: 'payment',
  };
  return count === 1 ? one[kind] : `${one[kind]}s`;
}

/**
 * The words in a file's name that say which kind it holds, for `journey import DIR`
 * (olist_order_items_dataset.csv, customers_export.csv, order_items.csv): matched
 * against the name's words, so "orders" does not match order_items.
 */
export const KIND_FILE_WORDS: Record<ImportKind, readonly string[]> = {
  customers: ['customers'],
  products: ['products'],
  orders: ['orders'],
  'order-items': ['items', 'lineitems'],
  payments: ['payments'],
  events: ['events'],
  suppressions: ['suppressions', 'unsubscribes', 'bounces'],
};

/** The kinds a file's name names (none, one, or several when it is ambiguous). */
export function kindsOfFileName(fileName: string): ImportKind[] {
  const base = fileName.toLowerCase().replace(/\.gz$/, '').replace(/\.(csv|jsonl|ndjson)$/, '');
  const words = new Set(base.split(/[^a-z0-9]+/));
  // an order's items or payments file also says "order"/"orders"; the more specific kind wins
  const kinds = IMPORT_KINDS.filter((k) => KIND_FILE_WORDS[k].some((w) => words.has(w)));
  return kinds.length > 1 && kinds.some((k) => k !== 'orders' && k !== 'customers' && k !== 'products')
    ? kinds.filter((k) => k !== 'orders' && k !== 'customers' && k !== 'products')
    : kinds;
}

export function parseKind(value: string): ImportKind {
  const kind = value === 'order_items' || value === 'items' ? 'order-items' : value === 'order-payments' || value === 'order_payments' ? 'payments' : value;
  if ((IMPORT_KINDS as readonly string[]).includes(kind)) return kind as ImportKind;
  throw usageError(`unknown kind "${value}"`, `KIND is one of: ${IMPORT_KINDS.join(', ')}`);
}
