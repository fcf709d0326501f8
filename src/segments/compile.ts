import { shift } from '../project/duration.js';
import {
  NOT_COUNTED_BY_DEFAULT,
  type DateComparison,
  type Duration,
  type Moment,
  type NumberTerm,
  type OrderFilter,
  type Rule,
  type Segment,
  type StatusFilter,
  type StringTerm,
  type ValueTerm,
} from '../project/model.js';
import { and, cmp, col, FALSE, not, num, or, param, select, TRUE, type Expr, type Join, type Select } from './sql/nodes.js';

/** Where a channel's address is kept on the customer. */
export type AddressField = 'email' | 'phone' | `attributes.${string}`;

export interface CompileOptions {
  /** The clock: every relative time ("30d ago") is computed from it, never from the database's now(). */
  now: Date;
  segments: ReadonlyMap<string, Segment>;
  /** The timezone of customers who have none. */
  defaultTimezone: string;
  channelAddress(channel: string): AddressField;
}

/** Why a rule cannot become SQL (journey-only conditions, unknown segments). */
export class CompileError extends Error {}

const C = 'c'; // the customers alias of every segment query

/**
 * Compiles a segment to one query: `SELECT c.id FROM customers c ... WHERE ...`.
 * Order and event aggregates become one grouped derived table per distinct filter,
 * joined once; membership of another segment becomes a materialised CTE computed
 * once per query, however often it is named.
 */
export function compileSegment(name: string, opts: CompileOptions): Select {
  const segment = opts.segments.get(name);
  if (!segment) throw new CompileError(`unknown segment '${name}'`);
  return new RuleCompiler(opts).root(segment.rule);
}

export function compileRule(rule: Rule, opts: CompileOptions): Select {
  return new RuleCompiler(opts).root(rule);
}

interface Aggregate {
  alias: string;
  key: string;
  query: Select;
  /** Whether the rule can only match customers who have a row in it (then it is joined, not left-joined). */
  required: boolean;
}

class RuleCompiler {
  private readonly aggregates = new Map<string, Aggregate>();
  private readonly ctes = new Map<string, Select>();
  private readonly compiling = new Set<string>();
  private readonly nowMs: number;

  constructor(private readonly opts: CompileOptions) {
    this.nowMs = opts.now.getTime();
  }

  root(rule: Rule): Select {
    const where = this.rule(rule, true);
    return this.query(where, [...this.aggregates.values()]);
  }

  private query(where: Expr, aggregates: Aggregate[]): Select {
    const joins: Join[] = aggregates.map((a) => ({
      type: a.required ? 'inner' : 'left',
      item: { kind: 'derived', query: a.query, alias: a.alias },
      on: cmp('=', col(a.alias, 'customer_id'), col(C, 'id')),
    }));
    return select({
      with: [...this.ctes].map(([name, query]) => ({ name, query })),
      columns: [{ expr: col(C, 'id'), alias: 'id' }],
      from: { kind: 'table', table: 'customers', alias: C },
      joins,
      where: where.kind === 'and' && where.items.length === 0 ? null : where,
    });
  }

