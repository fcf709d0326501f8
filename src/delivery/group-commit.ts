/**
 * The dispatcher's writes to the store, group-committed: the attempts that must be
 * durable before their requests leave (those of one turn of the event loop), and the
 * outcomes of the requests that came back (every few milliseconds, or every
 * `flushSize`), each group one transaction, in order. A lease ends with the group
 * that completes its last row.
 */
import type { AttemptMark, Completion } from '../store/outbox.js';
import type { OutboxPort } from '../store/outbox-thread.js';

export interface GroupCommitOptions {
  /** Outcomes that make a group at once. */
  flushSize: number;
  /** The longest an outcome waits for its group, ms. */
  flushIntervalMs: number;
}

export class GroupCommit {
  private buffer: Completion[] = [];
  /** Rows of each lease still without an outcome. */
  private readonly leaseLeft = new Map<number, number>();
  /** Until when each lease holds its rows. */
  private readonly leaseUntil = new Map<number, number>();
  private endedLeases: number[] = [];
  /** Attempts to write before their requests leave, and who waits for each. */
  private attempts: { mark: AttemptMark; done: (allowed: boolean) => void; since: number }[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private attemptFlush: NodeJS.Immediate | null = null;
  /** When the oldest outcome of the buffer came (performance.now()); the group's wait is measured from it. */
  private bufferSince = 0;
  /** Per group: the longest an outcome and an attempt waited to be written, ms. */
  private readonly outcomeWaits: number[] = [];
  private readonly attemptWaits: number[] = [];
  /** The group writes in flight, chained so that they land in order. */
  private writes: Promise<void> = Promise.resolve();
  /**
   * The first write that failed, else null. The rows stay leased and are taken over
   * when the lease runs out; nothing more may be sent into a store that cannot record it.
   */
  failure: unknown = null;

  constructor(
    private readonly port: OutboxPort,
    private readonly opts: GroupCommitOptions,
  ) {}

  /** A claim of `rows` rows under `lease`, held until `until`. */
  leased(lease: number, rows: number, until: number): void {
    this.leaseLeft.set(lease, rows);
    this.leaseUntil.set(lease, until);
  }

  /** Until when a lease holds its rows; 0 once it has ended. */
  leaseEnd(lease: number): number {
    return this.leaseUntil.get(lease) ?? 0;
  }

  /**
   * Writes an attempt before its request leaves; true once it is durable, false when
   * the store refused it (the lease is another dispatcher's now) or could not write.
   */
  attempt(mark: AttemptMark): Promise<boolean> {
    return new Promise<boolean>((done) => {
      this.attempts.push({ mark, done, since: performance.now() });
      this.attemptFlush ??= setImmediate(() => this.flush());
    });
  }

  /** Buffers an outcome for the next group. */
  record(c: Completion): void {
    if (this.buffer.length === 0) this.bufferSince = performance.now();
    this.buffer.push(c);
    const left = (this.leaseLeft.get(c.lease) ?? 1) - 1;
    if (left > 0) this.leaseLeft.set(c.lease, left);
    else {
      this.leaseLeft.delete(c.lease);
      this.leaseUntil.delete(c.lease);
      this.endedLeases.push(c.lease);
    }
    if (this.buffer.length >= this.opts.flushSize) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), this.opts.flushIntervalMs);
  }

  /** Writes the attempts and the buffered outcomes as one transaction, after the groups before it. */
  flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.attemptFlush) clearImmediate(this.attemptFlush);
    this.flushTimer = null;
    this.attemptFlush = null;
    if (this.buffer.length === 0 && this.endedLeases.length === 0 && this.attempts.length === 0) return;
    const group = this.buffer;
    const ended = this.endedLeases;
    const attempts = this.attempts;
    const outcomesSince = group.length ? this.bufferSince : null;
    this.buffer = [];
    this.endedLeases = [];
    this.attempts = [];
    this.writes = this.writes
      .then(
        () =>
          this.port.commit(
            attempts.map((a) => a.mark),
            group,
            ended,
          ),
        () => null,
      )
      .then((result) => {
        const written = performance.now();
        if (outcomesSince !== null) this.outcomeWaits.push(written - outcomesSince);
        if (attempts.length) this.attemptWaits.push(written - attempts[0]!.since);
        const refused = new Set(result?.refused ?? []);
        for (const a of attempts) a.done(result !== null && !refused.has(a.mark.lease));
      })
      .catch((err: unknown) => {
        this.failure ??= err;
        for (const a of attempts) a.done(false);
      });
  }

  /** Every outcome so far written. */
  async flushed(): Promise<void> {
    this.flush();
    await this.writes;
  }

  /** How long outcomes and attempts waited for their group (median and worst), or null before any group. */
  waits(): { outcomeMs: { p50: number; max: number }; attemptMs: { p50: number; max: number } } | null {
    if (this.outcomeWaits.length === 0 && this.attemptWaits.length === 0) return null;
    return { outcomeMs: spread(this.outcomeWaits), attemptMs: spread(this.attemptWaits) };
  }
}

/** Median and worst of some waits, ms, to a tenth. */
function spread(waits: number[]): { p50: number; max: number } {
  if (waits.length === 0) return { p50: 0, max: 0 };
  const sorted = [...waits].sort((a, b) => a - b);
  const tenth = (x: number) => Math.round(x * 10) / 10;
  return { p50: tenth(sorted[Math.floor(sorted.length / 2)]!), max: tenth(sorted[sorted.length - 1]!) };
}
