import type { StoreDb } from './db.js';
import { rebuildReachability } from './facts.js';

/**
 * Delivery events a shop exports (from its e-mail platform) come in with
 * `journey import events` as ordinary customer events; those of a delivery type
 * that name a message (`properties.message_id`: the outbox row's idempotency key or
 * the provider's message id) also become message events of that row, as a webhook
 * would record them, so that wait_for and opened/clicked see them; and bounces marked
 * hard, spam reports and unsubscribes put the address on the suppression list.
 */
export const DELIVERY_EVENT_TYPES = [
  'email_delivered',
  'email_opened',
  'email_clicked',
  'email_bounced',
  'email_spam_report',
  'email_unsubscribed',
  'sms_delivered',
  'sms_clicked',
  'sms_replied',
  'sms_failed',
] as const;

const SUPPRESSING = ['email_spam_report', 'email_unsubscribed'];

/** Records the delivery events among the imported events listed in `imported` (a table with an id column). */
export function recordImportedDeliveryEvents(db: StoreDb, imported: string): { matched: number; suppressed: number } {
  if (!/^[a-z_][a-z0-9_.]*$/i.test(imported)) throw new Error(`not a table name: ${imported}`);
  const types = DELIVERY_EVENT_TYPES.map(() => '?').join(', ');
  const matchedRows = `
    SELECT e.id AS event_id, e.type, e.occurred_at, json_extract(e.properties, '$.hard') AS hard, o.id AS outbox_id, o.provider, o.channel, o.address
    FROM events e JOIN outbox o
      ON o.idempotency_key = json_extract(e.properties, '$.message_id') OR o.provider_message_id = json_extract(e.properties, '$.message_id')
    WHERE e.id IN (SELECT id FROM ${imported}) AND e.type IN (${types})`;
  const matched = db.run(
    `INSERT INTO message_events (event_id, outbox_id, provider, kind, hard, occurred_at, address, detail)
     SELECT 'import:' || m.event_id, m.outbox_id, m.provider, substr(m.type, instr(m.type, '_') + 1), m.hard, m.occurred_at, m.address, 'imported'
     FROM (${matchedRows}) m WHERE true
     ON CONFLICT (event_id) DO NOTHING`,
    [...DELIVERY_EVENT_TYPES],
  ).changes;
  const suppressed = db.run(
    `INSERT INTO suppressions (channel, address, reason, created_at)
     SELECT m.channel, m.address, m.type, m.occurred_at FROM (${matchedRows}) m
     WHERE m.type IN (${SUPPRESSING.map(() => '?').join(', ')}) OR (m.type = 'email_bounced' AND m.hard IN (1, 'true'))
     ON CONFLICT (channel, address) DO NOTHING`,
    [...DELIVERY_EVENT_TYPES, ...SUPPRESSING],
  ).changes;
  if (suppressed > 0) rebuildReachability(db);
  return { matched, suppressed };
}
