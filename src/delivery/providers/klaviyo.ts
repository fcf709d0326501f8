/**
 * Klaviyo: profile properties through POST /api/profile-import (an upsert, so a
 * repeat is harmless) and events through POST /api/events with unique_id set to
 * the idempotency key (Klaviyo drops a second event with the same unique_id), both
 * JSON:API with a pinned revision so the request shapes do not drift.
 *
 * send() also goes out as an event: the template id is the metric name and the
 * personalisation fields its properties, for shops whose Klaviyo flows do the
 * sending ("Journey: second order offer" triggers a flow).
 */
import type { OutgoingMessage, Provider, SendOutcome, SyncRequest, DataValue, WireRequest } from '../message.js';
import { failure, fromNetwork, HttpClient, httpOptions, isObject, parseJson, sentOutcome, urlOf } from './http.js';
import { inDoubtOf, limitsOf, type ProviderOptions, type Settings } from './settings.js';

export const KLAVIYO_API = 'https://a.klaviyo.com';
export const KLAVIYO_REVISION = '2024-10-15';

type Identity = { email?: string; phone_number?: string; external_id?: string };

export function createKlaviyo(settings: Settings, opts: ProviderOptions): Provider {
  const apiKey = settings.requireSecret('api_key');
  const baseUrl = settings.string('url') ?? KLAVIYO_API;
  const limits = limitsOf(settings, opts);
  const http = new HttpClient(baseUrl, httpOptions(limits.concurrency, limits.timeoutMs));
  const headers = {
    authorization: `Klaviyo-API-Key ${apiKey}`,
    revision: KLAVIYO_REVISION,
    accept: 'application/vnd.api+json',
    'content-type': 'application/vnd.api+json',
  };
  const redact = (text: string) => settings.redact(text);

  async function post(path: string, body: unknown, fallbackId: string): Promise<SendOutcome> {
    const result = await http.post(path, headers, JSON.stringify(body));
    if (result.kind === 'failed') return fromNetwork(result, redact);
    const res = result.response;
    if (res.status >= 200 && res.status < 300) {
      // profile-import answers 200/201 with the profile; events answer 202 with no body.
      const json = parseJson(res.body);
      const id = isObject(json) && isObject(json.data) && typeof json.data.id === 'string' ? json.data.id : fallbackId;
      return sentOutcome(res, id);
    }
    return failure(res, describeError, redact);
  }

  async function sync(request: SyncRequest): Promise<SendOutcome> {
    const identity = identityOf(request.customer);
    if (!identity.email && !identity.phone_number && !identity.external_id) return { kind: 'permanent', error: 'customer has no e-mail, phone or id for Klaviyo' };
    if (!request.profile && !request.event) return { kind: 'permanent', error: 'sync request has neither profile properties nor an event' };
    let outcome: SendOutcome | null = null;
    if (request.profile) {
      outcome = await post('/api/profile-import', profileImportBody(identity, request.profile), request.customer.id);
      // Stop here: the whole request is retried, and both halves are idempotent.
      if (outcome.kind !== 'sent') return outcome;
    }
    if (request.event) outcome = await post('/api/events', eventBody(identity, request.event, request.idempotencyKey), request.idempotencyKey);
    return outcome!;
  }

  return {
    name: settings.name,
    type: 'klaviyo',
    limits,
    // events carry our key as unique_id (Klaviyo drops a repeat), profile imports are upserts
    ...inDoubtOf(settings, { lookup: false, dedupes: true }),
    // no delivery events come back from it
    eventsById: false,
    send(message: OutgoingMessage): Promise<SendOutcome> {
      return post('/api/events', messageEvent(message), message.idempotencyKey);
    },
    request: (message: OutgoingMessage): WireRequest => ({ method: 'POST', url: urlOf(baseUrl, '/api/events'), contentType: headers['content-type'], body: JSON.stringify(messageEvent(message)) }),
    sync,
    close: () => http.close(),
  };
}

/** A message as the event that triggers the shop's Klaviyo flow. */
function messageEvent(message: OutgoingMessage): unknown {
  const identity: Identity = message.to.includes('@') ? { email: message.to } : { phone_number: message.to };
  const metric = message.template.id ?? message.template.subject ?? `journey ${message.channel}`;
  return eventBody(identity, { name: metric, properties: { ...message.data, channel: message.channel } }, message.idempotencyKey);
}

function identityOf(customer: SyncRequest['customer']): Identity {
  const identity: Identity = { external_id: customer.id };
  if (customer.email) identity.email = customer.email;
  if (customer.phone) identity.phone_number = customer.phone;
  return identity;
}

export function profileImportBody(identity: Identity, properties: Record<string, DataValue>): unknown {
  return { data: { type: 'profile', attributes: { ...identity, properties } } };
}

export function eventBody(identity: Identity, event: { name: string; properties: Record<string, DataValue>; time?: string }, uniqueId: string): unknown {
  return {
    data: {
      type: 'event',
      attributes: {
        properties: event.properties,
        ...(event.time ? { time: event.time } : {}),
        unique_id: uniqueId,
        metric: { data: { type: 'metric', attributes: { name: event.name } } },
        profile: { data: { type: 'profile', attributes: identity } },
      },
    },
  };
}

/** JSON:API { errors: [{ code, title, detail, source: { pointer } }] }. */
function describeError(json: unknown): string | null {
  if (!isObject(json) || !Array.isArray(json.errors)) return null;
  const parts = json.errors.filter(isObject).map((e) => {
    const text = typeof e.detail === 'string' ? e.detail : typeof e.title === 'string' ? e.title : 'error';
    const code = typeof e.code === 'string' ? `${e.code}: ` : '';
    const pointer = isObject(e.source) && typeof e.source.pointer === 'string' ? ` (${e.source.pointer})` : '';
    return `${code}${text}${pointer}`;
  });
  return parts.length ? parts.join('; ') : null;
}
