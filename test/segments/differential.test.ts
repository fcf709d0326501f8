/**
 * Differential test of the segment compiler: random rule trees over an edge-case data
 * set, the compiled SQL run on SQLite and on PostgreSQL (PGlite), each result compared
 * with the reference evaluator's members of the same rule on the same rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRule } from '../../src/project/build-rule.js';
import type { Rule, Segment } from '../../src/project/model.js';
import { CompileError, compileRule, type CompileOptions } from '../../src/segments/compile.js';
import { PostgresPrinter } from '../../src/segments/sql/postgres-printer.js';
import { SqlitePrinter } from '../../src/segments/sql/sqlite-printer.js';
import { ANCHORS, DEFAULT_TIMEZONE, NOW, edgeData, smallData, vocabulary, type EdgeData } from './edge-data.js';
import { loadPostgres, loadSqlite } from './load.js';
import { mulberry32, randomSegments, RuleGenerator } from './random-rules.js';
import { members } from './reference-evaluator.js';

/** DIFF_RULES / DIFF_SEED run more rules or other seeds by hand (e.g. DIFF_RULES=5000 DIFF_SEED=7). */
const RANDOM_RULES = Number(process.env.DIFF_RULES ?? 1000);
const SEED = Number(process.env.DIFF_SEED ?? 0x5eed);

const data = edgeData(process.env.DIFF_DATA_SEED ? Number(process.env.DIFF_DATA_SEED) : undefined);
const vocab = vocabulary(data);
const rng = mulberry32(SEED);
const { segments, yaml: segmentYaml } = randomSegments(rng, vocab);
const generator = new RuleGenerator(rng, vocab, { segments: [...segments.keys()], nonDayCalendar: 0.1 });
const randomCases = Array.from({ length: RANDOM_RULES }, (_, i) => ({ i, ...generator.rule(3), now: ANCHORS[i % ANCHORS.length]! }));

function options(now: Date, segs: ReadonlyMap<string, Segment> = segments): CompileOptions {
  return { now, segments: segs, defaultTimezone: DEFAULT_TIMEZONE, channelAddress: (channel) => (channel === 'sms' ? 'phone' : 'email') };
}

let dir: string;
let sqlite: Database.Database;
let pg: PGlite;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'journey-differential-'));
  sqlite = await loadSqlite(data, path.join(dir, 'store.db'));
  pg = await loadPostgres(data, sqlite);
});

