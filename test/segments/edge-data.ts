/**
 * A seeded data set for the differential test of the segment compiler: ~80 customers
 * as plain rows of the store tables, rich in edge cases (no orders, only canceled
 * orders, orders exactly on window boundaries and 1 ms either side, NULL dates, NULL
 * and '' timezones, customers in +14 / -11 / +5:30 zones whose local date differs
 * from the UTC date, Feb 29 registrations, NULL totals, items of products missing
 * from the catalogue, events with and without properties, mixed-case e-mails with a
 * lower-case suppression, '' e-mails, attributes of every JSON type).
 *
 * Every value is ASCII: SQLite's lower() only folds ASCII, and the reference folds the same.
 */
import { shift, parseDuration } from '../../src/project/duration.js';
import { startOfLocalDay } from '../../src/time/local-date.js';
import { mulberry32, type Rng } from './random-rules.js';

export interface CustomerRow {
  id: string;
  email: string | null;
  phone: string | null;
  first_name: string | null;
  last_name: string | null;
  registered_at: number | null;
  timezone: string | null;
  locale: string | null;
  country: string | null;
  city: string | null;
  /** JSON object text, exactly as stored. */
  attributes: string;
}
export interface ConsentRow { customer_id: string; channel: string; granted: 0 | 1; updated_at: number }
export interface ProductRow { id: string; sku: string | null; title: string | null; category: string | null; price: number | null }
export interface OrderRow { id: string; customer_id: string; placed_at: number; status: string; total: number | null; currency: string | null }
export interface OrderItemRow { order_id: string; line: number; product_id: string | null; sku: string | null; title: string | null; quantity: number; price: number | null }
export interface EventRow { seq: number; id: string; customer_id: string; type: string; occurred_at: number; properties: string }
export interface SuppressionRow { channel: string; address: string; reason: string | null; created_at: number }

export interface EdgeData {
  customers: CustomerRow[];
  consents: ConsentRow[];
  products: ProductRow[];
  orders: OrderRow[];
  orderItems: OrderItemRow[];
  events: EventRow[];
  suppressions: SuppressionRow[];
}

export const DEFAULT_TIMEZONE = 'Europe/Prague';

/** The main clock of the pinned cases. */
export const NOW = new Date('2026-11-25T08:00:00Z');

/**
 * The clocks of the random test: the main one, a month end (Mar 31 - 1mo = Feb 28,
 * a week after the EU DST change), a leap day late in the UTC evening (already
 * Mar 1 in Kiritimati), the last day of a non-leap February (Feb 29 anniversaries),
 * and a quarter past midnight UTC (still yesterday in New York and Pago Pago).
 */
export const ANCHORS: Date[] = [
  NOW,
  new Date('2026-03-31T10:30:00Z'),
  new Date('2028-02-29T23:30:00Z'),
  new Date('2027-02-28T11:00:00Z'),
  new Date('2026-07-01T00:15:00Z'),
];

export const ZONES = ['Pacific/Kiritimati', 'Pacific/Pago_Pago', 'Asia/Kolkata', 'America/New_York', 'Europe/Prague', 'UTC'] as const;

const DAY = 86_400_000;
const ago = (now: Date, text: string): number => shift(now, parseDuration(text)!, -1).getTime();

