/**
 * Where the dispatcher's claims and completions run: on the caller's connection
 * (in-thread), or on a store thread (outbox-worker.ts) with its own connection to
 * the same file. Both answer the same asynchronous interface; the store thread is
 * used when the compiled worker is there (the CLI, the bench), the caller's thread
 * otherwise (tests running the TypeScript sources, in-memory stores).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { StoreDb } from './db.js';
import { claimDue, claimInDoubt, commitGroup, type AttemptMark, type ClaimedRow, type Completion, type GroupResult } from './outbox.js';

export interface OutboxPort {
  /** Claims due rows of a provider, (outbox.ts claimDue). */
  claim(provider: string, now: number, leaseUntil: number, limit: number): Promise<ClaimedRow[]>;
  /** Claims due rows of a provider that are in doubt (outbox.ts claimInDoubt). */
  claimInDoubt(provider: string, now: number, leaseUntil: number, limit: number): Promise<ClaimedRow[]>;
  /** Writes the attempts about to leave, records outcomes, and ends the leases whose every row now has one. */
  commit(attempts: readonly AttemptMark[], completions: readonly Completion[], endedLeases: readonly number[]): Promise<GroupResult>;
  close(): Promise<void>;
}

export type OutboxRequest =
  | { id: number; op: 'claim'; provider: string; now: number; leaseUntil: number; limit: number }
  | { id: number; op: 'claim_in_doubt'; provider: string; now: number; leaseUntil: number; limit: number }
  | { id: number; op: 'commit'; attempts: readonly AttemptMark[]; completions: readonly Completion[]; endedLeases: readonly number[] }
  | { id: number; op: 'close' };

/** Omit over each member of the union (a plain Omit would merge them). */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export type OutboxResponse = { id: number; ok: true; rows?: ClaimedRow[]; group?: GroupResult } | { id: number; ok: false; error: string };

const WORKER = new URL('./outbox-worker.js', import.meta.url);

/** The store thread when it can be started for this store, else the caller's thread. */
export function openOutboxPort(db: StoreDb, where: 'auto' | 'thread' | 'inline' = 'auto'): OutboxPort {
  const canThread = db.path !== ':memory:' && db.path !== '' && existsSync(fileURLToPath(WORKER));
  if (where === 'thread' || (where === 'auto' && canThread)) return new ThreadPort(db.path);
  return inlinePort(db);
}

function inlinePort(db: StoreDb): OutboxPort {
  return {
    claim: async (provider, now, leaseUntil, limit) => claimDue(db, provider, now, leaseUntil, limit),
    claimInDoubt: async (provider, now, leaseUntil, limit) => claimInDoubt(db, provider, now, leaseUntil, limit),
    commit: async (attempts, completions, endedLeases) => commitGroup(db, attempts, completions, endedLeases),
    close: async () => {},
  };
}

class ThreadPort implements OutboxPort {
  private readonly worker: Worker;
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (r: OutboxResponse & { ok: true }) => void; reject: (e: Error) => void }>();
  private failed: Error | null = null;

  constructor(path: string) {
    this.worker = new Worker(WORKER, { workerData: { path } });
    this.worker.on('message', (response: OutboxResponse) => {
      const waiter = this.waiting.get(response.id);
      if (!waiter) return;
      this.waiting.delete(response.id);
      if (response.ok) waiter.resolve(response);
      else waiter.reject(new Error(response.error));
    });
    const fail = (err: Error) => {
      this.failed = err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (this.waiting.size) fail(new Error(`the store thread exited (code ${code})`));
    });
  }

  private request(body: WithoutId<OutboxRequest>): Promise<OutboxResponse & { ok: true }> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ ...body, id });
    });
  }

  async claim(provider: string, now: number, leaseUntil: number, limit: number): Promise<ClaimedRow[]> {
    return (await this.request({ op: 'claim', provider, now, leaseUntil, limit })).rows ?? [];
  }

  async claimInDoubt(provider: string, now: number, leaseUntil: number, limit: number): Promise<ClaimedRow[]> {
    return (await this.request({ op: 'claim_in_doubt', provider, now, leaseUntil, limit })).rows ?? [];
  }

  async commit(attempts: readonly AttemptMark[], completions: readonly Completion[], endedLeases: readonly number[]): Promise<GroupResult> {
    return (await this.request({ op: 'commit', attempts, completions, endedLeases })).group ?? { changed: 0, refused: [] };
  }

  async close(): Promise<void> {
    try {
      if (!this.failed) await this.request({ op: 'close' });
    } finally {
      await this.worker.terminate();
    }
  }
}
