/**
 * A person's data on request: erasure (`journey forget`) and access (`journey export`).
 *
 * Which tables hold a person's data is read from the schema, not kept as a list: a
 * table holds it when one of its columns links it to the person (LINKS below: their
 * customer id, their orders, enrolments or messages, an address of theirs), or shares
 * its primary key with such a table (SAME_ID). A table that has none of these must be
 * named in NO_PERSONAL_DATA with the reason; any other table stops `forget` and
 * `export` with an error, and test/store/privacy.test.ts fails on it, so that a new
 * table cannot quietly keep data an erasure was asked to remove.
 */
import { createHmac } from 'node:crypto';
import { ambiguous, findCustomer } from './customer-ref.js';
import type Database from 'better-sqlite3';
import { JourneyError } from '../errors.js';
import type { StoreDb, SqlValue } from './db.js';
import { ADDRESS_HASH_FUNCTION, refreshReachability } from './facts.js';

/** The environment variable holding the key of the erased addresses' hashes. */
export const HASH_KEY_ENV = 'JOURNEY_HASH_KEY';
/** Shorter keys are refused: the hashes of a list of known addresses must not be guessable. */
export const MIN_KEY_LENGTH = 32;
const KEY_CHECK_TEXT = 'journey erasure key check';

/** The sets a forget or export computes first, each a temp table of one column `id`. */
type PersonSet = 'customers' | 'orders' | 'enrolments' | 'outbox' | 'addresses';

/** Column name -> the set of the person's ids (or addresses) its value belongs to. */
const LINKS: Readonly<Record<string, PersonSet>> = {
  customer_id: 'customers',
  order_id: 'orders',
  conversion_order_id: 'orders',
  enrolment_id: 'enrolments',
  outbox_id: 'outbox',
  // message events and suppressions name the address itself (an event may match no message)
  address: 'addresses',
};

/** Tables whose own `id` is a person's id of that set. */
const OWN_ID: Readonly<Record<string, PersonSet>> = {
  customers: 'customers',
  orders: 'orders',
  enrolments: 'enrolments',
  outbox_messages: 'outbox',
};

/** The tables others hang off, deleted last (children first); -1 for every other table sorts it before them. */
const ROOT_ORDER = ['outbox_messages', 'enrolments', 'orders', 'customers'];

/** Tables whose primary key is another table's id (a row per row of it). */
const SAME_ID: Readonly<Record<string, PersonSet>> = {
  outbox_delivery: 'outbox',
};

/** Tables that hold nothing about a person, and why. */
export const NO_PERSONAL_DATA: Readonly<Record<string, string>> = {
  schema_migrations: 'the schema versions applied',
  products: 'the catalogue',
  journey_versions: 'journey files as deployed',
  journeys: 'deployed journeys and their trigger cursors',
  segment_versions: 'segment rules as recorded',
  journey_segments: 'which segment versions a journey used',
  runner_lock: 'the name of the process holding the tick lock',
  webhook_requests: "replay ledger of delivery webhooks: a provider name and the request's signature or body hash",
  outbox_leases: 'outbox ids a dispatcher claimed, for seconds (no address, no customer)',
  outbox_attempts: 'outbox ids of requests in flight and when they left (no address, no customer)',
  erased_addresses: 'keyed hashes of erased addresses, kept on purpose so they are not messaged again',
  erasure_key: 'a check value of the hash key',
  product_pairs: "co-purchase counts per pair of products and day; a forgotten person's orders are taken out of them as their items are deleted",
};

export interface TablePlan {
  table: string;
  /** The person's rows of the table: a WHERE clause over the temp sets. */
  where: string;
}

/** Every table of the store that holds a person's data, with how their rows are found; throws on a table nothing accounts for. */
export function personalDataPlan(db: StoreDb): TablePlan[] {
  const tables = db.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).map((t) => t.name);
  const plans: TablePlan[] = [];
  const unaccounted: string[] = [];
  for (const table of tables) {
    const columns = db.all<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, [table]).map((c) => c.name);
    const terms: string[] = [];
    const own = OWN_ID[table] ?? SAME_ID[table];
    if (own) terms.push(`"id" IN (SELECT id FROM temp.forget_${own})`);
    for (const c of columns) {
      const set = LINKS[c];
      if (!set) continue;
      terms.push(set === 'addresses' ? `lower(trim("${c}")) IN (SELECT id FROM temp.forget_addresses)` : `"${c}" IN (SELECT id FROM temp.forget_${set})`);
    }
    if (terms.length > 0) plans.push({ table, where: terms.join(' OR ') });
    else if (!Object.hasOwn(NO_PERSONAL_DATA, table)) unaccounted.push(table);
  }
  if (unaccounted.length > 0) {
    throw new JourneyError(`the store has table${unaccounted.length === 1 ? '' : 's'} ${unaccounted.join(', ')} that journey cannot tell whether a person's data is in`, {
      hint: 'this is a bug in journey: src/store/privacy.ts must link the table to a person (a customer_id, order_id, enrolment_id, outbox_id or address column) or list it in NO_PERSONAL_DATA',
    });
  }
  return plans;
}

