/**
 * A plain TypeScript evaluation of segment rules over in-memory rows: the second,
 * independent implementation the differential test compares the compiled SQL with.
 * Written from the rule language's semantics, not from the compiler: one customer at
 * a time, loops and Array methods, no SQL notions. Everything is two-valued: a
 * comparison with a missing value is false (and `not` of it is true).
 */
import { shift } from '../../src/project/duration.js';
import {
  type DateComparison,
  type DateTerm,
  type Duration,
  type Moment,
  type NumberTerm,
  type Rule,
  type Scalar,
  type Segment,
  type StatusFilter,
  type StringTerm,
  type ValueTerm,
} from '../../src/project/model.js';
import type { CustomerRow, EdgeData, EventRow, OrderItemRow, OrderRow, ProductRow } from './edge-data.js';

export interface ReferenceContext {
  now: Date;
  segments: ReadonlyMap<string, Segment>;
  defaultTimezone: string;
}

const DAY_MS = 86_400_000;

/** The statuses an order condition without `status` does not count (the language's default). */
const NOT_COUNTED_BY_DEFAULT: readonly string[] = ['canceled', 'unavailable', 'refunded'];

// ---------------------------------------------------------------- indexes

interface Indexed {
  customers: Map<string, CustomerRow>;
  ordersOf: Map<string, OrderRow[]>;
  itemsOf: Map<string, OrderItemRow[]>;
  products: Map<string, ProductRow>;
  eventsOf: Map<string, EventRow[]>;
  consents: Set<string>; // `${customer}\0${channel}` with granted = 1
  suppressions: Set<string>; // `${channel}\0${address}`
  attributes: Map<string, Record<string, unknown>>;
  properties: Map<EventRow, Record<string, unknown>>;
}

const indexes = new WeakMap<EdgeData, Indexed>();

