/**
 * The generic webhook provider: POST JSON to any URL (a WhatsApp or push gateway,
 * the shop's own system). The receiver gets the key twice, as the Idempotency-Key
 * header and in the body, and can check that the request came from us with
 * X-Journey-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
 * (the timestamp is signed too, so a captured request cannot be replayed later
 * under a fresh time).
 */
import { createHmac } from 'node:crypto';
import type { OutgoingMessage, Provider, SendOutcome, SyncRequest, WireRequest } from '../message.js';
import { failure, fromNetwork, HttpClient, httpOptions, isObject, parseJson, sentOutcome } from './http.js';
import { inDoubtOf, limitsOf, type ProviderOptions, type Settings } from './settings.js';

export const SIGNATURE_HEADER = 'x-journey-signature';

export function signPayload(secret: string, unixSeconds: number, rawBody: string | Buffer): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.`).update(rawBody).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

export function createWebhook(settings: Settings, opts: ProviderOptions): Provider {
  const target = new URL(settings.requireString('url'));
  const secret = settings.secret('signing_secret');
  const extra: Record<string, string> = {};
  const configured = settings.config.settings.headers;
  if (isObject(configured)) {
    for (const [name, value] of Object.entries(configured)) {
      if (typeof value === 'string') extra[name.toLowerCase()] = settings.resolve(value, `headers.${name}`);
    }
  }
  const limits = limitsOf(settings, opts);
  const http = new HttpClient(target.origin, httpOptions(limits.concurrency, limits.timeoutMs));
  const path = target.pathname + target.search;
  const now = opts.now ?? Date.now;
  const redact = (text: string) => settings.redact(text);

  async function post(key: string, payload: Record<string, unknown>): Promise<SendOutcome> {
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = { ...extra, 'content-type': 'application/json', 'idempotency-key': key };
    if (secret) headers[SIGNATURE_HEADER] = signPayload(secret, Math.floor(now() / 1000), body);
    const result = await http.post(path, headers, body);
    if (result.kind === 'failed') return fromNetwork(result, redact);
    const res = result.response;
    if (res.status >= 200 && res.status < 300) {
      const json = parseJson(res.body);
      const id = isObject(json) && (typeof json.id === 'string' || typeof json.id === 'number') ? String(json.id) : key;
      return sentOutcome(res, id);
    }
    return failure(res, describeError, redact);
  }

  return {
    name: settings.name,
    type: 'webhook',
    limits,
    // the receiver gets our Idempotency-Key: a request repeated under it is recognised
    ...inDoubtOf(settings, { lookup: false, dedupes: true }),
    // no delivery events come back from it
    eventsById: false,
    send: (message: OutgoingMessage) => post(message.idempotencyKey, messagePayload(message)),
    request: (message: OutgoingMessage): WireRequest => ({ method: 'POST', url: target.toString(), contentType: 'application/json', body: JSON.stringify(messagePayload(message)) }),
    sync: (request: SyncRequest) =>
      post(request.idempotencyKey, {
        idempotency_key: request.idempotencyKey,
        type: 'sync',
        customer: request.customer,
        ...(request.profile ? { profile: request.profile } : {}),
        ...(request.event ? { event: request.event } : {}),
      }),
    close: () => http.close(),
  };
}

function messagePayload(message: OutgoingMessage): Record<string, unknown> {
  return {
    idempotency_key: message.idempotencyKey,
    channel: message.channel,
    to: message.to,
    ...(message.from ? { from: message.from } : {}),
    template: message.template,
    data: message.data,
    ...(message.content ? { content: message.content } : {}),
    ...(message.tags ? { tags: message.tags } : {}),
    ...(message.headers ? { headers: message.headers } : {}),
  };
}

/** Whatever the receiver says: { error } or { message } (a string or { message }). */
function describeError(json: unknown): string | null {
  if (!isObject(json)) return null;
  for (const key of ['error', 'message', 'detail']) {
    const value = json[key];
    if (typeof value === 'string') return value;
    if (isObject(value) && typeof value.message === 'string') return value.message;
  }
  return null;
}