/** The person's ids and addresses, as temp tables the plan's WHERE clauses read. */
function collectPerson(db: StoreDb, customerIds: readonly string[], extraAddresses: readonly string[] = []): void {
  for (const set of ['customers', 'orders', 'enrolments', 'outbox', 'addresses'] as const) {
    db.exec(`DROP TABLE IF EXISTS temp.forget_${set}; CREATE TEMP TABLE forget_${set} (id PRIMARY KEY) WITHOUT ROWID`);
  }
  for (const id of customerIds) db.run(`INSERT OR IGNORE INTO temp.forget_customers (id) SELECT id FROM customers WHERE id = ?`, [id]);
  db.exec(`
    INSERT OR IGNORE INTO temp.forget_orders (id) SELECT id FROM orders WHERE customer_id IN (SELECT id FROM temp.forget_customers);
    INSERT OR IGNORE INTO temp.forget_enrolments (id) SELECT id FROM enrolments WHERE customer_id IN (SELECT id FROM temp.forget_customers);
    INSERT OR IGNORE INTO temp.forget_outbox (id) SELECT id FROM outbox_messages
      WHERE customer_id IN (SELECT id FROM temp.forget_customers) OR enrolment_id IN (SELECT id FROM temp.forget_enrolments);
  `);
  for (const a of [...personAddresses(db), ...extraAddresses]) db.run(`INSERT OR IGNORE INTO temp.forget_addresses (id) VALUES (?)`, [a]);
}

/**
 * The addresses of the people in temp.forget_customers, normalised (trimmed, lower-case):
 * e-mail, phone, and attribute values that are addresses (a channel may send to
 * `attributes.whatsapp`). Not the outbox's addresses: with test recipients those are
 * the team's.
 */
function personAddresses(db: StoreDb): string[] {
  const rows = db.all<{ email: string | null; phone: string | null; attributes: string }>(
    `SELECT email, phone, attributes FROM customers WHERE id IN (SELECT id FROM temp.forget_customers)`,
  );
  const aliases = db.all<{ alias: string }>(`SELECT alias FROM customer_aliases WHERE customer_id IN (SELECT id FROM temp.forget_customers)`).map((r) => r.alias);
  const out = new Set<string>();
  const add = (v: unknown) => {
    const n = normaliseAddress(v);
    if (n !== null && looksLikeAddress(n)) out.add(n);
  };
  for (const r of rows) {
    add(r.email);
    add(r.phone);
    let attrs: unknown;
    try {
      attrs = JSON.parse(r.attributes);
    } catch {
      attrs = null;
    }
    if (attrs && typeof attrs === 'object') for (const v of Object.values(attrs)) add(v);
  }
  for (const a of aliases) add(a);
  return [...out];
}

export function normaliseAddress(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  const n = v.trim().toLowerCase();
  return n === '' ? null : n;
}

function looksLikeAddress(v: string): boolean {
  return /^[^@\s]+@[^@\s]+$/.test(v) || /^\+?[0-9][0-9 ()./-]{5,}$/.test(v);
}

// ---- the key

/** The key from the environment, or an error that says what to do. */
export function hashKey(env: NodeJS.ProcessEnv = process.env): string {
  const key = env[HASH_KEY_ENV];
  if (key === undefined || key === '') {
    throw new JourneyError(`${HASH_KEY_ENV} is not set: journey keeps a keyed hash of an erased person's addresses, and needs the project's key for it`, {
      hint: `set ${HASH_KEY_ENV} to a secret of ${MIN_KEY_LENGTH} characters or more (e.g. openssl rand -hex 32), kept where the shop keeps its provider keys, and the same for every journey command on this store`,
    });
  }
  if (key.length < MIN_KEY_LENGTH) {
    throw new JourneyError(`${HASH_KEY_ENV} is ${key.length} characters long; it must have ${MIN_KEY_LENGTH} or more (not shown)`, {
      hint: 'a short key lets anyone with the store test guessed addresses against the hashes; generate one: openssl rand -hex 32',
    });
  }
  return key;
}

