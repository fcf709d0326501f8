import type { Expr, FromItem, Select } from './nodes.js';

/**
 * Rebuilds a tree bottom-up, letting `f` replace any expression; subqueries are
 * walked too, so a rewrite of an outer column reaches correlated references.
 */
export function mapExpr(e: Expr, f: (e: Expr) => Expr): Expr {
  const m = (x: Expr) => mapExpr(x, f);
  const q = (s: Select) => mapSelect(s, f);
  let out: Expr;
  switch (e.kind) {
    case 'column':
    case 'param':
    case 'number':
      out = e;
      break;
    case 'compare':
      out = { ...e, left: m(e.left), right: m(e.right) };
      break;
    case 'and':
    case 'or':
      out = { ...e, items: e.items.map(m) };
      break;
    case 'not':
      out = { ...e, item: m(e.item) };
      break;
    case 'in':
      out = { ...e, expr: m(e.expr), list: e.list.map(m) };
      break;
    case 'in_query':
      out = { ...e, expr: m(e.expr), query: q(e.query) };
      break;
    case 'is_null':
    case 'is_iso_date':
    case 'lower':
    case 'to_int':
    case 'is_true':
      out = { ...e, expr: m(e.expr) };
      break;
    case 'exists':
    case 'scalar_query':
      out = { ...e, query: q(e.query) };
      break;
    case 'aggregate':
      out = e.arg === '*' ? e : { ...e, arg: m(e.arg) };
      break;
    case 'coalesce':
      out = { ...e, items: e.items.map(m) };
      break;
    case 'like':
      out = { ...e, expr: m(e.expr), pattern: m(e.pattern) };
      break;
    case 'arith':
      out = { ...e, left: m(e.left), right: m(e.right) };
      break;
    case 'substr':
      out = { ...e, expr: m(e.expr) };
      break;
    case 'json_value':
    case 'json_has':
      out = { ...e, column: m(e.column), key: m(e.key) };
      break;
    case 'json_equals':
      out = { ...e, column: m(e.column), key: m(e.key) };
      break;
    case 'local_date':
    case 'local_time':
      out = { ...e, instant: m(e.instant), timezone: m(e.timezone) };
      break;
    case 'date_add_days':
      out = { ...e, date: m(e.date) };
      break;
    case 'days_between':
      out = { ...e, from: m(e.from), to: m(e.to) };
      break;
    case 'utc_month_day':
      out = { ...e, instant: m(e.instant) };
      break;
    case 'is_anniversary':
      out = { ...e, instant: m(e.instant), now: m(e.now), timezone: m(e.timezone) };
      break;
    case 'concat':
      out = { ...e, items: e.items.map(m) };
      break;
    case 'row_number':
      out = { ...e, partitionBy: e.partitionBy.map(m), orderBy: e.orderBy.map((o) => ({ ...o, expr: m(o.expr) })) };
      break;
    case 'case':
      out = { ...e, whens: e.whens.map((w) => ({ when: m(w.when), then: m(w.then) })), otherwise: e.otherwise ? m(e.otherwise) : null };
      break;
    default: {
      const never: never = e;
      throw new Error(`unknown expression ${JSON.stringify(never)}`);
    }
  }
  return f(out);
}

function mapFrom(item: FromItem, f: (e: Expr) => Expr): FromItem {
  return item.kind === 'derived' ? { ...item, query: mapSelect(item.query, f) } : item;
}

export function mapSelect(s: Select, f: (e: Expr) => Expr): Select {
  return {
    ...s,
    with: s.with.map((w) => ({ ...w, query: mapSelect(w.query, f) })),
    columns: s.columns.map((c) => ({ ...c, expr: mapExpr(c.expr, f) })),
    from: mapFrom(s.from, f),
    joins: s.joins.map((j) => ({ ...j, item: mapFrom(j.item, f), on: mapExpr(j.on, f) })),
    where: s.where ? mapExpr(s.where, f) : null,
    groupBy: s.groupBy.map((g) => mapExpr(g, f)),
    orderBy: s.orderBy.map((o) => ({ ...o, expr: mapExpr(o.expr, f) })),
    limit: s.limit ? mapExpr(s.limit, f) : null,
  };
}

/** Whether any expression in the tree (subqueries included) satisfies `test`. */
export function someExpr(e: Expr, test: (e: Expr) => boolean): boolean {
  let found = false;
  mapExpr(e, (x) => {
    if (!found && test(x)) found = true;
    return x;
  });
  return found;
}

/** How many expression nodes a tree holds: a measure of what inlining it costs. */
export function countExpr(e: Expr): number {
  let n = 0;
  mapExpr(e, (x) => {
    n++;
    return x;
  });
  return n;
}
