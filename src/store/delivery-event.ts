/**
 * A delivery event (a provider's webhook, or a row of an imported export) as the store
 * records it: the shape the webhook verifiers in src/delivery produce and
 * message-events.ts stores, kept here so that the store needs nothing of delivery.
 */
export type DeliveryEventKind = 'delivered' | 'opened' | 'clicked' | 'bounced' | 'spam_report' | 'unsubscribed' | 'failed' | 'replied';

export interface DeliveryEvent {
  /** The provider's name in journey.config.yaml. */
  provider: string;
  kind: DeliveryEventKind;
  /**
   * Stable per provider event (SendGrid sg_event_id, Mailgun event id, ...), so
   * that storing events can be idempotent when a provider delivers one twice.
   */
  eventId: string;
  /** bounced/failed: true when the address will never work (suppress it). */
  hard?: boolean;
  /** The outbox row's key, when the provider carried it back. */
  idempotencyKey?: string;
  providerMessageId?: string;
  /** ms since the epoch. */
  occurredAt: number;
  /** The customer's address (e-mail or phone) the event is about. */
  address?: string;
  /** clicked: the link. */
  url?: string;
  /** bounced/failed: the provider's reason text. */
  reason?: string;
  /** The provider's own event object, for logs and `journey import events`. */
  raw: unknown;
}
