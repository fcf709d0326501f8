import type { SqlValue, StoreDb } from './db.js';
import type { MessageColumns } from './outbox.js';

/**
 * Set-based writes of the engine: every function takes a set of enrolments as a
 * SELECT (printed by a dialect printer, returning a column `id`) and changes them
 * all with a few statements, never one statement per enrolment. The step log grows
 * in the same statements' transaction. SQLite dialect; a PostgreSQL store gets its
 * own version of this file.
 */
export interface IdSet {
  sql: string;
  params: readonly SqlValue[];
}

const inSet = (set: IdSet) => `IN (SELECT id FROM (${set.sql}))`;

export interface Entry {
  journeyId: string;
  version: number;
  stepId: string | null;
  now: number;
  /**
   * Test mode: the enrolments are marked as test, and their entry key gets the
   * prefix `test:` so that the same cause can still enter for real once test mode is off.
   */
  test?: boolean;
}

/** Enters the rows of an entrants query (customer_id, entry_key, order_id, trigger_at); returns their ids' range. */
export function insertEnrolments(db: StoreDb, entrants: IdSet, e: Entry): { first: number; count: number } {
  const before = db.get<{ id: number | null }>('SELECT max(id) AS id FROM enrolments')?.id ?? 0;
  const { changes } = db.run(
    `INSERT INTO enrolments (journey_id, version, customer_id, entry_key, order_id, trigger_at, entered_at, status, step_id, step_started_at, due_at, test)
     SELECT ?, ?, x.customer_id, ${e.test ? `'${TEST_KEY_PREFIX}' || x.entry_key` : 'x.entry_key'}, x.order_id, x.trigger_at, ?, 'active', ?, ?, ?, ? FROM (${entrants.sql}) x WHERE true
     ON CONFLICT (journey_id, customer_id, entry_key) DO NOTHING`,
    [e.journeyId, e.version, e.now, e.stepId, e.now, e.now, e.test ? 1 : 0, ...entrants.params],
  );
  db.run(`INSERT INTO step_log (enrolment_id, step_id, at, outcome, detail) SELECT id, step_id, ?, 'entered', entry_key FROM enrolments WHERE id > ?`, [e.now, before]);
  return { first: before + 1, count: changes };
}

/** The entry key prefix of test-mode enrolments (test:segment:..., test:order:...). */
export const TEST_KEY_PREFIX = 'test:';

/** Records the trigger segment's members as of now, leaving out those given (newcomers not entered yet). */
export function replaceMemberships(db: StoreDb, journeyId: string, membersTable: string, notYet: IdSet | null, now: number): void {
  db.run('DELETE FROM segment_memberships WHERE journey_id = ?', [journeyId]);
  db.run(
    `INSERT INTO segment_memberships (journey_id, customer_id, since) SELECT ?, m.id, ? FROM temp.${membersTable} m
     WHERE ${notYet ? `m.id NOT IN (SELECT customer_id FROM (${notYet.sql}))` : 'true'}`,
    [journeyId, now, ...(notYet?.params ?? [])],
  );
}

export function markChecked(db: StoreDb, journeyId: string, now: number): void {
  db.run('UPDATE journeys SET last_check_at = ? WHERE id = ?', [now, journeyId]);
}

export function setCursor(db: StoreDb, journeyId: string, cursor: number): void {
  db.run('UPDATE journeys SET cursor = ? WHERE id = ?', [cursor, journeyId]);
}

function log(db: StoreDb, set: IdSet, outcome: string, detail: string | null, now: number): void {
  db.run(`INSERT INTO step_log (enrolment_id, step_id, at, outcome, detail) SELECT en.id, en.step_id, ?, ?, ? FROM enrolments en WHERE en.id ${inSet(set)}`, [
    now,
    outcome,
    detail,
    ...set.params,
  ]);
}

/** Moves enrolments to a step (due at once), or completes them at the end of the journey. */
export function moveTo(db: StoreDb, set: IdSet, step: string | null, now: number, outcome: string, detail: string | null = null): number {
  log(db, set, outcome, detail, now);
  if (step === null) return finish(db, set, 'completed', 'end', now);
  return db.run(`UPDATE enrolments SET step_id = ?, step_started_at = ?, due_at = ? WHERE id ${inSet(set)}`, [step, now, now, ...set.params]).changes;
}

