/**
 * The shop the crash tests run a month of ticks over: generated demo data imported
 * into a copy of the example project (its journeys copied in), and a fixed schedule
 * of what happens between ticks (new customers, new orders that are shipped and
 * delivered a few ticks later, a few canceled, custom events), written as CSV files
 * per tick so that every copy of the store receives exactly the same inputs.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateDemoData } from '../../../src/demo-data/generate.js';
import { Rng } from '../../../src/demo-data/prng.js';
import type { StoreDb } from '../../../src/store/db.js';
import { importFile } from '../../../src/store/import/import.js';
import type { ImportKind } from '../../../src/store/import/kinds.js';
import { openStore } from '../../../src/store/open.js';
import { copyExampleShop } from '../../helpers/example-shop.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = path.join(ROOT, 'bin/journey.js');
export const PRELOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'preload.mjs');

const HOUR = 3_600_000;

export interface WorldOptions {
  customers: number;
  seed: string;
  /** The shop's "today" when the month starts: the first tick's time. */
  start: number;
  stepHours: number;
  ticks: number;
}

export interface World {
  /** A project folder with its store imported and never ticked: copy it, never run in it. */
  base: string;
  /** inputs/<tick index>/<kind>.csv: what happened since the previous tick. */
  inputs: string;
  times: number[];
}

export const storeOf = (project: string) => path.join(project, '.journey', 'store.db');

/** The example project with its journeys copied in (journeys: journeys). */
export function writeProject(dir: string): void {
  copyExampleShop(dir);
}

/** A copy of a project folder and its store (closed, so the store is one file). */
export function copyProject(from: string, to: string): string {
  writeProject(to);
  mkdirSync(path.join(to, '.journey'), { recursive: true });
  copyFileSync(storeOf(from), storeOf(to));
  for (const suffix of ['-wal', '-shm']) if (existsSync(storeOf(from) + suffix)) throw new Error(`${storeOf(from)}${suffix} exists: close the store before copying it`);
  return to;
}

export async function buildWorld(root: string, o: WorldOptions): Promise<World> {
  const data = path.join(root, 'data');
  generateDemoData({ customers: o.customers, seed: o.seed, outDir: data, now: o.start });
  const base = path.join(root, 'base');
  writeProject(base);
  const db = openStore(storeOf(base));
  try {
    for (const [kind, file] of [
      ['customers', 'customers.csv'],
      ['products', 'products.csv'],
      ['orders', 'orders.csv'],
      ['order-items', 'order_items.csv'],
      ['events', 'events.csv'],
      ['suppressions', 'suppressions.csv'],
    ] as const) {
      await importFile(db, { kind, file: path.join(data, file), now: o.start });
    }
  } finally {
    db.close();
  }
  const times = Array.from({ length: o.ticks }, (_, i) => o.start + i * o.stepHours * HOUR);
  const inputs = path.join(root, 'inputs');
  writeSchedule(inputs, o, times, productIds(path.join(data, 'products.csv')));
  return { base, inputs, times };
}

function productIds(file: string): { id: string; sku: string; title: string; price: string }[] {
  const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
  // id,sku,title,category,price,... (titles hold no commas)
  return lines.map((l) => l.split(',')).map((c) => ({ id: c[0]!, sku: c[1]!, title: c[2]!, price: c[4]! }));
}

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';
const ZONES = ['Europe/Prague', 'America/New_York', 'Europe/London', 'Asia/Tokyo', 'Australia/Sydney', 'America/Los_Angeles'];

interface PlannedOrder {
  id: string;
  customer: string;
  placedAt: number;
  total: string;
  /** tick index -> status reached then */
  changes: Map<number, string>;
}

/**
 * Per tick: one or two new customers (e-mail consent, various zones), about 0.5% of
 * the customers placing an order (a third of them this month's newcomers), orders
 * placed earlier shipped the next tick and delivered two to four ticks later (one in
 * twenty canceled instead), and a few custom events.
 */
