/**
 * What the dispatcher and `journey serve` need beyond the outbox tables of 006.
 *
 * - outbox_due_by_provider: the dispatcher claims per provider (each provider has its
 *   own concurrency, rate limit and circuit breaker), so its scan is a range over
 *   (status, provider, next_attempt_at) rather than a filter over every due row.
 * - outbox_claimed: rows left in 'sending' by a killed dispatcher are found by their
 *   expired lease; a partial index keeps that probe off the (large) sent rows.
 * - webhook_requests: the replay ledger of delivery webhooks. It is written in the
 *   same transaction as the events a request carries, so a request whose processing
 *   failed is not remembered and the provider's honest retry is accepted.
 */
export const version = 7;
export const name = 'delivery';
export const sql = `
CREATE INDEX outbox_due_by_provider ON outbox (status, provider, next_attempt_at);
CREATE INDEX outbox_claimed ON outbox (claimed_until) WHERE status = 'sending';

CREATE TABLE webhook_requests (
  -- provider:<name>:<signature, token or body hash>, as the verifier names it
  id          TEXT PRIMARY KEY,
  received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX webhook_requests_by_time ON webhook_requests (received_at);
`;