/** Ends enrolments: exited (exit_when, step_removed, journey_removed) or completed (an exit step, the end). */
export function finish(db: StoreDb, set: IdSet, status: 'exited' | 'completed', reason: string, now: number): number {
  log(db, set, status, reason, now);
  return db.run(`UPDATE enrolments SET status = ?, exit_reason = ?, exited_at = ?, due_at = NULL WHERE id ${inSet(set)}`, [status, reason, now, ...set.params]).changes;
}

/** Sets when enrolments are looked at next, from an SQL expression over `en` and `c` (the customer). */
export function setDue(db: StoreDb, set: IdSet, dueSql: string, dueParams: readonly SqlValue[], outcome: string | null, detail: string | null, now: number): number {
  if (outcome) log(db, set, outcome, detail, now);
  return db.run(
    `UPDATE enrolments AS en SET due_at = (SELECT ${dueSql} FROM customers c WHERE c.id = en.customer_id) WHERE en.id ${inSet(set)}`,
    [...dueParams, ...set.params],
  ).changes;
}

/** The enrolments of a set whose due time an expression puts later than now (they must wait). */
export function laterThan(set: IdSet, dueSql: string, dueParams: readonly SqlValue[], now: number): IdSet {
  return {
    sql: `SELECT en.id AS id FROM enrolments en JOIN customers c ON c.id = en.customer_id WHERE en.id ${inSet(set)} AND (${dueSql}) > ?`,
    params: [...set.params, ...dueParams, now],
  };
}

/** A set less another. */
export function minus(set: IdSet, other: IdSet): IdSet {
  return { sql: `SELECT id FROM (${set.sql}) WHERE id NOT IN (SELECT id FROM (${other.sql}))`, params: [...set.params, ...other.params] };
}

export function count(db: StoreDb, set: IdSet): number {
  return db.get<{ n: number }>(`SELECT count(*) AS n FROM (${set.sql})`, set.params)!.n;
}

/** The customer's local time zone expression, for due-time expressions (c is the customer). */
export const customerZone = (defaultZone: string): { sql: string; params: SqlValue[] } => ({
  sql: `CASE WHEN c.timezone IS NULL OR c.timezone = '' THEN ? ELSE c.timezone END`,
  params: [defaultZone],
});

export interface FrequencyWindow {
  max: number;
  channel: string | null;
  /** Rolling window length in ms, or calendar: 'day' | 'week' in the customer's zone. */
  per: number | 'day' | 'week';
  defaultZone: string;
}

/** The enrolments of a set whose customer already got `max` messages in the window. */
export function overCap(set: IdSet, cap: FrequencyWindow, now: number): { set: IdSet; until: { sql: string; params: SqlValue[] } } {
  const zone = customerZone(cap.defaultZone);
  // a rolling window holds what was sent after now - per (a message sent exactly `per` ago
  // is out of it: that is when a deferred send goes); a calendar one from local midnight
  const windowStart =
    typeof cap.per === 'number'
      ? { sql: '?', op: '>', params: [now - cap.per] as SqlValue[] }
      : cap.per === 'day'
        ? { sql: `journey_day_start(?, ${zone.sql})`, op: '>=', params: [now, ...zone.params] as SqlValue[] }
        : { sql: `journey_week_start(?, ${zone.sql})`, op: '>=', params: [now, ...zone.params] as SqlValue[] };
  // sync rows push data to a platform: they are not messages to the customer
  // a test-mode message went to the team, not to the customer: only test sends count it
  const channel = (cap.channel ? ' AND o.channel = ?' : ` AND o.channel <> '${SYNC_CHANNEL}'`) + ' AND (o.test = 0 OR en.test = 1)';
  const channelParams: SqlValue[] = cap.channel ? [cap.channel] : [];
  const sent = `(SELECT count(*) FROM outbox o WHERE o.customer_id = en.customer_id AND o.created_at ${windowStart.op} ${windowStart.sql}${channel} AND o.status IN ('pending', 'sending', 'sent'))`;
  // when the cap lets the next one through: the oldest counted message leaves the rolling
  // window; a calendar window opens again at the next local midnight
  const until =
    typeof cap.per === 'number'
      ? {
          sql: `(SELECT min(o.created_at) FROM outbox o WHERE o.customer_id = en.customer_id AND o.created_at > ?${channel} AND o.status IN ('pending', 'sending', 'sent')) + ?`,
          params: [now - cap.per, ...channelParams, cap.per] as SqlValue[],
        }
      : cap.per === 'day'
        ? { sql: `journey_day_start(? + 86400000, ${zone.sql})`, params: [now, ...zone.params] as SqlValue[] }
        : { sql: `journey_week_start(? + 7 * 86400000, ${zone.sql})`, params: [now, ...zone.params] as SqlValue[] };
  return {
    set: {
      sql: `SELECT en.id AS id FROM enrolments en JOIN customers c ON c.id = en.customer_id WHERE en.id ${inSet(set)} AND ${sent} >= ?`,
      params: [...set.params, ...windowStart.params, ...channelParams, cap.max],
    },
    until,
  };
}

