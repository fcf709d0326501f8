/**
 * Development and dry runs: one JSON line per message appended to a file. The
 * file is opened once in append mode; each line is one write, which O_APPEND keeps
 * whole even when sends run concurrently.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { OutgoingMessage, Provider, SendOutcome, SyncRequest, WireRequest } from '../message.js';
import { inDoubtOf, limitsOf, type ProviderOptions, type Settings } from './settings.js';

export function createFile(settings: Settings, opts: ProviderOptions): Provider {
  const path = resolve(opts.baseDir ?? process.cwd(), settings.requireString('path'));
  const now = opts.now ?? Date.now;
  let handle: Promise<FileHandle> | null = null;
  const file = () => (handle ??= mkdir(dirname(path), { recursive: true }).then(() => open(path, 'a')));

  async function append(record: Record<string, unknown>): Promise<SendOutcome> {
    const id = `file-${randomUUID()}`;
    try {
      await (await file()).write(`${JSON.stringify({ id, at: new Date(now()).toISOString(), provider: settings.name, ...record })}\n`);
    } catch (err) {
      handle = null;
      return { kind: 'retry', error: `cannot append to ${path}: ${(err as Error).message}` };
    }
    return { kind: 'sent', providerMessageId: id, status: 200 };
  }

  return {
    name: settings.name,
    type: 'file',
    limits: limitsOf(settings, opts),
    // nothing to ask and no key it would recognise
    ...inDoubtOf(settings, { lookup: false, dedupes: false }),
    // no delivery events come back from it
    eventsById: false,
    send: (message: OutgoingMessage) => append({ type: 'message', ...message }),
    // the line as written, less the id and time it gets when it is
    request: (message: OutgoingMessage): WireRequest => ({ method: 'POST', url: path, contentType: 'application/x-ndjson', body: JSON.stringify({ provider: settings.name, type: 'message', ...message }) }),
    sync: (request: SyncRequest) => append({ type: 'sync', ...request }),
    async close() {
      const h = handle;
      handle = null;
      if (h) await (await h).close();
    },
  };
}
