/**
 * Mailgun webhooks: a JSON body { signature: { timestamp, token, signature },
 * "event-data": {...} } where signature = hex HMAC-SHA256(signing key, timestamp +
 * token). Mailgun signs only timestamp and token, not the event data, so the body's
 * integrity rests on TLS; the token is single-use, which is the replay check.
 */
import { createHmac } from 'node:crypto';
import { KEY_VARIABLE, normaliseMessageId } from '../providers/mailgun.js';
import type { Settings } from '../providers/settings.js';
import { checkFresh, checkReplay, event, isRecord, parseJsonBody, safeEqual, str, WebhookError, type DeliveryEvent, type WebhookOptions, type WebhookRequest, type WebhookVerifier } from './event.js';

export function createMailgunWebhook(settings: Settings, opts: WebhookOptions): WebhookVerifier {
  const signingKey = settings.requireSecret('signing_secret');
  return {
    provider: settings.name,
    type: 'mailgun',
    verify(request: WebhookRequest): DeliveryEvent[] {
      const body = parseJsonBody(request.rawBody);
      const sig = isRecord(body) ? body.signature : undefined;
      if (!isRecord(body) || !isRecord(sig) || !isRecord(body['event-data'])) throw new WebhookError('malformed', 'Mailgun body needs "signature" and "event-data" objects');
      const timestamp = str(sig.timestamp);
      const token = str(sig.token);
      const signature = str(sig.signature);
      if (!timestamp || !token || !signature) throw new WebhookError('bad_signature', 'Mailgun signature is incomplete');
      const expected = createHmac('sha256', signingKey).update(timestamp + token).digest('hex');
      if (!safeEqual(expected, signature.toLowerCase())) throw new WebhookError('bad_signature', 'Mailgun signature does not verify');
      checkFresh(Number(timestamp) * 1000, opts);
      const data = body['event-data'] as Record<string, unknown>;
      if (typeof data.event !== 'string') throw new WebhookError('malformed', 'Mailgun event-data has no event');
      checkReplay(`mailgun:${settings.name}:${token}`, opts);
      return mapEvent(settings.name, data);
    },
  };
}

function mapEvent(provider: string, e: Record<string, unknown>): DeliveryEvent[] {
  const kind = kindOf(e);
  if (!kind) return [];
  const message = isRecord(e.message) ? e.message : {};
  const headers = isRecord(message.headers) ? message.headers : {};
  const vars = isRecord(e['user-variables']) ? e['user-variables'] : {};
  const status = isRecord(e['delivery-status']) ? e['delivery-status'] : {};
  const messageId = str(headers['message-id']);
  const seconds = Number(e.timestamp);
  return [
    event({
      provider,
      kind,
      eventId: str(e.id) ?? `${messageId ?? ''}:${String(e.event)}:${String(e.timestamp)}`,
      hard: kind === 'bounced' || kind === 'failed' ? e.severity !== 'temporary' : undefined,
      idempotencyKey: str(vars[KEY_VARIABLE]),
      providerMessageId: messageId ? normaliseMessageId(messageId) : undefined,
      occurredAt: Number.isFinite(seconds) ? Math.round(seconds * 1000) : Date.now(),
      address: str(e.recipient),
      url: str(e.url),
      reason: str(status.description) ?? str(status.message) ?? str(e.reason),
      raw: e,
    }),
  ];
}

function kindOf(e: Record<string, unknown>): DeliveryEvent['kind'] | undefined {
  switch (e.event) {
    case 'delivered':
      return 'delivered';
    case 'opened':
      return 'opened';
    case 'clicked':
      return 'clicked';
    case 'failed':
      // permanent: Mailgun gave up (hard); temporary: a soft bounce it will retry.
      return 'bounced';
    case 'rejected':
      return 'failed';
    case 'complained':
      return 'spam_report';
    case 'unsubscribed':
      return 'unsubscribed';
    default:
      return undefined;
  }
}