function writeSchedule(dir: string, o: WorldOptions, times: number[], products: ReturnType<typeof productIds>): void {
  const rng = new Rng(`${o.seed}:schedule`);
  const newcomers: { id: string; registeredAt: number }[] = [];
  const orders: PlannedOrder[] = [];
  let customerSeq = 0;
  let orderSeq = 0;
  let eventSeq = 0;
  const perTick = Math.max(2, Math.round(o.customers * 0.005));
  for (let i = 1; i < times.length; i++) {
    const from = times[i - 1]!;
    const to = times[i]!;
    const within = () => from + 1000 + Math.floor(rng.next() * (to - from - 2000) / 1000) * 1000;
    const files: Record<string, string[]> = { customers: [], orders: [], order_items: [], events: [] };

    for (let k = 0, n = 1 + rng.int(2); k < n; k++) {
      const id = `n${String(++customerSeq).padStart(6, '0')}`;
      const registeredAt = within();
      newcomers.push({ id, registeredAt });
      files.customers!.push([id, `new.${customerSeq}@example.com`, '', `New${customerSeq}`, 'Customer', iso(registeredAt), ZONES[rng.int(ZONES.length)], 'en-GB', 'GB', 'London', 'yes', '', '', 'paid_social'].join(','));
    }
    for (let k = 0; k < perTick; k++) {
      const fromNew = rng.chance(0.33) && newcomers.length > 0;
      const customer = fromNew ? newcomers[rng.int(newcomers.length)]!.id : `c${String(1 + rng.int(o.customers)).padStart(7, '0')}`;
      const product = products[rng.int(products.length)]!;
      const order: PlannedOrder = { id: `x${String(++orderSeq).padStart(7, '0')}`, customer, placedAt: within(), total: product.price, changes: new Map([[i, 'processing']]) };
      if (rng.chance(0.05)) order.changes.set(i + 1, 'canceled');
      else {
        order.changes.set(i + 1, 'shipped');
        order.changes.set(i + 2 + rng.int(3), 'delivered');
      }
      orders.push(order);
      files.order_items!.push([order.id, 1, product.id, product.sku, product.title, 1, product.price].join(','));
    }
    for (const order of orders) {
      const status = order.changes.get(i);
      if (!status) continue;
      const changedAt = status === 'processing' ? order.placedAt : within();
      files.orders!.push([order.id, order.customer, iso(order.placedAt), status, iso(changedAt), order.total, 'EUR'].join(','));
    }
    for (let k = 0, n = rng.int(4); k < n; k++) {
      const customer = `c${String(1 + rng.int(o.customers)).padStart(7, '0')}`;
      files.events!.push([`ce${String(++eventSeq).padStart(6, '0')}`, customer, rng.chance(0.5) ? 'product_viewed' : 'cart_updated', iso(within()), `"{""crash_test"":${i}}"`].join(','));
    }
    const tickDir = path.join(dir, String(i));
    mkdirSync(tickDir, { recursive: true });
    const header: Record<string, string> = {
      customers: 'id,email,phone,first_name,last_name,registered_at,timezone,locale,country,city,consent_email,consent_sms,consent_whatsapp,attributes.acquisition_channel',
      orders: 'id,customer_id,placed_at,status,status_changed_at,total,currency',
      order_items: 'order_id,line,product_id,sku,title,quantity,price',
      events: 'id,customer_id,type,occurred_at,properties',
    };
    for (const [name, rows] of Object.entries(files)) if (rows.length) writeFileSync(path.join(tickDir, `${name}.csv`), [header[name], ...rows].join('\n') + '\n');
  }
}

/** Imports what happened between the previous tick and tick i (the same files for every copy). */
export async function importBetweenTicks(db: StoreDb, world: World, i: number): Promise<void> {
  const dir = path.join(world.inputs, String(i));
  for (const [kind, name] of [['customers', 'customers'], ['orders', 'orders'], ['order-items', 'order_items'], ['events', 'events']] as [ImportKind, string][]) {
    const file = path.join(dir, `${name}.csv`);
    if (existsSync(file)) await importFile(db, { kind, file, now: world.times[i]! });
  }
}

