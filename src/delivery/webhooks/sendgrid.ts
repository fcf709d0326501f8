/**
 * SendGrid Signed Event Webhook: an ECDSA (P-256, SHA-256) signature over the
 * timestamp header followed by the raw body, checked with the public key SendGrid
 * shows for the webhook (settings.signing_secret: base64 DER SubjectPublicKeyInfo,
 * or PEM). The body is a JSON array of events carrying our custom_args.
 */
import { createPublicKey, verify as verifySignature, type KeyObject } from 'node:crypto';
import { JourneyError } from '../../errors.js';
import { KEY_ARG } from '../providers/sendgrid.js';
import type { Settings } from '../providers/settings.js';
import { checkFresh, checkReplay, event, headerValue, isRecord, parseJsonBody, str, WebhookError, type DeliveryEvent, type WebhookOptions, type WebhookRequest, type WebhookVerifier } from './event.js';

export const SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

export function createSendgridWebhook(settings: Settings, opts: WebhookOptions): WebhookVerifier {
  const key = publicKey(settings);
  return {
    provider: settings.name,
    type: 'sendgrid',
    verify(request: WebhookRequest): DeliveryEvent[] {
      const signature = headerValue(request.headers, SIGNATURE_HEADER);
      const timestamp = headerValue(request.headers, TIMESTAMP_HEADER);
      if (!signature || !timestamp) throw new WebhookError('bad_signature', 'missing SendGrid signature headers');
      if (!/^\d+$/.test(timestamp)) throw new WebhookError('bad_signature', 'SendGrid timestamp header is not a number');
      let valid = false;
      try {
        // Over the bytes as received: re-serialised JSON would not verify.
        valid = verifySignature('sha256', Buffer.concat([Buffer.from(timestamp, 'utf8'), request.rawBody]), key, Buffer.from(signature, 'base64'));
      } catch {
        valid = false;
      }
      if (!valid) throw new WebhookError('bad_signature', 'SendGrid signature does not verify');
      checkFresh(Number(timestamp) * 1000, opts);
      const body = parseJsonBody(request.rawBody);
      if (!Array.isArray(body) || !body.every((e) => isRecord(e) && typeof e.event === 'string')) {
        throw new WebhookError('malformed', 'SendGrid body must be an array of events');
      }
      // ECDSA signatures are randomised: the same signature twice is the same request twice.
      checkReplay(`sendgrid:${settings.name}:${signature}`, opts);
      return body.flatMap((e) => mapEvent(settings.name, e as Record<string, unknown>));
    },
  };
}

function publicKey(settings: Settings): KeyObject {
  const text = settings.requireSecret('signing_secret').trim();
  try {
    return text.startsWith('-----BEGIN') ? createPublicKey(text) : createPublicKey({ key: Buffer.from(text, 'base64'), format: 'der', type: 'spki' });
  } catch {
    // Says which setting, never what was in it.
    throw new JourneyError(`provider '${settings.name}': signing_secret is not a SendGrid webhook verification key (base64 DER public key)`, {
      location: { field: `providers.${settings.name}.signing_secret` },
    });
  }
}

function mapEvent(provider: string, e: Record<string, unknown>): DeliveryEvent[] {
  const kind = KINDS[e.event as string];
  if (!kind) return [];
  // sg_message_id is "<X-Message-Id>.<filter suffix>"; the prefix is what send() stored.
  const sgId = str(e.sg_message_id);
  const seconds = typeof e.timestamp === 'number' ? e.timestamp : Number(e.timestamp);
  return [
    event({
      provider,
      kind,
      eventId: str(e.sg_event_id) ?? `${sgId ?? ''}:${String(e.event)}:${String(e.timestamp)}`,
      // type "bounce" is a hard bounce; "blocked" is a temporary refusal.
      hard: kind === 'bounced' ? e.type !== 'blocked' : kind === 'failed' ? true : undefined,
      idempotencyKey: str(e[KEY_ARG]),
      providerMessageId: sgId?.split('.')[0],
      occurredAt: Number.isFinite(seconds) ? seconds * 1000 : Date.now(),
      address: str(e.email),
      url: str(e.url),
      reason: str(e.reason) ?? str(e.response),
      raw: e,
    }),
  ];
}

const KINDS: Record<string, DeliveryEvent['kind'] | undefined> = {
  delivered: 'delivered',
  open: 'opened',
  click: 'clicked',
  bounce: 'bounced',
  dropped: 'failed',
  spamreport: 'spam_report',
  unsubscribe: 'unsubscribed',
  group_unsubscribe: 'unsubscribed',
};
