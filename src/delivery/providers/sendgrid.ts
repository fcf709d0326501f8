/**
 * SendGrid v3 Mail Send (POST /v3/mail/send). SendGrid has no idempotency header,
 * so the key travels as a personalization custom_arg (journey_key): SendGrid copies
 * custom_args onto every Event Webhook event, which is how delivery events find
 * their outbox row. (The top-level custom_args is typed as a string in SendGrid's
 * own OpenAPI description, so the per-personalization object is the safe place.)
 */
import type { LookupOutcome, LookupRequest, OutgoingMessage, Provider, SendOutcome, WireRequest } from '../message.js';
import { fillPlaceholders } from '../message.js';
import { failure, fromNetwork, header, HttpClient, httpOptions, isObject, lookupFailure, parseJson, sentOutcome, urlOf } from './http.js';
import { inDoubtOf, limitsOf, MAX_BATCH, type ProviderOptions, type Settings } from './settings.js';

export const SENDGRID_API = 'https://api.sendgrid.com';
export const KEY_ARG = 'journey_key';

export function createSendgrid(settings: Settings, opts: ProviderOptions): Provider {
  const apiKey = settings.requireSecret('api_key');
  const from = settings.requireString('from');
  const fromName = settings.string('from_name');
  const baseUrl = settings.string('url') ?? SENDGRID_API;
  const limits = limitsOf(settings, opts);
  limits.batchSize = Math.min(limits.batchSize ?? 1, MAX_BATCH.sendgrid!);
  const http = new HttpClient(baseUrl, httpOptions(limits.concurrency, limits.timeoutMs));
  const headers = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
  const bodyOf = mailSendWriter(from, fromName);
  const batchOf = mailSendBatchWriter(fromName);
  const redact = (text: string) => settings.redact(text);

  async function post(body: string, idempotencyKey: string): Promise<SendOutcome> {
    const result = await http.post('/v3/mail/send', headers, body);
    if (result.kind === 'failed') return fromNetwork(result, redact);
    const res = result.response;
    if (res.status >= 200 && res.status < 300) {
      // 202 Accepted with an empty body; the id is in X-Message-Id. SendGrid's
      // events carry it as the prefix of sg_message_id.
      const id = header(res.headers, 'x-message-id');
      return sentOutcome(res, id ?? idempotencyKey);
    }
    return failure(res, describeError, redact);
  }

  return {
    name: settings.name,
    type: 'sendgrid',
    limits,
    // every Event Webhook event carries the personalization's custom_args, our key among them
    eventsById: false,
    send(message: OutgoingMessage): Promise<SendOutcome> {
      const body = message.from ? mailSendJson(message, message.from, fromName) : bodyOf(message);
      if (typeof body !== 'string') return Promise.resolve({ kind: 'permanent', error: body.error });
      return post(body, message.idempotencyKey);
    },
    ...inDoubtOf(settings, { lookup: true, dedupes: false }),
    lookup: (request) => lookupSendgrid(http, headers, request, redact),
    // personalizations of one dynamic template from one sender share a request
    batchKey: (message) => (message.template.id ? `${message.from ?? from}\n${message.template.id}` : null),
    async sendBatch(messages: readonly OutgoingMessage[]): Promise<SendOutcome[]> {
      const outcome = await post(batchOf(messages, messages[0]!.from ?? from), messages[0]!.idempotencyKey);
      // One answer for the request: SendGrid takes or refuses the personalizations together.
      return messages.map(() => outcome);
    },
    request(message: OutgoingMessage): WireRequest | { error: string } {
      const body = message.from ? mailSendJson(message, message.from, fromName) : bodyOf(message);
      return typeof body === 'string' ? { method: 'POST', url: urlOf(baseUrl, '/v3/mail/send'), contentType: headers['content-type'], body } : body;
    },
    close: () => http.close(),
  };
}

/**
 * The request body as JSON text, or the reason there is nothing to send. Written
 * as text around the payload's own JSON (message.dataJson) rather than as an
 * object for JSON.stringify: the body is built for every message, and the object
 * route cost about three times as much (node bench/run.js dispatch).
 */
export function mailSendJson(message: OutgoingMessage, from: string, fromName: string | null): string | { error: string } {
  return mailSendWriter(from, fromName)(message);
}

