/** Order filters and the per-customer facts tables that answer filters on status alone. */
import type { Duration, OrderFilter, StatusFilter } from '../project/model.js';
import { NOT_COUNTED_BY_DEFAULT } from '../store/order-statuses.js';
import { cmp, col, num, param, select, TRUE, type Expr, type Select } from './sql/nodes.js';

/** A filter on status alone can read the per-customer facts the store keeps instead of the orders. */
export function isStatusOnly(f: OrderFilter): boolean {
  return f.categories.length === 0 && f.products.length === 0 && f.skus.length === 0 && f.total.length === 0 && f.placed.terms.length === 0;
}

/** The columns of an orders aggregate (n, first_at, last_at, value, avg_value) from the facts tables. */
export function factsQuery(statuses: StatusFilter): Select {
  const average = (value: Expr, valued: Expr): Expr => ({ kind: 'case', whens: [{ when: cmp('>', valued, num(0)), then: { kind: 'arith', op: '/', left: value, right: valued } }], otherwise: null });
  // the default statuses have a table of their own; one status is one row per customer:
  // both are read by key, with no grouping
  const perCustomer = (table: 'customer_facts' | 'customer_status_facts', where: Expr | null): Select =>
    select({
      columns: [
        ...['customer_id', 'n', 'first_at', 'last_at', 'value'].map((c) => ({ expr: col('f', c), alias: c })),
        { expr: average(col('f', 'value'), col('f', 'valued_n')), alias: 'avg_value' },
      ],
      from: { kind: 'table', table, alias: 'f' },
      where,
    });
  if (statuses === 'default') return perCustomer('customer_facts', null);
  if (statuses !== 'any' && statuses.length === 1) return perCustomer('customer_status_facts', cmp('=', col('f', 'status'), param(statuses[0]!)));
  const sum = (name: string): Expr => ({ kind: 'aggregate', fn: 'sum', arg: col('f', name) });
  return select({
    columns: [
      { expr: col('f', 'customer_id'), alias: 'customer_id' },
      { expr: sum('n'), alias: 'n' },
      { expr: { kind: 'aggregate', fn: 'min', arg: col('f', 'first_at') }, alias: 'first_at' },
      { expr: { kind: 'aggregate', fn: 'max', arg: col('f', 'last_at') }, alias: 'last_at' },
      { expr: sum('value'), alias: 'value' },
      { expr: average(sum('value'), sum('valued_n')), alias: 'avg_value' },
    ],
    from: { kind: 'table', table: 'customer_status_facts', alias: 'f' },
    where: statusCondition(col('f', 'status'), statuses),
    groupBy: [col('f', 'customer_id')],
  });
}

export function orderFilter(statuses: StatusFilter, within: Duration | null = null): OrderFilter {
  return {
    statuses,
    categories: [],
    products: [],
    skus: [],
    total: [],
    placed: { terms: within ? [{ op: 'after', at: { kind: 'ago', duration: within } }] : [], calendar: false },
  };
}

export function statusCondition(status: Expr, statuses: StatusFilter): Expr {
  if (statuses === 'any') return TRUE;
  if (statuses === 'default') return { kind: 'in', expr: status, list: NOT_COUNTED_BY_DEFAULT.map(param), negated: true };
  return { kind: 'in', expr: status, list: statuses.map(param), negated: false };
}
