/**
 * Postmark: POST /email/withTemplate (TemplateAlias or TemplateId + TemplateModel)
 * or POST /email. Postmark has no idempotency header; the key goes in Metadata,
 * which Postmark returns on every webhook (Delivery, Bounce, Open, Click, ...).
 * Postmark answers 422 with an ErrorCode for every request it refuses for good
 * (invalid address, inactive recipient, unknown template).
 */
import type { LookupOutcome, OutgoingMessage, Provider, SendOutcome, WireRequest } from '../message.js';
import { fillPlaceholders } from '../message.js';
import { failure, fromNetwork, HttpClient, httpOptions, isObject, lookupFailure, parseJson, sentOutcome, urlOf } from './http.js';
import { looksLikeHtml } from './sendgrid.js';
import { inDoubtOf, limitsOf, mailbox, MAX_BATCH, type ProviderOptions, type Settings } from './settings.js';

export const POSTMARK_API = 'https://api.postmarkapp.com';
export const KEY_METADATA = 'journey_key';

export function createPostmark(settings: Settings, opts: ProviderOptions): Provider {
  const token = settings.requireSecret('server_token');
  const from = settings.requireString('from');
  const fromName = settings.string('from_name');
  const stream = settings.string('message_stream') ?? 'outbound';
  const baseUrl = settings.string('url') ?? POSTMARK_API;
  const limits = limitsOf(settings, opts);
  limits.batchSize = Math.min(limits.batchSize ?? 1, MAX_BATCH.postmark!);
  const http = new HttpClient(baseUrl, httpOptions(limits.concurrency, limits.timeoutMs));
  const headers = { accept: 'application/json', 'content-type': 'application/json', 'x-postmark-server-token': token };
  const redact = (text: string) => settings.redact(text);

  async function post(path: string, body: string, idempotencyKey: string): Promise<SendOutcome> {
    const result = await http.post(path, headers, body);
    if (result.kind === 'failed') return fromNetwork(result, redact);
    const res = result.response;
    const json = parseJson(res.body);
    // 200 with ErrorCode 0 is the only success; Postmark puts the id in MessageID.
    if (res.status === 200 && isObject(json) && (json.ErrorCode ?? 0) === 0 && typeof json.MessageID === 'string') {
      return sentOutcome(res, json.MessageID);
    }
    // Accepted, but without the id we expect: sending again would send twice,
    // so record it as sent under our own key.
    if (res.status >= 200 && res.status < 300) return sentOutcome(res, idempotencyKey);
    return failure(res, describeError, redact);
  }

  return {
    name: settings.name,
    type: 'postmark',
    limits,
    // every webhook carries the message's Metadata, our key among them
    eventsById: false,
    send(message: OutgoingMessage): Promise<SendOutcome> {
      const request = postmarkRequest(message, mailbox(message.from ?? from, fromName), stream);
      if (typeof request === 'string') return Promise.resolve({ kind: 'permanent', error: request });
      return post(request.path, JSON.stringify(request.body), message.idempotencyKey);
    },
    ...inDoubtOf(settings, { lookup: true, dedupes: false }),
    /** Outbound message search by metadata (metadata_<key>=<value>). */
    async lookup(request): Promise<LookupOutcome> {
      const query = `count=1&offset=0&${encodeURIComponent(`metadata_${KEY_METADATA}`)}=${encodeURIComponent(request.idempotencyKey)}`;
      const result = await http.get(`/messages/outbound?${query}`, { accept: 'application/json', 'x-postmark-server-token': token });
      if (result.kind === 'failed' || result.response.status !== 200) return lookupFailure(result, redact);
      const json = parseJson(result.response.body);
      if (!isObject(json) || !Array.isArray(json.Messages)) return { kind: 'unknown', error: 'lookup: Postmark answered without a Messages list' };
      const found = json.Messages.find((m): m is { MessageID: string } => isObject(m) && typeof m.MessageID === 'string');
      return found ? { kind: 'accepted', providerMessageId: found.MessageID } : { kind: 'not_found' };
    },
    // every template message can share /email/batchWithTemplates (each names its own template)
    batchKey: (message) => (message.template.id ? 'template' : null),
    async sendBatch(messages: readonly OutgoingMessage[]): Promise<SendOutcome[]> {
      // (only template messages have a batch key, and their request is always an object)
      const requests = messages.map((m) => (postmarkRequest(m, mailbox(m.from ?? from, fromName), stream) as { body: Record<string, unknown> }).body);
      const body = JSON.stringify({ Messages: requests });
      const result = await http.post(BATCH_WITH_TEMPLATES, headers, body);
      if (result.kind === 'failed') {
        const outcome = fromNetwork(result, redact);
        return messages.map(() => outcome);
      }
      const res = result.response;
      if (res.status !== 200) {
        const outcome = failure(res, describeError, redact);
        return messages.map(() => outcome);
      }
      // 200 carries a result per message, in order: some may be refused while the rest went.
      const json = parseJson(res.body);
      if (!Array.isArray(json) || json.length !== messages.length) {
        // Accepted, in part or whole, but we cannot tell which: in doubt, each one asked about.
        const outcome: SendOutcome = { kind: 'retry', error: 'Postmark answered the batch without a result per message', inDoubt: true };
        return messages.map(() => outcome);
      }
      return json.map((r, i): SendOutcome => {
        if (isObject(r) && (r.ErrorCode ?? 0) === 0 && typeof r.MessageID === 'string') return sentOutcome(res, r.MessageID);
        const error = redact(describeError(r) ?? 'Postmark refused the message');
        return { kind: 'permanent', error: `${error} (in a batch of ${messages.length}, message ${i + 1})`, status: res.status };
      });
    },
    request(message: OutgoingMessage): WireRequest | { error: string } {
      const request = postmarkRequest(message, mailbox(message.from ?? from, fromName), stream);
      return typeof request === 'string' ? { error: request } : { method: 'POST', url: urlOf(baseUrl, request.path), contentType: headers['content-type'], body: JSON.stringify(request.body) };
    },
    close: () => http.close(),
  };
}