afterAll(async () => {
  sqlite?.close();
  await pg?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type DialectName = 'sqlite' | 'postgres';
const DIALECTS: DialectName[] = ['sqlite', 'postgres'];

interface Run {
  ids: string[];
  sql: string;
  params: unknown[];
}

/** The database a query runs on: the main data set, or a small one of a single case. */
interface Target {
  data: EdgeData;
  sqlite: Database.Database;
  /** PostgreSQL schema holding the same rows (the search_path is set to it for the query). */
  schema: string;
}
const main = (): Target => ({ data, sqlite, schema: 'public' });

async function runSql(dialect: DialectName, rule: Rule, now: Date, target: Target = main()): Promise<Run> {
  const select = compileRule(rule, options(now));
  if (dialect === 'sqlite') {
    const { sql, params } = new SqlitePrinter().print(select);
    const rows = target.sqlite.prepare(sql).all(params) as Array<{ id: string }>;
    return { ids: rows.map((r) => r.id).sort(), sql, params };
  }
  const { sql, params } = new PostgresPrinter().print(select);
  await pg.exec(`SET search_path TO ${target.schema}`);
  try {
    const res = await pg.query<{ id: string }>(sql, params);
    return { ids: res.rows.map((r) => r.id).sort(), sql, params };
  } finally {
    await pg.exec('SET search_path TO public');
  }
}

function reference(rule: Rule, now: Date, rows: EdgeData = data): string[] {
  return members(rule, rows, { now, segments, defaultTimezone: DEFAULT_TIMEZONE });
}

function describeMismatch(dialect: DialectName, yaml: unknown, now: Date, run: Run | { error: string }, expected: string[]): string {
  const lines = [`--- ${dialect} mismatch`, `rule: ${JSON.stringify(yaml)}`, `now: ${now.toISOString()}`];
  if ('error' in run) lines.push(`error: ${run.error}`);
  else {
    lines.push(`only in SQL: ${JSON.stringify(run.ids.filter((id) => !expected.includes(id)))}`);
    lines.push(`only in reference: ${JSON.stringify(expected.filter((id) => !run.ids.includes(id)))}`);
    lines.push(`sql:\n${run.sql}`, `params: ${JSON.stringify(run.params)}`);
  }
  return lines.join('\n');
}

/**
 * Whether a rule has a calendar window over a duration that is not whole days or
 * weeks (calendar: true with 6mo, 24h): the compiler rejects those (CompileError).
 */
function nonDayCalendar(rule: Rule): boolean {
  const bad = (date: { calendar: boolean; terms: Array<{ op: string; at?: { kind: string; duration?: { unit: string } } }> }): boolean =>
    date.calendar && date.terms.some((t) => t.at?.kind === 'ago' && !['d', 'w'].includes(t.at.duration!.unit));
  switch (rule.kind) {
    case 'all':
    case 'any':
      return rule.rules.some(nonDayCalendar);
    case 'not':
      return nonDayCalendar(rule.rule);
    case 'registered_at':
    case 'order_date':
      return bad(rule.date);
    case 'orders':
      return bad(rule.filter.placed);
    case 'event':
      return bad(rule.occurred);
    default:
      return false;
  }
}

interface Outcome {
  compared: number;
  rejected: number;
  failures: string[];
}

async function differential(dialect: DialectName): Promise<Outcome> {
  const out: Outcome = { compared: 0, rejected: 0, failures: [] };
  for (const c of randomCases) {
    const yaml = { case: c.i, ...c.data };
    if (nonDayCalendar(c.rule)) {
      let error: unknown = null;
      try {
        await runSql(dialect, c.rule, c.now);
      } catch (err) {
        error = err;
      }
      if (error instanceof CompileError) out.rejected++;
      else out.failures.push(`--- ${dialect}: expected a CompileError for a calendar window in months/hours\nrule: ${JSON.stringify(yaml)}\ngot: ${String(error)}`);
      continue;
    }
    const expected = reference(c.rule, c.now);
    out.compared++;
    let run: Run | { error: string };
    try {
      run = await runSql(dialect, c.rule, c.now);
    } catch (err) {
      run = { error: String(err) };
    }
    if (!('error' in run) && run.ids.join() === expected.join()) continue;
    out.failures.push(describeMismatch(dialect, yaml, c.now, run, expected));
  }
  if (out.failures.length > 0) {
    console.log(`segments: ${JSON.stringify(segmentYaml)}`);
    console.log(out.failures.slice(0, 20).join('\n\n'));
  }
  console.log(
    `${dialect}: ${out.compared} random rules compared with the reference, ${out.rejected} rejected as expected (calendar in months/hours), ` +
      `${out.failures.length} failures`,
  );
  return out;
}

describe('differential: compiled segment SQL = reference evaluation', () => {
  it('generates varied rules that select varied customers', () => {
    const sizes = randomCases.map((c) => (nonDayCalendar(c.rule) ? 0 : reference(c.rule, c.now).length));
    const nonTrivial = sizes.filter((n) => n > 0 && n < data.customers.length).length;
    expect(data.customers.length).toBeGreaterThanOrEqual(80);
    expect(nonTrivial).toBeGreaterThan(RANDOM_RULES / 3);
  });

  it(`SQLite: ${RANDOM_RULES} random rules`, async () => {
    const out = await differential('sqlite');
    expect(out.failures.length, `${out.failures.length} of ${RANDOM_RULES} random rules differ on SQLite`).toBe(0);
  });

  it(`PostgreSQL: ${RANDOM_RULES} random rules`, async () => {
    const out = await differential('postgres');
    expect(out.failures.length, `${out.failures.length} of ${RANDOM_RULES} random rules differ on PostgreSQL`).toBe(0);
  });
});

// ------------------------------------------------------------------ pinned cases

interface Pinned {
  name: string;
  rule: Record<string, unknown>;
  now?: Date;
  /** The customers the case is about; the others are ignored. */
  focus: string[];
  expected: string[];
}

const at = (iso: string) => new Date(iso);
const CAL = ['e_cal_midnight', 'e_cal_before_midnight', 'e_cal_kiri', 'e_cal_ny', 'e_cal_3d_edge', 'e_cal_3d_out'];
const B30 = ['e_30d_exact', 'e_30d_later', 'e_30d_earlier'];
const ANNIV = ['e_kiri_anniv', 'e_kiri_next_day', 'e_pago_anniv', 'e_pago_utc_day', 'e_kolkata_anniv', 'e_ny_anniv', 'e_null_tz', 'e_empty_tz', 'e_utc_late', 'e_same_day', 'e_pre_epoch'];
const FEB = ['e_feb29', 'e_feb29_kiri', 'e_feb28', 'e_jan31'];
const ATTR = ['e_attr_types', 'e_attr_numbers', 'e_attr_empty', 'e_attr_nulls', 'e_attr_nested', 'e_attr_array'];
const BUYERS = ['e_no_orders', 'e_only_canceled', 'e_not_counted', 'e_30d_exact'];

/** Hand-computed answers (NOW = 2026-11-25T08:00Z unless given; default zone Europe/Prague). */
const PINNED: Pinned[] = [
  // window boundaries: now - 30d = 2026-10-26T08:00Z exactly is inside "within 30d" (>=), 1 ms earlier is not
  { name: 'within 30d includes an order exactly 30 days ago', rule: { orders: { within: '30d' } }, focus: B30, expected: ['e_30d_exact', 'e_30d_later'] },
  { name: 'before 30d excludes it', rule: { last_order_at: { before: '30d' } }, focus: B30, expected: ['e_30d_earlier'] },
  {
    name: 'between [30d, 10mo] includes exactly 10 months ago (2026-01-25T08:00Z), not 1 ms earlier',
    rule: { last_order_at: { between: ['30d', '10mo'] } },
    focus: [...B30, 'e_10mo_exact', 'e_10mo_earlier'],
    expected: ['e_10mo_exact', 'e_30d_earlier'],
  },
  { name: 'events: within 30d counts the event exactly 30 days ago only', rule: { event: { type: 'email_opened', within: '30d', count: 1 } }, focus: ['e_events'], expected: ['e_events'] },
  // no orders / only canceled
  { name: 'count 0 (default statuses): no orders, only canceled, only refunded/unavailable', rule: { orders: { count: 0 } }, focus: BUYERS, expected: ['e_no_orders', 'e_not_counted', 'e_only_canceled'] },
  { name: 'status any counts canceled orders', rule: { orders: { status: 'any' } }, focus: BUYERS, expected: ['e_30d_exact', 'e_not_counted', 'e_only_canceled'] },
  { name: 'two canceled orders', rule: { orders: { status: 'canceled', count: 2 } }, focus: BUYERS, expected: ['e_only_canceled'] },
  { name: 'last_order_at exists: false with only canceled orders', rule: { last_order_at: { exists: false } }, focus: BUYERS, expected: ['e_no_orders', 'e_not_counted', 'e_only_canceled'] },
  { name: 'lifetime value 0 without counted orders', rule: { lifetime_value: { eq: 0 } }, focus: BUYERS, expected: ['e_no_orders', 'e_not_counted', 'e_only_canceled'] },
  { name: 'no average order value without counted orders (not even under not)', rule: { not: { average_order_value: { gte: 0 } } }, focus: BUYERS, expected: ['e_no_orders', 'e_not_counted', 'e_only_canceled'] },
  // NULL registered_at
  { name: 'registered_at exists: false', rule: { registered_at: { exists: false } }, focus: ['e_null_registered', 'e_no_orders'], expected: ['e_null_registered'] },
  { name: 'not (registered before 1d) holds for a NULL registration', rule: { not: { registered_at: { before: '1d' } } }, focus: ['e_null_registered', 'e_no_orders'], expected: ['e_null_registered'] },
  // anniversaries across midnight: NOW is Nov 25 22:00 in Kiritimati, Nov 24 21:00 in Pago Pago
  { name: 'yearly anniversary in the customer\'s own zone (+14, -11, +5:30, New York, NULL and \'\' zone → Prague)', rule: { registered_at: { anniversary: '12mo' } }, focus: ANNIV, expected: ['e_empty_tz', 'e_kiri_anniv', 'e_kolkata_anniv', 'e_ny_anniv', 'e_null_tz', 'e_pago_anniv', 'e_pre_epoch'] },
  { name: 'the timezone field compares the raw column, not the fallback', rule: { timezone: { exists: false } }, focus: ['e_null_tz', 'e_empty_tz', 'e_utc_late'], expected: ['e_empty_tz', 'e_null_tz'] },
  // Feb 29
  { name: 'Feb 29 and Feb 28 registrations on Feb 28 of a non-leap year', now: at('2027-02-28T11:00:00Z'), rule: { registered_at: { anniversary: '1y' } }, focus: FEB, expected: ['e_feb28', 'e_feb29'] },
  { name: 'Feb 29 registration on Feb 29 of a leap year (Mar 1 already in Kiritimati)', now: at('2028-02-29T23:30:00Z'), rule: { registered_at: { anniversary: '1y' } }, focus: FEB, expected: ['e_feb29'] },
  { name: 'Feb 28 of a leap year is not the last day: only Feb 28 registrations (and local Feb 29 in Kiritimati)', now: at('2028-02-28T12:00:00Z'), rule: { registered_at: { anniversary: '1y' } }, focus: FEB, expected: ['e_feb28', 'e_feb29_kiri'] },
  { name: 'monthly: Jan 31 and Feb 29 fall on Feb 28 (last day)', now: at('2026-02-28T12:00:00Z'), rule: { registered_at: { anniversary: '1mo' } }, focus: FEB, expected: ['e_feb28', 'e_feb29', 'e_jan31'] },
  { name: 'monthly: Jan 31 falls on Apr 30', now: at('2026-04-30T12:00:00Z'), rule: { registered_at: { anniversary: '1mo' } }, focus: FEB, expected: ['e_jan31'] },
  // calendar windows (today in the customer's zone, today included)
  { name: 'calendar within 1d = today in the customer\'s zone', rule: { orders: { within: '1d', calendar: true } }, focus: CAL, expected: ['e_cal_kiri', 'e_cal_midnight'] },
  { name: 'rolling within 1d = the last 24 hours', rule: { orders: { within: '1d' } }, focus: CAL, expected: ['e_cal_before_midnight', 'e_cal_kiri', 'e_cal_midnight', 'e_cal_ny'] },
  { name: 'calendar within 3d = today and the 2 days before', rule: { orders: { within: '3d', calendar: true } }, focus: CAL, expected: ['e_cal_3d_edge', 'e_cal_before_midnight', 'e_cal_kiri', 'e_cal_midnight', 'e_cal_ny'] },
  { name: 'calendar before 1d = before today', rule: { last_order_at: { before: '1d', calendar: true } }, focus: CAL, expected: ['e_cal_3d_edge', 'e_cal_3d_out', 'e_cal_before_midnight', 'e_cal_ny'] },
  // totals, items
  { name: 'NULL totals are left out of sums and averages', rule: { all: [{ lifetime_value: { eq: 25.5 } }, { average_order_value: { eq: 25.5 } }] }, focus: ['e_null_total'], expected: ['e_null_total'] },
  { name: 'a total filter skips orders without a total', rule: { orders: { total: { gte: 0 }, count: 1 } }, focus: ['e_null_total'], expected: ['e_null_total'] },
  { name: 'an item of a product missing from the catalogue has no category', rule: { orders: { category: 'hats' } }, focus: ['e_missing_product'], expected: [] },
  { name: 'sku and product ids match items of missing products', rule: { all: [{ orders: { sku: 'SKU-5' } }, { orders: { product: 'p_custom' } }, { orders: { category: 'shoes', product: 'p_custom' } }] }, focus: ['e_missing_product'], expected: ['e_missing_product'] },
  // addresses, consent, suppression
  { name: 'a mixed-case e-mail is suppressed by its lower-case address; an un-normalised suppression matches nothing', rule: { suppressed: 'email' }, focus: ['e_mixed_case', 'e_reachable', 'e_null_email', 'e_unnormalised_suppression'], expected: ['e_mixed_case'] },
  { name: 'reachable by e-mail: address, consent, not suppressed', rule: { reachable: 'email' }, focus: ['e_mixed_case', 'e_empty_email', 'e_null_email', 'e_reachable', 'e_consent_revoked', 'e_unnormalised_suppression'], expected: ['e_reachable', 'e_unnormalised_suppression'] },
  { name: 'reachable by sms', rule: { reachable: 'sms' }, focus: ['e_mixed_case', 'e_null_email', 'e_reachable', 'e_sms_suppressed'], expected: ['e_mixed_case', 'e_null_email'] },
  // JSON types
  { name: 'attribute true is not 1', rule: { 'attributes.vip': true }, focus: ATTR, expected: ['e_attr_types'] },
  { name: 'attribute 1 is not true', rule: { 'attributes.vip': 1 }, focus: ATTR, expected: ['e_attr_numbers'] },
  { name: 'attribute "1" is not 1', rule: { 'attributes.code': '1' }, focus: ATTR, expected: ['e_attr_types'] },
  { name: 'attribute 10.0 = 10', rule: { 'attributes.score': 10 }, focus: ATTR, expected: ['e_attr_numbers', 'e_attr_types'] },
  { name: 'attribute exists: false = missing or null', rule: { 'attributes.vip': { exists: false } }, focus: ATTR, expected: ['e_attr_empty', 'e_attr_nested', 'e_attr_nulls'] },
  { name: 'attribute ne holds for missing, null, other types', rule: { 'attributes.tier': { ne: 'gold' } }, focus: ATTR, expected: ['e_attr_array', 'e_attr_empty', 'e_attr_numbers', 'e_attr_nulls'] },
  { name: 'contains takes _ literally', rule: { 'attributes.nickname': { contains: 'G_S' } }, focus: ATTR, expected: ['e_attr_numbers'] },
  { name: 'arrays and objects equal no scalar but exist', rule: { all: [{ 'attributes.tags': { exists: true } }, { not: { 'attributes.tags': { in: ['vip', 'gold'] } } }] }, focus: ATTR, expected: ['e_attr_array', 'e_attr_nested'] },
  // events
  { name: 'event property equality is JSON equality (10 ≠ "10")', rule: { all: [{ event: { type: 'viewed_product', where: { value: 10 } } }, { not: { event: { type: 'viewed_product', where: { value: '10' } } } }] }, focus: ['e_events'], expected: ['e_events'] },
  { name: 'events with and without properties both count', rule: { event: { type: 'viewed_product', count: 2 } }, focus: ['e_events'], expected: ['e_events'] },
];

describe('pinned edge cases (reference and both dialects agree with the hand-computed answer)', () => {
  for (const p of PINNED) {
    it(p.name, async () => {
      const rule = buildRule(p.rule, []);
      const now = p.now ?? NOW;
      const pick = (ids: string[]) => ids.filter((id) => p.focus.includes(id));
      const expected = [...p.expected].sort();
      expect(pick(reference(rule, now)), 'reference').toEqual(expected);
      for (const dialect of DIALECTS) expect(pick((await runSql(dialect, rule, now)).ids), dialect).toEqual(expected);
    });
  }

  it('calendar windows in months or hours, and anniversaries in hours, are rejected at compile time', () => {
    for (const r of [{ registered_at: { within: '6mo', calendar: true } }, { orders: { within: '24h', calendar: true } }, { registered_at: { anniversary: '12h' } }]) {
      expect(() => compileRule(buildRule(r, []), options(NOW)), JSON.stringify(r)).toThrow(CompileError);
    }
  });
});

// ------------------------------------------------------------------ former compiler defects

let small = 0;

/** Loads a small data set into a new SQLite file and a new PostgreSQL schema. */
async function smallTarget(rows: EdgeData): Promise<Target> {
  const name = `small_${++small}`;
  const db = await loadSqlite(rows, path.join(dir, `${name}.db`));
  await loadPostgres(rows, db, { pg, schema: name });
  await pg.exec('SET search_path TO public');
  return { data: rows, sqlite: db, schema: name };
}

/** Expects the dialect's result of the rule on a small data set to equal the reference's (and the hand-computed answer). */
async function expectAgreement(dialect: DialectName, rows: EdgeData, yaml: Record<string, unknown>, now: Date, expected: string[]): Promise<void> {
  const target = await smallTarget(rows);
  try {
    const rule = buildRule(yaml, []);
    expect(reference(rule, now, rows), 'reference').toEqual(expected);
    expect((await runSql(dialect, rule, now, target)).ids, dialect).toEqual(expected);
  } finally {
    target.sqlite.close();
  }
}

/*
 * Minimal reproductions of compiler/printer defects the differential test found,
 * kept as regression tests now that they are fixed.
 */
describe('former compiler defects (minimal reproductions)', () => {
  it('D1 PostgreSQL: attributes.X anniversary errors out the whole query when one customer\'s X is a non-date string', async () => {
    // spec: the member is a string and its first 10 chars are a date; "gold" is not → no match, never an error.
    // got: error: invalid input syntax for type date: "gold" (or type integer for months/years)
    const rows = smallData([{ id: 'a', attributes: '{"tier":"gold"}' }, { id: 'b', attributes: '{"tier":"2025-11-25"}' }]);
    await expectAgreement('postgres', rows, { 'attributes.tier': { anniversary: '1y' } }, NOW, ['b']);
  });

  it('D2 SQLite: not(attributes.X anniversary in days) drops a customer whose X is a non-date string', async () => {
    // julianday('gold') is NULL, the comparison NULL, and NOT NULL is NULL: the customer is in neither the rule nor its negation.
    const rows = smallData([{ id: 'a', attributes: '{"tier":"gold"}' }]);
    await expectAgreement('sqlite', rows, { not: { 'attributes.tier': { anniversary: '7d' } } }, NOW, ['a']);
  });

  it('D2 SQLite: attributes.X anniversary in days takes the string "1" for a date (a Julian day number)', async () => {
    // julianday('1') = 1 (noon, Jan 1 4713 BC): every day is a whole number of days after it.
    const rows = smallData([{ id: 'a', attributes: '{"code":"1"}' }]);
    await expectAgreement('sqlite', rows, { 'attributes.code': { anniversary: '1d' } }, NOW, []);
  });

  it('D3 PostgreSQL: attribute numbers compare as exact numerics, not as the JSON numbers SQLite (and JS) read', async () => {
    // 2.00000000000000001 is the double 2: SQLite says lte 2 holds; PostgreSQL's ::numeric says 2.00000000000000001 > 2.
    const rows = smallData([{ id: 'a', attributes: '{"precise":2.00000000000000001}' }]);
    await expectAgreement('postgres', rows, { all: [{ 'attributes.precise': { lte: 2 } }, { 'attributes.precise': 2 }] }, NOW, ['a']);
  });

  it('D5 SQLite: timezone = a non-zone string next to a calendar window throws instead of matching nobody', async () => {
    // SQLite propagates the constant of `timezone = 'Nowhere'` into journey_local_date(..., timezone), a
    // deterministic function it may then evaluate once as a constant: the JS function throws
    // RangeError: Invalid time zone specified: Nowhere. No customer has that zone: the answer is nobody.
    const rows = smallData([{ id: 'a', timezone: 'UTC', registered_at: NOW.getTime() - 3_600_000 }]);
    // (with the two conditions the other way round SQLite checks the zone first and the query succeeds)
    await expectAgreement('sqlite', rows, { all: [{ registered_at: { within: '1d', calendar: true } }, { timezone: 'Nowhere' }] }, NOW, []);
  });

  for (const dialect of DIALECTS) {
    it(`D4 ${dialect}: monthly registered_at anniversary misses a local 1st of the month whose UTC date is the month before (UTC+14)`, async () => {
      // registered 2026-02-28T11:00Z = Mar 1 01:00 in Kiritimati; now 2026-03-31T10:30Z = Apr 1 00:30 there: 1 month, day 1 = day 1.
      // The UTC month-day pre-filter keeps days 29..02 around now's UTC date (Mar 31) and loses Feb 28.
      const rows = smallData([{ id: 'a', timezone: 'Pacific/Kiritimati', registered_at: Date.parse('2026-02-28T11:00:00Z') }]);
      await expectAgreement(dialect, rows, { registered_at: { anniversary: '1mo' } }, at('2026-03-31T10:30:00Z'), ['a']);
    });

    it(`D4 ${dialect}: monthly registered_at anniversary misses a local last day of February whose UTC date is Mar 1 (UTC-11)`, async () => {
      // registered 2026-03-01T10:00Z = Feb 28 23:00 in Pago Pago; now 2026-06-28T20:00Z = Jun 28 09:00 there: 4 months, day 28 = day 28.
      const rows = smallData([{ id: 'b', timezone: 'Pacific/Pago_Pago', registered_at: Date.parse('2026-03-01T10:00:00Z') }]);
      await expectAgreement(dialect, rows, { registered_at: { anniversary: '1mo' } }, at('2026-06-28T20:00:00Z'), ['b']);
    });
  }
});
