/**
 * The outbox dispatcher: delivers outbox rows through the configured providers,
 * exactly once per idempotency key as far as the providers can tell.
 *
 * - Rows are claimed in batches per provider (a lease: one row naming the batch),
 *   sent by a fixed number of workers per provider (the provider's `concurrency`,
 *   which is also the size of its keep-alive pool), paced by its `rate_limit`.
 * - Outcomes are buffered and written in one transaction per group, which also ends
 *   the leases they complete; a dispatcher killed before a write leaves its lease,
 *   and the next dispatcher takes the rows over when the lease runs out and sends
 *   them again under the same key.
 * - retry outcomes (429, 5xx, timeouts, connection errors) come back after an
 *   exponential backoff with full jitter, never sooner than the provider's
 *   Retry-After; after maxAttempts the row is dead. permanent outcomes (4xx) fail the
 *   row with the provider's error text.
 * - A circuit breaker per provider stops sending while the provider is down and
 *   puts claimed rows back without counting an attempt.
 *
 * Two ways to run it: dispatch() until nothing is due (`journey outbox send`, a
 * tick of `journey run`), and runDispatcher() until its signal aborts (`journey run
 * --watch`, a worker process).
 */
import type { Config } from '../project/model.js';
import type { StoreDb } from '../store/db.js';
import { dueProviders, failProviderRows, nextDueAt, nextLeaseEnd, reclaimExpired, type ClaimedRow, type Completion } from '../store/outbox.js';
import { openOutboxPort, type OutboxPort } from '../store/outbox-thread.js';
import { DEFAULT_BACKOFF, retryDelayMs, type BackoffOptions } from './backoff.js';
import { CircuitBreaker, DEFAULT_BREAKER, type BreakerOptions, type BreakerState, type Health } from './circuit-breaker.js';
import type { OutgoingMessage, Provider, SendOutcome, SyncRequest } from './message.js';
import { OutgoingBuilder } from './outgoing.js';
import { createProvider, type ProviderOptions } from './providers/index.js';
import { createRateLimiter, type RateLimiter } from './rate-limiter.js';
import { RowQueue } from './row-queue.js';

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
  /** A partial group is written after this long. Default 20 ms. */
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
  | { kind: 'reclaimed'; rows: number; dead: number };

export interface ProviderReport {
  sent: number;
  retried: number;
  failed: number;
  dead: number;
  /** Claimed but put back unattempted (circuit open, stopping). */
  deferred: number;
  breaker: BreakerState['kind'];
}

export interface DispatchReport {
  sent: number;
  retried: number;
  failed: number;
  dead: number;
  deferred: number;
  /** Rows taken over from a dispatcher that stopped mid-send. */
  reclaimed: number;
  durationMs: number;
  providers: Record<string, ProviderReport>;
  /** Providers that could not be used (a missing environment variable, ...): their rows wait. */
  problems: { provider: string; error: string }[];
}

/** Delivers due rows until none is due (or due within settleWithinMs); then returns what happened. */
export async function dispatch(db: StoreDb, config: Config, env: NodeJS.ProcessEnv, opts: DispatchOptions = {}): Promise<DispatchReport> {
  const dispatcher = new Dispatcher(db, config, env, opts);
  return dispatcher.run({ kind: 'once', settleWithinMs: opts.settleWithinMs ?? 0 });
}

/** Delivers rows as they fall due, polling for new ones, until `signal` aborts. */
export async function runDispatcher(db: StoreDb, config: Config, env: NodeJS.ProcessEnv, opts: DispatchOptions & { signal: AbortSignal; pollMs?: number }): Promise<DispatchReport> {
  const dispatcher = new Dispatcher(db, config, env, opts);
  return dispatcher.run({ kind: 'forever', pollMs: opts.pollMs ?? 1_000 });
}

type RunMode = { kind: 'once'; settleWithinMs: number } | { kind: 'forever'; pollMs: number };

