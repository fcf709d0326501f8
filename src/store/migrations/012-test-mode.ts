/**
 * Test mode marks what it does, so that none of it counts as done for real:
 *
 * - enrolments.test: the enrolment was made while its journey was in test mode.
 *   Live entries ignore test enrolments (entry limits, "inside already", re-entry),
 *   and a test enrolment never sends to its customer, even after test mode is off.
 * - outbox_messages.test: a message or sync written for a test enrolment (to a test
 *   address). Frequency caps of live sends do not count it.
 *
 * The outbox view gains the column; it is otherwise the view of 010.
 */
export const version = 12;
export const name = 'test-mode';
export const sql = `
ALTER TABLE enrolments ADD COLUMN test INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox_messages ADD COLUMN test INTEGER NOT NULL DEFAULT 0;
-- a live segment check asks of every member whether they were in the journey in test
-- mode only: a probe into this index, empty for journeys never run in test mode
CREATE INDEX enrolments_test ON enrolments (journey_id, customer_id) WHERE test = 1;
-- the sample of each step that test mode has sent the team so far
CREATE INDEX outbox_test_by_step ON outbox_messages (journey_id, step_id, enrolment_id) WHERE test = 1;

DROP VIEW outbox;
CREATE VIEW outbox AS
  SELECT m.id, m.idempotency_key, m.enrolment_id, m.journey_id, m.step_id, m.customer_id, m.channel, d.provider, m.template, m.address, m.payload,
         d.status, d.attempts, d.next_attempt_at, d.lease_id, d.provider_message_id, d.last_error, m.created_at, d.sent_at, m.test
  FROM outbox_messages m JOIN outbox_delivery d ON d.id = m.id;
`;
