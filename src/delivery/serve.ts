/**
 * The delivery-webhook receiver behind `journey serve` (node:http: one route per
 * provider and a health check do not earn a framework).
 *
 *   POST /webhooks/<provider>  verify the raw body against the provider's signature,
 *                              store its events, answer 200
 *   GET  /health               200 while the server runs
 *
 * Verification and storage run in one transaction together with the replay ledger
 * (webhook_requests): a request is remembered only if its events were stored, so
 * when storing fails (500) the provider's retry of the same request is accepted,
 * not refused as a replay; and a provider's retry after a lost 200 stores nothing
 * twice, because message_events.event_id is unique. Everything is synchronous
 * (better-sqlite3), so a request is answered as soon as its transaction commits.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JourneyError } from '../errors.js';
import type { Config, ProviderType } from '../project/model.js';
import type { StoreDb } from '../store/db.js';
import { pruneWebhookRequests, rememberWebhookRequest, storeDeliveryEvents, type StoredEvents } from '../store/message-events.js';
import { createWebhookVerifier, hasDeliveryWebhooks, WebhookError, type WebhookFailure, type WebhookVerifier } from './webhooks/index.js';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Replay ids are kept this long; providers give up retrying well before. */
export const REPLAY_MEMORY_MS = 7 * 24 * 60 * 60_000;

export interface WebhookServerOptions {
  /** Default 0 (any free port). */
  port?: number;
  /** Default 127.0.0.1: put a TLS-terminating proxy in front for the internet. */
  host?: string;
  /**
   * The base URL providers call (https://hooks.shop.example), without the path:
   * signatures that cover the URL (Twilio) are checked against it + the request's
   * path and query. Default http://<host>:<port>.
   */
  publicUrl?: string;
  /** Bodies above this get 413. Default 1 MiB (SendGrid batches stay well below). */
  maxBodyBytes?: number;
  /** Signed timestamps older than this are refused (SendGrid, Mailgun). Default 5 minutes. */
  maxAgeMs?: number;
  now?: () => number;
  /** One record per request; never carries secrets or bodies. */
  onRequest?: (record: RequestRecord) => void;
}

export type RequestRecord =
  | { kind: 'stored'; provider: string; events: number; stored: StoredEvents; ms: number }
  | { kind: 'refused'; provider: string | null; status: 400 | 401 | 404 | 405 | 413; reason: WebhookFailure | 'unknown_provider' | 'method' | 'too_large'; message: string }
  | { kind: 'error'; provider: string; status: 500; message: string };

export interface WebhookServer {
  /** The address it listens on, http://127.0.0.1:<port>. */
  url: string;
  port: number;
  /** The providers with a webhook route, and those configured without what verifying needs. */
  routes: { provider: string; type: ProviderType }[];
  disabled: { provider: string; reason: string }[];
  /** Stops accepting, lets requests in flight finish, then resolves. */
  close(): Promise<void>;
}

interface Route {
  type: ProviderType;
  verifier: WebhookVerifier;
}

