/**
 * The statuses an order carries in the store: the importers turn every source status
 * into one of these (Shopify and Olist presets, created -> pending, approved ->
 * processing, cancelled -> canceled), lower case with underscores. A mapping file can
 * produce a shop's own by naming it under statuses:; the config declares those under
 * order_statuses.
 */
export const KNOWN_ORDER_STATUSES = ['pending', 'processing', 'invoiced', 'shipped', 'delivered', 'canceled', 'unavailable', 'refunded', 'partially_refunded'] as const;

/** Orders in these statuses do not count as purchases unless a condition names them. */
export const NOT_COUNTED_BY_DEFAULT = ['canceled', 'unavailable', 'refunded'] as const;