/** mailSendJson for one sender, its JSON written once. */
function mailSendWriter(from: string, fromName: string | null): (message: OutgoingMessage) => string | { error: string } {
  const sender = senderJson(from, fromName);
  return (message) => {
    const customArgs = `${tagArgs(message.tags)}"${KEY_ARG}":${JSON.stringify(message.idempotencyKey)}`;
    const to = `"to":[{"email":${JSON.stringify(message.to)}}],"custom_args":{${customArgs}}${headersOf(message)}`;
    const { id, subject, body: text } = message.template;
    if (id) {
      // A dynamic template (d-...) renders subject and content from dynamic_template_data.
      // The template owns its subject; ours goes in as {{subject}} for templates
      // written to use it (SendGrid ignores a personalization subject here).
      const data = message.dataJson ?? JSON.stringify(message.data);
      const rendered = message.content?.subject ?? (subject && !message.content ? fillPlaceholders(subject, message.data) : null);
      const withSubject = rendered && !('subject' in message.data) ? withField(data, 'subject', rendered) : data;
      return `{"personalizations":[{${to},"dynamic_template_data":${withSubject}}],"from":${sender},"template_id":${JSON.stringify(id)}}`;
    }
    const c = message.content;
    if (c) {
      // the rendered message as it is: text/plain first, as SendGrid requires
      if (!c.subject || (!c.html && !c.text)) return { error: 'the rendered message has no subject or no content' };
      const parts = [...(c.text ? [{ type: 'text/plain', value: c.text }] : []), ...(c.html ? [{ type: 'text/html', value: c.html }] : [])];
      return `{"personalizations":[{${to}}],"from":${sender},"subject":${JSON.stringify(c.subject)},"content":${JSON.stringify(parts)}}`;
    }
    if (!subject || !text) return { error: `template needs a SendGrid template id, or both a subject and a body` };
    const filled = fillPlaceholders(text, message.data);
    const content = JSON.stringify([{ type: looksLikeHtml(filled) ? 'text/html' : 'text/plain', value: filled }]);
    return `{"personalizations":[{${to}}],"from":${sender},"subject":${JSON.stringify(fillPlaceholders(subject, message.data))},"content":${content}}`;
  };
}

/**
 * The Mail Send body of several messages of one dynamic template: a personalization
 * each, with its own recipient, custom_args (our key) and dynamic_template_data.
 */
function mailSendBatchWriter(fromName: string | null): (messages: readonly OutgoingMessage[], from: string) => string {
  return (messages, from) => {
    let personalizations = '';
    for (const message of messages) {
      const data = message.dataJson ?? JSON.stringify(message.data);
      const { subject } = message.template;
      const withSubject = subject && !('subject' in message.data) ? withField(data, 'subject', fillPlaceholders(subject, message.data)) : data;
      const customArgs = `${tagArgs(message.tags)}"${KEY_ARG}":${JSON.stringify(message.idempotencyKey)}`;
      personalizations += `${personalizations ? ',' : ''}{"to":[{"email":${JSON.stringify(message.to)}}],"custom_args":{${customArgs}}${headersOf(message)},"dynamic_template_data":${withSubject}}`;
    }
    return `{"personalizations":[${personalizations}],"from":${senderJson(from, fromName)},"template_id":${JSON.stringify(messages[0]!.template.id)}}`;
  };
}

/**
 * Email Activity (GET /v3/messages): the messages whose custom argument journey_key
 * is our key. (The query language names custom_args unique_args, their v2 name.)
 * Any message there was accepted; its msg_id starts with the X-Message-Id that
 * Mail Send answered.
 */
async function lookupSendgrid(http: HttpClient, headers: Record<string, string>, request: LookupRequest, redact: (text: string) => string): Promise<LookupOutcome> {
  const query = `unique_args['${KEY_ARG}']=${JSON.stringify(request.idempotencyKey)}`;
  const result = await http.get(`/v3/messages?limit=10&query=${encodeURIComponent(query)}`, { authorization: headers.authorization! });
  if (result.kind === 'failed' || result.response.status !== 200) return lookupFailure(result, redact);
  const json = parseJson(result.response.body);
  if (!isObject(json) || !Array.isArray(json.messages)) return { kind: 'unknown', error: 'lookup: SendGrid answered without a messages list' };
  const found = json.messages.find((m): m is { msg_id: string } => isObject(m) && typeof m.msg_id === 'string');
  return found ? { kind: 'accepted', providerMessageId: found.msg_id.split('.')[0]! } : { kind: 'not_found' };
}

/** The message's headers as a personalization member (each recipient's own List-Unsubscribe), after a comma; none: empty. */
function headersOf(message: OutgoingMessage): string {
  return message.headers ? `,"headers":${JSON.stringify(message.headers)}` : '';
}

function senderJson(from: string, fromName: string | null): string {
  return JSON.stringify(fromName ? { email: from, name: fromName } : { email: from });
}

// The dispatcher hands every message of a journey step the same tags object.
const tagArgsCache = new WeakMap<object, string>();

/** The tags as custom_args members, each followed by a comma. */
function tagArgs(tags: OutgoingMessage['tags']): string {
  if (!tags) return '';
  let text = tagArgsCache.get(tags);
  if (text === undefined) {
    text = '';
    for (const key in tags) if (key !== KEY_ARG) text += `${JSON.stringify(key)}:${JSON.stringify(tags[key])},`;
    tagArgsCache.set(tags, text);
  }
  return text;
}

/** A JSON object's text with one more field, first (the object's own members are left as they are). */
function withField(objectJson: string, key: string, value: string): string {
  const rest = objectJson.slice(objectJson.indexOf('{') + 1);
  return `{${JSON.stringify(key)}:${JSON.stringify(value)}${rest.trimStart().startsWith('}') ? '' : ','}${rest}`;
}

export function looksLikeHtml(text: string): boolean {
  return /^\s*</.test(text);
}

/** { errors: [{ message, field, help }] } → "field: message; ...". */
function describeError(json: unknown): string | null {
  if (!isObject(json) || !Array.isArray(json.errors)) return null;
  const parts = json.errors.filter(isObject).map((e) => {
    const field = typeof e.field === 'string' && e.field !== 'null' && e.field !== '' ? `${e.field}: ` : '';
    return `${field}${typeof e.message === 'string' ? e.message : 'error'}`;
  });
  return parts.length ? parts.join('; ') : null;
}