/**
 * Delivery feedback for the e-mails a tick wrote: a third opened and a fifth clicked
 * an hour later, chosen by a hash of customer and step, so that wait_for and
 * opened/clicked conditions have something to find. A function of the store's
 * outbox, so two stores that agree so far get the same events.
 */
export function recordOpens(db: StoreDb, at: number): number {
  return db.run(
    `INSERT INTO message_events (event_id, outbox_id, provider, kind, occurred_at)
     SELECT 'crash-test:' || o.journey_id || ':' || o.customer_id || ':' || o.step_id || ':' || o.created_at || ':' || k.kind, o.id, o.provider, k.kind, o.created_at + 3600000
     FROM outbox o JOIN (SELECT 'opened' AS kind, 3 AS m UNION ALL SELECT 'clicked', 5) k
     WHERE o.created_at = ? AND o.channel = 'email' AND journey_bucket(o.customer_id || ':' || o.step_id) % k.m = 0
     ON CONFLICT (event_id) DO NOTHING`,
    [at],
  ).changes;
}

/** What the comparison looks at, keyed by enrolment (journey|customer|entry key), never by row id. */
export interface StoreState {
  enrolments: Map<string, string>;
  /** Per enrolment, its step log in order: "step outcome detail" (no times). */
  stepLog: Map<string, string[]>;
  /** The same, where the same line repeated at the same time counts once. */
  stepLogOnce: Map<string, string[]>;
  /** Enrolments whose log holds the same line twice in a row at the same time (one tick). */
  repeatedInOneTick: string[];
  /** (customer, journey, step) of every outbox row, sorted (a multiset). */
  messages: string[];
  /** outbox rows with template, channel, address and time, sorted. */
  messageDetails: string[];
  duplicateKeys: unknown[];
  duplicateSends: unknown[];
  duplicateEnrolments: unknown[];
  integrity: string[];
}

export function storeState(db: StoreDb): StoreState {
  const enrolments = new Map<string, string>();
  const byId = new Map<number, string>();
  for (const e of db.all<Record<string, unknown> & { id: number; journey_id: string; customer_id: string; entry_key: string }>(
    `SELECT id, journey_id, customer_id, entry_key, version, status, step_id, due_at, exit_reason, variant, converted_at, conversion_order_id, entered_at, trigger_at, order_id
     FROM enrolments ORDER BY id`,
  )) {
    const key = `${e.journey_id}|${e.customer_id}|${e.entry_key}`;
    const { id: _id, ...rest } = e;
    enrolments.set(key, JSON.stringify(rest));
    byId.set(e.id, key);
  }
  const stepLog = new Map<string, string[]>();
  const stepLogOnce = new Map<string, string[]>();
  const repeated = new Set<string>();
  let previous = '';
  for (const l of db.all<{ enrolment_id: number; step_id: string | null; outcome: string; detail: string | null; at: number }>(
    'SELECT enrolment_id, step_id, outcome, detail, at FROM step_log ORDER BY enrolment_id, id',
  )) {
    const key = byId.get(l.enrolment_id) ?? `orphan:${l.enrolment_id}`;
    if (!stepLog.has(key)) {
      stepLog.set(key, []);
      stepLogOnce.set(key, []);
      previous = '';
    }
    const line = `${l.step_id} ${l.outcome} ${l.detail ?? ''}`;
    stepLog.get(key)!.push(line);
    if (`${l.at} ${line}` === previous) repeated.add(`${key} ${new Date(l.at).toISOString()} ${line}`);
    else stepLogOnce.get(key)!.push(line);
    previous = `${l.at} ${line}`;
  }
  const outbox = db.all<{ customer_id: string; journey_id: string; step_id: string; channel: string; template: string; address: string; created_at: number; enrolment_id: number }>(
    'SELECT customer_id, journey_id, step_id, channel, template, address, created_at, enrolment_id FROM outbox',
  );
  return {
    enrolments,
    stepLog,
    stepLogOnce,
    repeatedInOneTick: [...repeated],
    messages: outbox.map((o) => `${o.customer_id}|${o.journey_id}|${o.step_id}`).sort(),
    messageDetails: outbox.map((o) => `${byId.get(o.enrolment_id)}|${o.step_id}|${o.channel}|${o.template}|${o.address}|${o.created_at}`).sort(),
    duplicateKeys: db.all('SELECT idempotency_key, count(*) AS n FROM outbox GROUP BY idempotency_key HAVING n > 1'),
    duplicateSends: db.all('SELECT enrolment_id, step_id, count(*) AS n FROM outbox GROUP BY enrolment_id, step_id HAVING n > 1'),
    duplicateEnrolments: db.all('SELECT journey_id, customer_id, entry_key, count(*) AS n FROM enrolments GROUP BY 1, 2, 3 HAVING n > 1'),
    integrity: db.all<{ integrity_check: string }>('PRAGMA integrity_check').map((r) => r.integrity_check),
  };
}

