/** Orders in these statuses do not count as purchases unless a condition names them. */
export const NOT_COUNTED_BY_DEFAULT = ['canceled', 'unavailable', 'refunded'] as const;
