/**
 * The outbox: every message a journey sends is a row here, written in the same
 * transaction as the step that sends it, with a unique idempotency key, so that a
 * crash can neither lose a message nor send it twice. The dispatcher delivers the
 * rows; what happens to them afterwards (delivered, opened, bounced, ...) comes
 * back as message events.
 */
export const version = 6;
export const name = 'outbox';
export const sql = `
CREATE TABLE outbox (
  id                  INTEGER PRIMARY KEY,
  -- <journey>:<enrolment>:<step>: one message per enrolment and step, ever
  idempotency_key     TEXT NOT NULL UNIQUE,
  enrolment_id        INTEGER,
  journey_id          TEXT,
  step_id             TEXT,
  customer_id         TEXT NOT NULL,
  channel             TEXT NOT NULL,
  provider            TEXT NOT NULL,
  template            TEXT NOT NULL,
  -- where it goes, resolved when the step ran (test recipients already applied)
  address             TEXT NOT NULL,
  -- personalisation fields, coupon code, recommended products: JSON
  payload             TEXT NOT NULL DEFAULT '{}',
  -- pending: to send; sending: claimed by a dispatcher until claimed_until (then
  -- reclaimed, and sent again under the same key); sent; failed: the provider refused
  -- it for good (a 4xx); dead: retries ran out
  status              TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dead')),
  attempts            INTEGER NOT NULL DEFAULT 0,
  next_attempt_at     INTEGER NOT NULL,
  claimed_until       INTEGER,
  provider_message_id TEXT,
  last_error          TEXT,
  created_at          INTEGER NOT NULL,
  sent_at             INTEGER
);
-- the dispatcher's scan: pending rows whose time has come, oldest first
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
-- delivery events name the provider's message id
CREATE INDEX outbox_by_provider_message ON outbox (provider, provider_message_id) WHERE provider_message_id IS NOT NULL;
-- wait_for / opened: a step's message of an enrolment
CREATE INDEX outbox_by_enrolment ON outbox (enrolment_id, step_id);
-- frequency caps and messages_received: a customer's recent messages
CREATE INDEX outbox_by_customer ON outbox (customer_id, created_at);

CREATE TABLE message_events (
  id          INTEGER PRIMARY KEY,
  -- the provider's own id of the event: a webhook delivered twice is stored once
  event_id    TEXT NOT NULL UNIQUE,
  outbox_id   INTEGER REFERENCES outbox(id),
  provider    TEXT NOT NULL,
  -- delivered, opened, clicked, bounced, spam_report, unsubscribed, failed, replied
  kind        TEXT NOT NULL,
  hard        INTEGER,
  occurred_at INTEGER NOT NULL,
  address     TEXT,
  detail      TEXT
);
CREATE INDEX message_events_by_outbox ON message_events (outbox_id, kind);
`;
