/**
 * What the dispatcher is told (DispatchOptions), what it says while it works
 * (DispatchNotice) and what it reports when it stops (DispatchReport): the surface
 * `journey run`, `journey outbox send` and `journey serve` see, apart from how it works.
 */
import type { BackoffOptions } from './backoff.js';
import type { BreakerOptions, BreakerState } from './circuit-breaker.js';
import type { ProviderOptions } from './providers/index.js';

export interface DispatchOptions {
  /** The clock, ms since the epoch (the CLI's --now shifts it). Default Date.now. */
  now?: () => number;
  /** Attempts before a row is dead. Default 8. */
  maxAttempts?: number;
  backoff?: Partial<BackoffOptions>;
  breaker?: Partial<BreakerOptions>;
  /** Rows claimed per provider at a time. Default 500. */
  claimBatch?: number;
  /**
   * How long a claim holds a row before another dispatcher may take it over. Must
   * exceed the time a claimed batch needs to go out (the provider's timeout, plus the
   * rate limit's pacing, which claimBatch is cut to fit). Default 5 minutes.
   */
  leaseMs?: number;
  /** Completions written per transaction at most. Default 500. */
  flushSize?: number;
  /**
   * A partial group of outcomes is written after this long (attempts go at the end
   * of the event loop's turn: a request waits for its attempt to be written). Default 5 ms.
   */
  flushIntervalMs?: number;
  /** Passed to createProvider (timeouts, the file provider's base folder, console output). */
  providerOptions?: ProviderOptions;
  /** `journey serve`'s public base URL: Twilio status callbacks go to <url>/webhooks/<provider>. */
  webhookBaseUrl?: string;
  /** dispatch(): also wait for retries falling due within this many ms. Default 0. */
  settleWithinMs?: number;
  /** Stops the dispatcher: requests in flight finish, claimed rows go back, outcomes are written. */
  signal?: AbortSignal;
  /** Notable moments (a circuit opening, a provider that cannot start), for logs. Never carries secrets. */
  onNotice?: (notice: DispatchNotice) => void;
  /** The jitter source (tests pin it). */
  random?: () => number;
  /**
   * Where claims and completions run: the caller's thread (default), or a store
   * thread with its own connection ('thread', or 'auto': the thread when the compiled
   * worker is there), which keeps SQLite off the sockets' event loop. On the 2-core
   * bench machine, with the provider's server on the other core, the thread does not
   * pay (0.54 of the faster bare loop against 0.71 inline, node bench/run.js dispatch
   * with DISPATCH_BENCH_STORE_THREAD): its bursts of SQL take their time from the
   * server and the sockets, and the hand-offs raise the CPU a message costs from ~30
   * to ~38 us. It is for machines with a core to spare.
   */
  storeThread?: 'auto' | 'thread' | 'inline';
}

export type DispatchNotice =
  | { kind: 'circuit_open'; provider: string; until: number; error: string }
  | { kind: 'circuit_closed'; provider: string }
  /** The provider's rate-limit headers said its allowance is used up: its lane waits until `until`. */
  | { kind: 'rate_limited'; provider: string; until: number }
  | { kind: 'provider_unavailable'; provider: string; error: string }
  | { kind: 'unknown_provider'; provider: string; rows: number }
  | { kind: 'reclaimed'; rows: number; dead: number; inDoubt?: number }
  /** Messages the provider may have accepted are held for `journey outbox resolve`. */
  | { kind: 'held'; provider: string; rows: number };

export interface ProviderReport {
  sent: number;
  retried: number;
  failed: number;
  dead: number;
  /** Claimed but put back unattempted (circuit open, stopping), and not tried since: each message once. */
  deferred: number;
  breaker: BreakerState['kind'];
  /** Requests made (sends and lookups; a batch is one). */
  requests: number;
  /** Its messages not delivered when the dispatcher stopped (due later, to retry, untried, in doubt), read from the store. */
  pending: number;
  /** Of those, the messages in doubt: a request went unanswered (timeout, reset), and it may have been accepted. */
  inDoubt: number;
  /** Messages in doubt that the provider said it had accepted. */
  reconciled: number;
  /** Messages in doubt sent again under the same key (the provider had not got them, or deduplicates). */
  resent: number;
  /** Messages in doubt held for `journey outbox resolve`. */
  held: number;
}

export interface DispatchReport {
  sent: number;
  retried: number;
  failed: number;
  dead: number;
  deferred: number;
  /** Rows taken over from a dispatcher that stopped mid-send. */
  reclaimed: number;
  /** Messages in doubt when the dispatcher stopped (held ones included): sent or not, nobody knows yet. */
  inDoubt: number;
  /** Of inDoubt, those held for `journey outbox resolve` (their provider cannot be asked). */
  held: number;
  /** Messages in doubt that the provider said it had accepted. */
  reconciled: number;
  /** Messages in doubt sent again under the same key. */
  resent: number;
  /** Requests made (sends and lookups; a batch is one). */
  requests: number;
  /**
   * The group commit, measured: how long an outcome waited to be written (from the
   * answer to the end of its transaction), and how long a request waited for its
   * attempt to be written before it could leave; median and worst, ms. Null when
   * nothing was written.
   */
  commits: { outcomeMs: { p50: number; max: number }; attemptMs: { p50: number; max: number } } | null;
  durationMs: number;
  providers: Record<string, ProviderReport>;
  /** Providers that could not be used (a missing environment variable, ...): their rows wait. */
  problems: { provider: string; error: string }[];
}