/** Enrolments lost, extra or different (status, step, due time, exit, variant, conversion), as readable lines. */
export function diffEnrolments(expected: StoreState, actual: StoreState, limit = 20): string[] {
  const out: string[] = [];
  for (const [k, v] of expected.enrolments) {
    const a = actual.enrolments.get(k);
    if (a === undefined) out.push(`enrolment lost: ${k} ${v}`);
    else if (a !== v) out.push(`enrolment differs: ${k}\n    expected ${v}\n    actual   ${a}`);
  }
  for (const [k, v] of actual.enrolments) if (!expected.enrolments.has(k)) out.push(`enrolment extra: ${k} ${v}`);
  return out.slice(0, limit);
}

/** Enrolments whose step logs differ (times left out), as readable lines. */
export function diffStepLogs(expected: Map<string, string[]>, actual: Map<string, string[]>, limit = 20): string[] {
  const out: string[] = [];
  for (const [k, v] of expected) {
    const a = actual.get(k) ?? [];
    if (a.join('\n') !== v.join('\n')) out.push(`step log differs: ${k}\n    expected ${v.join(' / ')}\n    actual   ${a.join(' / ')}`);
  }
  for (const k of actual.keys()) if (!expected.has(k)) out.push(`step log extra: ${k}`);
  return out.slice(0, limit);
}

/** Everything: enrolments and exact step logs. */
export function diffStates(expected: StoreState, actual: StoreState, limit = 20): string[] {
  return [...diffEnrolments(expected, actual, limit), ...diffStepLogs(expected.stepLog, actual.stepLog, limit)].slice(0, limit);
}

export function multisetDiff(expected: string[], actual: string[], limit = 20): { missing: string[]; extra: string[] } {
  const counts = new Map<string, number>();
  for (const e of expected) counts.set(e, (counts.get(e) ?? 0) + 1);
  const extra: string[] = [];
  for (const a of actual) {
    const n = counts.get(a) ?? 0;
    if (n > 0) counts.set(a, n - 1);
    else extra.push(a);
  }
  const missing = [...counts].flatMap(([k, n]) => Array<string>(n).fill(k));
  return { missing: missing.slice(0, limit), extra: extra.slice(0, limit) };
}

/**
 * Makes a tick long: `perCustomer` active enrolments per customer at a send step,
 * due already (entry keys load:1..n). Used where two runners must overlap.
 */
export function addDueEnrolments(db: StoreDb, journey: string, step: string, perCustomer: number, dueAt: number): number {
  return db.run(
    `WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < ?)
     INSERT INTO enrolments (journey_id, version, customer_id, entry_key, trigger_at, entered_at, status, step_id, step_started_at, due_at)
     SELECT ?, 1, c.id, 'load:' || k.n, ?, ?, 'active', ?, ?, ? FROM customers c, k`,
    [perCustomer, journey, dueAt, dueAt, step, dueAt, dueAt],
  ).changes;
}
