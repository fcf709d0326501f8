/**
 * The render thread's own code (render-thread.ts starts it): it renders the rows it is
 * sent with the job it was last given and posts each batch back, then counts the
 * answer in the shared signal so that the tick's thread, blocked waiting, wakes.
 * Every answer is posted, an error too: the tick's thread waits for it.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import type { MessageContextRow } from '../store/message-context.js';
import type { RenderedRows } from './messages.js';
import type { MessageJob } from './messages.js';
import type { CompiledTemplate } from './render.js';

export type ToWorker = { kind: 'job'; job: MessageJob } | { kind: 'rows'; seq: number; rows: MessageContextRow[] };
/** seq -1: the thread could not start (it answers nothing else). */
export type FromWorker = { seq: number; rows: RenderedRows } | { seq: number; fatal: { message: string; stack: string | undefined } };

const { port, signal } = workerData as { port: MessagePort; signal: Int32Array };

function answer(message: FromWorker): void {
  port.postMessage(message);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

const fatal = (seq: number, err: unknown) => ({ seq, fatal: { message: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined } });

try {
  const { renderRows } = await import('./messages.js');
  const { fromPortable } = await import('./render.js');
  let job: MessageJob | null = null;
  let template: CompiledTemplate | null = null;
  // a job whose template does not parse here fails each of its parts with the error
  let broken: unknown = null;
  port.on('message', (m: ToWorker) => {
    if (m.kind === 'job') {
      job = m.job;
      template = null;
      broken = null;
      try {
        template = m.job.template ? fromPortable(m.job.template) : null;
      } catch (err) {
        broken = err;
      }
      return;
    }
    try {
      if (broken) throw broken;
      if (!job) throw new Error('render thread: rows before a job');
      answer({ seq: m.seq, rows: renderRows(job, template, m.rows) });
    } catch (err) {
      answer(fatal(m.seq, err));
    }
  });
} catch (err) {
  answer(fatal(-1, err));
}
