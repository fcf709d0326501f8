/**
 * Delivery events coming back from providers, stored so that journeys can act on
 * them: one message_events row per provider event (its id is UNIQUE, so a provider
 * delivering an event twice stores it once), a derived `events` row for the
 * customer (email_opened, sms_delivered, ...) that segments and wait_for read like
 * any other event, and a suppression for hard bounces, spam reports, unsubscribes.
 *
 * Everything here runs inside the caller's transaction together with the replay
 * ledger (rememberWebhookRequest): either a webhook request is stored whole and
 * remembered, or nothing of it is, and the provider's retry is accepted.
 */
import type { DeliveryEvent, DeliveryEventKind } from './delivery-event.js';
import type { ProviderType } from '../project/model.js';
import type { StoreDb } from './db.js';
import { refreshReachability } from './facts.js';
import { normalisePhone } from './import/values.js';

/** Records a webhook request id; answers whether it had been recorded before (a replay). */
export function rememberWebhookRequest(db: StoreDb, id: string, now: number): boolean {
  return db.run(`INSERT INTO webhook_requests (id, received_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`, [id, now]).changes === 0;
}

/** Forgets request ids older than `before` (providers stop retrying long before). */
export function pruneWebhookRequests(db: StoreDb, before: number): number {
  return db.run(`DELETE FROM webhook_requests WHERE received_at < ?`, [before]).changes;
}

export interface StoredEvents {
  /** Events stored now. */
  stored: number;
  /** Events stored before (the provider sent them again). */
  duplicates: number;
  /** Stored events that matched no outbox row. */
  unmatched: number;
  /** Derived `events` rows written for customers. */
  customerEvents: number;
  /** Addresses newly suppressed. */
  suppressed: number;
}

interface MatchedRow {
  id: number;
  customer_id: string;
  channel: string;
  journey_id: string | null;
  step_id: string | null;
  address: string;
  /** A test-mode copy, sent to the team: its opens and clicks are not the customer's. */
  test: 0 | 1;
}

/** e-mail or SMS: decides the derived event's name and the suppression's channel when no outbox row says. */
export function channelFamily(type: ProviderType): 'email' | 'sms' | null {
  switch (type) {
    case 'sendgrid':
    case 'postmark':
    case 'mailgun':
      return 'email';
    case 'twilio':
      return 'sms';
    case 'webhook':
    case 'klaviyo':
    case 'console':
    case 'file':
      return null;
    default:
      return unexpected(type);
  }
}

/**
 * The `events` type a delivery event becomes: email_opened, sms_delivered, ... An
 * SMS has no bounce of its own: Twilio's "undelivered" is reported as sms_failed,
 * the name journeys use (see the validator's message events).
 */
export function customerEventType(family: 'email' | 'sms', kind: DeliveryEventKind): string {
  return family === 'sms' && kind === 'bounced' ? 'sms_failed' : `${family}_${kind}`;
}

/** Whether an event means: never send to this address on this channel again. */
export function suppresses(e: DeliveryEvent): boolean {
  switch (e.kind) {
    case 'bounced':
    case 'failed':
      return e.hard === true;
    case 'spam_report':
    case 'unsubscribed':
      return true;
    case 'delivered':
    case 'opened':
    case 'clicked':
    case 'replied':
      return false;
    default:
      return unexpected(e.kind);
  }
}

const TOUCHED = 'temp.delivery_touched';