  /** `top` is true while the rule is a conjunct of the root: only there may an aggregate be inner-joined. */
  private rule(r: Rule, top: boolean): Expr {
    switch (r.kind) {
      case 'all':
        return r.rules.length === 0 ? TRUE : and(...r.rules.map((x) => this.rule(x, top)));
      case 'any':
        return r.rules.length === 0 ? FALSE : or(...r.rules.map((x) => this.rule(x, false)));
      case 'not':
        return not(this.rule(r.rule, false));
      case 'segment':
        return { kind: 'in_query', expr: col(C, 'id'), query: select({ from: { kind: 'cte_ref', name: this.segmentCte(r.name), alias: 's' }, columns: [{ expr: col('s', 'id'), alias: 'id' }] }), negated: false };
      case 'customer_field':
        return and(...r.terms.map((t) => stringTerm(col(C, r.field), t)));
      case 'attribute':
        return and(...r.terms.map((t) => this.attributeTerm(r.name, t)));
      case 'registered_at':
        return this.dateComparison(col(C, 'registered_at'), r.date);
      case 'orders':
        return this.countCondition(r.count, r.filter, top);
      case 'order_date': {
        const agg = this.orderAggregate(orderFilter(r.statuses), top && r.date.terms.some((t) => t.op !== 'exists' || t.value));
        const column = col(agg.alias, r.which === 'last' ? 'last_at' : 'first_at');
        return this.dateComparison(column, r.date);
      }
      case 'order_amount': {
        const filter = orderFilter(r.statuses, r.within);
        if (r.measure === 'lifetime_value') {
          const agg = this.orderAggregate(filter, false);
          return and(...r.terms.map((t) => numberTerm({ kind: 'coalesce', items: [col(agg.alias, 'value'), num(0)] }, t)));
        }
        const agg = this.orderAggregate(filter, top);
        return and(...r.terms.map((t) => defined(col(agg.alias, 'avg_value'), (x) => numberTerm(x, t))));
      }
      case 'event':
        return this.eventCondition(r, top);
      case 'consent':
        return this.consent(r.channel);
      case 'suppressed':
        return this.suppressed(r.channel);
      case 'reachable': {
        const address = this.address(r.channel);
        return and(defined(address, (a) => cmp('<>', a, param(''))), this.consent(r.channel), not(this.suppressed(r.channel)));
      }
      case 'orders_since_entry':
      case 'message':
      case 'messages_received':
      case 'trigger_order':
        throw new CompileError(`'${r.kind}' is about a customer's place in a journey; it cannot be part of a segment`);
      default: {
        const never: never = r;
        throw new Error(`unknown rule ${JSON.stringify(never)}`);
      }
    }
  }

  private segmentCte(name: string): string {
    const cteName = `segment_${name}`;
    if (this.ctes.has(cteName)) return cteName;
    if (this.compiling.has(name)) throw new CompileError(`segment '${name}' includes itself`);
    const segment = this.opts.segments.get(name);
    if (!segment) throw new CompileError(`unknown segment '${name}'`);
    this.compiling.add(name);
    // The named segment gets its own aggregates, so that its query stands alone.
    const inner = new RuleCompiler(this.opts);
    for (const [k, v] of this.ctes) inner.ctes.set(k, v);
    for (const n of this.compiling) inner.compiling.add(n);
    const where = inner.rule(segment.rule, true);
    const query = inner.query(where, [...inner.aggregates.values()]);
    // CTEs the inner query needed come first: a CTE may only name those before it.
    for (const [k, v] of inner.ctes) if (!this.ctes.has(k)) this.ctes.set(k, v);
    this.ctes.set(cteName, { ...query, with: [] });
    this.compiling.delete(name);
    return cteName;
  }

  // ---- orders

  private countCondition(count: NumberTerm[], filter: OrderFilter, top: boolean): Expr {
    const presence = presenceOnly(count);
    if (presence !== null) {
      // "has at least one" / "has none": an EXISTS probe on the index beats an aggregate
      return { kind: 'exists', query: this.ordersQuery(filter, [{ expr: num(1), alias: 'one' }], cmp('=', col('o', 'customer_id'), col(C, 'id'))), negated: !presence };
    }
    const requiresRow = top && count.every((t) => !numberTermAdmits(t, 0));
    const agg = this.orderAggregate(filter, requiresRow);
    return and(...count.map((t) => numberTerm({ kind: 'coalesce', items: [col(agg.alias, 'n'), num(0)] }, t)));
  }

