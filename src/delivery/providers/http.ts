/**
 * The one HTTP path every provider module takes: a keep-alive undici Pool per
 * provider origin, sized to the provider's concurrency so that requests beyond it
 * wait in the pool's queue instead of opening more sockets, and the rules that turn
 * a response or a network failure into a SendOutcome.
 */
import { Pool, type Dispatcher } from 'undici';
import type { SendOutcome } from '../message.js';

export const DEFAULT_CONCURRENCY = 16;
export const DEFAULT_TIMEOUT_MS = 15_000;

export interface HttpOptions {
  concurrency: number;
  /** Applies to connecting, to waiting for the headers and to each gap in the body. */
  timeoutMs: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** inDoubt: the request may have reached the provider (it was written, no answer came). */
export type HttpResult = { kind: 'response'; response: HttpResponse } | { kind: 'failed'; error: string; permanent: boolean; inDoubt: boolean };

export class HttpClient {
  private readonly pool: Pool;
  /** A path prefix from the configured base URL (a proxy mounted under /sendgrid, say). */
  private readonly basePath: string;

  constructor(baseUrl: string, opts: HttpOptions) {
    const url = new URL(baseUrl);
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.pool = new Pool(url.origin, {
      connections: opts.concurrency,
      // One request per socket at a time: a provider that resets a pipelined
      // connection would otherwise take innocent requests down with it.
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connect: { timeout: opts.timeoutMs },
    });
  }

  /**
   * One POST, its whole answer read. Through the pool's dispatch() with a small
   * handler rather than request(): request() wraps every answer in a Readable
   * stream and an async resource, which cost about 4 us a request, a quarter of
   * all the time a bare loop spends per request on this machine (throwaway loop,
   * 100,000 posts to a local server: 13 against 17 us of main-thread CPU).
   */
  post(path: string, headers: Record<string, string>, body: string): Promise<HttpResult> {
    return this.request('POST', path, headers, body);
  }

  /** One GET (the providers' lookups), its whole answer read. */
  get(path: string, headers: Record<string, string>): Promise<HttpResult> {
    return this.request('GET', path, headers, null);
  }

