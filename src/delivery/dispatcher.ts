/**
 * The outbox dispatcher: delivers outbox rows through the configured providers,
 * exactly once per idempotency key as far as the providers can tell.
 *
 * - Rows are claimed in batches per provider (a lease: one row naming the batch),
 *   sent by a fixed number of workers per provider (the provider's `concurrency`,
 *   which is also the size of its keep-alive pool), paced by its `rate_limit`.
 * - Before a request leaves, the ids it carries are written as an attempt of their
 *   lease, and outcomes are written after; both are group-committed (the attempts
 *   of one turn of the event loop, the outcomes every few milliseconds) in one
 *   transaction per group, which also ends the leases they complete.
 * - Exactly once: a dispatcher killed mid-send leaves its lease; when it runs out,
 *   the rows that were never attempted go back to the queue, and those that were
 *   (or whose request timed out, or whose connection broke after the request was
 *   written) are in doubt. A message in doubt is never sent again blindly: the
 *   provider is asked whether it accepted a message under our key (reconcile), or it
 *   is sent again under the same key where the provider deduplicates by it (resend),
 *   or held for `journey outbox resolve` (hold), per the provider's in_doubt policy.
 * - Batches: where a provider takes many messages per request (batch_size), the
 *   messages of one batch key share a request; the outcome is per message, and a
 *   batch in doubt is settled message by message.
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
import { dueProviders, failProviderRows, HELD, inDoubtCounts, nextDueAt, nextLeaseEnd, reclaimExpired, type ClaimedRow, type Completion } from '../store/outbox.js';
import { openOutboxPort, type OutboxPort } from '../store/outbox-thread.js';
import { DEFAULT_BACKOFF, retryDelayMs, type BackoffOptions } from './backoff.js';
import { GroupCommit } from './group-commit.js';
import { CircuitBreaker, DEFAULT_BREAKER, type BreakerOptions, type BreakerState, type Health } from './circuit-breaker.js';
import type { LookupOutcome, OutgoingMessage, Provider, SendOutcome, SyncRequest } from './message.js';
import { OutgoingBuilder } from './outgoing.js';
import { createProvider } from './providers/index.js';
import { createRateLimiter, type RateLimiter } from './rate-limiter.js';
import { RowQueue } from './row-queue.js';

export type { DispatchNotice, DispatchOptions, DispatchReport, ProviderReport } from './dispatch-types.js';
import type { DispatchOptions, DispatchReport, ProviderReport } from './dispatch-types.js';

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
  /** The provider's message limit (a batch spends one per message). */
  messageLimiter: RateLimiter | null;
  queue: RowQueue<ClaimedRow>;
  /** Messages per request (1: no batches). */
  batchSize: number;
  /** The last claim came back short: nothing more is due now. */
  drained: boolean;
  /** The rows in doubt are all claimed (they are settled before new ones go out). */
  doubtDrained: boolean;
  claimSize: number;
  /** Settles when the half-open probe in flight has its answer. */
  probe: Promise<void> | null;
  /** The provider said its rate-limit allowance is used up: no request before this time. */
  pausedUntil: number;
  /** The claim in flight: the next batch is fetched while this one is being sent. */
  claiming: Promise<void> | null;
  report: ProviderReport;
  /**
   * Messages put back untried and not tried since: a message deferred at each round of a
   * --wait while the circuit stays open is one message, and one tried later is none.
   */
  deferred: Set<number>;
}

/** Rows of one request: one message, or a batch of one batch key. */
interface Sendable {
  row: ClaimedRow;
  message: OutgoingMessage | SyncRequest;
}

