/**
 * Erasure (`journey forget`). A forgotten person's rows are deleted; what stays is a
 * keyed hash (HMAC-SHA256 under the project secret JOURNEY_HASH_KEY) of each address
 * they had, so that a re-import of an old export cannot bring them back into a
 * journey: the store can tell an address was erased without holding it.
 *
 * - erased_addresses: the hashes, channel-independent (an erased person is messaged on
 *   no channel), of the address lower-cased and trimmed.
 * - erasure_key: HMAC of a fixed text under the key, written by the first forget, so
 *   that a different key later is an error instead of hashes that never match.
 * - erased_customers: customers now in the store whose e-mail or phone hashes to an
 *   erased address (someone re-imported). Kept with the reachability they take away,
 *   by the same refreshes (facts.ts), so that the tick's reachability and the segment
 *   compiler's `suppressed` read a plain table, set by set, and hash nothing per query.
 */
export const version = 17;
export const name = 'erasure';
export const sql = `
CREATE TABLE erased_addresses (
  hash      TEXT PRIMARY KEY,
  erased_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE erasure_key (
  id          INTEGER PRIMARY KEY CHECK (id = 1),
  check_value TEXT NOT NULL
);

CREATE TABLE erased_customers (
  customer_id TEXT PRIMARY KEY
) WITHOUT ROWID;
`;