export async function startWebhookServer(db: StoreDb, config: Config, env: NodeJS.ProcessEnv, opts: WebhookServerOptions = {}): Promise<WebhookServer> {
  const now = opts.now ?? Date.now;
  const { routes, disabled } = buildRoutes(db, config, env, opts, now);
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const host = opts.host ?? '127.0.0.1';
  let publicUrl = '';
  const record = opts.onRequest ?? (() => {});

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (path === '/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, { error: 'use GET' });
      return answer(res, 200, { ok: true });
    }
    const match = /^\/webhooks\/([^/]+)\/?$/.exec(path);
    if (!match) return answer(res, 404, { error: 'not found' });
    const name = safeDecode(match[1]!);
    const route = name === null ? undefined : routes.get(name);
    if (!route) {
      record({ kind: 'refused', provider: name, status: 404, reason: 'unknown_provider', message: `no webhook route for provider '${name ?? match[1]}'` });
      return answer(res, 404, { error: 'unknown provider' });
    }
    if (req.method !== 'POST') {
      record({ kind: 'refused', provider: name, status: 405, reason: 'method', message: `${req.method ?? '?'} is not POST` });
      return answer(res, 405, { error: 'use POST' }, { allow: 'POST' });
    }
    readBody(req, maxBody).then(
      (body) => {
        if (body === null) {
          record({ kind: 'refused', provider: name, status: 413, reason: 'too_large', message: `body over ${maxBody} bytes` });
          answer(res, 413, { error: `body over ${maxBody} bytes` }, { connection: 'close' });
          return;
        }
        handle(route, name!, body, req, res);
      },
      () => res.destroy(),
    );
  });

  function handle(route: Route, provider: string, rawBody: Buffer, req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    try {
      const result = db.transaction(() => {
        const events = route.verifier.verify({ rawBody, headers: req.headers, url: publicUrl + (req.url ?? '/') });
        return { events: events.length, stored: storeDeliveryEvents(db, route.type, events, now()) };
      });
      record({ kind: 'stored', provider, events: result.events, stored: result.stored, ms: performance.now() - started });
      answer(res, 200, { ok: true, stored: result.stored.stored, duplicates: result.stored.duplicates });
    } catch (err) {
      if (err instanceof WebhookError) {
        // The verifier's message names what failed, never a secret or the body.
        record({ kind: 'refused', provider, status: err.status, reason: err.reason, message: err.message });
        // a malformed body is told what is wrong with it (as the log is); a refused signature only that it was refused
        answer(res, err.status, err.status === 400 ? { error: err.reason, message: err.message } : { error: err.reason });
        return;
      }
      // Nothing was stored or remembered: the provider's retry will be accepted.
      record({ kind: 'error', provider, status: 500, message: err instanceof Error ? err.message : String(err) });
      answer(res, 500, { error: 'internal error' });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new JourneyError(`cannot listen on ${host}:${opts.port ?? 0}: ${err.code ?? err.message}`, { cause: err })));
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  publicUrl = (opts.publicUrl ?? url).replace(/\/+$/, '');
  pruneWebhookRequests(db, now() - REPLAY_MEMORY_MS);
  const pruner = setInterval(() => pruneWebhookRequests(db, now() - REPLAY_MEMORY_MS), 60 * 60_000).unref();

  return {
    url,
    port,
    routes: [...routes].map(([provider, r]) => ({ provider, type: r.type })),
    disabled,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(pruner);
        server.close(() => resolve());
        // Keep-alive sockets with no request in flight would hold close() open.
        server.closeIdleConnections();
      }),
  };
}

/**
 * A verifier per provider that sends delivery webhooks. A provider configured
 * without `signing_secret` has no route (it is listed as disabled); a secret that
 * names a missing environment variable fails the start, as it would for sending.
 */
function buildRoutes(db: StoreDb, config: Config, env: NodeJS.ProcessEnv, opts: WebhookServerOptions, now: () => number): { routes: Map<string, Route>; disabled: { provider: string; reason: string }[] } {
  const routes = new Map<string, Route>();
  const disabled: { provider: string; reason: string }[] = [];
  for (const [name, provider] of Object.entries(config.providers)) {
    if (!hasDeliveryWebhooks(provider.type)) continue;
    // Twilio signs with the auth token it already has; the others need their own secret.
    if (provider.type !== 'twilio' && typeof provider.settings.signing_secret !== 'string') {
      disabled.push({ provider: name, reason: `no signing_secret configured for its ${provider.type} webhooks` });
      continue;
    }
    const verifier = createWebhookVerifier(provider, env, {
      seen: (id) => rememberWebhookRequest(db, id, now()),
      now,
      ...(opts.maxAgeMs !== undefined ? { maxAgeMs: opts.maxAgeMs } : {}),
    });
    routes.set(name, { type: provider.type, verifier });
  }
  return { routes, disabled };
}

/** The body, or null when it is over the limit (the rest is not read). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) {
    req.resume();
    return Promise.resolve(null);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

function answer(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