export interface OutboxSend {
  journeyId: string;
  stepId: string;
  channel: string;
  provider: string;
  template: string;
  /** customers.email or customers.phone (or a JSON attribute) for the address. */
  addressField: 'email' | 'phone' | `attributes.${string}`;
  /** Test mode: these addresses instead of the customer's (one message each), the rows marked as test. */
  testRecipients: string[] | null;
  data: Record<string, unknown>;
  now: number;
}

/**
 * Writes one outbox row per enrolment (per test recipient in test mode), keyed
 * journey:enrolment:step. Its payload names the customer, journey, step and data; the
 * step's content (engine/content-step.ts) then replaces it with the message's variables,
 * coupon and products, in the same transaction.
 */
export function insertOutbox(db: StoreDb, set: IdSet, s: OutboxSend): number {
  const address =
    s.addressField === 'email' ? 'lower(c.email)' : s.addressField === 'phone' ? 'c.phone' : `json_extract(c.attributes, '$.' || ?)`;
  const addressParams: SqlValue[] = s.addressField.startsWith('attributes.') ? [s.addressField.slice('attributes.'.length)] : [];
  const recipients = s.testRecipients ?? [null];
  let written = 0;
  recipients.forEach((recipient, i) => {
    const key = recipients.length > 1 ? `'#${i + 1}'` : `''`;
    written += db.run(
      `INSERT INTO outbox_messages (idempotency_key, enrolment_id, journey_id, step_id, customer_id, channel, provider, template, address, payload, created_at, test)
       SELECT en.journey_id || ':' || en.id || ':' || ? || ${key}, en.id, en.journey_id, ?, c.id, ?, ?, ?, ${recipient === null ? address : '?'},
              json_object('customer_id', c.id, 'journey', en.journey_id, 'step', ?, 'data', json(?)), ?, ${s.testRecipients ? 1 : 0}
       FROM enrolments en JOIN customers c ON c.id = en.customer_id
       WHERE en.id ${inSet(set)} AND ${recipient === null ? `coalesce(${address}, '') <> ''` : 'true'}
       ON CONFLICT (idempotency_key) DO NOTHING`,
      [
        s.stepId,
        s.stepId,
        s.channel,
        s.provider,
        s.template,
        ...(recipient === null ? addressParams : [recipient]),
        s.stepId,
        JSON.stringify(s.data),
        s.now,
        ...(recipient === null ? addressParams : []),
        ...set.params,
      ],
    ).changes;
  });
  return written;
}

/** The outbox channel of sync steps' rows: a profile or event push, not a message. */
export const SYNC_CHANNEL = 'sync';

export interface SyncSend {
  journeyId: string;
  stepId: string;
  provider: string;
  payload: Record<string, unknown>;
  /** Test mode: the test profile (an e-mail, a +phone or an id) that takes the customer's place; the rows are marked as test. */
  testTarget?: string | null;
  now: number;
}

