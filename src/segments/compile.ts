import { shift } from '../project/duration.js';
import { SYNC_CHANNEL } from '../store/enrolments.js';
import { storedAddressField } from '../store/facts.js';
import {
  type DateComparison,
  type NumberTerm,
  type OrderFilter,
  type Rule,
  type Segment,
} from '../project/model.js';
import { and, cmp, col, FALSE, not, num, or, param, select, TRUE, type Expr, type Join, type Select } from './sql/nodes.js';
import { attributeTerm } from './attribute-terms.js';
import { customerTimezone, dateComparison } from './date-terms.js';
import { factsQuery, isStatusOnly, orderFilter, statusCondition } from './order-facts.js';
import { CompileError } from './compile-error.js';
import { defined, numberTerm, numberTermAdmits, presenceOnly, stringTerm } from './terms.js';

export { CompileError } from './compile-error.js';
export { customerTimezone } from './date-terms.js';
import { countExpr, mapExpr, someExpr } from './sql/walk.js';

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


const C = 'c'; // the customers alias of every segment query
/** Expression nodes a named segment may have and still be compiled into the query naming it. */
const INLINE_LIMIT = 120;
/** Per compilation's options (its segments): the segments, with `top`, that were too big to inline. */
const NOT_INLINED = new WeakMap<CompileOptions, Set<string>>();

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

/** The enrolments alias of an enrolment query. */
export const EN = 'en';

/**
 * Compiles a rule about customers inside a journey (exit_when, a step's when, a
 * branch case) to `SELECT en.id FROM enrolments en JOIN customers c ... WHERE scope
 * AND rule`: segment conditions as for segments, and the journey-only conditions
 * (orders since entry, opened/clicked/delivered a step's message, messages received,
 * the trigger order's status) against each enrolment.
 */