  private ordersQuery(filter: OrderFilter, columns: Select['columns'], extra?: Expr): Select {
    const needsCustomer = filter.placed.calendar;
    const conditions: Expr[] = [statusCondition(col('o', 'status'), filter.statuses)];
    if (extra) conditions.push(extra);
    for (const t of filter.total) conditions.push(defined(col('o', 'total'), (x) => numberTerm(x, t)));
    const tz = needsCustomer ? this.timezoneOf('cx') : null;
    conditions.push(this.dateComparison(col('o', 'placed_at'), filter.placed, tz));
    const itemFilters: Expr[] = [];
    if (filter.categories.length) itemFilters.push({ kind: 'in', expr: col('p', 'category'), list: filter.categories.map(param), negated: false });
    if (filter.products.length) itemFilters.push({ kind: 'in', expr: col('i', 'product_id'), list: filter.products.map(param), negated: false });
    if (filter.skus.length) itemFilters.push({ kind: 'in', expr: col('i', 'sku'), list: filter.skus.map(param), negated: false });
    if (itemFilters.length) {
      conditions.push({
        kind: 'exists',
        query: select({
          columns: [{ expr: num(1), alias: 'one' }],
          from: { kind: 'table', table: 'order_items', alias: 'i' },
          joins: filter.categories.length ? [{ type: 'left', item: { kind: 'table', table: 'products', alias: 'p' }, on: cmp('=', col('p', 'id'), col('i', 'product_id')) }] : [],
          where: and(cmp('=', col('i', 'order_id'), col('o', 'id')), or(...itemFilters)),
        }),
        negated: false,
      });
    }
    return select({
      columns,
      from: { kind: 'table', table: 'orders', alias: 'o' },
      joins: needsCustomer ? [{ type: 'inner', item: { kind: 'table', table: 'customers', alias: 'cx' }, on: cmp('=', col('cx', 'id'), col('o', 'customer_id')) }] : [],
      where: and(...conditions),
    });
  }

  private orderAggregate(filter: OrderFilter, required: boolean): Aggregate {
    const key = `orders:${JSON.stringify(filter)}`;
    const existing = this.aggregates.get(key);
    if (existing) {
      existing.required ||= required;
      return existing;
    }
    const alias = `o${this.aggregates.size + 1}`;
    const query = this.ordersQuery(filter, [
      { expr: col('o', 'customer_id'), alias: 'customer_id' },
      { expr: { kind: 'aggregate', fn: 'count', arg: '*' }, alias: 'n' },
      { expr: { kind: 'aggregate', fn: 'min', arg: col('o', 'placed_at') }, alias: 'first_at' },
      { expr: { kind: 'aggregate', fn: 'max', arg: col('o', 'placed_at') }, alias: 'last_at' },
      { expr: { kind: 'aggregate', fn: 'sum', arg: col('o', 'total') }, alias: 'value' },
      { expr: { kind: 'aggregate', fn: 'avg', arg: col('o', 'total') }, alias: 'avg_value' },
    ]);
    query.groupBy = [col('o', 'customer_id')];
    const agg = { alias, key, query, required };
    this.aggregates.set(key, agg);
    return agg;
  }

  // ---- events

  private eventCondition(r: Extract<Rule, { kind: 'event' }>, top: boolean): Expr {
    const conditions: Expr[] = [cmp('=', col('e', 'type'), param(r.type))];
    for (const [k, v] of Object.entries(r.where)) conditions.push({ kind: 'is_true', expr: { kind: 'json_equals', column: col('e', 'properties'), key: param(k), value: v } });
    const needsCustomer = r.occurred.calendar;
    conditions.push(this.dateComparison(col('e', 'occurred_at'), r.occurred, needsCustomer ? this.timezoneOf('cx') : null));
    const from = { kind: 'table', table: 'events', alias: 'e' } as const;
    const joins: Join[] = needsCustomer ? [{ type: 'inner', item: { kind: 'table', table: 'customers', alias: 'cx' }, on: cmp('=', col('cx', 'id'), col('e', 'customer_id')) }] : [];
    const presence = presenceOnly(r.count);
    if (presence !== null) {
      return {
        kind: 'exists',
        query: select({ columns: [{ expr: num(1), alias: 'one' }], from, joins, where: and(cmp('=', col('e', 'customer_id'), col(C, 'id')), ...conditions) }),
        negated: !presence,
      };
    }
    const key = `events:${JSON.stringify([r.type, r.where, r.occurred])}`;
    let agg = this.aggregates.get(key);
    if (!agg) {
      const query = select({
        columns: [
          { expr: col('e', 'customer_id'), alias: 'customer_id' },
          { expr: { kind: 'aggregate', fn: 'count', arg: '*' }, alias: 'n' },
        ],
        from,
        joins,
        where: and(...conditions),
        groupBy: [col('e', 'customer_id')],
      });
      agg = { alias: `e${this.aggregates.size + 1}`, key, query, required: false };
      this.aggregates.set(key, agg);
    }
    agg.required ||= top && r.count.every((t) => !numberTermAdmits(t, 0));
    const alias = agg.alias;
    return and(...r.count.map((t) => numberTerm({ kind: 'coalesce', items: [col(alias, 'n'), num(0)] }, t)));
  }

