/**
 * When to try a row again after a `retry` outcome: exponential backoff with full
 * jitter (a random delay between 0 and base·2^(attempt-1), capped), so that rows
 * failed together by one provider outage do not all come back in the same
 * instant. A wait the provider asked for (Retry-After) is a floor, never shortened.
 */
export interface BackoffOptions {
  /** The cap of the first retry's delay. Default 1 s. */
  baseMs: number;
  /** No delay is longer than this (a provider's Retry-After excepted). Default 15 min. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1_000, maxMs: 15 * 60_000 };

/** A provider's Retry-After beyond this is treated as this (a day): the row is not parked for ever. */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60_000;

/**
 * The delay before attempt number `attempts + 1`, where `attempts` counts the
 * attempts made so far (1 after the first failure).
 */
export function retryDelayMs(attempts: number, retryAfterMs: number | undefined, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  // 2^30 is far past any sensible cap; clamping the exponent keeps the arithmetic finite.
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  const jittered = Math.floor(random() * ceiling);
  return retryAfterMs === undefined ? jittered : Math.max(Math.min(retryAfterMs, MAX_RETRY_AFTER_MS), jittered);
}