  private request(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body: string | null): Promise<HttpResult> {
    return new Promise((resolve) => {
      let status = 0;
      let responseHeaders: HttpResponse['headers'] = {};
      const chunks: Buffer[] = [];
      const handler: Dispatcher.DispatchHandler = {
        // (undici takes a handler for this callback API only when it has onRequestStart)
        onRequestStart() {},
        onResponseStart(_controller, statusCode, headers) {
          status = statusCode;
          responseHeaders = headers as HttpResponse['headers'];
        },
        onResponseData(_controller, chunk) {
          chunks.push(chunk);
        },
        onResponseEnd() {
          const text = chunks.length === 0 ? '' : chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
          resolve({ kind: 'response', response: { status, headers: responseHeaders, body: text } });
        },
        onResponseError(_controller, err) {
          resolve(networkFailure(err));
        },
      };
      try {
        this.pool.dispatch({ method, path: this.basePath + path, headers, body }, handler);
      } catch (err) {
        resolve(networkFailure(err));
      }
    });
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * A request that never got a complete answer. POST is not retried by undici, so
 * the provider may or may not have acted on it: that is exactly what the
 * idempotency key is for, and why this is a retry rather than a failure.
 */
function networkFailure(err: unknown): HttpResult {
  const e = err as { code?: string; message?: string };
  const code = e.code ?? 'ERR';
  const message = e.message ?? String(err);
  // An argument undici refused (a header value with a newline from the config)
  // fails the same way every time.
  const permanent = code === 'UND_ERR_INVALID_ARG' || code.startsWith('ERR_INVALID');
  const error = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' ? `timeout (${code})` : `${code}: ${message}`;
  // Only a failure before any byte left says for sure that the provider has nothing;
  // a reset or a timeout once the request was written may come after it was accepted.
  return { kind: 'failed', error, permanent, inDoubt: !permanent && !NOT_SENT.has(code) };
}

/** Network failures that happen before the request is written: nothing reached the provider. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED']);

export function header(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * How long the provider asked us to wait: Retry-After (seconds or an HTTP date),
 * Retry-After-Ms, or a rate-limit reset header. X-RateLimit-Reset is an epoch in
 * seconds at SendGrid and Mailgun, RateLimit-Reset a number of seconds at Klaviyo
 * (IETF draft); the magnitude tells them apart (an epoch in ms is > 1e12, in
 * seconds > 1e9, anything smaller is a delay).
 */
export function retryAfterMs(headers: HttpResponse['headers'], now = Date.now()): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const after = header(headers, 'retry-after');
  if (after !== undefined) {
    const trimmed = after.trim();
    if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
    const date = Date.parse(trimmed);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return rateLimitResetMs(headers, now);
}

/** When the provider's rate-limit window resets, from its reset header; undefined without one. */
function rateLimitResetMs(headers: HttpResponse['headers'], now: number): number | undefined {
  for (const name of ['x-ratelimit-reset', 'ratelimit-reset', 'x-rate-limit-reset']) {
    const value = header(headers, name);
    if (value === undefined || !/^\d+(\.\d+)?$/.test(value.trim())) continue;
    const n = Number(value.trim());
    if (n > 1e12) return Math.max(0, Math.ceil(n - now));
    if (n > 1e9) return Math.max(0, Math.ceil(n * 1000 - now));
    return Math.ceil(n * 1000);
  }
  return undefined;
}

/** A reset header that is missing or absurd must not stall a lane for long. */
export const MAX_RATE_LIMIT_PAUSE_MS = 60_000;
const DEFAULT_RATE_LIMIT_PAUSE_MS = 1_000;

/**
 * The outcome of the provider's success answer. When its rate-limit headers say
 * nothing is left of the allowance (X-RateLimit-Remaining: 0 at SendGrid and
 * Mailgun, RateLimit-Remaining at Klaviyo), the outcome asks the dispatcher to
 * pause until the window resets, so the next request is not a certain 429.
 */
export function sentOutcome(res: HttpResponse, providerMessageId: string, now?: number): SendOutcome {
  const outcome: Extract<SendOutcome, { kind: 'sent' }> = { kind: 'sent', providerMessageId, status: res.status };
  for (const name of REMAINING_HEADERS) {
    const remaining = header(res.headers, name);
    if (remaining === undefined) continue;
    if (remaining.trim() === '0') outcome.pauseMs = Math.min(MAX_RATE_LIMIT_PAUSE_MS, rateLimitResetMs(res.headers, now ?? Date.now()) ?? DEFAULT_RATE_LIMIT_PAUSE_MS);
    break;
  }
  return outcome;
}

const REMAINING_HEADERS = ['x-ratelimit-remaining', 'ratelimit-remaining', 'x-rate-limit-remaining'];

/** 408, 429 and 5xx can succeed later; any other status will not. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * The outcome of a response that was not the provider's success answer. `describe`
 * pulls the provider's own error text out of its parsed JSON body; redact removes
 * secrets the provider may have echoed back.
 */
export function failure(res: HttpResponse, describe: (json: unknown) => string | null, redact: (text: string) => string, now = Date.now()): SendOutcome {
  const error = redact(`HTTP ${res.status}: ${errorText(res.body, describe)}`);
  if (isRetryableStatus(res.status)) {
    const wait = retryAfterMs(res.headers, now);
    return wait === undefined ? { kind: 'retry', error, status: res.status } : { kind: 'retry', error, status: res.status, retryAfterMs: wait };
  }
  return { kind: 'permanent', error, status: res.status };
}

export function fromNetwork(result: Extract<HttpResult, { kind: 'failed' }>, redact: (text: string) => string): SendOutcome {
  const error = redact(result.error);
  if (result.permanent) return { kind: 'permanent', error };
  return result.inDoubt ? { kind: 'retry', error, inDoubt: true } : { kind: 'retry', error };
}

/** A lookup's answer that was not the provider's success: the message stays in doubt. */
export function lookupFailure(result: HttpResult, redact: (text: string) => string): { kind: 'unknown'; error: string; retryAfterMs?: number } {
  if (result.kind === 'failed') return { kind: 'unknown', error: `lookup: ${redact(result.error)}` };
  const wait = retryAfterMs(result.response.headers);
  const error = `lookup: ${redact(`HTTP ${result.response.status}: ${errorText(result.response.body, () => null)}`)}`;
  return wait === undefined ? { kind: 'unknown', error } : { kind: 'unknown', error, retryAfterMs: wait };
}

const MAX_ERROR_TEXT = 500;

function errorText(body: string, describe: (json: unknown) => string | null): string {
  const trimmed = body.trim();
  if (trimmed === '') return '(empty body)';
  let described: string | null = null;
  try {
    described = describe(JSON.parse(trimmed));
  } catch {
    // Not JSON (an HTML error page from a proxy, Mailgun's plain "Forbidden").
  }
  const text = described ?? trimmed.replace(/\s+/g, ' ');
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}…` : text;
}

export function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return null;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A path under a configured base URL (which may carry a path prefix of its own), as a full URL. */
export function urlOf(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + path;
}

/** Basic auth header value. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** Shared options for every HTTP provider, read from settings and createProvider's options. */
export function httpOptions(concurrency: number | null, timeoutMs: number | undefined): HttpOptions {
  return { concurrency: concurrency ?? DEFAULT_CONCURRENCY, timeoutMs: timeoutMs ?? DEFAULT_TIMEOUT_MS };
}