/** A sync step: one outbox row per enrolment for the provider's sync (profile properties and/or an event). */
export function insertSync(db: StoreDb, set: IdSet, s: SyncSend): number {
  const target = s.testTarget ?? null;
  // the provider identifies the profile by these three: in test mode they name the test profile only
  const identity =
    target === null
      ? { sql: `json_object('customer_id', c.id, 'email', c.email, 'phone', c.phone)`, address: 'coalesce(c.email, c.phone, c.id)', params: [] as SqlValue[] }
      : {
          sql: `json_object('customer_id', ?, 'email', ?, 'phone', ?)`,
          address: '?',
          params: [target, target.includes('@') ? target : null, target.startsWith('+') ? target : null] as SqlValue[],
        };
  return db.run(
    `INSERT INTO outbox_messages (idempotency_key, enrolment_id, journey_id, step_id, customer_id, channel, provider, template, address, payload, created_at, test)
     SELECT en.journey_id || ':' || en.id || ':' || ?, en.id, en.journey_id, ?, c.id, ?, ?, '', ${identity.address},
            json_patch(json(?), ${identity.sql}), ?, ?
     FROM enrolments en JOIN customers c ON c.id = en.customer_id WHERE en.id ${inSet(set)}
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [s.stepId, s.stepId, SYNC_CHANNEL, s.provider, ...(target === null ? [] : [target]), JSON.stringify(s.payload), ...identity.params, s.now, target === null ? 0 : 1, ...set.params],
  ).changes;
}

/**
 * The part of a set that enrolments of this journey and step, in test mode, may
 * still send to the team: at most `sample` enrolments per step ever (each test
 * address gets one copy from each), the earliest first. The rest of the set is
 * over the sample.
 */
export function testSample(set: IdSet, journeyId: string, stepId: string, sample: number): IdSet {
  return {
    sql: `SELECT id FROM (${set.sql}) ORDER BY id LIMIT max(0, ? - (SELECT count(DISTINCT enrolment_id) FROM outbox_messages WHERE journey_id = ? AND step_id = ? AND test = 1))`,
    params: [...set.params, sample, journeyId, stepId],
  };
}

/** The enrolments of a set made in test mode. */
export function testEnrolments(set: IdSet): IdSet {
  return { sql: `SELECT en.id AS id FROM enrolments en WHERE en.id ${inSet(set)} AND en.test = 1`, params: [...set.params] };
}

/** Sets customer attributes (null removes one) for the customers of a set. */
export function patchAttributes(db: StoreDb, set: IdSet, patch: Record<string, unknown>): number {
  return db.run(
    `UPDATE customers SET attributes = json_patch(attributes, ?) WHERE id IN (SELECT en.customer_id FROM enrolments en WHERE en.id ${inSet(set)})`,
    [JSON.stringify(patch), ...set.params],
  ).changes;
}

/** Records each enrolment's variant of a split, chosen by a stable hash of journey, step and customer. */
export function assignVariant(db: StoreDb, set: IdSet, journeyId: string, stepId: string, variants: { name: string; upTo: number }[]): void {
  const choice = `CASE ${variants.map(() => `WHEN journey_bucket(? || ':' || ? || ':' || en.customer_id) < ? THEN ?`).join(' ')} ELSE ? END`;
  const params: SqlValue[] = variants.flatMap((v) => [journeyId, stepId, v.upTo, v.name]);
  db.run(`UPDATE enrolments AS en SET variant = json_set(coalesce(en.variant, '{}'), '$.' || ?, ${choice}) WHERE en.id ${inSet(set)}`, [
    stepId,
    ...params,
    variants[variants.length - 1]!.name,
    ...set.params,
  ]);
}

/** The enrolments of a set that got a given variant at a split step. */
export function withVariant(set: IdSet, stepId: string, variant: string): IdSet {
  return { sql: `SELECT en.id AS id FROM enrolments en WHERE en.id ${inSet(set)} AND json_extract(en.variant, '$.' || ?) = ?`, params: [...set.params, stepId, variant] };
}

/** Records conversions: the first counted order placed after entry, within the goal's window and by now. */
export function recordConversions(db: StoreDb, journeyId: string, within: { amount: number; unit: string }, minTotal: number | null, now: number): number {
  const order = `SELECT o.id, o.placed_at, o.total FROM orders o WHERE o.customer_id = en.customer_id AND o.placed_at > en.entered_at
    AND o.placed_at <= journey_shift(en.entered_at, ?, ?) AND o.placed_at <= ? AND o.status NOT IN ('canceled', 'unavailable', 'refunded')
    ${minTotal !== null ? 'AND o.total >= ?' : ''} ORDER BY o.placed_at LIMIT 1`;
  const p: SqlValue[] = [within.amount, within.unit, now, ...(minTotal !== null ? [minTotal] : [])];
  const { changes } = db.run(
    `UPDATE enrolments AS en SET
       conversion_order_id = (SELECT id FROM (${order})),
       converted_at = (SELECT placed_at FROM (${order})),
       conversion_value = (SELECT total FROM (${order}))
     WHERE en.journey_id = ? AND en.converted_at IS NULL AND en.entered_at <= ? AND EXISTS (${order})`,
    [...p, ...p, ...p, journeyId, now, ...p],
  );
  return changes;
}

/** The timezones of a set's customers (their own, or the default), each once. */
export function zonesOf(db: StoreDb, set: IdSet, defaultZone: string): string[] {
  const zone = customerZone(defaultZone);
  return db
    .all<{ tz: string }>(`SELECT DISTINCT ${zone.sql} AS tz FROM enrolments en JOIN customers c ON c.id = en.customer_id WHERE en.id ${inSet(set)}`, [...zone.params, ...set.params])
    .map((r) => r.tz);
}

/**
 * Defers the enrolments of a set whose customer's timezone has a later due time
 * (quiet hours, a send window): `dueByZone` was computed once per zone, since every
 * customer of a zone shares the same next allowed instant. Keeps the deferred ones in
 * the temporary table `into` and returns it as a set.
 */
export function deferByZone(db: StoreDb, set: IdSet, dueByZone: ReadonlyMap<string, number>, defaultZone: string, detail: string, now: number, into: string): IdSet {
  const zone = customerZone(defaultZone);
  db.exec(`DROP TABLE IF EXISTS temp.tick_zone_due; CREATE TEMP TABLE tick_zone_due (tz TEXT PRIMARY KEY, due INTEGER NOT NULL)`);
  for (const [tz, due] of dueByZone) if (due > now) db.run('INSERT INTO temp.tick_zone_due (tz, due) VALUES (?, ?)', [tz, due]);
  db.exec(`DROP TABLE IF EXISTS temp.${into}; CREATE TEMP TABLE ${into} (id INTEGER PRIMARY KEY, due INTEGER NOT NULL)`);
  db.run(
    `INSERT INTO temp.${into} (id, due) SELECT en.id, z.due FROM enrolments en JOIN customers c ON c.id = en.customer_id
     JOIN temp.tick_zone_due z ON z.tz = ${zone.sql} WHERE en.id ${inSet(set)}`,
    [...zone.params, ...set.params],
  );
  const deferred: IdSet = { sql: `SELECT id FROM temp.${into}`, params: [] };
  log(db, deferred, 'deferred', detail, now);
  db.run(`UPDATE enrolments SET due_at = q.due FROM temp.${into} q WHERE q.id = enrolments.id`);
  db.exec('DROP TABLE IF EXISTS temp.tick_zone_due');
  return deferred;
}

/**
 * One test enrolment of a customer at a step, for `journey send-test` (inside a
 * transaction that is rolled back): the tick's own send path then writes and renders
 * the message exactly as it would for the customer.
 */
export function insertPreviewEnrolment(
  db: StoreDb,
  e: { journeyId: string; customerId: string; stepId: string; variants: Record<string, string> | null; now: number; orderId?: string | null },
): IdSet {
  const key = `${TEST_KEY_PREFIX}send-test:${e.stepId}`;
  db.run(
    `INSERT INTO enrolments (journey_id, version, customer_id, entry_key, trigger_at, entered_at, status, step_id, step_started_at, due_at, variant, test, order_id)
     VALUES (?, 0, ?, ?, ?, ?, 'active', ?, ?, ?, ?, 1, ?)`,
    [e.journeyId, e.customerId, key, e.now, e.now, e.stepId, e.now, e.now, e.variants ? JSON.stringify(e.variants) : null, e.orderId ?? null],
  );
  return { sql: 'SELECT id FROM enrolments WHERE journey_id = ? AND customer_id = ? AND entry_key = ?', params: [e.journeyId, e.customerId, key] };
}

/** The customer's latest order placed by `now` (the order an order trigger would have entered with), or null. */
export function latestOrderOf(db: StoreDb, customerId: string, now: number): string | null {
  return db.get<{ id: string }>('SELECT id FROM orders WHERE customer_id = ? AND placed_at <= ? ORDER BY placed_at DESC, id DESC LIMIT 1', [customerId, now])?.id ?? null;
}

/** The messages a step wrote for a set of enrolments, as the dispatcher would claim them, with a render failure if any. */
export function writtenMessages(db: StoreDb, set: IdSet, journeyId: string, stepId: string): (MessageColumns & { failed: string | null })[] {
  return db.all(
    `SELECT m.id, m.idempotency_key, m.journey_id, m.step_id, m.channel, m.template, m.address, m.payload, m.content,
            CASE WHEN d.status = 'failed' THEN d.last_error END AS failed
     FROM outbox_messages m JOIN outbox_delivery d ON d.id = m.id
     WHERE m.enrolment_id IN (SELECT id FROM (${set.sql})) AND m.journey_id = ? AND m.step_id = ? ORDER BY m.id`,
    [...set.params, journeyId, stepId],
  );
}
