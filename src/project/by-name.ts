/**
 * A record of things a user names (channels, providers, templates, coupons, steps).
 * It has no prototype, so a name such as `constructor` or `toString` finds only what the
 * project defines: on a plain object `coupons['constructor']` is Object's constructor,
 * which validated as a coupon and crashed the tick.
 */
export function byName<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  for (const [name, value] of entries) out[name] = value;
  return out;
}

/** An object from YAML as a byName record (its own keys only). */
export function ownEntries<T>(data: Record<string, T> | null | undefined): Record<string, T> {
  return byName(Object.entries(data ?? {}));
}
