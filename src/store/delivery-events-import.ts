import type { StoreDb } from './db.js';
import { rebuildReachability } from './facts.js';
import { createTempTable, dropTempTable } from './temp-tables.js';

/**
 * Delivery events a shop exports (from its e-mail platform) come in with
 * `journey import events` as ordinary customer events; those of a delivery type
 * that name a message (`properties.message_id`: the outbox row's idempotency key or
 * the message id of any provider) also become message events of that row, as a
 * webhook would record them, so that wait_for and opened/clicked see them; and
 * bounces marked hard, spam reports and unsubscribes put the address on the
 * suppression list.
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
  matchImportedEvents(db, imported);
  const matchedRows = `
    SELECT e.id AS event_id, e.type, e.occurred_at, json_extract(e.properties, '$.hard') AS hard, o.id AS outbox_id, o.provider, o.channel, o.address
    FROM temp.${MATCHES} x JOIN events e ON e.id = x.event_id JOIN outbox o ON o.id = x.outbox_id`;
  const matched = db.run(
    `INSERT INTO message_events (event_id, outbox_id, provider, kind, hard, occurred_at, address, detail)
     SELECT 'import:' || m.event_id, m.outbox_id, m.provider, substr(m.type, instr(m.type, '_') + 1), m.hard, m.occurred_at, m.address, 'imported'
     FROM (${matchedRows}) m WHERE true
     ON CONFLICT (event_id) DO NOTHING`,
  ).changes;
  const suppressed = db.run(
    `INSERT INTO suppressions (channel, address, reason, created_at)
     SELECT m.channel, m.address, m.type, m.occurred_at FROM (${matchedRows}) m
     WHERE m.type IN (${SUPPRESSING.map(() => '?').join(', ')}) OR (m.type = 'email_bounced' AND m.hard IN (1, 'true'))
     ON CONFLICT (channel, address) DO NOTHING`,
    [...SUPPRESSING],
  ).changes;
  dropTempTable(db, MATCHES);
  if (suppressed > 0) rebuildReachability(db);
  return { matched, suppressed };
}

const MATCHES = 'import_event_matches';
const UNMATCHED = 'import_event_unmatched';

/**
 * Pairs each imported delivery event with its message, in temp.import_event_matches
 * (event_id, outbox_id). By idempotency key first: that is indexed. The provider ids
 * an exported file may name instead are indexed only where a provider's own
 * webhooks need them (migration 010), and the file does not say which provider sent
 * them, so the events left over are looked up in one pass over the outbox, and only
 * when there are any.
 */
function matchImportedEvents(db: StoreDb, imported: string): void {
  const deliveryEvents = `e.id IN (SELECT id FROM ${imported}) AND e.type IN (${DELIVERY_EVENT_TYPES.map(() => '?').join(', ')})`;
  createTempTable(
    db,
    MATCHES,
    `SELECT e.id AS event_id, m.id AS outbox_id
     FROM events e JOIN outbox_messages m ON m.idempotency_key = json_extract(e.properties, '$.message_id')
     WHERE ${deliveryEvents}`,
    [...DELIVERY_EVENT_TYPES],
  );
  const left = createTempTable(
    db,
    UNMATCHED,
    `SELECT e.id AS event_id, json_extract(e.properties, '$.message_id') AS message_id
     FROM events e
     WHERE ${deliveryEvents} AND json_extract(e.properties, '$.message_id') IS NOT NULL AND e.id NOT IN (SELECT event_id FROM temp.${MATCHES})`,
    [...DELIVERY_EVENT_TYPES],
  );
  if (left > 0) {
    db.exec(`CREATE INDEX temp.${UNMATCHED}_by_message ON ${UNMATCHED} (message_id)`);
    db.run(
      `INSERT INTO temp.${MATCHES} (event_id, outbox_id)
       SELECT u.event_id, d.id FROM outbox_delivery d JOIN temp.${UNMATCHED} u ON u.message_id = d.provider_message_id
       WHERE d.provider_message_id IS NOT NULL`,
    );
  }
  dropTempTable(db, UNMATCHED);
}
