/**
 * Mailgun: POST /v3/{domain}/messages, form-encoded, basic auth api:KEY. The key
 * goes in as the custom variable v:journey_key, which Mailgun returns in every
 * event's user-variables. A stored template's variables travel as t:variables (JSON),
 * which Mailgun documents for templates. Not as the X-Mailgun-Variables header:
 * Mailgun copies that into the delivered message, where the customer can read every
 * variable (their whole profile, recommendation reasons, the shop's attributes).
 *
 * One message a request. Mailgun's batches personalise through recipient-variables,
 * which a stored template reads under `recipient.` only, so one template could not
 * serve both a batch and a single message: a batch filled its nested variables
 * (customer.first_name) with nothing.
 */
import type { LookupOutcome, OutgoingMessage, Provider, SendOutcome, WireRequest } from '../message.js';
import { fillPlaceholders } from '../message.js';
import { basicAuth, failure, fromNetwork, HttpClient, httpOptions, isObject, lookupFailure, parseJson, sentOutcome, urlOf } from './http.js';
import { looksLikeHtml } from './sendgrid.js';
import { inDoubtOf, limitsOf, mailbox, type ProviderOptions, type Settings } from './settings.js';

export const MAILGUN_API = { us: 'https://api.mailgun.net', eu: 'https://api.eu.mailgun.net' } as const;
export const KEY_VARIABLE = 'journey_key';

export function createMailgun(settings: Settings, opts: ProviderOptions): Provider {
  const apiKey = settings.requireSecret('api_key');
  const domain = settings.requireString('domain');
  const from = settings.requireString('from');
  const fromName = settings.string('from_name');
  const baseUrl = mailgunBaseUrl(settings.string('region'), settings.string('url'));
  const limits = limitsOf(settings, opts);
  limits.batchSize = 1;
  const http = new HttpClient(baseUrl, httpOptions(limits.concurrency, limits.timeoutMs));
  const headers = { authorization: settings.markSecret(basicAuth('api', apiKey)), 'content-type': 'application/x-www-form-urlencoded' };
  const path = `/v3/${encodeURIComponent(domain)}/messages`;
  const redact = (text: string) => settings.redact(text);

  return {
    name: settings.name,
    type: 'mailgun',
    limits,
    // every event carries the message's user-variables, our key among them
    eventsById: false,
    async send(message: OutgoingMessage): Promise<SendOutcome> {
      const form = mailgunForm(message, mailbox(message.from ?? from, fromName));
      if (typeof form === 'string') return { kind: 'permanent', error: form };
      const result = await http.post(path, headers, form.toString());
      if (result.kind === 'failed') return fromNetwork(result, redact);
      const res = result.response;
      const json = parseJson(res.body);
      if (res.status === 200 && isObject(json) && typeof json.id === 'string') {
        return sentOutcome(res, normaliseMessageId(json.id));
      }
      // Accepted, but without the id we expect: sending again would send twice,
      // so record it as sent under our own key.
      if (res.status >= 200 && res.status < 300) return sentOutcome(res, message.idempotencyKey);
      return failure(res, describeError, redact);
    },
    ...inDoubtOf(settings, { lookup: true, dedupes: false }),
    /** The events log, filtered by our user variable: an 'accepted' event means Mailgun took it. */
    async lookup(request): Promise<LookupOutcome> {
      const variables = JSON.stringify({ [KEY_VARIABLE]: request.idempotencyKey });
      const query = `event=accepted&limit=1&begin=${Math.floor(request.since / 1000) - 60}&ascending=yes&user-variables=${encodeURIComponent(variables)}`;
      const result = await http.get(`/v3/${encodeURIComponent(domain)}/events?${query}`, { authorization: headers.authorization });
      if (result.kind === 'failed' || result.response.status !== 200) return lookupFailure(result, redact);
      const json = parseJson(result.response.body);
      if (!isObject(json) || !Array.isArray(json.items)) return { kind: 'unknown', error: 'lookup: Mailgun answered without an items list' };
      const item = json.items.find(isObject);
      if (!item) return { kind: 'not_found' };
      const message = isObject(item.message) && isObject(item.message.headers) ? item.message.headers['message-id'] : undefined;
      return { kind: 'accepted', providerMessageId: typeof message === 'string' ? normaliseMessageId(message) : request.idempotencyKey };
    },
    request(message: OutgoingMessage): WireRequest | { error: string } {
      const form = mailgunForm(message, mailbox(message.from ?? from, fromName));
      return typeof form === 'string' ? { error: form } : { method: 'POST', url: urlOf(baseUrl, path), contentType: headers['content-type'], body: form.toString() };
    },
    close: () => http.close(),
  };
}

/** EU domains live on a separate API host; `url` (tests, proxies) wins over both. */
export function mailgunBaseUrl(region: string | null, url: string | null): string {
  return url ?? (region === 'eu' ? MAILGUN_API.eu : MAILGUN_API.us);
}

export function mailgunForm(message: OutgoingMessage, from: string): URLSearchParams | string {
  const form = new URLSearchParams();
  form.set('from', from);
  form.set('to', message.to);
  const { id, subject, body } = message.template;
  if (id) {
    form.set('template', id);
    form.set('t:variables', JSON.stringify(message.data));
    const rendered = message.content?.subject ?? (subject && !message.content ? fillPlaceholders(subject, message.data) : null);
    if (rendered) form.set('subject', rendered);
  } else if (message.content) {
    const c = message.content;
    if (!c.subject || (!c.html && !c.text)) return 'the rendered message has no subject or no content';
    form.set('subject', c.subject);
    if (c.html) form.set('html', c.html);
    if (c.text) form.set('text', c.text);
  } else {
    if (!subject || !body) return 'template needs a Mailgun template name, or both a subject and a body';
    const filled = fillPlaceholders(body, message.data);
    form.set('subject', fillPlaceholders(subject, message.data));
    form.set(looksLikeHtml(filled) ? 'html' : 'text', filled);
  }
  for (const [key, value] of Object.entries(message.tags ?? {})) form.set(`v:${key}`, value);
  form.set(`v:${KEY_VARIABLE}`, message.idempotencyKey);
  for (const [name, value] of Object.entries(message.headers ?? {})) form.set(`h:${name}`, value);
  return form;
}

/**
 * Mailgun answers "<2024...@domain>" but its events carry the Message-Id without
 * the angle brackets; one form for both sides lets them match.
 */
export function normaliseMessageId(id: string): string {
  return id.trim().replace(/^<(.*)>$/, '$1');
}

/** { message: "..." }; a 401 is the plain text "Forbidden" and falls through to the raw body. */
function describeError(json: unknown): string | null {
  return isObject(json) && typeof json.message === 'string' ? json.message : null;
}