const hmac = (key: string, text: string) => createHmac('sha256', key).update(text).digest('hex');

export const keyCheckValue = (key: string) => hmac(key, KEY_CHECK_TEXT);

/** The hash stored for an address (normalised first); null for no address. */
export function addressHash(key: string, address: unknown): string | null {
  const n = normaliseAddress(address);
  return n === null ? null : hmac(key, n);
}

function keyMismatch(): JourneyError {
  return new JourneyError(`${HASH_KEY_ENV} is not the key this store's erased addresses were hashed with`, {
    hint: `set ${HASH_KEY_ENV} to the key that \`journey forget\` used on this store (its value is never printed; the store keeps only a check value)`,
  });
}

/**
 * Registers journey_address_hash on a connection. The key is read from the
 * environment at each call (cached per value), so only queries that hash need it:
 * the SQL in facts.ts calls the function only when the store holds erased addresses.
 */
export function registerPrivacyFunctions(db: Database.Database): void {
  let cached: { key: string; check: string } | null = null;
  db.function(ADDRESS_HASH_FUNCTION, { deterministic: true }, (address: unknown, check: unknown) => {
    if (normaliseAddress(address) === null) return null;
    const key = process.env[HASH_KEY_ENV] ?? '';
    if (cached?.key !== key) cached = { key: hashKey(), check: keyCheckValue(key) };
    if (typeof check === 'string' && check !== cached.check) throw keyMismatch();
    return addressHash(key, address);
  });
}

// ---- forget and export

export interface ForgetResult {
  /** The customer ids asked for that were in the store, and removed. */
  forgotten: string[];
  /** Asked for, not in the store. */
  notFound: string[];
  /** Rows removed per table (tables with none left out). */
  removed: Record<string, number>;
  /** Hashes newly added to the erased addresses. */
  hashed: number;
  /** Other customers in the store sharing an erased address: kept, and no longer reachable. */
  sharing: string[];
  /** Whether the write-ahead log was checkpointed and emptied; false when another process kept it open. */
  walCleared: boolean;
  /** The database file was rebuilt without free pages (VACUUM). */
  vacuumed: boolean;
}

/**
 * Erases people: every row of theirs in every table of the plan, their addresses as
 * keyed hashes instead, then the free space and the write-ahead log scrubbed. One
 * transaction for the rows; a failure leaves the store as it was.
 */
export function forgetCustomers(db: StoreDb, refs: readonly string[], opts: { key: string; now: number }): ForgetResult {
  const check = keyCheckValue(opts.key);
  // an id, an alias the imports recorded, or an address that is one customer's (several: an error, nothing erased)
  const customerIds = refs.map((ref) => resolved(db, ref));
  const stored = db.get<{ check_value: string }>('SELECT check_value FROM erasure_key WHERE id = 1');
  if (stored && stored.check_value !== check) throw keyMismatch();
  const plan = personalDataPlan(db);
  // zeroes what the deletes free inside pages and the pages they free, in the file and the WAL
  db.exec('PRAGMA secure_delete = ON');
  const result = db.transaction((): Omit<ForgetResult, 'walCleared' | 'vacuumed'> => {
    db.exec('PRAGMA defer_foreign_keys = ON');
    collectPerson(db, customerIds);
    const forgotten = db.all<{ id: string }>('SELECT id FROM temp.forget_customers ORDER BY id').map((r) => r.id);
    const found = new Set(forgotten);
    const addresses = db.all<{ id: string }>('SELECT id FROM temp.forget_addresses').map((r) => r.id);
    const removed: Record<string, number> = {};
    // children first, so that each table's count is its own rows, not what a cascade took
    for (const p of [...plan].sort((a, b) => ROOT_ORDER.indexOf(a.table) - ROOT_ORDER.indexOf(b.table))) {
      const n = db.run(`DELETE FROM "${p.table}" WHERE ${p.where}`).changes;
      if (n > 0) removed[p.table] = n;
    }
    if (!stored) db.run('INSERT INTO erasure_key (id, check_value) VALUES (1, ?)', [check]);
    let hashed = 0;
    for (const a of addresses) hashed += db.run('INSERT OR IGNORE INTO erased_addresses (hash, erased_at) VALUES (?, ?)', [addressHash(opts.key, a), opts.now]).changes;
    // someone else in the store with one of these addresses (a duplicate record of the
    // same person, or a re-import) is marked too, and drops out of reachability
    db.exec(`DROP TABLE IF EXISTS temp.forget_sharing; CREATE TEMP TABLE forget_sharing (customer_id TEXT PRIMARY KEY) WITHOUT ROWID`);
    db.exec(`INSERT INTO temp.forget_sharing (customer_id) SELECT id FROM customers
             WHERE lower(trim(email)) IN (SELECT id FROM temp.forget_addresses) OR lower(trim(phone)) IN (SELECT id FROM temp.forget_addresses)`);
    refreshReachability(db, 'temp.forget_sharing');
    const sharing = db.all<{ customer_id: string }>('SELECT customer_id FROM temp.forget_sharing ORDER BY 1').map((r) => r.customer_id);
    for (const set of ['customers', 'orders', 'enrolments', 'outbox', 'addresses', 'sharing'] as const) db.exec(`DROP TABLE temp.forget_${set}`);
    return { forgotten, notFound: refs.filter((_, i) => !found.has(customerIds[i]!)), removed, hashed, sharing };
  });
  return { ...result, ...scrub(db) };
}

