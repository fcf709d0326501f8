/**
 * Twilio Programmable Messaging: POST /2010-04-01/Accounts/{AccountSid}/Messages.json,
 * form-encoded, basic auth SID:token.
 *
 * Twilio has no idempotency header it honours for Messages, so a repeated request
 * sends a second SMS; the dispatcher only repeats a request whose answer it never
 * got. To match status callbacks back, the key rides in the StatusCallback URL
 * (?key=...) when a callback URL is configured: Twilio calls that exact URL (and
 * signs it) for every status change of the message.
 */
import type { LookupOutcome, LookupRequest, OutgoingMessage, Provider, SendOutcome, WireRequest } from '../message.js';
import { fillPlaceholders } from '../message.js';
import { basicAuth, failure, fromNetwork, HttpClient, httpOptions, isObject, lookupFailure, parseJson, sentOutcome, urlOf } from './http.js';
import { inDoubtOf, limitsOf, type ProviderOptions, type Settings } from './settings.js';

export const TWILIO_API = 'https://api.twilio.com';
export const KEY_PARAM = 'key';

export function createTwilio(settings: Settings, opts: ProviderOptions): Provider {
  const accountSid = settings.requireString('account_sid');
  const authToken = settings.requireSecret('auth_token');
  const from = settings.string('from');
  const serviceSid = settings.string('messaging_service_sid');
  const callback = settings.string('status_callback_url') ?? opts.statusCallbackUrl ?? null;
  const baseUrl = settings.string('url') ?? TWILIO_API;
  const limits = limitsOf(settings, opts);
  const http = new HttpClient(baseUrl, httpOptions(limits.concurrency, limits.timeoutMs));
  const headers = { authorization: settings.markSecret(basicAuth(accountSid, authToken)), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const path = `/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`;
  const redact = (text: string) => settings.redact(text);

  return {
    name: settings.name,
    type: 'twilio',
    limits,
    // the key rides in our StatusCallback URL; without one, callbacks (a messaging
    // service's own URL) name the message by its SID only
    eventsById: callback === null,
    async send(message: OutgoingMessage): Promise<SendOutcome> {
      const form = twilioForm(message, { from: message.from ?? from, serviceSid, callback });
      if (typeof form === 'string') return { kind: 'permanent', error: form };
      const result = await http.post(path, headers, form.toString());
      if (result.kind === 'failed') return fromNetwork(result, redact);
      const res = result.response;
      const json = parseJson(res.body);
      if ((res.status === 201 || res.status === 200) && isObject(json) && typeof json.sid === 'string') {
        return sentOutcome(res, json.sid);
      }
      // Accepted, but without the id we expect: sending again would send twice,
      // so record it as sent under our own key.
      if (res.status >= 200 && res.status < 300) return sentOutcome(res, message.idempotencyKey);
      return failure(res, describeError, redact);
    },
    ...inDoubtOf(settings, { lookup: true, dedupes: false }),
    lookup: (request) => lookupTwilio(http, headers, path, request, redact),
    request(message: OutgoingMessage): WireRequest | { error: string } {
      const form = twilioForm(message, { from: message.from ?? from, serviceSid, callback });
      return typeof form === 'string' ? { error: form } : { method: 'POST', url: urlOf(baseUrl, path), contentType: headers['content-type'], body: form.toString() };
    },
    close: () => http.close(),
  };
}

/** Twilio's clock and ours may differ by this much; its dates are to the second. */
const CLOCK_SLACK_MS = 60_000;

/**
 * The Messages list by recipient (GET Messages.json?To=..., newest first). A
 * Twilio message carries nothing of ours that the list shows (the key rides only in
 * our StatusCallback URL), so the match is on what the message said: a message to
 * the same number created since the attempt began, whose body is the one we sent.
 * The list is not filtered by DateSent: a message still queued has no date_sent yet,
 * and missing it would mean sending it twice. A Content template message (no body
 * of ours to compare) cannot be told apart: unknown, and it stays in doubt.
 */
async function lookupTwilio(http: HttpClient, headers: Record<string, string>, path: string, request: LookupRequest, redact: (text: string) => string): Promise<LookupOutcome> {
  const body = request.message?.template.body && !request.message.template.id ? fillPlaceholders(request.message.template.body, request.message.data) : null;
  if (body === null) return { kind: 'unknown', error: 'in doubt, held: a Twilio message without a body of ours cannot be matched; settle it with journey outbox resolve', hold: true };
  const result = await http.get(`${path}?To=${encodeURIComponent(request.to)}&PageSize=100`, { authorization: headers.authorization!, accept: 'application/json' });
  if (result.kind === 'failed' || result.response.status !== 200) return lookupFailure(result, redact);
  const json = parseJson(result.response.body);
  if (!isObject(json) || !Array.isArray(json.messages)) return { kind: 'unknown', error: 'lookup: Twilio answered without a messages list' };
  for (const m of json.messages) {
    if (!isObject(m) || typeof m.sid !== 'string' || typeof m.body !== 'string') continue;
    const created = typeof m.date_created === 'string' ? Date.parse(m.date_created) : NaN;
    if (!(created >= request.since - CLOCK_SLACK_MS)) continue;
    if (m.body === body || m.body.startsWith(body)) return { kind: 'accepted', providerMessageId: m.sid };
  }
  return { kind: 'not_found' };
}

export function twilioForm(
  message: OutgoingMessage,
  sender: { from: string | null; serviceSid: string | null; callback: string | null },
): URLSearchParams | string {
  const form = new URLSearchParams();
  form.set('To', message.to);
  // A messaging service picks the sender itself; an explicit From still wins inside it.
  if (sender.serviceSid) form.set('MessagingServiceSid', sender.serviceSid);
  if (sender.from) form.set('From', sender.from);
  if (!sender.serviceSid && !sender.from) return "twilio needs 'from' or 'messaging_service_sid'";
  const { id, body } = message.template;
  if (id) {
    // A Content API template (HX...), e.g. an approved WhatsApp template.
    form.set('ContentSid', id);
    // Twilio takes a flat map of text: the template's provider_variables, rendered (a
    // template without them has none to fill)
    const variables = message.content?.variables;
    if (variables) form.set('ContentVariables', JSON.stringify(variables));
  } else if (message.content?.body) {
    form.set('Body', message.content.body);
  } else if (body) {
    form.set('Body', fillPlaceholders(body, message.data));
  } else {
    return 'an SMS template needs a body or a Twilio Content template id';
  }
  if (sender.callback) {
    const url = new URL(sender.callback);
    url.searchParams.set(KEY_PARAM, message.idempotencyKey);
    form.set('StatusCallback', url.toString());
  }
  return form;
}

/** { code: 21211, message: "...", more_info, status } → "Twilio 21211: ...". */
function describeError(json: unknown): string | null {
  if (!isObject(json) || typeof json.message !== 'string') return null;
  return json.code === undefined || json.code === null ? json.message : `Twilio ${String(json.code)}: ${json.message}`;
}