function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
function addDays(date: string, days: number): string {
  return utcDate(Date.parse(`${date}T00:00:00Z`) + days * DAY);
}
function localDay(ms: number, tz: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
}
function addMonthsClamped(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) + months;
  const ny = Math.floor(total / 12);
  const nm = total % 12;
  const last = new Date(Date.UTC(ny, nm + 1, 0)).getUTCDate();
  return `${String(ny).padStart(4, '0')}-${String(nm + 1).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}

/** Window edges of one clock: now - d exactly and 1 ms either side, for every duration the rules use. */
export const WINDOW_DURATIONS = ['90m', '24h', '1d', '3d', '7d', '2w', '14d', '30d', '90d', '180d', '1mo', '6mo', '10mo', '12mo', '1y', '2y', '24mo'];

function windowEdges(now: Date): number[] {
  const out: number[] = [];
  for (const d of WINDOW_DURATIONS) {
    const t = ago(now, d);
    out.push(t, t - 1, t + 1);
  }
  return out;
}

/** Local midnights (and 1 ms before them) of the days around a clock, per zone: calendar-window edges. */
function localMidnights(now: Date): number[] {
  const out: number[] = [];
  for (const tz of ZONES) {
    const today = localDay(now.getTime(), tz);
    for (const k of [0, 1, 2, 6, 7, 13, 14]) {
      const m = startOfLocalDay(addDays(today, -k), tz);
      out.push(m, m - 1);
    }
  }
  return out;
}

/** Instants k months before a clock's local date in a zone, early and late in the local day: anniversaries. */
function anniversaryInstants(now: Date, rng: Rng): number[] {
  const out: number[] = [];
  for (const tz of ZONES) {
    const today = localDay(now.getTime(), tz);
    for (const months of [1, 6, 12, 18, 24, 36, 48]) {
      for (const shiftDays of [-1, 0, 1]) {
        const date = addDays(addMonthsClamped(today, -months), shiftDays);
        const start = startOfLocalDay(date, tz);
        const end = startOfLocalDay(addDays(date, 1), tz);
        out.push(start + 30_000, end - 30_000, start + Math.floor(rng() * (end - start)));
      }
    }
  }
  return out;
}

/** A customer row with defaults for the columns not given (for small hand-made data sets). */
export function customerRow(c: Partial<CustomerRow> & { id: string }): CustomerRow {
  return { email: null, phone: null, first_name: null, last_name: null, registered_at: null, timezone: null, locale: null, country: null, city: null, attributes: '{}', ...c };
}

/** A data set of just these customers (and optionally orders): for single-case reproductions. */
export function smallData(customers: Array<Partial<CustomerRow> & { id: string }>, orders: OrderRow[] = []): EdgeData {
  return { customers: customers.map(customerRow), consents: [], products: [...PRODUCTS], orders, orderItems: [], events: [], suppressions: [] };
}

class Builder {
  readonly data: EdgeData = { customers: [], consents: [], products: [], orders: [], orderItems: [], events: [], suppressions: [] };
  private orderSeq = 0;
  private eventSeq = 0;

  customer(c: Partial<CustomerRow> & { id: string }): CustomerRow {
    const row: CustomerRow = {
      email: `${c.id}@example.com`,
      phone: null,
      first_name: null,
      last_name: null,
      registered_at: NOW.getTime() - 400 * DAY,
      timezone: 'Europe/Prague',
      locale: null,
      country: null,
      city: null,
      attributes: '{}',
      ...c,
    };
    this.data.customers.push(row);
    return row;
  }

  order(customer: string, placed_at: number, status = 'delivered', total: number | null = 50, items: Array<Partial<OrderItemRow>> = [{ product_id: 'p1', sku: 'SKU-1' }]): OrderRow {
    const id = `o${String(++this.orderSeq).padStart(4, '0')}`;
    const row: OrderRow = { id, customer_id: customer, placed_at, status, total, currency: 'EUR' };
    this.data.orders.push(row);
    items.forEach((it, i) =>
      this.data.orderItems.push({ order_id: id, line: i + 1, product_id: null, sku: null, title: 'item', quantity: 1, price: 10, ...it }),
    );
    return row;
  }

  event(customer: string, type: string, occurred_at: number, properties: string = '{}'): void {
    const seq = ++this.eventSeq;
    this.data.events.push({ seq, id: `e${String(seq).padStart(4, '0')}`, customer_id: customer, type, occurred_at, properties });
  }

  consent(customer: string, channel: string, granted: 0 | 1): void {
    this.data.consents.push({ customer_id: customer, channel, granted, updated_at: NOW.getTime() - 10 * DAY });
  }

  suppress(channel: string, address: string): void {
    if (this.data.suppressions.some((s) => s.channel === channel && s.address === address)) return;
    this.data.suppressions.push({ channel, address, reason: 'bounce', created_at: NOW.getTime() - 5 * DAY });
  }
}

export const PRODUCTS: ProductRow[] = [
  { id: 'p1', sku: 'SKU-1', title: 'Runner', category: 'shoes', price: 80 },
  { id: 'p2', sku: 'SKU-2', title: 'Trail', category: 'shoes', price: 95 },
  { id: 'p3', sku: 'SKU-3', title: 'Tee', category: 'shirts', price: 20 },
  { id: 'p4', sku: 'SKU-4', title: 'Polo', category: 'shirts', price: 35 },
  { id: 'p5', sku: 'SKU-5', title: 'Cap', category: 'hats', price: 15 },
  { id: 'p6', sku: 'SKU-6', title: 'Tote', category: 'bags', price: 25 },
  { id: 'p7', sku: 'SKU-7', title: 'Mystery', category: null, price: null },
  { id: 'p8', sku: null, title: 'Gift card', category: 'Gift', price: 50 },
];
/** Named by order items but not in the catalogue (deleted products, custom lines). */
export const MISSING_PRODUCTS = ['p_gone', 'p_custom'];

/** Attribute values of every JSON type, as JSON text (10.0 and 1 kept as written). */
const ATTRIBUTE_CHOICES: Record<string, string[]> = {
  vip: ['true', 'false', 'null', '"true"', '1', '0'],
  tier: ['"gold"', '"silver"', '"Gold"', '"bronze"', 'null', '2', '""'],
  score: ['0', '-3', '1.5', '10', '10.0', '42', '"10"', 'null', 'true'],
  birthday: ['"1990-11-25"', '"2000-02-29"', '"1985-11-24"', '"1999-12-31"', '"2024-11-25T23:30:00Z"', '"unknown"', 'null', '7'],
  last_seen: [], // dates near the clocks, filled per customer
  code: ['"1"', '1', '1.0', '"A1"', 'false'],
  nickname: ['"Big_Spender"', '"bigXspender"', '"Night Owl"', '"owl"', '""', 'null'],
};
export const ATTRIBUTE_NAMES = Object.keys(ATTRIBUTE_CHOICES);

const FIRST = ['Anna', 'anna', 'Jan', 'Eva', 'Bob', 'O_Neil', 'Zoe', 'Max', 'Lea'];
const LAST = ['Novak', 'NOVAK', 'Smith', 'Patel', 'Tuilagi', 'Teiti', 'Dvorak', 'Lee'];
const LOCALES = ['en-GB', 'cs-CZ', 'en-US', 'hi-IN', 'sm', null];
const COUNTRIES = ['CZ', 'US', 'GB', 'IN', 'KI', 'AS', null, ''];
const CITIES = ['Prague', 'Brno', 'New York', 'Mumbai', 'Pago Pago', 'London', 'praha', null, ''];
export const STATUSES = ['pending', 'processing', 'invoiced', 'shipped', 'delivered', 'delivered', 'delivered', 'canceled', 'unavailable', 'refunded', 'on_hold'];
export const EVENT_TYPES = ['email_opened', 'email_clicked', 'viewed_product', 'checked_out'];
const EVENT_PROPERTIES = [
  '{}',
  '{}',
  '{"product":"p1"}',
  '{"product":"p3","campaign":"spring"}',
  '{"campaign":"spring","value":10}',
  '{"campaign":"Spring","value":10.0,"first":true}',
  '{"value":"10","first":false}',
  '{"ref":null,"value":0}',
  '{"product":"p_gone","first":1}',
];

/**
 * The data set. Hand-written customers (id prefix `e_`) carry the edge cases the
 * pinned tests name; the others (`c0xx`) are random, with times drawn mostly from
 * the window edges, local midnights and anniversaries of every clock in ANCHORS.
 */
export function edgeData(seed = 20261125): EdgeData {
  const rng = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;
  const b = new Builder();
  b.data.products.push(...PRODUCTS);
  const now = NOW.getTime();

  // --- Hand-written edge cases (pinned tests rely on these; see differential.test.ts) ---
  b.customer({ id: 'e_no_orders', email: 'NoOrders@Example.com', registered_at: now - 200 * DAY });
  b.consent('e_no_orders', 'email', 1);

  b.customer({ id: 'e_only_canceled', registered_at: now - 100 * DAY });
  b.order('e_only_canceled', now - 40 * DAY, 'canceled', 70);
  b.order('e_only_canceled', now - 5 * DAY, 'canceled', 30);

  b.customer({ id: 'e_not_counted', registered_at: now - 100 * DAY });
  b.order('e_not_counted', now - 40 * DAY, 'refunded', 70);
  b.order('e_not_counted', now - 20 * DAY, 'unavailable', 30);

  // an order exactly 30 days before NOW, and 1 ms either side
  const d30 = ago(NOW, '30d');
  b.customer({ id: 'e_30d_exact' });
  b.order('e_30d_exact', d30, 'delivered', 100);
  b.customer({ id: 'e_30d_later' });
  b.order('e_30d_later', d30 + 1, 'delivered', 100);
  b.customer({ id: 'e_30d_earlier' });
  b.order('e_30d_earlier', d30 - 1, 'delivered', 100);
  // exactly 10 months before NOW (2026-01-25T08:00Z), and 1 ms earlier
  const mo10 = ago(NOW, '10mo');
  b.customer({ id: 'e_10mo_exact' });
  b.order('e_10mo_exact', mo10, 'delivered', 60);
  b.customer({ id: 'e_10mo_earlier' });
  b.order('e_10mo_earlier', mo10 - 1, 'delivered', 60);

  b.customer({ id: 'e_null_registered', registered_at: null });
  b.customer({ id: 'e_null_tz', timezone: null, registered_at: Date.parse('2023-11-24T23:30:00Z') }); // Prague: Nov 25 00:30
  b.customer({ id: 'e_empty_tz', timezone: '', registered_at: Date.parse('2023-11-24T23:30:00Z') });
  b.customer({ id: 'e_utc_late', timezone: 'UTC', registered_at: Date.parse('2023-11-24T23:30:00Z') }); // UTC: Nov 24

  // anniversaries across midnight: NOW is Nov 25 22:00 in Kiritimati, Nov 24 21:00 in Pago Pago
  b.customer({ id: 'e_kiri_anniv', timezone: 'Pacific/Kiritimati', registered_at: Date.parse('2023-11-24T11:00:00Z') }); // local Nov 25 01:00
  b.customer({ id: 'e_kiri_next_day', timezone: 'Pacific/Kiritimati', registered_at: Date.parse('2023-11-25T11:00:00Z') }); // local Nov 26
  b.customer({ id: 'e_pago_anniv', timezone: 'Pacific/Pago_Pago', registered_at: Date.parse('2023-11-25T10:30:00Z') }); // local Nov 24 23:30
  b.customer({ id: 'e_pago_utc_day', timezone: 'Pacific/Pago_Pago', registered_at: Date.parse('2023-11-25T12:00:00Z') }); // local Nov 25 01:00
  b.customer({ id: 'e_kolkata_anniv', timezone: 'Asia/Kolkata', registered_at: Date.parse('2024-11-24T19:00:00Z') }); // local Nov 25 00:30
  b.customer({ id: 'e_ny_anniv', timezone: 'America/New_York', registered_at: Date.parse('2025-11-26T03:00:00Z') }); // local Nov 25 22:00
  b.customer({ id: 'e_same_day', timezone: 'UTC', registered_at: Date.parse('2026-11-25T01:00:00Z') }); // today: not an anniversary

  // Feb 29 registrations: anniversaries on Feb 28 of non-leap years (the last day), Feb 29 of leap years
  b.customer({ id: 'e_feb29', timezone: 'UTC', registered_at: Date.parse('2024-02-29T12:00:00Z') });
  b.customer({ id: 'e_feb29_kiri', timezone: 'Pacific/Kiritimati', registered_at: Date.parse('2024-02-28T12:00:00Z') }); // local Feb 29 02:00
  b.customer({ id: 'e_feb28', timezone: 'UTC', registered_at: Date.parse('2023-02-28T12:00:00Z') });
  b.customer({ id: 'e_jan31', timezone: 'UTC', registered_at: Date.parse('2026-01-31T12:00:00Z') }); // monthly: Feb 28, Mar 31, Apr 30

  // calendar windows: today in Prague began 2026-11-24T23:00Z
  b.customer({ id: 'e_cal_midnight', timezone: 'Europe/Prague' });
  b.order('e_cal_midnight', Date.parse('2026-11-24T23:00:00Z'), 'shipped', 20);
  b.customer({ id: 'e_cal_before_midnight', timezone: 'Europe/Prague' });
  b.order('e_cal_before_midnight', Date.parse('2026-11-24T22:59:59.999Z'), 'shipped', 20);
  b.customer({ id: 'e_cal_kiri', timezone: 'Pacific/Kiritimati' });
  b.order('e_cal_kiri', Date.parse('2026-11-24T10:00:00Z'), 'shipped', 20); // local Nov 25 00:00
  b.customer({ id: 'e_cal_ny', timezone: 'America/New_York' });
  b.order('e_cal_ny', Date.parse('2026-11-25T04:59:59Z'), 'shipped', 20); // local Nov 24 23:59:59
  b.customer({ id: 'e_cal_3d_edge', timezone: 'Asia/Kolkata' });
  b.order('e_cal_3d_edge', Date.parse('2026-11-22T18:30:00Z'), 'shipped', 20); // local Nov 23 00:00: first day of "3d"
  b.customer({ id: 'e_cal_3d_out', timezone: 'Asia/Kolkata' });
  b.order('e_cal_3d_out', Date.parse('2026-11-22T18:29:59.999Z'), 'shipped', 20); // local Nov 22 23:59:59.999

  // totals: NULL, items of products the catalogue lacks, an order with no items
  b.customer({ id: 'e_null_total' });
  b.order('e_null_total', now - 3 * DAY, 'delivered', null, [{ product_id: 'p_gone', sku: 'GONE-1' }]);
  b.order('e_null_total', now - 2 * DAY, 'delivered', 25.5, []);
  b.customer({ id: 'e_missing_product' });
  b.order('e_missing_product', now - 50 * DAY, 'delivered', 10, [{ product_id: 'p_custom', sku: null }, { product_id: null, sku: 'SKU-5' }]);

  // e-mail: mixed case with a lower-case suppression; '' e-mail; NULL e-mail with consent
  b.customer({ id: 'e_mixed_case', email: 'Mixed.Case@Example.COM', phone: '+420600000001' });
  b.consent('e_mixed_case', 'email', 1);
  b.consent('e_mixed_case', 'sms', 1);
  b.suppress('email', 'mixed.case@example.com');
  b.customer({ id: 'e_empty_email', email: '' });
  b.consent('e_empty_email', 'email', 1);
  b.suppress('email', '');
  b.customer({ id: 'e_null_email', email: null, phone: '+420600000002' });
  b.consent('e_null_email', 'email', 1);
  b.consent('e_null_email', 'sms', 1);
  b.customer({ id: 'e_reachable', email: 'Reach@Example.com', phone: '' });
  b.consent('e_reachable', 'email', 1);
  b.consent('e_reachable', 'sms', 1);
  b.customer({ id: 'e_consent_revoked', email: 'revoked@example.com' });
  b.consent('e_consent_revoked', 'email', 0);
  b.customer({ id: 'e_sms_suppressed', phone: '+420600000003' });
  b.consent('e_sms_suppressed', 'sms', 1);
  b.suppress('sms', '+420600000003');

  // attributes of every JSON type
  b.customer({ id: 'e_attr_types', attributes: '{"vip":true,"tier":"gold","score":10.0,"birthday":"1990-11-25","code":"1","nickname":null,"last_seen":"2026-11-20"}' });
  b.customer({ id: 'e_attr_numbers', attributes: '{"vip":1,"tier":2,"score":10,"birthday":"2000-02-29","code":1,"nickname":"Big_Spender"}' });
  b.customer({ id: 'e_attr_empty', attributes: '{}' });
  b.customer({ id: 'e_attr_nulls', attributes: '{"vip":null,"tier":null,"score":null,"birthday":null,"code":null,"nickname":"","last_seen":"unknown"}' });

  // events with and without properties
  b.customer({ id: 'e_events' });
  b.event('e_events', 'viewed_product', now - 1 * DAY, '{"product":"p1","value":10}');
  b.event('e_events', 'viewed_product', now - 2 * DAY);
  b.event('e_events', 'email_opened', ago(NOW, '30d'), '{"campaign":"spring"}');
  b.event('e_events', 'email_opened', ago(NOW, '30d') - 1, '{"campaign":"spring"}');

  // an old customer: registered before 1970 (negative epoch ms)
  b.customer({ id: 'e_pre_epoch', timezone: 'America/New_York', registered_at: Date.parse('1969-11-26T02:00:00Z') }); // local Nov 25 21:00
  // a suppression stored un-normalised (mixed case) must not match: addresses compare as lower(email)
  b.customer({ id: 'e_unnormalised_suppression', email: 'Upper@Example.com' });
  b.consent('e_unnormalised_suppression', 'email', 1);
  b.suppress('email', 'Upper@Example.com');
  // objects and arrays in attributes, and a number with more digits than a double keeps
  b.customer({ id: 'e_attr_nested', attributes: '{"tags":["vip","gold"],"prefs":{"tier":"gold"},"score":2.5,"tier":"gold"}' });
  b.customer({ id: 'e_attr_array', attributes: '{"tags":[],"prefs":{},"vip":[true],"code":["1"]}' });

  // per clock: a customer registered, ordering and acting exactly at now - d (window edges of every clock)
  ANCHORS.forEach((anchor, i) => {
    for (const d of ['7d', '30d', '6mo', '10mo', '1y']) {
      const id = `e_edge${i}_${d}`;
      const t = ago(anchor, d);
      b.customer({ id, registered_at: t, timezone: pick([...ZONES, null]) });
      b.order(id, t, pick(['delivered', 'shipped', 'refunded']), pick([40, 12.5, null]), [{ product_id: pick(['p1', 'p3', 'p_gone']), sku: 'SKU-1' }]);
      b.event(id, pick(EVENT_TYPES), t, pick(EVENT_PROPERTIES));
      if (rng() < 0.5) b.consent(id, 'email', 1);
    }
  });

  // --- Random customers ---
  const edges = ANCHORS.flatMap((a) => [...windowEdges(a), ...localMidnights(a)]);
  const anniversaries = ANCHORS.flatMap((a) => anniversaryInstants(a, rng));
  const randomPast = (): number => {
    const anchor = pick(ANCHORS).getTime();
    return anchor - Math.floor(rng() * 3 * 365 * DAY) + (rng() < 0.05 ? 3 * DAY : 0); // a few in the future
  };
  const instant = (): number => (rng() < 0.6 ? pick(edges) : randomPast());

  for (let i = 1; i <= 45; i++) {
    const id = `c${String(i).padStart(3, '0')}`;
    const tzRoll = rng();
    const timezone = tzRoll < 0.08 ? null : tzRoll < 0.14 ? '' : pick(ZONES);
    const first = pick(FIRST);
    const emailRoll = rng();
    const email = emailRoll < 0.08 ? null : emailRoll < 0.13 ? '' : emailRoll < 0.4 ? `${first}.${id}@Example.COM` : `${first.toLowerCase()}.${id}@example.com`;
    const phone = rng() < 0.4 ? `+4206${String(10000000 + i)}` : rng() < 0.2 ? '' : null;
    const regRoll = rng();
    const registered_at = regRoll < 0.1 ? null : regRoll < 0.55 ? pick(anniversaries) : instant();
    const attributes: string[] = [];
    for (const [name, choices] of Object.entries(ATTRIBUTE_CHOICES)) {
      if (rng() < 0.35) continue; // missing
      if (name === 'last_seen') {
        const t = instant();
        attributes.push(`"last_seen":${rng() < 0.8 ? `"${new Date(t).toISOString().slice(0, rng() < 0.5 ? 10 : 24)}"` : '"never"'}`);
      } else {
        attributes.push(`"${name}":${pick(choices)}`);
      }
    }
    b.customer({
      id,
      email,
      phone,
      first_name: rng() < 0.1 ? null : first,
      last_name: rng() < 0.1 ? null : pick(LAST),
      registered_at,
      timezone,
      locale: pick(LOCALES),
      country: pick(COUNTRIES),
      city: pick(CITIES),
      attributes: `{${attributes.join(',')}}`,
    });

    for (const channel of ['email', 'sms', 'push']) {
      const r = rng();
      if (r < 0.5) b.consent(id, channel, 1);
      else if (r < 0.7) b.consent(id, channel, 0);
    }
    if (email !== null && email !== '' && rng() < 0.3) b.suppress('email', email.toLowerCase());
    if (email !== null && email !== '' && rng() < 0.05) b.suppress('email', email); // not normalised: must not match mixed case
    if (phone && rng() < 0.3) b.suppress('sms', phone);

    const orderCount = rng() < 0.2 ? 0 : Math.floor(rng() * 6) + 1;
    for (let k = 0; k < orderCount; k++) {
      const itemCount = rng() < 0.08 ? 0 : Math.floor(rng() * 3) + 1;
      const items: Array<Partial<OrderItemRow>> = [];
      for (let j = 0; j < itemCount; j++) {
        const r = rng();
        if (r < 0.75) {
          const p = pick(PRODUCTS);
          items.push({ product_id: p.id, sku: rng() < 0.9 ? p.sku : 'CUSTOM-9' });
        } else if (r < 0.9) items.push({ product_id: pick(MISSING_PRODUCTS), sku: rng() < 0.5 ? 'GONE-1' : null });
        else items.push({ product_id: null, sku: pick(['SKU-3', 'CUSTOM-9', null]) });
      }
      const total = rng() < 0.1 ? null : Math.round(rng() * 1600) / 4; // quarters: sums are exact in binary
      b.order(id, instant(), pick(STATUSES), total, items);
    }

    const eventCount = Math.floor(rng() * 5);
    for (let k = 0; k < eventCount; k++) b.event(id, pick(EVENT_TYPES), instant(), pick(EVENT_PROPERTIES));
  }
  return b.data;
}

/** Values the random rules draw from (plus some that match nothing). */
export function vocabulary(data: EdgeData) {
  const distinct = <T>(xs: T[]): T[] => [...new Set(xs)];
  const fieldValues: Record<string, string[]> = {};
  for (const f of ['email', 'phone', 'first_name', 'last_name', 'locale', 'timezone', 'country', 'city'] as const) {
    fieldValues[f] = distinct(data.customers.map((c) => c[f]).filter((v): v is string => v !== null));
  }
  const attributeValues: Record<string, unknown[]> = {};
  for (const c of data.customers) {
    for (const [k, v] of Object.entries(JSON.parse(c.attributes) as Record<string, unknown>)) (attributeValues[k] ??= []).push(v);
  }
  const propertyValues: Record<string, unknown[]> = {};
  for (const e of data.events) {
    for (const [k, v] of Object.entries(JSON.parse(e.properties) as Record<string, unknown>)) (propertyValues[k] ??= []).push(v);
  }
  return {
    fieldValues,
    attributeNames: [...ATTRIBUTE_NAMES, 'tags', 'prefs', 'no_such_attr'],
    attributeValues: Object.fromEntries(Object.entries(attributeValues).map(([k, v]) => [k, distinct(v)])),
    statuses: distinct([...STATUSES, 'Delivered', 'lost']),
    categories: distinct([...PRODUCTS.map((p) => p.category).filter((c): c is string => c !== null), 'Shoes', 'toys']),
    products: [...PRODUCTS.map((p) => p.id), ...MISSING_PRODUCTS, 'p_none'],
    skus: ['SKU-1', 'SKU-2', 'SKU-3', 'SKU-5', 'SKU-7', 'CUSTOM-9', 'GONE-1', 'sku-1'],
    eventTypes: [...EVENT_TYPES, 'never_happens'],
    propertyValues: Object.fromEntries(Object.entries(propertyValues).map(([k, v]) => [k, distinct(v)])),
    totals: distinct(data.orders.map((o) => o.total).filter((t): t is number => t !== null)),
    dates: distinct(data.orders.map((o) => new Date(o.placed_at).toISOString().slice(0, 10))),
  };
}
export type Vocabulary = ReturnType<typeof vocabulary>;