  // ---- consent and addresses

  private consent(channel: string): Expr {
    return {
      kind: 'exists',
      query: select({
        columns: [{ expr: num(1), alias: 'one' }],
        from: { kind: 'table', table: 'customer_consents', alias: 'cc' },
        where: and(cmp('=', col('cc', 'customer_id'), col(C, 'id')), cmp('=', col('cc', 'channel'), param(channel)), cmp('=', col('cc', 'granted'), num(1))),
      }),
      negated: false,
    };
  }

  private address(channel: string): Expr {
    const field = this.opts.channelAddress(channel);
    if (field === 'email') return { kind: 'lower', expr: col(C, 'email') };
    if (field === 'phone') return col(C, 'phone');
    return { kind: 'json_value', column: col(C, 'attributes'), key: param(field.slice('attributes.'.length)), as: 'text' };
  }

  private suppressed(channel: string): Expr {
    return {
      kind: 'exists',
      query: select({
        columns: [{ expr: num(1), alias: 'one' }],
        from: { kind: 'table', table: 'suppressions', alias: 'sp' },
        where: and(cmp('=', col('sp', 'channel'), param(channel)), cmp('=', col('sp', 'address'), this.address(channel))),
      }),
      negated: false,
    };
  }

  // ---- dates

  private timezoneOf(alias: string): Expr {
    const tz = col(alias, 'timezone');
    return { kind: 'case', whens: [{ when: or({ kind: 'is_null', expr: tz, negated: false }, cmp('=', tz, param(''))), then: param(this.opts.defaultTimezone) }], otherwise: tz };
  }

  private momentMs(m: Moment): number {
    return m.kind === 'ago' ? shift(this.opts.now, m.duration, -1).getTime() : Date.parse(m.iso.length === 10 ? `${m.iso}T00:00:00Z` : m.iso);
  }

  /** Compares an epoch-ms column; calendar windows compare local dates in the customer's timezone. */
  private dateComparison(column: Expr, d: DateComparison, timezone: Expr | null = null): Expr {
    const tz = timezone ?? this.timezoneOf(C);
    const parts = d.terms.map((t): Expr => {
      switch (t.op) {
        case 'exists':
          return { kind: 'is_null', expr: column, negated: t.value };
        case 'before':
        case 'after': {
          if (d.calendar && t.at.kind === 'ago') {
            const local: Expr = { kind: 'local_date', instant: column, timezone: tz };
            const boundary: Expr = { kind: 'date_add_days', date: { kind: 'local_date', instant: param(this.nowMs), timezone: tz }, days: -(calendarDays(t.at.duration) - 1) };
            return defined(column, () => cmp(t.op === 'before' ? '<' : '>=', local, boundary));
          }
          return defined(column, (x) => cmp(t.op === 'before' ? '<' : '>=', x, param(this.momentMs(t.at))));
        }
        case 'anniversary':
          return defined(column, () => anniversary({ kind: 'local_date', instant: column, timezone: tz }, { kind: 'local_date', instant: param(this.nowMs), timezone: tz }, t.every));
        default: {
          const never: never = t;
          throw new Error(`unknown date term ${JSON.stringify(never)}`);
        }
      }
    });
    return and(...parts);
  }