/** Stores the events of one verified webhook request. Call inside a transaction. */
export function storeDeliveryEvents(db: StoreDb, providerType: ProviderType, events: readonly DeliveryEvent[], now: number): StoredEvents {
  const out: StoredEvents = { stored: 0, duplicates: 0, unmatched: 0, customerEvents: 0, suppressed: 0 };
  const family = channelFamily(providerType);
  const touched = new Set<string>();
  for (const e of events) {
    const row = matchRow(db, e);
    const eventId = `${e.provider}:${e.eventId}`;
    const detail = e.url || e.reason ? JSON.stringify({ ...(e.url ? { url: e.url } : {}), ...(e.reason ? { reason: e.reason } : {}) }) : null;
    const inserted = db.run(
      `INSERT INTO message_events (event_id, outbox_id, provider, kind, hard, occurred_at, address, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`,
      [eventId, row?.id ?? null, e.provider, e.kind, e.hard === undefined ? null : e.hard ? 1 : 0, e.occurredAt, e.address ?? null, detail],
    ).changes;
    if (!inserted) {
      out.duplicates++;
      continue;
    }
    out.stored++;
    if (!row) out.unmatched++;
    const channel = row?.channel ?? family;
    const address = normaliseAddress(channel, e.address ?? row?.address);
    // a test copy went to the team's address: what happens to it is nobody's customer event
    const customers = row ? (row.test ? [] : [row.customer_id]) : family && address ? customersAt(db, family, address) : [];
    if (family) {
      const properties = JSON.stringify({
        ...(row ? { outbox_id: row.id, journey: row.journey_id, step: row.step_id } : {}),
        provider: e.provider,
        ...(e.url ? { url: e.url } : {}),
        ...(e.reason ? { reason: e.reason } : {}),
        ...(e.hard !== undefined ? { hard: e.hard } : {}),
      });
      for (const customer of customers) {
        // The customer may have been deleted since the message left: skip, do not fail the batch.
        out.customerEvents += db.run(
          `INSERT INTO events (id, customer_id, type, occurred_at, properties) SELECT ?, id, ?, ?, ? FROM customers WHERE id = ? ON CONFLICT (id) DO NOTHING`,
          [customers.length === 1 ? `message:${eventId}` : `message:${eventId}:${customer}`, customerEventType(family, e.kind), e.occurredAt, properties, customer],
        ).changes;
      }
    }
    if (channel && address && suppresses(e)) {
      const added = db.run(`INSERT INTO suppressions (channel, address, reason, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (channel, address) DO NOTHING`, [
        channel,
        address,
        suppressionReason(e),
        now,
      ]).changes;
      if (added) {
        out.suppressed++;
        // Everyone at that address, not only the message's customer: the address is what is suppressed.
        for (const c of [...customers, ...(row && family ? customersAt(db, family, address) : [])]) touched.add(c);
      }
    }
  }
  if (touched.size) refreshTouched(db, touched);
  return out;
}

function matchRow(db: StoreDb, e: DeliveryEvent): MatchedRow | undefined {
  const cols = 'id, customer_id, channel, journey_id, step_id, address, test';
  if (e.idempotencyKey) {
    // the key names a message of the provider whose webhook this is: another provider's event carrying it is not that message's
    const row = db.get<MatchedRow>(`SELECT ${cols} FROM outbox_messages WHERE idempotency_key = ? AND provider = ?`, [e.idempotencyKey, e.provider]);
    if (row) return row;
  }
  // Only messages whose provider's events may lack the key have their ids indexed
  // (migration 010); an event of another provider without our key is not a journey's.
  if (e.providerMessageId) {
    return db.get<MatchedRow>(
      `SELECT ${cols} FROM outbox_messages WHERE id = (SELECT id FROM outbox_delivery WHERE provider = ? AND provider_message_id = ? AND events_by_id = 1)`,
      [e.provider, e.providerMessageId],
    );
  }
  return undefined;
}

/** As the suppressions table keeps addresses: e-mail lower-cased, a phone as +digits. */
function normaliseAddress(channel: string | null, address: string | undefined): string | null {
  if (!address) return null;
  const trimmed = address.trim();
  if (channel === 'email' || trimmed.includes('@')) return trimmed.toLowerCase();
  // whatsapp:+420..., viber:... : the channel says which, the number is the address.
  return normalisePhone(trimmed.replace(/^[a-z]+:/i, '')) ?? trimmed;
}

/**
 * Customers at an address. E-mail is indexed; phone is not, but only messages that
 * matched no outbox row (an incoming STOP) come here, and they are rare.
 */
function customersAt(db: StoreDb, family: 'email' | 'sms', address: string): string[] {
  const sql = family === 'email' ? `SELECT id FROM customers WHERE email = ?` : `SELECT id FROM customers WHERE phone = ?`;
  return db.all<{ id: string }>(sql, [address]).map((r) => r.id);
}

function suppressionReason(e: DeliveryEvent): string {
  const why = e.kind === 'bounced' || e.kind === 'failed' ? `hard bounce${e.reason ? `: ${e.reason}` : ''}` : e.kind === 'spam_report' ? 'spam report' : 'unsubscribed';
  return `${why} (${e.provider})`;
}

function refreshTouched(db: StoreDb, customers: Set<string>): void {
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS delivery_touched (customer_id TEXT PRIMARY KEY)`);
  db.run(`DELETE FROM ${TOUCHED}`);
  for (const c of customers) db.run(`INSERT OR IGNORE INTO ${TOUCHED} (customer_id) VALUES (?)`, [c]);
  refreshReachability(db, TOUCHED);
  db.run(`DELETE FROM ${TOUCHED}`);
}

function unexpected(value: never): never {
  throw new Error(`unexpected value ${JSON.stringify(value)}`);
}