function groupBy<T>(rows: T[], key: (r: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}

function indexed(data: EdgeData): Indexed {
  let ix = indexes.get(data);
  if (!ix) {
    ix = {
      customers: new Map(data.customers.map((c) => [c.id, c])),
      ordersOf: groupBy(data.orders, (o) => o.customer_id),
      itemsOf: groupBy(data.orderItems, (i) => i.order_id),
      products: new Map(data.products.map((p) => [p.id, p])),
      eventsOf: groupBy(data.events, (e) => e.customer_id),
      consents: new Set(data.consents.filter((c) => c.granted === 1).map((c) => `${c.customer_id}\0${c.channel}`)),
      suppressions: new Set(data.suppressions.map((s) => `${s.channel}\0${s.address}`)),
      attributes: new Map(data.customers.map((c) => [c.id, JSON.parse(c.attributes) as Record<string, unknown>])),
      properties: new Map(data.events.map((e) => [e, JSON.parse(e.properties) as Record<string, unknown>])),
    };
    indexes.set(data, ix);
  }
  return ix;
}

// ---------------------------------------------------------------- time helpers

const dayFormatters = new Map<string, Intl.DateTimeFormat>();

/** YYYY-MM-DD of an instant in an IANA zone, via Intl (independent of src/time). */
export function refLocalDate(ms: number, timeZone: string): string {
  let f = dayFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

function utcDateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Days since 1970-01-01 of a YYYY-MM-DD date, or null if it is not a real date. */
function dayNumber(date: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return null;
  return Date.UTC(y, mo - 1, d) / DAY_MS;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function addDays(date: string, days: number): string {
  return utcDateOf((dayNumber(date)! + days) * DAY_MS);
}

function momentMs(m: Moment, now: Date): number {
  if (m.kind === 'ago') return shift(now, m.duration, -1).getTime();
  if (/^\d{4}-\d{2}-\d{2}$/.test(m.iso)) return Date.parse(`${m.iso}T00:00:00Z`);
  return Date.parse(m.iso);
}

/** Whole calendar days of a duration under `calendar: true`, or null when it is not in days (m, h, mo, y). */
function calendarDays(d: Duration): number | null {
  if (d.unit === 'd') return d.amount;
  if (d.unit === 'w') return 7 * d.amount;
  return null;
}

/** Today (T) is an anniversary of D, every `every`. */
function isAnniversary(D: string, T: string, every: Duration): boolean {
  const dn = dayNumber(D);
  const tn = dayNumber(T);
  if (dn === null || tn === null) return false;
  if (every.unit === 'd' || every.unit === 'w') {
    const n = every.unit === 'w' ? 7 * every.amount : every.amount;
    const days = tn - dn;
    return days > 0 && days % n === 0;
  }
  if (every.unit === 'mo' || every.unit === 'y') {
    const step = every.unit === 'y' ? 12 * every.amount : every.amount;
    const [dy, dm, dd] = D.split('-').map(Number) as [number, number, number];
    const [ty, tm, td] = T.split('-').map(Number) as [number, number, number];
    const months = (ty - dy) * 12 + (tm - dm);
    if (months <= 0 || months % step !== 0) return false;
    return td === dd || (dd > td && td === daysInMonth(ty, tm));
  }
  throw new Error(`anniversary every ${every.text}: not in the language's semantics`);
}

// ---------------------------------------------------------------- term helpers

function numberHolds(t: NumberTerm, n: number): boolean {
  switch (t.op) {
    case 'eq':
      return n === t.value;
    case 'ne':
      return n !== t.value;
    case 'gt':
      return n > t.value;
    case 'gte':
      return n >= t.value;
    case 'lt':
      return n < t.value;
    case 'lte':
      return n <= t.value;
    case 'between':
      return n >= t.low && n <= t.high;
  }
}

const numbersHold = (terms: NumberTerm[], n: number | null): boolean => n !== null && terms.every((t) => numberHolds(t, n));

/** SQLite's lower(): ASCII letters only. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

function stringHolds(t: StringTerm, v: string | null): boolean {
  switch (t.op) {
    case 'eq':
      return v !== null && v === t.value;
    case 'ne':
      return v === null || v !== t.value;
    case 'in':
      return v !== null && t.values.includes(v);
    case 'not_in':
      return v === null || !t.values.includes(v);
    case 'contains':
      return v !== null && asciiLower(v).includes(asciiLower(t.value));
    case 'starts_with':
      return v !== null && asciiLower(v).startsWith(asciiLower(t.value));
    case 'ends_with':
      return v !== null && asciiLower(v).endsWith(asciiLower(t.value));
    case 'exists':
      return t.value === (v !== null && v !== '');
  }
}

/** JSON equality of a member with a rule scalar: same JSON type and value (1 = 1.0, true ≠ 1, "1" ≠ 1). */
function jsonEquals(member: unknown, value: Scalar): boolean {
  if (member === undefined || member === null) return false;
  return typeof member === typeof value && member === value;
}

function valueHolds(t: ValueTerm, member: unknown, now: Date): boolean {
  switch (t.op) {
    case 'eq':
      return jsonEquals(member, t.value);
    case 'ne':
      return !jsonEquals(member, t.value);
    case 'in':
      return t.values.some((v) => jsonEquals(member, v));
    case 'not_in':
      return !t.values.some((v) => jsonEquals(member, v));
    case 'exists':
      return t.value === (member !== undefined && member !== null);
    case 'contains':
      return typeof member === 'string' && asciiLower(member).includes(asciiLower(t.value));
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return typeof member === 'number' && numberHolds(t, member);
    case 'before':
    case 'after': {
      if (typeof member !== 'string') return false;
      const own = member.slice(0, 10);
      const at = utcDateOf(momentMs(t.at, now));
      return t.op === 'before' ? own < at : own >= at;
    }
    case 'anniversary':
      return typeof member === 'string' && isAnniversary(member.slice(0, 10), utcDateOf(now.getTime()), t.every);
  }
}

/**
 * A date comparison on an instant (NULL when there is none). Rolling by default;
 * `calendar: true` compares local dates for durations in days or weeks.
 */
function dateHolds(cmp: DateComparison, value: number | null, tz: string, now: Date): boolean {
  return cmp.terms.every((t) => dateTermHolds(t, cmp.calendar, value, tz, now));
}

function dateTermHolds(t: DateTerm, calendar: boolean, value: number | null, tz: string, now: Date): boolean {
  if (t.op === 'exists') return t.value === (value !== null);
  if (value === null) return false;
  if (t.op === 'anniversary') return isAnniversary(refLocalDate(value, tz), refLocalDate(now.getTime(), tz), t.every);
  const days = calendar && t.at.kind === 'ago' ? calendarDays(t.at.duration) : null;
  if (days !== null) {
    const own = refLocalDate(value, tz);
    const firstDay = addDays(refLocalDate(now.getTime(), tz), -(days - 1));
    return t.op === 'before' ? own < firstDay : own >= firstDay;
  }
  const at = momentMs(t.at, now);
  return t.op === 'before' ? value < at : value >= at;
}

function statusCounts(filter: StatusFilter, status: string): boolean {
  if (filter === 'any') return true;
  if (filter === 'default') return !NOT_COUNTED_BY_DEFAULT.includes(status);
  return filter.includes(status);
}

// ---------------------------------------------------------------- the evaluator

/** Whether the customer is a member of the rule, over the rows of `data`, at ctx.now. */
export function evaluate(rule: Rule, customerId: string, data: EdgeData, ctx: ReferenceContext): boolean {
  return new Evaluator(indexed(data), ctx).holds(rule, customerId, []);
}

/** The sorted ids of every customer the rule holds for. */
export function members(rule: Rule, data: EdgeData, ctx: ReferenceContext): string[] {
  const ev = new Evaluator(indexed(data), ctx);
  return data.customers
    .filter((c) => ev.holds(rule, c.id, []))
    .map((c) => c.id)
    .sort();
}

class Evaluator {
  constructor(
    private readonly ix: Indexed,
    private readonly ctx: ReferenceContext,
  ) {}

  private tz(c: CustomerRow): string {
    return c.timezone === null || c.timezone === '' ? this.ctx.defaultTimezone : c.timezone;
  }

  private address(c: CustomerRow, channel: string): string | null {
    if (channel === 'email') return c.email === null ? null : asciiLower(c.email);
    if (channel === 'sms') return c.phone;
    throw new Error(`no address field for channel ${channel}`);
  }

  private suppressed(c: CustomerRow, channel: string): boolean {
    const a = this.address(c, channel);
    return a !== null && this.ix.suppressions.has(`${channel}\0${a}`);
  }

  holds(rule: Rule, id: string, stack: string[]): boolean {
    const c = this.ix.customers.get(id);
    if (!c) throw new Error(`no customer ${id}`);
    const now = this.ctx.now;
    switch (rule.kind) {
      case 'all':
        return rule.rules.every((r) => this.holds(r, id, stack));
      case 'any':
        return rule.rules.some((r) => this.holds(r, id, stack));
      case 'not':
        return !this.holds(rule.rule, id, stack);
      case 'segment': {
        const seg = this.ctx.segments.get(rule.name);
        if (!seg) throw new Error(`unknown segment ${rule.name}`);
        if (stack.includes(rule.name)) throw new Error(`segment cycle through ${rule.name}`);
        return this.holds(seg.rule, id, [...stack, rule.name]);
      }
      case 'customer_field': {
        const v = c[rule.field];
        return rule.terms.every((t) => stringHolds(t, v));
      }
      case 'attribute': {
        const attrs = this.ix.attributes.get(id)!;
        const member = Object.prototype.hasOwnProperty.call(attrs, rule.name) ? attrs[rule.name] : undefined;
        return rule.terms.every((t) => valueHolds(t, member, now));
      }
      case 'registered_at':
        return dateHolds(rule.date, c.registered_at, this.tz(c), now);
      case 'orders': {
        const f = rule.filter;
        const tz = this.tz(c);
        const itemFilter = f.categories.length + f.products.length + f.skus.length > 0;
        let count = 0;
        for (const o of this.ix.ordersOf.get(id) ?? []) {
          if (!statusCounts(f.statuses, o.status)) continue;
          if (f.total.length > 0 && !numbersHold(f.total, o.total)) continue;
          if (!dateHolds(f.placed, o.placed_at, tz, now)) continue;
          if (itemFilter) {
            const items = this.ix.itemsOf.get(o.id) ?? [];
            const hit = items.some((it) => {
              if (it.product_id !== null && f.products.includes(it.product_id)) return true;
              if (it.sku !== null && f.skus.includes(it.sku)) return true;
              const p = it.product_id === null ? undefined : this.ix.products.get(it.product_id);
              return p !== undefined && p.category !== null && f.categories.includes(p.category);
            });
            if (!hit) continue;
          }
          count++;
        }
        return numbersHold(rule.count, count);
      }
      case 'order_date': {
        let best: number | null = null;
        for (const o of this.ix.ordersOf.get(id) ?? []) {
          if (!statusCounts(rule.statuses, o.status)) continue;
          if (best === null || (rule.which === 'last' ? o.placed_at > best : o.placed_at < best)) best = o.placed_at;
        }
        return dateHolds(rule.date, best, this.tz(c), now);
      }
      case 'order_amount': {
        const since = rule.within ? shift(now, rule.within, -1).getTime() : null;
        const totals: number[] = [];
        for (const o of this.ix.ordersOf.get(id) ?? []) {
          if (!statusCounts(rule.statuses, o.status)) continue;
          if (since !== null && o.placed_at < since) continue;
          if (o.total !== null) totals.push(o.total);
        }
        const sum = totals.reduce((a, b) => a + b, 0);
        const value = rule.measure === 'lifetime_value' ? sum : totals.length === 0 ? null : sum / totals.length;
        return numbersHold(rule.terms, value);
      }
      case 'event': {
        const tz = this.tz(c);
        let count = 0;
        for (const e of this.ix.eventsOf.get(id) ?? []) {
          if (e.type !== rule.type) continue;
          const props = this.ix.properties.get(e)!;
          const matches = Object.entries(rule.where).every(([k, v]) => jsonEquals(Object.prototype.hasOwnProperty.call(props, k) ? props[k] : undefined, v));
          if (!matches) continue;
          if (!dateHolds(rule.occurred, e.occurred_at, tz, now)) continue;
          count++;
        }
        return numbersHold(rule.count, count);
      }
      case 'consent':
        return this.ix.consents.has(`${id}\0${rule.channel}`);
      case 'suppressed':
        return this.suppressed(c, rule.channel);
      case 'reachable': {
        const raw = rule.channel === 'email' ? c.email : rule.channel === 'sms' ? c.phone : null;
        return raw !== null && raw !== '' && this.ix.consents.has(`${id}\0${rule.channel}`) && !this.suppressed(c, rule.channel);
      }
      case 'orders_since_entry':
      case 'message':
      case 'messages_received':
      case 'trigger_order':
        throw new Error(`${rule.kind} is a journey-only condition`);
    }
  }
}
