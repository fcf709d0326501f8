/**
 * One thread beside the tick's that renders messages while the tick's thread reads the
 * next rows from the store and writes the rendered ones back: on a large step the
 * rendering (Liquid, the text part, the JSON) costs about as much as those queries,
 * and the store's connection cannot be shared. The tick stays synchronous: it posts
 * rows and blocks (Atomics.wait) until their answer is there, in order.
 *
 * Started on first use and kept for the process (a simulation ticks many times);
 * unreferenced, so that it never keeps a finished command alive. It runs the built
 * render-worker.js: where that file is not beside this one (the sources run by the
 * tests), there is no thread and the caller renders in its own.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { MessageContextRow } from '../store/message-context.js';
import type { MessageJob, RenderedRows } from './messages.js';
import type { FromWorker, ToWorker } from './render-worker.js';

/** How long the tick waits for one batch before it calls the thread lost. */
const ANSWER_TIMEOUT_MS = 300_000;

export class RenderThread {
  private seq = 0;
  /** Parts answered so far (tests: the thread did the work). */
  answered = 0;
  private readonly answers = new Map<number, FromWorker>();

  private constructor(
    private readonly port: MessagePort,
    private readonly signal: Int32Array,
  ) {}

  static start(): RenderThread | null {
    const url = new URL('./render-worker.js', import.meta.url);
    if (!existsSync(fileURLToPath(url))) return null;
    const { port1, port2 } = new MessageChannel();
    const signal = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(url, { workerData: { port: port2, signal }, transferList: [port2] });
    worker.unref();
    port1.unref();
    return new RenderThread(port1, signal);
  }

  /** Sets the job the following rows are rendered with. */
  job(job: MessageJob): void {
    this.post({ kind: 'job', job });
  }

  /** Posts rows to render; returns the number to take their answer by. */
  submit(rows: MessageContextRow[]): number {
    const seq = ++this.seq;
    this.post({ kind: 'rows', seq, rows });
    return seq;
  }

  /** The answer to `seq`, waiting for it; an error of the thread is thrown here, with its message. */
  take(seq: number): RenderedRows {
    const deadline = Date.now() + ANSWER_TIMEOUT_MS;
    for (;;) {
      const failed = this.answers.get(-1) ?? this.answers.get(-2);
      const got = failed ?? this.answers.get(seq);
      if (got) {
        // a thread that could not start (-1) stays failed; the rest is answered once
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
      const m = receiveMessageOnPort(this.port);
      if (m) {
        const a = m.message as FromWorker;
        this.answers.set(a.seq, a);
        continue;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the render thread gave no answer in ${ANSWER_TIMEOUT_MS / 1000} s`);
      Atomics.wait(this.signal, 0, seen, left);
    }
  }

  private post(m: ToWorker): void {
    this.port.postMessage(m);
  }
}

let shared: RenderThread | null | undefined;

/** The process's render thread, started on first use; null where there is none (see above). */
export function renderThread(): RenderThread | null {
  if (shared === undefined) shared = RenderThread.start();
  return shared;
}
