/**
 * What the dispatcher and `journey serve` need beyond the outbox tables of 006.
 *
 * No new outbox index: the dispatcher's claims (per provider) and lease takeovers
 * (status 'sending') are ranges of 006's outbox_due. Every index on the outbox is
 * rewritten twice per message (pending → sending → sent); the bench measured each
 * extra one at about 10% of the dispatcher's store time.
 *
 * webhook_requests: the replay ledger of delivery webhooks. It is written in the
 * same transaction as the events a request carries, so a request whose processing
 * failed is not remembered and the provider's honest retry is accepted.
 */
export const version = 7;
export const name = 'delivery';
export const sql = `
CREATE TABLE webhook_requests (
  -- provider:<name>:<signature, token or body hash>, as the verifier names it
  id          TEXT PRIMARY KEY,
  received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX webhook_requests_by_time ON webhook_requests (received_at);
`;
