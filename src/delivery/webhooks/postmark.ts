/**
 * Postmark webhooks carry no signature. The webhook URL is configured with basic
 * auth credentials (https://user:password@host/...), which Postmark sends as the
 * Authorization header; settings.signing_secret holds "user:password" and is
 * compared in constant time. The protocol has no signed timestamp or nonce, so a
 * replay is recognised by the hash of the body: Postmark resends an identical body
 * only when we did not answer 2xx, so seen() must not record a request whose
 * processing then failed (or the honest retry would be refused).
 */
import { KEY_METADATA } from '../providers/postmark.js';
import type { Settings } from '../providers/settings.js';
import { checkReplay, event, headerValue, isRecord, parseJsonBody, safeEqual, sha256Hex, str, WebhookError, type DeliveryEvent, type WebhookOptions, type WebhookRequest, type WebhookVerifier } from './event.js';

export function createPostmarkWebhook(settings: Settings, opts: WebhookOptions): WebhookVerifier {
  const credentials = settings.requireSecret('signing_secret');
  const expected = `Basic ${Buffer.from(credentials).toString('base64')}`;
  return {
    provider: settings.name,
    type: 'postmark',
    verify(request: WebhookRequest): DeliveryEvent[] {
      const given = headerValue(request.headers, 'authorization');
      if (!given || !safeEqual(normaliseBasic(given), expected)) throw new WebhookError('bad_signature', 'Postmark webhook credentials do not match');
      const body = parseJsonBody(request.rawBody);
      if (!isRecord(body) || typeof body.RecordType !== 'string') throw new WebhookError('malformed', 'Postmark body needs a RecordType');
      const mapped = mapEvent(settings.name, body);
      if (opts.maxEventAgeMs !== undefined && mapped.length) {
        const now = (opts.now ?? Date.now)();
        if (now - mapped[0]!.occurredAt > opts.maxEventAgeMs) throw new WebhookError('stale', 'Postmark event is older than the allowed age');
      }
      checkReplay(`postmark:${settings.name}:${sha256Hex(request.rawBody)}`, opts);
      return mapped;
    },
  };
}

/** "basic   abc" → "Basic abc": the scheme is case-insensitive, the credentials are not. */
function normaliseBasic(header: string): string {
  const match = /^\s*basic\s+(\S+)\s*$/i.exec(header);
  return match ? `Basic ${match[1]}` : header;
}

const HARD_BOUNCES = new Set(['HardBounce', 'BadEmailAddress', 'ManuallyDeactivated', 'SpamComplaint']);

function mapEvent(provider: string, e: Record<string, unknown>): DeliveryEvent[] {
  const metadata = isRecord(e.Metadata) ? e.Metadata : {};
  const base = {
    provider,
    idempotencyKey: str(metadata[KEY_METADATA]),
    providerMessageId: str(e.MessageID),
    raw: e,
  };
  const at = (field: string) => {
    const ms = Date.parse(String(e[field] ?? ''));
    return Number.isNaN(ms) ? Date.now() : ms;
  };
  const id = (time: string) => `${String(e.RecordType)}:${str(e.ID) ?? str(e.MessageID) ?? ''}:${String(e[time] ?? '')}`;
  switch (e.RecordType) {
    case 'Delivery':
      return [event({ ...base, kind: 'delivered', eventId: id('DeliveredAt'), occurredAt: at('DeliveredAt'), address: str(e.Recipient) })];
    case 'Bounce':
      return [
        event({
          ...base,
          kind: 'bounced',
          eventId: id('BouncedAt'),
          // Inactive: Postmark itself deactivated the address.
          hard: e.Inactive === true || HARD_BOUNCES.has(String(e.Type)),
          occurredAt: at('BouncedAt'),
          address: str(e.Email),
          reason: str(e.Description) ?? str(e.Type),
        }),
      ];
    case 'SpamComplaint':
      return [event({ ...base, kind: 'spam_report', eventId: id('BouncedAt'), occurredAt: at('BouncedAt'), address: str(e.Email) })];
    case 'Open':
      return [event({ ...base, kind: 'opened', eventId: id('ReceivedAt'), occurredAt: at('ReceivedAt'), address: str(e.Recipient) })];
    case 'Click':
      return [event({ ...base, kind: 'clicked', eventId: id('ReceivedAt'), occurredAt: at('ReceivedAt'), address: str(e.Recipient), url: str(e.OriginalLink) })];
    case 'SubscriptionChange':
      // Bounces and complaints also arrive as their own records; only a manual
      // suppression (the recipient unsubscribed) is news here.
      if (e.SuppressSending === true && e.SuppressionReason === 'ManualSuppression') {
        return [event({ ...base, kind: 'unsubscribed', eventId: id('ChangedAt'), occurredAt: at('ChangedAt'), address: str(e.Recipient) })];
      }
      return [];
    default:
      return [];
  }
}
