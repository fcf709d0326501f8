/**
 * Threads beside the tick's that render messages while the tick's thread reads the
 * next rows from the store and writes the rendered ones back: on a large step the
 * rendering (Liquid, the text part, the JSON) costs about as much as those queries,
 * and the store's connection cannot be shared. The tick stays synchronous: it posts
 * rows and blocks (Atomics.wait) until their answer is there, in order.
 *
 * Started on first use and kept for the process (a simulation ticks many times);
 * unreferenced, so that it never keeps a finished command alive. It runs the built
 * render-worker.js: where that file is not beside this one (the sources run by the
 * tests), or on a machine of one core, there is no thread and the caller renders in its own.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { MessageContextRow } from '../store/message-context.js';
import type { MessageJob, RenderedRows } from './messages.js';
import type { FromWorker, ToWorker } from './render-worker.js';

/** How long the tick waits for one part before it calls the threads lost. */
const ANSWER_TIMEOUT_MS = 300_000;

/** The render threads; parts go to them in turn and are taken back in the order they were posted. */
export class RenderThreads {
  private seq = 0;
  /** Parts answered so far (tests: the threads did the work). */
  answered = 0;
  private readonly answers = new Map<number, FromWorker>();

  private constructor(
    private readonly ports: MessagePort[],
    /** Counts the answers of all the threads: the tick waits on it. */
    private readonly signal: Int32Array,
  ) {}

  get size(): number {
    return this.ports.length;
  }

  static start(count: number): RenderThreads | null {
    const url = new URL('./render-worker.js', import.meta.url);
    if (!existsSync(fileURLToPath(url))) return null;
    const signal = new Int32Array(new SharedArrayBuffer(4));
    const ports = Array.from({ length: count }, () => {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(url, { workerData: { port: port2, signal }, transferList: [port2] });
      worker.unref();
      port1.unref();
      return port1;
    });
    return new RenderThreads(ports, signal);
  }

  /** Sets the job the following rows are rendered with. */
  job(job: MessageJob): void {
    for (const port of this.ports) post(port, { kind: 'job', job });
  }

  /** Posts rows to render; returns the number to take their answer by. */
  submit(rows: MessageContextRow[]): number {
    const seq = ++this.seq;
    post(this.ports[seq % this.ports.length]!, { kind: 'rows', seq, rows });
    return seq;
  }

  /** The answer to `seq`, waiting for it; an error of a thread is thrown here, with its message. */
  take(seq: number): RenderedRows {
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    for (;;) {
      // a thread that could not start (-1) stays failed; the rest is answered once
      const got = this.answers.get(-1) ?? this.answers.get(seq);
      if (got) {
        if (got.seq !== -1) this.answers.delete(got.seq);
        if ('fatal' in got) {
          const err = new Error(got.fatal.message);
          if (got.fatal.stack) err.stack = got.fatal.stack;
          throw err;
        }
        this.answered++;
        return got.rows;
      }
      const seen = Atomics.load(this.signal, 0);
      let received = false;
      for (const port of this.ports) {
        for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
          const a = m.message as FromWorker;
          this.answers.set(a.seq, a);
          received = true;
        }
      }
      if (received) continue;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the render threads gave no answer in ${ANSWER_TIMEOUT_MS / 1000} s`);
      Atomics.wait(this.signal, 0, seen, left);
    }
  }
}

function post(port: MessagePort, m: ToWorker): void {
  port.postMessage(m);
}

/**
 * Two threads, or none on a machine of one core (nothing runs beside the tick there).
 * On two cores two did better than one (1M shop, 100,000 messages: the content step
 * 14.8-15.5 s against 15.6-16.7 s): the tick's thread waits for them less, and while
 * it waits they have both cores.
 */
const COUNT = availableParallelism() > 1 ? 2 : 0;

let shared: RenderThreads | null | undefined;

/** The process's render threads, started on first use; null where there are none (see above). */
export function renderThreads(): RenderThreads | null {
  if (shared === undefined) shared = COUNT > 0 ? RenderThreads.start(COUNT) : null;
  return shared;
}
