/**
 * Splits the outbox row in two: the message (what to send, to whom, written once by
 * the step) and its delivery (where it stands with the provider, rewritten by the
 * dispatcher). Until now every send rewrote the whole wide row, payload and all:
 * the dispatcher's completion of a sent message cost about 16 µs of SQLite, of
 * which a narrow row of its own saves about half (measured alone, 100,000 rows,
 * completions of 500), and the completions were the larger part of the
 * dispatcher's own work (node bench/run.js dispatch).
 *
 * - outbox_messages: the old table, renamed, without the delivery columns. Its
 *   indexes (by key, enrolment and customer) stay with it.
 * - outbox_delivery: one row per message, the same id, made by a trigger when the
 *   message is written (pending, due when it was created), so no writer can leave a
 *   message without one. It carries the provider too: claims and delivery events
 *   look rows up by provider, and their indexes must hold it.
 * - outbox: a view of the two, with the columns the table had, for everything that
 *   reads messages with their status (segments, caps, reports, events, tests).
 *   Writers name the table they change.
 *
 * The provider's message ids are indexed only for the messages whose delivery
 * events may name them by that id alone (events_by_id: Twilio status callbacks
 * without our callback URL). SendGrid, Postmark and Mailgun copy the idempotency
 * key onto every event, and that is how their events find their message. The ids
 * are random, so each one indexed is a write to a page of its own: with ids like
 * SendGrid's, the index cost the dispatcher about 25% of its throughput (node
 * bench/run.js dispatch). Messages sent before this migration stay findable by id.
 */
export const version = 10;
export const name = 'outbox-delivery';
export const sql = `
DROP INDEX outbox_pending;
DROP INDEX outbox_trouble;
DROP INDEX outbox_by_provider_message;
ALTER TABLE outbox RENAME TO outbox_messages;

CREATE TABLE outbox_delivery (
  id                  INTEGER PRIMARY KEY,
  provider            TEXT NOT NULL,
  -- pending (and 'sending' while a lease holds it: see 009), sent, failed, dead
  status              TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'dead')),
  attempts            INTEGER NOT NULL DEFAULT 0,
  next_attempt_at     INTEGER NOT NULL,
  lease_id            INTEGER,
  provider_message_id TEXT,
  -- 1: delivery events may name the message by provider_message_id alone
  events_by_id        INTEGER NOT NULL DEFAULT 0,
  last_error          TEXT,
  sent_at             INTEGER
);
INSERT INTO outbox_delivery (id, provider, status, attempts, next_attempt_at, lease_id, provider_message_id, events_by_id, last_error, sent_at)
  SELECT id, provider, status, attempts, next_attempt_at, lease_id, provider_message_id, provider_message_id IS NOT NULL, last_error, sent_at FROM outbox_messages;

ALTER TABLE outbox_messages DROP COLUMN status;
ALTER TABLE outbox_messages DROP COLUMN attempts;
ALTER TABLE outbox_messages DROP COLUMN next_attempt_at;
ALTER TABLE outbox_messages DROP COLUMN lease_id;
ALTER TABLE outbox_messages DROP COLUMN provider_message_id;
ALTER TABLE outbox_messages DROP COLUMN last_error;
ALTER TABLE outbox_messages DROP COLUMN sent_at;

CREATE INDEX outbox_pending ON outbox_delivery (provider, next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_trouble ON outbox_delivery (status, id) WHERE status IN ('failed', 'dead');
CREATE INDEX outbox_by_provider_message ON outbox_delivery (provider, provider_message_id) WHERE events_by_id = 1;

CREATE TRIGGER outbox_messages_delivery AFTER INSERT ON outbox_messages BEGIN
  INSERT INTO outbox_delivery (id, provider, next_attempt_at) VALUES (NEW.id, NEW.provider, NEW.created_at);
END;

-- the provider from outbox_delivery, whose index lookups by provider can use
CREATE VIEW outbox AS
  SELECT m.id, m.idempotency_key, m.enrolment_id, m.journey_id, m.step_id, m.customer_id, m.channel, d.provider, m.template, m.address, m.payload,
         d.status, d.attempts, d.next_attempt_at, d.lease_id, d.provider_message_id, d.last_error, m.created_at, d.sent_at
  FROM outbox_messages m JOIN outbox_delivery d ON d.id = m.id;
`;