  private attributeTerm(name: string, t: ValueTerm): Expr {
    const doc = col(C, 'attributes');
    const key = param(name);
    const text: Expr = { kind: 'json_value', column: doc, key, as: 'text' };
    const number: Expr = { kind: 'json_value', column: doc, key, as: 'number' };
    const equals = (v: string | number | boolean): Expr => ({ kind: 'is_true', expr: { kind: 'json_equals', column: doc, key, value: v } });
    switch (t.op) {
      case 'eq':
        return equals(t.value);
      case 'ne':
        return not(equals(t.value));
      case 'in':
        return or(...t.values.map(equals));
      case 'not_in':
        return not(or(...t.values.map(equals)));
      case 'exists':
        return t.value ? { kind: 'is_true', expr: { kind: 'json_has', column: doc, key } } : not({ kind: 'is_true', expr: { kind: 'json_has', column: doc, key } });
      case 'contains':
        return defined(text, (x) => ({ kind: 'like', expr: x, pattern: param(`%${escapeLike(t.value)}%`) }));
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        return defined(number, (x) => numberTerm(x, t));
      case 'before':
      case 'after': {
        // Date attributes are ISO 8601 text; compared at day precision (UTC date of the moment).
        const day = new Date(this.momentMs(t.at)).toISOString().slice(0, 10);
        return defined(text, (x) => cmp(t.op === 'before' ? '<' : '>=', { kind: 'substr', expr: x, start: 1, length: 10 }, param(day)));
      }
      case 'anniversary': {
        const today = new Date(this.nowMs).toISOString().slice(0, 10);
        return defined(text, (x) => anniversary({ kind: 'substr', expr: x, start: 1, length: 10 }, param(today), t.every));
      }
      default: {
        const never: never = t;
        throw new Error(`unknown attribute term ${JSON.stringify(never)}`);
      }
    }
  }
}

/** (x IS NOT NULL AND f(x)): a missing value never matches a comparison, even under NOT. */
function defined(x: Expr, f: (x: Expr) => Expr): Expr {
  return and({ kind: 'is_null', expr: x, negated: true }, f(x));
}

function orderFilter(statuses: StatusFilter, within: Duration | null = null): OrderFilter {
  return {
    statuses,
    categories: [],
    products: [],
    skus: [],
    total: [],
    placed: { terms: within ? [{ op: 'after', at: { kind: 'ago', duration: within } }] : [], calendar: false },
  };
}

function statusCondition(status: Expr, statuses: StatusFilter): Expr {
  if (statuses === 'any') return TRUE;
  if (statuses === 'default') return { kind: 'in', expr: status, list: NOT_COUNTED_BY_DEFAULT.map(param), negated: true };
  return { kind: 'in', expr: status, list: statuses.map(param), negated: false };
}

function numberTerm(x: Expr, t: NumberTerm): Expr {
  switch (t.op) {
    case 'between':
      return and(cmp('>=', x, param(t.low)), cmp('<=', x, param(t.high)));
    case 'eq':
      return cmp('=', x, param(t.value));
    case 'ne':
      return cmp('<>', x, param(t.value));
    case 'gt':
      return cmp('>', x, param(t.value));
    case 'gte':
      return cmp('>=', x, param(t.value));
    case 'lt':
      return cmp('<', x, param(t.value));
    case 'lte':
      return cmp('<=', x, param(t.value));
    default: {
      const never: never = t;
      throw new Error(`unknown number term ${JSON.stringify(never)}`);
    }
  }
}

export function numberTermAdmits(t: NumberTerm, n: number): boolean {
  switch (t.op) {
    case 'between':
      return n >= t.low && n <= t.high;
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
    default: {
      const never: never = t;
      throw new Error(`unknown number term ${JSON.stringify(never)}`);
    }
  }
}