export function compileEnrolmentRule(rule: Rule, opts: CompileOptions, scope: Expr): Select {
  const compiler = new RuleCompiler(opts, true);
  const where = dropGuards(compiler.rule(rule, true));
  return compiler.enrolmentQuery(and(scope, where));
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

  constructor(
    private readonly opts: CompileOptions,
    /** Compiling for enrolments: journey-only conditions are allowed and read `en`. */
    private readonly enrolments = false,
  ) {
    this.nowMs = opts.now.getTime();
  }

  enrolmentQuery(where: Expr): Select {
    const used = new Set<string>();
    someExpr(where, (e) => (e.kind === 'column' && used.add(`${e.table}.${e.name}`), false));
    return select({
      with: [...this.ctes].map(([name, query]) => ({ name, query })),
      columns: [{ expr: col(EN, 'id'), alias: 'id' }],
      from: { kind: 'table', table: 'enrolments', alias: EN },
      joins: [
        { type: 'inner', item: { kind: 'table', table: 'customers', alias: C }, on: cmp('=', col(C, 'id'), col(EN, 'customer_id')) },
        ...[...this.aggregates.values()].map(
          (a): Join => ({
            type: 'left',
            item: { kind: 'derived', query: { ...a.query, columns: a.query.columns.filter((c) => c.alias === 'customer_id' || used.has(`${a.alias}.${c.alias}`)) }, alias: a.alias },
            on: cmp('=', col(a.alias, 'customer_id'), col(C, 'id')),
          }),
        ),
      ],
      where,
    });
  }

  /** Conditions about one enrolment: only inside journeys. */
  private enrolmentCondition(r: Extract<Rule, { kind: 'orders_since_entry' | 'message' | 'messages_received' | 'trigger_order' }>): Expr {
    if (!this.enrolments) throw new CompileError(`'${r.kind}' is about a customer's place in a journey; it cannot be part of a segment`);
    switch (r.kind) {
      case 'orders_since_entry': {
        const presence = presenceOnly(r.count);
        const since = (columns: Select['columns']) =>
          select({
            columns,
            from: { kind: 'table', table: 'orders', alias: 'oe' },
            where: and(
              cmp('=', col('oe', 'customer_id'), col(EN, 'customer_id')),
              // after the entry: the order that made the customer enter does not count
              cmp('>', col('oe', 'placed_at'), col(EN, 'entered_at')),
              // not after the clock: a simulation's store may hold what happens later
              cmp('<=', col('oe', 'placed_at'), param(this.nowMs)),
              statusCondition(col('oe', 'status'), 'default'),
            ),
          });
        // "bought since entry" (>= 1) is a probe that stops at the first order
        if (presence !== null) return { kind: 'exists', query: since([{ expr: num(1), alias: 'one' }]), negated: !presence };
        const count = since([{ expr: { kind: 'aggregate', fn: 'count', arg: '*' }, alias: 'n' }]);
        return and(...r.count.map((t) => numberTerm({ kind: 'scalar_query', query: count }, t)));
      }
      case 'message':
        return {
          kind: 'exists',
          query: select({
            columns: [{ expr: num(1), alias: 'one' }],
            from: { kind: 'table', table: 'outbox', alias: 'ob' },
            joins: [{ type: 'inner', item: { kind: 'table', table: 'message_events', alias: 'me' }, on: cmp('=', col('me', 'outbox_id'), col('ob', 'id')) }],
            where: and(
              cmp('=', col('ob', 'enrolment_id'), col(EN, 'id')),
              cmp('=', col('ob', 'step_id'), param(r.step)),
              cmp('=', col('me', 'kind'), param(r.event)),
              cmp('<=', col('me', 'occurred_at'), param(this.nowMs)),
            ),
          }),
          negated: false,
        };
      case 'messages_received': {
        const conditions: Expr[] = [
          cmp('=', col('om', 'customer_id'), col(EN, 'customer_id')),
          cmp('>=', col('om', 'created_at'), param(shift(this.opts.now, r.within, -1).getTime())),
          { kind: 'in', expr: col('om', 'status'), list: ['pending', 'sending', 'sent'].map(param), negated: false },
          // a sync pushes data to a platform; it is not a message the customer received
          cmp('<>', col('om', 'channel'), param(SYNC_CHANNEL)),
        ];
        if (r.channel) conditions.push(cmp('=', col('om', 'channel'), param(r.channel)));
        const count = select({ columns: [{ expr: { kind: 'aggregate', fn: 'count', arg: '*' }, alias: 'n' }], from: { kind: 'table', table: 'outbox', alias: 'om' }, where: and(...conditions) });
        return and(...r.count.map((t) => numberTerm({ kind: 'scalar_query', query: count }, t)));
      }
      case 'trigger_order':
        return {
          kind: 'exists',
          query: select({
            columns: [{ expr: num(1), alias: 'one' }],
            from: { kind: 'table', table: 'orders', alias: 'ot' },
            where: and(cmp('=', col('ot', 'id'), col(EN, 'order_id')), { kind: 'in', expr: col('ot', 'status'), list: r.statuses.map(param), negated: false }),
          }),
          negated: false,
        };
      default: {
        const never: never = r;
        throw new Error(`unknown enrolment condition ${JSON.stringify(never)}`);
      }
    }
  }

  root(rule: Rule): Select {
    const where = dropGuards(this.rule(rule, true));
    return this.query(where, [...this.aggregates.values()]);
  }

  private query(where: Expr, all: Aggregate[]): Select {
    const ctes = [...this.ctes].map(([name, query]) => ({ name, query }));
    const condition = where.kind === 'and' && where.items.length === 0 ? null : where;
    // Each aggregate computes only the columns the condition reads, so that an index
    // holding those columns can answer it alone.
    const used = new Set<string>();
    if (condition) someExpr(condition, (e) => (e.kind === 'column' && used.add(`${e.table}.${e.name}`), false));
    const aggregates = all.map((a) => ({
      ...a,
      query: { ...a.query, columns: a.query.columns.filter((c) => c.alias === 'customer_id' || used.has(`${a.alias}.${c.alias}`)) },
    }));
    const driver = aggregates.find((a) => a.required);
    // With a required aggregate and no customer column but the id, the aggregate alone
    // can answer: its customer_id is a customer (orders and events reference customers).
    if (driver && !usesCustomerColumns(condition)) {
      const rewrite = (e: Expr): Expr => (e.kind === 'column' && e.table === C && e.name === 'id' ? col(driver.alias, 'customer_id') : e);
      return select({
        with: ctes,
        columns: [{ expr: col(driver.alias, 'customer_id'), alias: 'id' }],
        from: { kind: 'derived', query: driver.query, alias: driver.alias },
        joins: aggregates
          .filter((a) => a !== driver)
          .map((a) => ({ type: a.required ? 'inner' : 'left', item: { kind: 'derived', query: a.query, alias: a.alias }, on: cmp('=', col(a.alias, 'customer_id'), col(driver.alias, 'customer_id')) })),
        where: condition ? mapExpr(condition, rewrite) : null,
      });
    }
    const joins: Join[] = aggregates.map((a) => ({
      type: a.required ? 'inner' : 'left',
      item: { kind: 'derived', query: a.query, alias: a.alias },
      on: cmp('=', col(a.alias, 'customer_id'), col(C, 'id')),
    }));
    return select({
      with: ctes,
      columns: [{ expr: col(C, 'id'), alias: 'id' }],
      from: { kind: 'table', table: 'customers', alias: C },
      joins,
      where: condition,
    });
  }

  /** `top` is true while the rule is a conjunct of the root: only there may an aggregate be inner-joined. */
  rule(r: Rule, top: boolean): Expr {
    switch (r.kind) {
      case 'all':
        return r.rules.length === 0 ? TRUE : and(...r.rules.map((x) => this.rule(x, top)));
      case 'any':
        return r.rules.length === 0 ? FALSE : or(...r.rules.map((x) => this.rule(x, false)));
      case 'not':
        return not(this.rule(r.rule, false));
      case 'segment':
        return this.inlineSegment(r.name, top) ?? { kind: 'in_query', expr: col(C, 'id'), query: select({ from: { kind: 'cte_ref', name: this.segmentCte(r.name), alias: 's' }, columns: [{ expr: col('s', 'id'), alias: 'id' }] }), negated: false };
      case 'customer_field':
        return and(...r.terms.map((t) => stringTerm(col(C, r.field), t)));
      case 'attribute':
        return and(...r.terms.map((t) => attributeTerm(col(C, 'attributes'), r.name, t, this.opts.now)));
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
          const needsRow = r.terms.every((t) => !numberTermAdmits(t, 0));
          const agg = this.orderAggregate(filter, top && needsRow);
          // A value that 0 fails needs a known total anyway: compare the column itself, which an index can serve.
          const value: Expr = needsRow ? col(agg.alias, 'value') : { kind: 'coalesce', items: [col(agg.alias, 'value'), num(0)] };
          return and(...r.terms.map((t) => (needsRow ? defined(value, (x) => numberTerm(x, t)) : numberTerm(value, t))));
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
        const stored = storedReachability(r.channel, col(C, 'id'), this.opts);
        if (stored) return stored;
        const address = this.address(r.channel);
        return and(defined(address, (a) => cmp('<>', a, param(''))), this.consent(r.channel), not(this.suppressed(r.channel)));
      }
      case 'orders_since_entry':
      case 'message':
      case 'messages_received':
      case 'trigger_order':
        return this.enrolmentCondition(r);
      default: {
        const never: never = r;
        throw new Error(`unknown rule ${JSON.stringify(never)}`);
      }
    }
  }

  /**
   * A named segment whose rule is small and reads only what this query reads already
   * (customer columns, the shared order facts, index probes) is compiled into this
   * query: its conditions cost a comparison per row. Anything bigger, or naming
   * further segments, becomes a CTE computed once.
   */
  private inlineSegment(name: string, top: boolean): Expr | null {
    const segment = this.opts.segments.get(name);
    if (!segment || this.compiling.has(name)) return null;
    // a segment found too big to inline stays so: trying again at every reference compiled
    // its whole subtree again, exponential in the depth of segments that name one twice
    let notInlined = NOT_INLINED.get(this.opts);
    if (!notInlined) NOT_INLINED.set(this.opts, (notInlined = new Set()));
    const key = `${name}\0${top}`;
    if (notInlined.has(key)) return null;
    const aggregates = new Map([...this.aggregates].map(([k, a]) => [k, { ...a }]));
    this.compiling.add(name);
    let expr: Expr;
    try {
      expr = this.rule(segment.rule, top);
    } finally {
      this.compiling.delete(name);
    }
    if (!someExpr(expr, (e) => e.kind === 'in_query') && countExpr(expr) <= INLINE_LIMIT) return expr;
    notInlined.add(key);
    this.aggregates.clear();
    for (const [k, a] of aggregates) this.aggregates.set(k, a);
    return null;
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
    const where = dropGuards(inner.rule(segment.rule, true));
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
    const agg = { alias, key, query: isStatusOnly(filter) ? factsQuery(filter.statuses) : this.ordersAggregateQuery(filter), required };
    this.aggregates.set(key, agg);
    return agg;
  }

  private ordersAggregateQuery(filter: OrderFilter): Select {
    const query = this.ordersQuery(filter, [
      { expr: col('o', 'customer_id'), alias: 'customer_id' },
      { expr: { kind: 'aggregate', fn: 'count', arg: '*' }, alias: 'n' },
      { expr: { kind: 'aggregate', fn: 'min', arg: col('o', 'placed_at') }, alias: 'first_at' },
      { expr: { kind: 'aggregate', fn: 'max', arg: col('o', 'placed_at') }, alias: 'last_at' },
      { expr: { kind: 'aggregate', fn: 'sum', arg: col('o', 'total') }, alias: 'value' },
      { expr: { kind: 'aggregate', fn: 'avg', arg: col('o', 'total') }, alias: 'avg_value' },
    ]);
    query.groupBy = [col('o', 'customer_id')];
    return query;
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
    const listed: Expr = {
      kind: 'exists',
      query: select({
        columns: [{ expr: num(1), alias: 'one' }],
        from: { kind: 'table', table: 'suppressions', alias: 'sp' },
        where: and(cmp('=', col('sp', 'channel'), param(channel)), cmp('=', col('sp', 'address'), this.address(channel))),
      }),
      negated: false,
    };
    // an erased person brought back by a re-import is suppressed on every channel (migration 017)
    const erased: Expr = {
      kind: 'exists',
      query: select({
        columns: [{ expr: num(1), alias: 'one' }],
        from: { kind: 'table', table: 'erased_customers', alias: 'ec' },
        where: cmp('=', col('ec', 'customer_id'), col(C, 'id')),
      }),
      negated: false,
    };
    return or(listed, erased);
  }

  // ---- dates

  private timezoneOf(alias: string): Expr {
    return customerTimezone(alias, this.opts.defaultTimezone);
  }

  private dateComparison(column: Expr, d: DateComparison, timezone: Expr | null = null): Expr {
    return dateComparison(column, d, timezone ?? this.timezoneOf(C), this.opts.now);
  }
}