/**
 * Rewrites the file without free pages and empties the WAL. Measured with
 * test/cli/forget.test.ts, which greps the raw files: secure_delete and a TRUNCATE
 * checkpoint without VACUUM left the person's name in the file (what earlier writes
 * left in the pages, with secure_delete off then: a re-import that changed their
 * e-mail, rows the dispatcher rewrote); VACUUM and the checkpoint alone left nothing,
 * so secure_delete is kept only for the case where VACUUM cannot run (another reader):
 * the deleted rows themselves are zeroed then. The checkpoint after VACUUM copies the
 * fresh pages back and cuts the WAL, which held the old ones, to nothing.
 */
export function scrub(db: StoreDb): { walCleared: boolean; vacuumed: boolean } {
  const clear = () => {
    const r = db.get<{ busy: number; log: number; checkpointed: number }>('PRAGMA wal_checkpoint(TRUNCATE)');
    return r !== undefined && r.busy === 0;
  };
  // the checkpoint before VACUUM keeps the WAL from holding two copies of the database
  clear();
  let vacuumed = true;
  try {
    db.exec('VACUUM');
  } catch (err) {
    // SQLITE_BUSY/LOCKED: another connection is reading; the rows are gone, their old pages not yet
    if (!/busy|locked/i.test(String((err as Error).message))) throw err;
    vacuumed = false;
  }
  return { walCleared: clear(), vacuumed };
}

export interface PersonExport {
  customer: string;
  exported_at: string;
  /** Every table that holds a person's data, with their rows (an empty list: none). */
  tables: Record<string, Record<string, SqlValue>[]>;
}

/** Everything the store holds about a customer, table by table; null when there is no such customer. */
export function exportCustomer(db: StoreDb, ref: string, now: Date): PersonExport | null {
  const customerId = resolved(db, ref);
  const plan = personalDataPlan(db);
  // a read, in a transaction so that every table is read at the same moment (the temp tables are this connection's own)
  return db.transaction(() => {
    collectPerson(db, [customerId]);
    const found = db.get<{ n: number }>('SELECT count(*) AS n FROM temp.forget_customers')!.n > 0;
    const out: PersonExport | null = found ? { customer: customerId, exported_at: now.toISOString(), tables: {} } : null;
    if (out) for (const p of plan) out.tables[p.table] = db.all<Record<string, SqlValue>>(`SELECT * FROM "${p.table}" WHERE ${p.where}`);
    for (const set of ['customers', 'orders', 'enrolments', 'outbox', 'addresses'] as const) db.exec(`DROP TABLE temp.forget_${set}`);
    return out;
  });
}

/** The customer id a reference names, or the reference itself when it names nobody (reported as not found). */
function resolved(db: StoreDb, ref: string): string {
  const m = findCustomer(db, ref);
  if (m.kind === 'many') throw ambiguous(ref, m);
  return m.kind === 'one' ? m.id : ref;
}