/** true for "at least one", false for "none", null when the count itself matters. */
function presenceOnly(count: NumberTerm[]): boolean | null {
  const admits = (n: number) => count.every((t) => numberTermAdmits(t, n));
  const zero = admits(0);
  // Counts up to 1000 stand for "any larger count": a condition that admits 1..1000 but not 0 is "at least one".
  const some = [1, 2, 3, 10, 1000].map(admits);
  if (!zero && some.every(Boolean)) return true;
  if (zero && some.every((v) => !v)) return false;
  return null;
}

function stringTerm(x: Expr, t: StringTerm): Expr {
  switch (t.op) {
    case 'eq':
      return defined(x, () => cmp('=', x, param(t.value)));
    case 'ne':
      return or({ kind: 'is_null', expr: x, negated: false }, cmp('<>', x, param(t.value)));
    case 'in':
      return defined(x, () => ({ kind: 'in', expr: x, list: t.values.map(param), negated: false }));
    case 'not_in':
      return or({ kind: 'is_null', expr: x, negated: false }, { kind: 'in', expr: x, list: t.values.map(param), negated: true });
    case 'contains':
      return defined(x, () => ({ kind: 'like', expr: x, pattern: param(`%${escapeLike(t.value)}%`) }));
    case 'starts_with':
      return defined(x, () => ({ kind: 'like', expr: x, pattern: param(`${escapeLike(t.value)}%`) }));
    case 'ends_with':
      return defined(x, () => ({ kind: 'like', expr: x, pattern: param(`%${escapeLike(t.value)}`) }));
    case 'exists':
      return t.value ? defined(x, () => cmp('<>', x, param(''))) : or({ kind: 'is_null', expr: x, negated: false }, cmp('=', x, param('')));
    default: {
      const never: never = t;
      throw new Error(`unknown string term ${JSON.stringify(never)}`);
    }
  }
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** Whole calendar days a duration stands for (calendar windows take d and w). */
export function calendarDays(d: Duration): number {
  if (d.unit === 'd') return d.amount;
  if (d.unit === 'w') return d.amount * 7;
  throw new CompileError(`calendar windows count whole days: use d or w, not ${d.text}`);
}

/**
 * Whether `today` (YYYY-MM-DD) is an anniversary of `date`, every period: for months
 * and years, the same day of the month (or the month's last day when it is shorter);
 * for days and weeks, a whole multiple of the period later. The date itself is not.
 */
function anniversary(date: Expr, today: Expr, every: Duration): Expr {
  const part = (e: Expr, start: number, length: number): Expr => ({ kind: 'to_int', expr: { kind: 'substr', expr: e, start, length } });
  if (every.unit === 'd' || every.unit === 'w') {
    const days: Expr = { kind: 'days_between', from: date, to: today };
    return and(cmp('>', days, num(0)), cmp('=', { kind: 'arith', op: '%', left: days, right: num(calendarDays(every)) }, num(0)));
  }
  if (every.unit !== 'mo' && every.unit !== 'y') throw new CompileError(`an anniversary repeats in days, weeks, months or years, not ${every.text}`);
  const months = every.amount * (every.unit === 'y' ? 12 : 1);
  const monthsBetween: Expr = {
    kind: 'arith',
    op: '+',
    left: { kind: 'arith', op: '*', left: { kind: 'arith', op: '-', left: part(today, 1, 4), right: part(date, 1, 4) }, right: num(12) },
    right: { kind: 'arith', op: '-', left: part(today, 6, 2), right: part(date, 6, 2) },
  };
  const sameDay = cmp('=', part(today, 9, 2), part(date, 9, 2));
  const monthEnd = and(cmp('>', part(date, 9, 2), part(today, 9, 2)), cmp('=', part({ kind: 'date_add_days', date: today, days: 1 }, 9, 2), num(1)));
  return and(cmp('>', monthsBetween, num(0)), cmp('=', { kind: 'arith', op: '%', left: monthsBetween, right: num(months) }, num(0)), or(sameDay, monthEnd));
}