class Dispatcher {
  private readonly now: () => number;
  private readonly maxAttempts: number;
  private readonly backoff: BackoffOptions;
  private readonly breakerOptions: BreakerOptions;
  private readonly leaseMs: number;
  private readonly random: () => number;
  private readonly lanes = new Map<string, Lane>();
  private readonly unavailable = new Map<string, string>();
  private readonly port: OutboxPort;
  private readonly commits: GroupCommit;
  private readonly outgoing: OutgoingBuilder;
  private fatal: unknown = null;
  private readonly report: DispatchReport = {
    sent: 0,
    retried: 0,
    failed: 0,
    dead: 0,
    deferred: 0,
    reclaimed: 0,
    inDoubt: 0,
    held: 0,
    reconciled: 0,
    resent: 0,
    requests: 0,
    commits: null,
    durationMs: 0,
    providers: {},
    problems: [],
  };

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
    this.random = opts.random ?? Math.random;
    this.port = openOutboxPort(db, opts.storeThread ?? 'inline');
    this.commits = new GroupCommit(this.port, { flushSize: opts.flushSize ?? 500, flushIntervalMs: opts.flushIntervalMs ?? 5 });
    this.outgoing = new OutgoingBuilder(config);
  }

  private get stopping(): boolean {
    return this.opts.signal?.aborted === true || this.fatal !== null || this.commits.failure !== null;
  }

  async run(mode: RunMode): Promise<DispatchReport> {
    const started = performance.now();
    try {
      while (!this.stopping) {
        this.reclaim();
        const due = this.openLanes();
        await Promise.all(due.map((lane) => this.runLane(lane)));
        // Reads below must see every outcome.
        await this.commits.flushed();
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
      await this.commits.flushed();
      await Promise.all([...this.lanes.values()].map((lane) => lane.provider.close().catch(() => {})));
      await this.port.close().catch(() => {});
    }
    if (this.fatal !== null) throw this.fatal;
    if (this.commits.failure !== null) throw this.commits.failure;
    // what is in doubt is read from the store: a message resent and in doubt again in this run is one message
    const doubt = inDoubtCounts(this.db);
    for (const lane of this.lanes.values()) {
      if (lane.report.held) this.opts.onNotice?.({ kind: 'held', provider: lane.name, rows: lane.report.held });
      const left = doubt.byProvider.get(lane.name) ?? { pending: 0, inDoubt: 0, held: 0 };
      this.report.providers[lane.name] = { ...lane.report, deferred: lane.deferred.size, pending: left.pending, inDoubt: left.inDoubt, held: left.held, breaker: lane.breaker.current.kind };
      this.report.deferred += lane.deferred.size;
    }
    this.report.problems = [...this.unavailable].map(([provider, error]) => ({ provider, error }));
    this.report.inDoubt = doubt.inDoubt;
    this.report.held = doubt.held;
    this.report.durationMs = performance.now() - started;
    this.report.commits = this.commits.waits();
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
    const { reclaimed, dead, inDoubt } = reclaimExpired(this.db, this.now(), this.maxAttempts);
    this.report.reclaimed += reclaimed;
    this.report.dead += dead;
    if (reclaimed || dead) this.opts.onNotice?.({ kind: 'reclaimed', rows: reclaimed, dead, inDoubt });
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
    const { ratePerSecond, messagesPerSecond } = provider.limits;
    const batchSize = provider.sendBatch ? Math.max(1, provider.limits.batchSize ?? 1) : 1;
    // A rate-limited provider gets no more rows than it can send in half a lease.
    const perSecond = Math.min(ratePerSecond ? ratePerSecond * batchSize : Infinity, messagesPerSecond ?? Infinity);
    const paced = Number.isFinite(perSecond) ? Math.max(1, Math.floor((perSecond * this.leaseMs) / 2000)) : Infinity;
    const concurrency = Math.max(1, provider.limits.concurrency);
    const lane: Lane = {
      name,
      provider,
      breaker: new CircuitBreaker(this.breakerOptions),
      limiter: ratePerSecond ? createRateLimiter(ratePerSecond) : null,
      messageLimiter: messagesPerSecond ? createRateLimiter(messagesPerSecond, Math.max(1, Math.floor(messagesPerSecond))) : null,
      queue: new RowQueue<ClaimedRow>(),
      batchSize,
      drained: false,
      doubtDrained: false,
      claimSize: Math.max(1, Math.min(Math.max(this.opts.claimBatch ?? 500, batchSize * Math.min(concurrency, 4)), paced)),
      probe: null,
      pausedUntil: 0,
      claiming: null,
      report: { sent: 0, retried: 0, failed: 0, dead: 0, deferred: 0, breaker: 'closed', requests: 0, pending: 0, inDoubt: 0, reconciled: 0, resent: 0, held: 0 },
      deferred: new Set(),
    };
    this.lanes.set(name, lane);
    return lane;
  }

  private async runLane(lane: Lane): Promise<void> {
    lane.drained = false;
    lane.doubtDrained = false;
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
    if (lane.queue.length <= lane.provider.limits.concurrency * 2 * lane.batchSize) this.prefetch(lane);
    return lane.queue.shift();
  }

  /**
   * The rows of the next request, taken at once (a worker woken by a claim must
   * not leave the batch to the other workers, row by row): one row, or where the
   * provider takes batches, up to batch_size rows not in doubt.
   */
  private takeGroup(lane: Lane): ClaimedRow[] | undefined {
    const row = this.takeRow(lane);
    if (!row) return undefined;
    if (row.inDoubtSince !== null || lane.batchSize === 1) return [row];
    const rows = [row];
    for (let next = lane.queue.peek(); rows.length < lane.batchSize && next && next.inDoubtSince === null; next = lane.queue.peek()) rows.push(lane.queue.shift()!);
    return rows;
  }

  /** When no row is at hand: waits for the claims in flight; undefined when nothing more is due. */
  private async awaitGroup(lane: Lane): Promise<ClaimedRow[] | undefined> {
    while (lane.claiming) {
      await lane.claiming;
      const rows = this.takeGroup(lane);
      if (rows) return rows;
    }
    return undefined;
  }

  private prefetch(lane: Lane): void {
    if (lane.claiming || lane.drained || this.stopping) return;
    const now = this.now();
    if (lane.breaker.isOpen(now)) return;
    const until = now + this.leaseMs;
    // Messages in doubt first: they are older than anything queued, and settling them may resend them.
    const doubt = !lane.doubtDrained;
    const claim = doubt ? this.port.claimInDoubt(lane.name, now, until, lane.claimSize) : this.port.claim(lane.name, now, until, lane.claimSize);
    lane.claiming = claim.then(
      (rows) => {
        if (rows.length < lane.claimSize) {
          if (doubt) lane.doubtDrained = true;
          else lane.drained = true;
        }
        if (rows.length) this.commits.leased(rows[0]!.lease, rows.length, until);
        lane.queue.push(rows);
        lane.claiming = null;
        // an empty claim of doubtful rows: go on to the queued ones at once
        if (doubt && rows.length === 0) this.prefetch(lane);
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
      const rows = this.takeGroup(lane) ?? (await this.awaitGroup(lane));
      if (!rows) return;
      if (this.stopping) {
        for (const r of rows.slice(1)) this.complete(lane, { kind: 'release', id: r.id, lease: r.lease, nextAttemptAt: this.now() });
        this.releaseQueue(lane, rows[0]!, this.now());
        return;
      }
      if (rows[0]!.inDoubtSince !== null) {
        if (!(await this.settleDoubt(lane, rows[0]!))) return;
        continue;
      }
      if (!(await this.sendRows(lane, rows))) return;
    }
  }

  /**
   * Builds the messages of rows (a failure to build fails the row), groups them by
   * batch key, and sends each group. False when the lane must stop (circuit open).
   */
  private async sendRows(lane: Lane, rows: readonly ClaimedRow[]): Promise<boolean> {
    const groups = new Map<string, Sendable[]>();
    const singles: Sendable[] = [];
    for (const row of rows) {
      const message = this.outgoing.build(row);
      if (typeof message === 'string') {
        // Nothing the provider could change: the template or the data is wrong.
        this.complete(lane, { kind: 'failed', id: row.id, lease: row.lease, error: message });
        continue;
      }
      const key = lane.batchSize > 1 && !('customer' in message) ? (lane.provider.batchKey?.(message) ?? null) : null;
      if (key === null) singles.push({ row, message });
      else {
        const group = groups.get(key);
        if (group) group.push({ row, message });
        else groups.set(key, [{ row, message }]);
      }
    }
    const requests = [...groups.values(), ...singles.map((s) => [s])];
    for (let i = 0; i < requests.length; i++) {
      if (!(await this.request(lane, requests[i]!))) {
        // the circuit opened: the requests not made go back
        for (const rest of requests.slice(i + 1)) this.releaseItems(lane, rest, this.openUntil(lane));
        return false;
      }
    }
    return true;
  }

  private openUntil(lane: Lane): number {
    const breaker = lane.breaker.current;
    return breaker.kind === 'open' ? breaker.until : this.now();
  }

  /**
   * One request for one message or one batch: the breaker's admission, the rate
   * limits, the attempt written before the request leaves, the request, and an
   * outcome per message. False when the circuit is open (the rows went back).
   */
  private async request(lane: Lane, items: readonly Sendable[]): Promise<boolean> {
    let admission = lane.breaker.admit(this.now());
    while (admission.kind === 'probing' && !this.stopping) {
      // (null only in the instant between a probe's admission and its promise)
      await (lane.probe ?? sleep(10, undefined));
      admission = lane.breaker.admit(this.now());
    }
    if (admission.kind === 'probing') {
      this.releaseItems(lane, items, this.now());
      return true;
    }
    if (admission.kind === 'open') {
      this.releaseItems(lane, items, admission.until);
      return false;
    }
    let probeDone: (() => void) | null = null;
    if (admission.kind === 'probe') lane.probe = new Promise((resolve) => (probeDone = resolve));
    try {
      if (lane.limiter) await lane.limiter.take();
      if (lane.messageLimiter) await lane.messageLimiter.take(items.length);
      // (a loop: another answer may push the pause further while this worker waits)
      while (lane.pausedUntil > this.now() && !this.stopping) await sleep(lane.pausedUntil - this.now(), this.opts.signal);
      if (this.stopping) {
        this.releaseItems(lane, items, this.now());
        return true;
      }
      const started = this.now();
      const sendable = await this.beginAttempt(lane, items, started);
      if (sendable.length === 0) return true;
      let outcomes: SendOutcome[];
      lane.report.requests++;
      this.report.requests++;
      try {
        outcomes = await this.sendRequest(lane, sendable);
      } catch (err) {
        // A provider that throws (a bug, not a provider answer) must not take the dispatcher down.
        const outcome: SendOutcome = { kind: 'retry', error: `provider error: ${err instanceof Error ? err.message : String(err)}`, inDoubt: true };
        outcomes = sendable.map(() => outcome);
      }
      if (sendable.length > 1 && outcomes.every((o) => o.kind === 'permanent' && o.status !== undefined) && new Set(outcomes).size === 1) {
        // The provider refused the whole batch for one bad message (SendGrid validates the
        // request as a whole): nothing was accepted, so each goes alone, to fail alone.
        // The refusal proves the provider up: heard first, it closes a half-open circuit,
        // whose probe this may be (each message's request would wait for this one's answer).
        this.health(lane, healthOf(outcomes), lane.breaker.current.kind, '');
        for (const s of sendable) await this.request(lane, [s]);
        return true;
      }
      const before = lane.breaker.current.kind;
      sendable.forEach((s, i) => this.settle(lane, s.row, outcomes[i]!, started));
      // The breaker hears once per request: a batch's 500 is one failure, not one per message.
      this.health(lane, healthOf(outcomes), before, outcomes.find((o) => o.kind === 'retry')?.error ?? '');
      return true;
    } finally {
      if (probeDone) {
        // a probe that went back unsent leaves the next request to probe
        lane.breaker.abandonProbe();
        lane.probe = null;
        (probeDone as () => void)();
      }
    }
  }

  private sendRequest(lane: Lane, items: readonly Sendable[]): Promise<SendOutcome[]> {
    if (items.length > 1) return lane.provider.sendBatch!(items.map((s) => s.message as OutgoingMessage));
    return send(lane.provider, items[0]!.message).then((o) => [o]);
  }

  /**
   * Writes the attempt before its request leaves, and answers the rows that may go:
   * none when the lease is gone or would run out before the request could time out
   * (another dispatcher may take the rows over then, and must find them in doubt,
   * not in flight).
   */
  private async beginAttempt(lane: Lane, items: readonly Sendable[], at: number): Promise<readonly Sendable[]> {
    const lease = items[0]!.row.lease;
    const until = this.commits.leaseEnd(lease);
    const timeout = lane.provider.limits.timeoutMs ?? 15_000;
    if (at + timeout >= until) {
      // Not enough of the lease left for the request: back to the queue, unattempted.
      this.releaseItems(lane, items, at);
      return [];
    }
    const allowed = await this.commits.attempt({ lease, at, ids: items.map((s) => s.row.id) });
    // A refused lease is another dispatcher's now: its rows are left to it, untouched.
    return allowed ? items : [];
  }

  /**
   * A row in doubt: asks the provider, resends it under the same key, or holds it,
   * per the provider's in_doubt policy. False when the lane must stop.
   */
  private async settleDoubt(lane: Lane, row: ClaimedRow): Promise<boolean> {
    const provider = lane.provider;
    const since = row.inDoubtSince!;
    const now = this.now();
    const resend = async (): Promise<boolean> => {
      if (row.attempts >= this.maxAttempts) {
        this.complete(lane, { kind: 'dead_unaccepted', id: row.id, lease: row.lease, error: `the provider did not accept it and ${row.attempts} attempts ran out` });
        return true;
      }
      lane.report.resent++;
      this.report.resent++;
      // A batch in doubt is settled message by message, but goes again in batches:
      // back to the queue, where the next claim puts it in one.
      if (lane.batchSize > 1) {
        this.complete(lane, { kind: 'requeue', id: row.id, lease: row.lease, nextAttemptAt: now });
        return true;
      }
      return this.sendRows(lane, [{ ...row, inDoubtSince: null }]);
    };
    switch (provider.inDoubt) {
      case 'hold':
        this.held(lane, row);
        return true;
      case 'resend':
        return resend();
      case 'reconcile': {
        if (now < since + provider.reconcileAfterMs) {
          // the provider's search may not show it yet
          this.complete(lane, { kind: 'release', id: row.id, lease: row.lease, nextAttemptAt: since + provider.reconcileAfterMs });
          return true;
        }
        const message = this.outgoing.build(row);
        if (lane.limiter) await lane.limiter.take();
        lane.report.requests++;
        this.report.requests++;
        let found: LookupOutcome;
        try {
          found = await provider.lookup!({ idempotencyKey: row.idempotency_key, to: row.address, since, message: typeof message === 'string' || 'customer' in message ? null : message });
        } catch (err) {
          found = { kind: 'unknown', error: `lookup: ${err instanceof Error ? err.message : String(err)}` };
        }
        switch (found.kind) {
          case 'accepted':
            lane.report.reconciled++;
            this.report.reconciled++;
            this.complete(lane, { kind: 'sent', id: row.id, lease: row.lease, providerMessageId: found.providerMessageId, byId: provider.eventsById, at: since });
            return true;
          case 'not_found':
            return resend();
          case 'unknown':
            if (found.hold) this.held(lane, row, found.error);
            else {
              const delay = retryDelayMs(Math.max(1, row.attempts), found.retryAfterMs, this.backoff, this.random);
              this.complete(lane, { kind: 'in_doubt_wait', id: row.id, lease: row.lease, error: found.error, nextAttemptAt: now + delay });
            }
            return true;
          default:
            return unexpected(found);
        }
      }
      default:
        return unexpected(provider.inDoubt);
    }
  }

  private held(lane: Lane, row: ClaimedRow, why?: string): void {
    lane.report.held++;
    this.complete(lane, { kind: 'in_doubt_wait', id: row.id, lease: row.lease, error: why ?? `in doubt, held: provider '${lane.name}' cannot be asked; settle it with journey outbox resolve`, nextAttemptAt: HELD });
  }

  /** Turns an outcome into a completion (and a rate-limit pause). */
  private settle(lane: Lane, row: ClaimedRow, outcome: SendOutcome, started: number): void {
    const now = this.now();
    const lease = row.lease;
    switch (outcome.kind) {
      case 'sent':
        this.complete(lane, { kind: 'sent', id: row.id, lease, providerMessageId: outcome.providerMessageId, byId: lane.provider.eventsById, at: now });
        if (outcome.pauseMs !== undefined && now + outcome.pauseMs > lane.pausedUntil) {
          if (lane.pausedUntil <= now) this.opts.onNotice?.({ kind: 'rate_limited', provider: lane.name, until: now + outcome.pauseMs });
          lane.pausedUntil = now + outcome.pauseMs;
        }
        return;
      case 'permanent':
        this.complete(lane, { kind: 'failed', id: row.id, lease, error: outcome.error });
        return;
      case 'retry': {
        const attempts = row.attempts + 1;
        const policy = lane.provider.inDoubt;
        if (outcome.inDoubt && policy !== 'resend') {
          // It may have been accepted: never given up on, never sent blindly.
          lane.report.inDoubt++;
          const next = policy === 'hold' ? HELD : Math.max(now, started + lane.provider.reconcileAfterMs);
          if (policy === 'hold') lane.report.held++;
          this.complete(lane, { kind: 'in_doubt', id: row.id, lease, error: `in doubt: ${outcome.error}`, since: started, nextAttemptAt: next });
        } else if (attempts >= this.maxAttempts) {
          this.complete(lane, { kind: 'dead', id: row.id, lease, error: `${outcome.error} (gave up after ${attempts} attempts)` });
        } else {
          const delay = retryDelayMs(attempts, outcome.retryAfterMs, this.backoff, this.random);
          this.complete(lane, { kind: 'retry', id: row.id, lease, error: outcome.error, nextAttemptAt: now + delay });
        }
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

  /** Puts claimed messages back, due at `at`, unattempted. */
  private releaseItems(lane: Lane, items: readonly Sendable[], at: number): void {
    for (const s of items) this.complete(lane, { kind: 'release', id: s.row.id, lease: s.row.lease, nextAttemptAt: at });
  }

  /** Puts this row and the rest of the lane's queue back, due at `at`, attempts untouched. */
  private releaseQueue(lane: Lane, row: ClaimedRow, at: number): void {
    for (const r of [row, ...lane.queue.drain()]) this.complete(lane, { kind: 'release', id: r.id, lease: r.lease, nextAttemptAt: at });
  }

  private complete(lane: Lane, c: Completion): void {
    if (c.kind === 'release') lane.deferred.add(c.id);
    else if (lane.deferred.size > 0) lane.deferred.delete(c.id);
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
      case 'dead_unaccepted':
        lane.report.dead++;
        this.report.dead++;
        break;
      case 'release':
      case 'in_doubt':
      case 'in_doubt_wait':
      case 'requeue':
        break;
      default:
        unexpected(c);
    }
    this.commits.record(c);
  }
}

/**
 * What a request's outcomes say about the provider: any answer but a failure means
 * it is up (a refusal is an answer); no request at all says nothing; 429 is the
 * provider pacing us, which the rows' waits honour.
 */
function healthOf(outcomes: readonly SendOutcome[]): Health {
  if (outcomes.some((o) => o.kind === 'sent' || (o.kind === 'permanent' && o.status !== undefined))) return 'healthy';
  const failed = outcomes.find((o) => o.kind === 'retry');
  if (!failed || failed.kind !== 'retry') return 'neutral';
  return failed.status === 429 ? 'neutral' : 'unwell';
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
