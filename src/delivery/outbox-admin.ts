/**
 * The project-level operations behind `journey outbox`, `journey outbox retry`,
 * `journey outbox send` and `journey serve`: each opens what it needs (the store,
 * the project's config), does one thing, closes, and returns plain data for the
 * command to print.
 */
import { openProject } from '../project/open-project.js';
import { storePathFor } from '../project/paths.js';
import { openStore } from '../store/open.js';
import { deliveryOutcome, notDelivered, type DeliveryOutcome } from './outcome.js';
import type { OutboxStatus, StoredStatus } from '../store/outbox.js';
import { countByStatus, listRows, requeueRows, resolveRows, type OutboxListRow, type Resolution } from '../store/outbox-operator.js';
import { dispatch, type DispatchOptions, type DispatchReport } from './dispatcher.js';
import { startWebhookServer, type WebhookServer, type WebhookServerOptions } from './serve.js';

export interface OutboxListing {
  counts: Record<OutboxStatus, number>;
  statuses: OutboxStatus[];
  /** Newest first; addresses as stored (the CLI masks them: src/pii.ts). */
  rows: OutboxListRow[];
}

/** What `journey outbox` lists by default: what still needs someone's attention. */
export const OPEN_STATUSES: readonly OutboxStatus[] = ['queued', 'attempting', 'in_doubt', 'failed', 'dead'];

export function listOutbox(root: string, opts: { statuses?: readonly OutboxStatus[]; limit?: number } = {}): OutboxListing {
  const db = openStore(storePathFor(root));
  try {
    const statuses = [...(opts.statuses ?? OPEN_STATUSES)];
    const rows = listRows(db, statuses, opts.limit ?? 50);
    return { counts: countByStatus(db), statuses, rows };
  } finally {
    db.close();
  }
}

export interface RetryResult {
  requeued: number[];
  /** Ids asked for that were not failed (or dead, with dead): their status, or null when there is no such row. */
  skipped: { id: number; status: OutboxStatus | null }[];
}

/** Re-queues failed rows (and dead ones when `dead`), all or the given ids, due now. */
export function retryOutbox(root: string, opts: { ids?: readonly number[]; dead?: boolean; now?: number } = {}): RetryResult {
  const db = openStore(storePathFor(root));
  try {
    const statuses: StoredStatus[] = opts.dead ? ['failed', 'dead'] : ['failed'];
    const result = requeueRows(db, statuses, opts.now ?? Date.now(), opts.ids && opts.ids.length ? opts.ids : undefined);
    return { requeued: result.requeued, skipped: result.skipped };
  } finally {
    db.close();
  }
}

export interface ResolveResult {
  resolved: number[];
  /** Ids asked for that are not in doubt (or are being settled by a dispatcher right now): their state, or null when there is no such row. */
  skipped: { id: number; status: OutboxStatus | null }[];
}

/**
 * Settles messages in doubt by hand (`journey outbox resolve`): the given ids, or
 * every held one, as accepted (the provider's console shows it went out) or to be
 * sent again under the same key.
 */
export function resolveOutbox(root: string, opts: { ids: readonly number[] | 'all-held'; as: Resolution; now?: number }): ResolveResult {
  const db = openStore(storePathFor(root));
  try {
    return resolveRows(db, opts.ids, opts.as, opts.now ?? Date.now());
  } finally {
    db.close();
  }
}

/** Delivers everything due now through the project's providers (secrets from env). */
export async function sendOutbox(root: string, env: NodeJS.ProcessEnv, opts: DispatchOptions = {}): Promise<{ report: DispatchReport; outcome: DeliveryOutcome }> {
  const project = openProject(root);
  const db = openStore(storePathFor(root));
  try {
    const report = await dispatch(db, project.config, env, { ...opts, providerOptions: { baseDir: root, ...opts.providerOptions } });
    return { report, outcome: deliveryOutcome(report, notDelivered(countByStatus(db))) };
  } finally {
    db.close();
  }
}

/**
 * Runs the webhook receiver for the project until `signal` aborts; onStart gets
 * the server (its URL and routes) once it listens.
 */
export async function serveWebhooks(root: string, env: NodeJS.ProcessEnv, opts: WebhookServerOptions & { signal: AbortSignal; onStart?: (server: WebhookServer) => void }): Promise<void> {
  const project = openProject(root);
  const db = openStore(storePathFor(root));
  let server: WebhookServer | null = null;
  try {
    server = await startWebhookServer(db, project.config, env, opts);
    opts.onStart?.(server);
    if (!opts.signal.aborted) await new Promise<void>((resolve) => opts.signal.addEventListener('abort', () => resolve(), { once: true }));
  } finally {
    await server?.close();
    db.close();
  }
}
