/**
 * A provider's `rate_limit` (requests per second) as a token bucket: up to
 * `burst` requests may start at once, after which they are paced at the rate.
 * take() resolves when the caller may start its request; callers are served in
 * the order they asked, so no message starves behind later ones.
 */
export interface RateLimiter {
  /** n: how many units this request spends (a batch request spends one per message on a message limit). */
  take(n?: number): Promise<void>;
}

export function createRateLimiter(ratePerSecond: number, burst = Math.max(1, Math.min(Math.floor(ratePerSecond), 10)), now: () => number = () => performance.now()): RateLimiter {
  const interval = 1000 / ratePerSecond;
  // The time at which the bucket would be full again; a request "spends" one interval.
  // Keeping a single timestamp (GCRA) instead of a token count plus a refill timer
  // gives FIFO order for free: each caller reserves the next free slot.
  let theoretical = now();
  return {
    take(n = 1): Promise<void> {
      const t = now();
      // n units fit once the bucket has room for all of them (n = 1: the usual GCRA test)
      const start = Math.max(t, theoretical + (n - burst) * interval);
      theoretical = Math.max(theoretical, t) + n * interval;
      const wait = start - t;
      return wait <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
    },
  };
}
