/**
 * Threads with a connection of their own to the store that compute a large step's
 * recommendations while the tick's thread reads the step's messages: the two are the
 * step's longest pieces of SQL, and one connection runs one statement at a time.
 *
 * The thread's connection sees what is committed; the tick's step sees its own
 * transaction. Recommendations read orders, their items, products and product_pairs,
 * which a tick never writes, and the tick holds the store's write lock, so no other
 * writer commits meanwhile: both see the same. What the tick's transaction does
 * write, the enrolments and their basis orders, is sent to the thread
 * (recommendationTargets).
 *
 * Started on first use for a store file, kept for the process, unreferenced; none for
 * a store in memory or where the built recommend-worker.js is not beside this file
 * (the sources run by the tests).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { ProductRow } from './message-context.js';
import type { RecommendAnswer, RecommendRequest } from './recommend-worker.js';

const ANSWER_TIMEOUT_MS = 300_000;

export class RecommendThread {
  private answer: RecommendAnswer | null = null;
  private waiting = false;

  private constructor(
    private readonly worker: Worker,
    private readonly port: MessagePort,
    private readonly signal: Int32Array,
  ) {}

  static start(path: string): RecommendThread | null {
    const url = new URL('./recommend-worker.js', import.meta.url);
    if (path === ':memory:' || !existsSync(fileURLToPath(url))) return null;
    const { port1, port2 } = new MessageChannel();
    const signal = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(url, { workerData: { path, port: port2, signal }, transferList: [port2] });
    worker.unref();
    port1.unref();
    return new RecommendThread(worker, port1, signal);
  }

  /** Starts computing; one request at a time (the answer of one the tick gave up on, after an error, is waited for and dropped). */
  submit(request: RecommendRequest): void {
    if (this.waiting) {
      try {
        this.take();
      } catch {
        // that step failed already
      }
    }
    this.answer = null;
    this.waiting = true;
    this.port.postMessage(request);
  }

  /** Whether the answer is there (without waiting). */
  ready(): boolean {
    if (!this.answer) this.answer = (receiveMessageOnPort(this.port)?.message as RecommendAnswer | undefined) ?? null;
    return this.answer !== null;
  }

  /** The answer, waiting for it: each enrolment's list by enrolment id (JSON, as recommendationLists gives it), and the products by id; an error of the thread is thrown here, with its message. */
  take(): { lists: Map<number, string>; products: Map<string, ProductRow> } {
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    for (;;) {
      const seen = Atomics.load(this.signal, 0);
      if (this.ready()) break;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the recommendations thread gave no answer in ${ANSWER_TIMEOUT_MS / 1000} s`);
      Atomics.wait(this.signal, 0, seen, left);
    }
    const a = this.answer!;
    this.answer = null;
    this.waiting = false;
    if ('error' in a) {
      const err = new Error(a.error.message);
      if (a.error.stack) err.stack = a.error.stack;
      throw err;
    }
    return { lists: new Map(a.lists.map(([eid, json]) => [eid as number, json as string])), products: new Map(a.products.map((p) => [p.id, p])) };
  }

  stop(): void {
    void this.worker.terminate();
  }
}

/**
 * One thread. Two, each computing half the enrolments (an enrolment's products depend
 * on its own orders and on lists that are the same for all, so halves give what the
 * whole would), finished sooner when the recommendations started with the content; since
 * a large step starts them before its coupons and outbox rows (engine/content-step.ts),
 * one is as fast on two cores and spends ~1 s less CPU, as each of two computes the
 * shared lists again (1M shop, 100,000 messages: the step 12.0-12.8 s with one thread,
 * 12.0-12.5 s with two; 21.0-22.4 s of CPU against 21.9-22.9 s).
 */
const COUNT = 1;

let shared: { path: string; threads: RecommendThread[] } | undefined;

/** The recommendations threads for the store file at `path` (one store at a time: another path starts others); none for a store in memory. */
export function recommendThreads(path: string): RecommendThread[] {
  if (shared?.path !== path) {
    for (const t of shared?.threads ?? []) t.stop();
    const threads: RecommendThread[] = [];
    for (let i = 0; i < COUNT; i++) {
      const t = RecommendThread.start(path);
      if (t) threads.push(t);
    }
    shared = { path, threads };
  }
  return shared.threads;
}

/** Computes a step's recommendations in the threads, the targets shared out among them; `take` waits for all of them. */
export function recommendInThreads(threads: RecommendThread[], request: RecommendRequest): { ready(): boolean; take(): { lists: Map<number, string>; products: Map<string, ProductRow> } } {
  const per = Math.ceil(request.targets.length / threads.length);
  const used = threads.filter((t, i) => {
    const targets = request.targets.slice(i * per, (i + 1) * per);
    if (targets.length === 0) return false;
    t.submit({ ...request, targets });
    return true;
  });
  return {
    ready: () => used.every((t) => t.ready()),
    take: () => {
      const lists = new Map<number, string>();
      const products = new Map<string, ProductRow>();
      // every thread is waited for, even after one failed: none is left with an answer pending
      let error: unknown = null;
      for (const t of used) {
        try {
          const got = t.take();
          for (const [k, v] of got.lists) lists.set(k, v);
          for (const [k, v] of got.products) products.set(k, v);
        } catch (err) {
          error ??= err;
        }
      }
      if (error) throw error;
      return { lists, products };
    },
  };
}
