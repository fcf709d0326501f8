/**
 * Claims without rewriting the rows they claim. Until 008 a claim set every row to
 * 'sending' and a completion set it again, so each message cost two row writes and
 * two index changes; the dispatcher spent about 7.5 µs of SQLite per message on
 * them (node bench/run.js dispatch). Now a claim is one row in outbox_leases (the
 * ids it took), and a message is written once, when its outcome is known.
 *
 * - A row is 'sending' while it is 'pending' and in a lease that has not recorded
 *   its outcome (outbox.lease_id names the lease that did, for outcomes that leave
 *   the row pending: a retry, or a release without an attempt).
 * - A lease is deleted with the last outcome of its rows; a lease that outlives
 *   `until` belonged to a dispatcher that stopped mid-send, and its rows are taken
 *   over (outbox.ts, reclaimExpired).
 * - Lease ids are never reused (AUTOINCREMENT): the id is the token a completion
 *   presents, and a taken-over lease's old token must not match a new lease.
 *
 * Rows left in 'sending' by an older dispatcher go back to pending, due when their
 * lease would have run out, with the interrupted attempt counted, as a takeover
 * would have done. ('sending' stays in the CHECK: SQLite cannot change a CHECK
 * without rebuilding the table, and nothing writes it any more.)
 *
 * The due index now holds pending rows only, by provider (claims are per provider),
 * so a completion removes one index entry instead of moving it; failed and dead
 * rows, which `journey outbox` lists, get a small index of their own.
 */
export const version = 9;
export const name = 'outbox-leases';
export const sql = `
CREATE TABLE outbox_leases (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  provider   TEXT NOT NULL,
  claimed_at INTEGER NOT NULL,
  until      INTEGER NOT NULL,
  -- the claimed outbox ids, a JSON array, oldest due first
  ids        TEXT NOT NULL
);
CREATE INDEX outbox_leases_by_until ON outbox_leases (until);

UPDATE outbox SET status = 'pending', attempts = attempts + 1, next_attempt_at = coalesce(claimed_until, next_attempt_at), claimed_until = NULL,
  last_error = 'the dispatcher stopped during the send; sent again under the same key'
WHERE status = 'sending';
ALTER TABLE outbox RENAME COLUMN claimed_until TO lease_id;

DROP INDEX outbox_due;
CREATE INDEX outbox_pending ON outbox (provider, next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_trouble ON outbox (status, id) WHERE status IN ('failed', 'dead');
`;