const WITH_TEMPLATE = '/email/withTemplate';
const BATCH_WITH_TEMPLATES = '/email/batchWithTemplates';

/** A number is a TemplateId, anything else the template's alias. */
function templateRef(id: string): { TemplateId: number } | { TemplateAlias: string } {
  return /^\d+$/.test(id) ? { TemplateId: Number(id) } : { TemplateAlias: id };
}

export function postmarkRequest(message: OutgoingMessage, from: string, stream: string): { path: string; body: Record<string, unknown> } | string {
  const common = {
    From: from,
    To: message.to,
    MessageStream: stream,
    Metadata: { ...message.tags, [KEY_METADATA]: message.idempotencyKey },
    ...(message.headers ? { Headers: Object.entries(message.headers).map(([Name, Value]) => ({ Name, Value })) } : {}),
  };
  const { id, subject, body } = message.template;
  if (id) return { path: WITH_TEMPLATE, body: { ...common, ...templateRef(id), TemplateModel: message.data } };
  const c = message.content;
  if (c) {
    if (!c.subject || (!c.html && !c.text)) return 'the rendered message has no subject or no content';
    return { path: '/email', body: { ...common, Subject: c.subject, ...(c.html ? { HtmlBody: c.html } : {}), ...(c.text ? { TextBody: c.text } : {}) } };
  }
  if (!subject || !body) return 'template needs a Postmark template alias or id, or both a subject and a body';
  const filled = fillPlaceholders(body, message.data);
  return {
    path: '/email',
    body: { ...common, Subject: fillPlaceholders(subject, message.data), ...(looksLikeHtml(filled) ? { HtmlBody: filled } : { TextBody: filled }) },
  };
}

/** { ErrorCode: 300, Message: "Invalid email request" } → "Postmark 300: Invalid email request". */
function describeError(json: unknown): string | null {
  if (!isObject(json) || typeof json.Message !== 'string') return null;
  return `Postmark ${String(json.ErrorCode ?? '?')}: ${json.Message}`;
}