/**
 * "Can be sent to on this channel" for a customer id, answered by the store's
 * reachability table; null when the project keeps the channel's address somewhere the
 * store does not look (then the rule compiles to address, consent and suppression).
 */
export function storedReachability(channel: string, customerId: Expr, opts: Pick<CompileOptions, 'channelAddress'>): Expr | null {
  if (opts.channelAddress(channel) !== storedAddressField(channel)) return null;
  return {
    kind: 'exists',
    query: select({
      columns: [{ expr: num(1), alias: 'one' }],
      from: { kind: 'table', table: 'customer_reachability', alias: 'cr' },
      where: and(cmp('=', col('cr', 'channel'), param(channel)), cmp('=', col('cr', 'customer_id'), customerId)),
    }),
    negated: false,
  };
}

function usesCustomerColumns(e: Expr | null): boolean {
  return e !== null && someExpr(e, (x) => x.kind === 'column' && x.table === C && x.name !== 'id');
}

/**
 * Outside any NOT, SQL's unknown already acts as false, so the IS NOT NULL guards
 * only cost time (and can keep an index from counting a range on its own); they are
 * dropped there and kept under NOT, where unknown would otherwise turn into a match.
 */
function dropGuards(e: Expr, underNot = false): Expr {
  switch (e.kind) {
    case 'and': {
      const items = e.items.filter((i) => underNot || !(i.kind === 'is_null' && i.guard)).map((i) => dropGuards(i, underNot));
      return items.length === 1 ? items[0]! : { kind: 'and', items };
    }
    case 'or':
      return { kind: 'or', items: e.items.map((i) => dropGuards(i, underNot)) };
    case 'not':
      return { kind: 'not', item: dropGuards(e.item, true) };
    case 'exists':
      return { ...e, query: { ...e.query, where: e.query.where ? dropGuards(e.query.where) : null } };
    default:
      return e;
  }
}

