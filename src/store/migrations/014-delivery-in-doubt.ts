/**
 * Exactly-once delivery: a message whose request may have reached the provider is
 * never sent again blindly.
 *
 * - outbox_attempts: before a request leaves, the ids it carries are written here
 *   (one row per lease per group commit, not a write per message), so that after a
 *   crash the rows a lease held split in two: those in an attempt, which may have
 *   arrived (in doubt), and the rest, which never left and simply go back to the
 *   queue with no attempt counted. A lease's attempts go with the lease.
 * - outbox_delivery.in_doubt_since: when the attempt began that left the message in
 *   doubt (a crash mid-request, a timeout or a reset connection after the request
 *   was written). The row stays 'pending' (it may well have been delivered, so
 *   frequency caps and segments keep counting it), but no claim sends it: the
 *   dispatcher first asks the provider whether it accepted a message under our key
 *   (or resends under the same key where the provider deduplicates, or holds it
 *   for `journey outbox resolve`, per the provider's in_doubt policy).
 */
export const version = 14;
export const name = 'delivery-in-doubt';
export const sql = `
CREATE TABLE outbox_attempts (
  id         INTEGER PRIMARY KEY,
  lease      INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  -- the outbox ids whose requests were about to leave, a JSON array
  ids        TEXT NOT NULL
);
CREATE INDEX outbox_attempts_by_lease ON outbox_attempts (lease);

ALTER TABLE outbox_delivery ADD COLUMN in_doubt_since INTEGER;
CREATE INDEX outbox_in_doubt ON outbox_delivery (provider, next_attempt_at) WHERE in_doubt_since IS NOT NULL;
`;
