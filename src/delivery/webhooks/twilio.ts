/**
 * Twilio status callbacks and incoming messages: X-Twilio-Signature is the base64
 * HMAC-SHA1 (auth token) of the full URL Twilio called followed by every POST
 * parameter, sorted by name, as name+value. Twilio's requests carry no timestamp,
 * so there is nothing to be stale; replays are caught by the
 * I-Twilio-Idempotency-Token header (or the message sid and status).
 */
import { createHmac } from 'node:crypto';
import { KEY_PARAM } from '../providers/twilio.js';
import type { Settings } from '../providers/settings.js';
import { checkReplay, event, headerValue, safeEqual, sha256Hex, WebhookError, type DeliveryEvent, type WebhookOptions, type WebhookRequest, type WebhookVerifier } from './event.js';

export const SIGNATURE_HEADER = 'x-twilio-signature';

export function createTwilioWebhook(settings: Settings, opts: WebhookOptions): WebhookVerifier {
  const authToken = settings.requireSecret('auth_token');
  return {
    provider: settings.name,
    type: 'twilio',
    verify(request: WebhookRequest): DeliveryEvent[] {
      const signature = headerValue(request.headers, SIGNATURE_HEADER);
      if (!signature) throw new WebhookError('bad_signature', 'missing X-Twilio-Signature');
      let url: URL;
      try {
        url = new URL(request.url);
      } catch {
        throw new WebhookError('malformed', 'request URL is not absolute');
      }
      const bodyHash = url.searchParams.get('bodySHA256');
      let params: Map<string, string[]>;
      if (bodyHash !== null) {
        // JSON callbacks: the body is bound by its hash in the (signed) URL.
        if (!safeEqual(sha256Hex(request.rawBody), bodyHash.toLowerCase())) throw new WebhookError('bad_signature', 'body does not match bodySHA256');
        params = new Map();
      } else {
        const type = headerValue(request.headers, 'content-type') ?? '';
        if (!type.toLowerCase().startsWith('application/x-www-form-urlencoded')) throw new WebhookError('malformed', 'Twilio callbacks are form-encoded');
        params = formParams(request.rawBody);
      }
      if (!urlVariants(url).some((candidate) => safeEqual(twilioSignature(authToken, candidate, params), signature))) {
        throw new WebhookError('bad_signature', 'X-Twilio-Signature does not verify');
      }
      const field = (name: string) => params.get(name)?.[0] || undefined;
      const sid = field('MessageSid') ?? field('SmsSid');
      const status = field('MessageStatus') ?? field('SmsStatus');
      if (!sid || !status) throw new WebhookError('malformed', 'Twilio callback needs MessageSid and MessageStatus');
      checkReplay(`twilio:${settings.name}:${headerValue(request.headers, 'i-twilio-idempotency-token') ?? `${sid}:${status}`}`, opts);
      const now = (opts.now ?? Date.now)();
      return mapEvent(settings.name, { sid, status, key: url.searchParams.get(KEY_PARAM) ?? undefined, field, now, raw: Object.fromEntries([...params].map(([k, v]) => [k, v.length === 1 ? v[0] : v])) });
    },
  };
}

/** The signature Twilio computes (also used by tests to play Twilio). */
export function twilioSignature(authToken: string, url: string, params: Map<string, string[]>): string {
  const hmac = createHmac('sha1', authToken).update(url);
  for (const name of [...params.keys()].sort()) {
    // Repeated parameters count once per distinct value, values sorted (as twilio-node does).
    for (const value of [...new Set(params.get(name))].sort()) hmac.update(name + value);
  }
  return hmac.digest('base64');
}

export function formParams(rawBody: Buffer): Map<string, string[]> {
  const params = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(rawBody.toString('utf8'))) {
    const list = params.get(name);
    if (list) list.push(value);
    else params.set(name, [value]);
  }
  return params;
}

/**
 * Twilio signs the URL as configured, which may or may not spell out the default
 * port; a proxy in front of us may add or drop it. Try both forms.
 */
function urlVariants(url: URL): string[] {
  const text = url.toString();
  const defaultPort = url.protocol === 'https:' ? '443' : url.protocol === 'http:' ? '80' : '';
  if (url.port === '' && defaultPort) {
    const withPort = `${url.protocol}//${url.username ? `${url.username}:${url.password}@` : ''}${url.hostname}:${defaultPort}${url.pathname}${url.search}`;
    return [text, withPort];
  }
  return [text];
}

const HARD_ERRORS = new Set(['21211', '21614', '30005', '30006']);
const OPT_OUT = new Set(['stop', 'stopall', 'unsubscribe', 'cancel', 'end', 'quit']);

function mapEvent(
  provider: string,
  m: { sid: string; status: string; key: string | undefined; field: (name: string) => string | undefined; now: number; raw: unknown },
): DeliveryEvent[] {
  const code = m.field('ErrorCode');
  const base = { provider, eventId: `${m.sid}:${m.status}`, providerMessageId: m.sid, idempotencyKey: m.key, occurredAt: m.now, raw: m.raw };
  switch (m.status) {
    case 'delivered':
      return [event({ ...base, kind: 'delivered', address: m.field('To') })];
    case 'read':
      return [event({ ...base, kind: 'opened', address: m.field('To') })];
    case 'undelivered':
    case 'failed': {
      // 21610: the recipient had replied STOP; Twilio refuses to message them.
      if (code === '21610') return [event({ ...base, kind: 'unsubscribed', address: m.field('To') })];
      const kind = m.status === 'undelivered' ? 'bounced' : 'failed';
      return [event({ ...base, kind, hard: code !== undefined && HARD_ERRORS.has(code), address: m.field('To'), reason: code ? `Twilio ${code}${m.field('ErrorMessage') ? `: ${m.field('ErrorMessage')}` : ''}` : undefined })];
    }
    case 'received': {
      // An incoming message from the customer: the address is theirs (From).
      const body = (m.field('Body') ?? '').trim().toLowerCase();
      const optOut = m.field('OptOutType') === 'STOP' || OPT_OUT.has(body);
      return [event({ ...base, kind: optOut ? 'unsubscribed' : 'replied', address: m.field('From'), reason: optOut ? undefined : m.field('Body') })];
    }
    default:
      return [];
  }
}