interface Lane {
  name: string;
  provider: Provider;
  breaker: CircuitBreaker;
  limiter: RateLimiter | null;
  queue: RowQueue<ClaimedRow>;
  /** The last claim came back short: nothing more is due now. */
  drained: boolean;
  claimSize: number;
  /** Settles when the half-open probe in flight has its answer. */
  probe: Promise<void> | null;
  /** The provider said its rate-limit allowance is used up: no request before this time. */
  pausedUntil: number;
  /** The claim in flight: the next batch is fetched while this one is being sent. */
  claiming: Promise<void> | null;
  report: ProviderReport;
}

class Dispatcher {
  private readonly now: () => number;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffOptions;
  private readonly breakerOptions: BreakerOptions;
  private readonly leaseMs: number;
  private readonly flushSize: number;
  private readonly flushIntervalMs: number;
  private readonly random: () => number;
  private readonly lanes = new Map<string, Lane>();
  private readonly unavailable = new Map<string, string>();
  private buffer: Completion[] = [];
  /** Rows of each lease still without an outcome; a lease ends with the group that completes it. */
  private readonly leaseLeft = new Map<number, number>();
  private endedLeases: number[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  /** The group writes in flight, chained so that they land in order. */
  private writes: Promise<void> = Promise.resolve();
  private readonly port: OutboxPort;
  private readonly outgoing: OutgoingBuilder;
  private fatal: unknown = null;
  private readonly report: DispatchReport = { sent: 0, retried: 0, failed: 0, dead: 0, deferred: 0, reclaimed: 0, durationMs: 0, providers: {}, problems: [] };

  constructor(
    private readonly db: StoreDb,
    private readonly config: Config,
    private readonly env: NodeJS.ProcessEnv,
    private readonly opts: DispatchOptions,
  ) {
    this.now = opts.now ?? Date.now;
    this.maxAttempts = Math.max(1, opts.maxAttempts ?? 8);
    this.backoff = { ...DEFAULT_BACKOFF, ...opts.backoff };
    this.breakerOptions = { ...DEFAULT_BREAKER, ...opts.breaker };
    this.leaseMs = opts.leaseMs ?? 5 * 60_000;
    this.flushSize = opts.flushSize ?? 500;
    this.flushIntervalMs = opts.flushIntervalMs ?? 20;
    this.random = opts.random ?? Math.random;
    this.port = openOutboxPort(db, opts.storeThread ?? 'inline');
    this.outgoing = new OutgoingBuilder(config);
  }

  private get stopping(): boolean {
    return this.opts.signal?.aborted === true || this.fatal !== null;
  }

  async run(mode: RunMode): Promise<DispatchReport> {
    const started = performance.now();
    try {
      while (!this.stopping) {
        this.reclaim();
        const due = this.openLanes();
        await Promise.all(due.map((lane) => this.runLane(lane)));
        // Reads below must see every outcome.
        await this.flushed();
        if (this.stopping) break;
        const now = this.now();
        const next = this.nextWorkAt();
        if (mode.kind === 'once') {
          if (next === null || next - now > mode.settleWithinMs) break;
          if (next > now) await sleep(next - now, this.opts.signal);
        } else {
          // New rows appear without notice (the engine's tick), hence the poll.
          await sleep(Math.max(1, Math.min(mode.pollMs, next === null ? mode.pollMs : next - now)), this.opts.signal);
        }
      }
    } finally {
      await this.flushed();
      await Promise.all([...this.lanes.values()].map((lane) => lane.provider.close().catch(() => {})));
      await this.port.close().catch(() => {});
    }
    if (this.fatal !== null) throw this.fatal;
    for (const lane of this.lanes.values()) this.report.providers[lane.name] = { ...lane.report, breaker: lane.breaker.current.kind };
    this.report.problems = [...this.unavailable].map(([provider, error]) => ({ provider, error }));
    this.report.durationMs = performance.now() - started;
    return this.report;
  }

  /** When there is next something to do: a row falls due (after its provider's circuit cools down) or a lease ends. */
  private nextWorkAt(): number | null {
    let next = nextLeaseEnd(this.db);
    for (const lane of this.lanes.values()) {
      let t = nextDueAt(this.db, lane.name);
      if (t === null) continue;
      const breaker = lane.breaker.current;
      if (breaker.kind === 'open') t = Math.max(t, breaker.until);
      if (next === null || t < next) next = t;
    }
    return next;
  }

  private reclaim(): void {
    const { reclaimed, dead } = reclaimExpired(this.db, this.now(), this.maxAttempts);
    this.report.reclaimed += reclaimed;
    this.report.dead += dead;
    if (reclaimed || dead) this.opts.onNotice?.({ kind: 'reclaimed', rows: reclaimed, dead });
  }

  /** A lane for every provider with rows due now; rows of providers the config lacks fail. */
  private openLanes(): Lane[] {
    const lanes: Lane[] = [];
    for (const name of dueProviders(this.db, this.now())) {
      if (this.unavailable.has(name)) continue;
      const lane = this.lanes.get(name) ?? this.createLane(name);
      if (lane) lanes.push(lane);
    }
    return lanes;
  }

  private createLane(name: string): Lane | null {
    const config = this.config.providers[name];
    if (!config) {
      // The config dropped or renamed it: nothing can send these, and retrying cannot help until it is back.
      const rows = failProviderRows(this.db, name, `provider '${name}' is not in journey.config.yaml`);
      this.report.failed += rows;
      this.opts.onNotice?.({ kind: 'unknown_provider', provider: name, rows });
      return null;
    }
    let provider: Provider;
    try {
      const statusCallbackUrl = this.opts.webhookBaseUrl ? `${this.opts.webhookBaseUrl.replace(/\/+$/, '')}/webhooks/${encodeURIComponent(name)}` : undefined;
      provider = createProvider(config, this.env, { ...this.opts.providerOptions, ...(statusCallbackUrl ? { statusCallbackUrl } : {}) });
    } catch (err) {
      // A missing variable is the operator's to fix; the rows wait for it, untouched.
      const error = err instanceof Error ? err.message : String(err);
      this.unavailable.set(name, error);
      this.opts.onNotice?.({ kind: 'provider_unavailable', provider: name, error });
      return null;
    }
    const { ratePerSecond } = provider.limits;
    // A rate-limited provider gets no more rows than it can send in half a lease.
    const paced = ratePerSecond ? Math.max(1, Math.floor((ratePerSecond * this.leaseMs) / 2000)) : Infinity;
    const lane: Lane = {
      name,
      provider,
      breaker: new CircuitBreaker(this.breakerOptions),
      limiter: ratePerSecond ? createRateLimiter(ratePerSecond) : null,
      queue: new RowQueue<ClaimedRow>(),
      drained: false,
      claimSize: Math.max(1, Math.min(this.opts.claimBatch ?? 500, paced)),
      probe: null,
      pausedUntil: 0,
      claiming: null,
      report: { sent: 0, retried: 0, failed: 0, dead: 0, deferred: 0, breaker: 'closed' },
    };
    this.lanes.set(name, lane);
    return lane;
  }

  private async runLane(lane: Lane): Promise<void> {
    lane.drained = false;
    const workers: Promise<void>[] = [];
    for (let i = 0; i < Math.max(1, lane.provider.limits.concurrency); i++) workers.push(this.worker(lane));
    await Promise.all(workers);
    // A batch that arrived after the workers stopped (circuit open, stopping) goes back.
    while (lane.claiming) await lane.claiming;
    const left = lane.queue.shift();
    if (left) {
      const breaker = lane.breaker.current;
      this.releaseQueue(lane, left, breaker.kind === 'open' ? breaker.until : this.now());
    }
  }

  /** The next claimed row of the lane if one is at hand (no promise per message for the common case). */
  private takeRow(lane: Lane): ClaimedRow | undefined {
    // Fetch the next batch while the workers still have rows: no stall between batches.
    if (lane.queue.length <= lane.provider.limits.concurrency * 2) this.prefetch(lane);
    return lane.queue.shift();
  }

  /** When no row is at hand: waits for the claims in flight; undefined when nothing more is due. */
  private async awaitRow(lane: Lane): Promise<ClaimedRow | undefined> {
    while (lane.claiming) {
      await lane.claiming;
      const row = this.takeRow(lane);
      if (row) return row;
    }
    return undefined;
  }

  private prefetch(lane: Lane): void {
    if (lane.claiming || lane.drained || this.stopping) return;
    const now = this.now();
    if (lane.breaker.isOpen(now)) return;
    lane.claiming = this.port.claim(lane.name, now, now + this.leaseMs, lane.claimSize).then(
      (rows) => {
        if (rows.length < lane.claimSize) lane.drained = true;
        if (rows.length) this.leaseLeft.set(rows[0]!.lease, rows.length);
        lane.queue.push(rows);
        lane.claiming = null;
      },
      (err: unknown) => {
        this.fatal ??= err;
        lane.drained = true;
        lane.claiming = null;
      },
    );
  }

  private async worker(lane: Lane): Promise<void> {
    for (;;) {
      const row = this.takeRow(lane) ?? (await this.awaitRow(lane));
      if (!row) return;
      if (this.stopping) {
        this.releaseQueue(lane, row, this.now());
        return;
      }
      const message = this.outgoing.build(row);
      if (typeof message === 'string') {
        // Nothing the provider could change: the template or the data is wrong.
        this.complete(lane, { kind: 'failed', id: row.id, lease: row.lease, error: message });
        continue;
      }
      let admission = lane.breaker.admit(this.now());
      while (admission.kind === 'probing') {
        // (null only in the instant between a probe's admission and its promise)
        await (lane.probe ?? sleep(10, undefined));
        admission = lane.breaker.admit(this.now());
      }
      if (admission.kind === 'open') {
        this.releaseQueue(lane, row, admission.until);
        return;
      }
      let probeDone: (() => void) | null = null;
      if (admission.kind === 'probe') lane.probe = new Promise((resolve) => (probeDone = resolve));
      if (lane.limiter) await lane.limiter.take();
      // (a loop: another answer may push the pause further while this worker waits)
      while (lane.pausedUntil > this.now() && !this.stopping) await sleep(lane.pausedUntil - this.now(), this.opts.signal);
      let outcome: SendOutcome;
      try {
        outcome = await send(lane.provider, message);
      } catch (err) {
        // A provider that throws (a bug, not a provider answer) must not take the dispatcher down.
        outcome = { kind: 'retry', error: `provider error: ${err instanceof Error ? err.message : String(err)}` };
      }
      this.settle(lane, row, outcome);
      if (probeDone) {
        lane.probe = null;
        (probeDone as () => void)();
      }
    }
  }

  /** Turns an outcome into a completion and tells the breaker. */
  private settle(lane: Lane, row: ClaimedRow, outcome: SendOutcome): void {
    const now = this.now();
    const before = lane.breaker.current.kind;
    const lease = row.lease;
    switch (outcome.kind) {
      case 'sent':
        this.complete(lane, { kind: 'sent', id: row.id, lease, providerMessageId: outcome.providerMessageId, byId: lane.provider.eventsById, at: now });
        if (outcome.pauseMs !== undefined && now + outcome.pauseMs > lane.pausedUntil) {
          if (lane.pausedUntil <= now) this.opts.onNotice?.({ kind: 'rate_limited', provider: lane.name, until: now + outcome.pauseMs });
          lane.pausedUntil = now + outcome.pauseMs;
        }
        this.health(lane, 'healthy', before, '');
        return;
      case 'permanent':
        this.complete(lane, { kind: 'failed', id: row.id, lease, error: outcome.error });
        // A refusal is an answer: the provider is up. No request at all says nothing.
        this.health(lane, outcome.status === undefined ? 'neutral' : 'healthy', before, '');
        return;
      case 'retry': {
        const attempts = row.attempts + 1;
        if (attempts >= this.maxAttempts) {
          this.complete(lane, { kind: 'dead', id: row.id, lease, error: `${outcome.error} (gave up after ${attempts} attempts)` });
        } else {
          const delay = retryDelayMs(attempts, outcome.retryAfterMs, this.backoff, this.random);
          this.complete(lane, { kind: 'retry', id: row.id, lease, error: outcome.error, nextAttemptAt: now + delay });
        }
        // 429: the provider is up and pacing us; the row's wait honours it.
        this.health(lane, outcome.status === 429 ? 'neutral' : 'unwell', before, outcome.error);
        return;
      }
      default:
        unexpected(outcome);
    }
  }

  private health(lane: Lane, health: Health, before: BreakerState['kind'], error: string): void {
    lane.breaker.record(health, this.now());
    const after = lane.breaker.current;
    if (after.kind === 'open' && before !== 'open') this.opts.onNotice?.({ kind: 'circuit_open', provider: lane.name, until: after.until, error });
    if (after.kind === 'closed' && before === 'half_open') this.opts.onNotice?.({ kind: 'circuit_closed', provider: lane.name });
  }

  /** Puts this row and the rest of the lane's queue back, due at `at`, attempts untouched. */
  private releaseQueue(lane: Lane, row: ClaimedRow, at: number): void {
    for (const r of [row, ...lane.queue.drain()]) this.complete(lane, { kind: 'release', id: r.id, lease: r.lease, nextAttemptAt: at });
  }

  private complete(lane: Lane, c: Completion): void {
    switch (c.kind) {
      case 'sent':
        lane.report.sent++;
        this.report.sent++;
        break;
      case 'retry':
        lane.report.retried++;
        this.report.retried++;
        break;
      case 'failed':
        lane.report.failed++;
        this.report.failed++;
        break;
      case 'dead':
        lane.report.dead++;
        this.report.dead++;
        break;
      case 'release':
        lane.report.deferred++;
        this.report.deferred++;
        break;
      default:
        unexpected(c);
    }
    this.buffer.push(c);
    const left = (this.leaseLeft.get(c.lease) ?? 1) - 1;
    if (left > 0) this.leaseLeft.set(c.lease, left);
    else {
      this.leaseLeft.delete(c.lease);
      this.endedLeases.push(c.lease);
    }
    if (this.buffer.length >= this.flushSize) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), this.flushIntervalMs);
  }

  /** Writes the buffered outcomes as one transaction, after the groups before it. */
  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.buffer.length === 0 && this.endedLeases.length === 0) return;
    const group = this.buffer;
    const ended = this.endedLeases;
    this.buffer = [];
    this.endedLeases = [];
    this.writes = this.writes.then(
      () => this.port.complete(group, ended).then(() => {}),
      () => {},
    ).catch((err: unknown) => {
      // The rows stay leased and are taken over when the lease runs out; stop
      // sending more into a store that cannot record it.
      this.fatal ??= err;
    });
  }

  /** Every outcome so far written. */
  private async flushed(): Promise<void> {
    this.flush();
    await this.writes;
  }
}

/** The request a row makes. (Not async: one promise per message fewer; the caller catches.) */
function send(provider: Provider, message: OutgoingMessage | SyncRequest): Promise<SendOutcome> {
  if ('customer' in message) {
    if (!provider.sync) return Promise.resolve({ kind: 'permanent', error: `provider '${provider.name}' (${provider.type}) cannot sync profiles or events` });
    return provider.sync(message);
  }
  return provider.send(message);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function unexpected(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}
