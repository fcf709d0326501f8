/**
 * Message content, rendered when the step sends (src/content): the outbox row keeps
 * what the customer reads, so that a retried send carries the same words, the same
 * coupon and the same products.
 *
 * - outbox_messages.content: the rendered message as JSON (subject, preheader, html,
 *   text, body), or NULL when the provider renders a template of its own from the
 *   row's payload (the template variables).
 * - coupon_codes: every unique code, once: generated (a cryptographic random source)
 *   or imported into a pool; issued to one enrolment for one coupon (a retried send
 *   or a reminder of the same offer shows the same code; each rung of a ladder is a
 *   coupon of its own, so a code of its own), with its expiry; redeemed by the order
 *   whose discount code it is. A code is unique across coupons, as a shop's discount
 *   codes are.
 */
export const version = 15;
export const name = 'message-content';
export const sql = `
ALTER TABLE outbox_messages ADD COLUMN content TEXT;

CREATE TABLE coupon_codes (
  id                INTEGER PRIMARY KEY,
  coupon            TEXT NOT NULL,
  code              TEXT NOT NULL UNIQUE,
  -- generated at the send, or imported into the coupon's pool (journey import coupons)
  source            TEXT NOT NULL CHECK (source IN ('generated', 'pool')),
  imported_at       INTEGER,
  customer_id       TEXT,
  enrolment_id      INTEGER,
  journey_id        TEXT,
  step_id           TEXT,
  issued_at         INTEGER,
  expires_at        INTEGER,
  redeemed_order_id TEXT,
  redeemed_at       INTEGER
);
-- one code per coupon and enrolment
CREATE UNIQUE INDEX coupon_codes_issued ON coupon_codes (coupon, enrolment_id) WHERE enrolment_id IS NOT NULL;
-- a pool's free codes, in import order
CREATE INDEX coupon_codes_free ON coupon_codes (coupon, id) WHERE enrolment_id IS NULL;
`;
