import type { Expr, FromItem, Select, SqlParam } from './nodes.js';

export interface PrintedQuery {
  sql: string;
  params: SqlParam[];
}

/**
 * Prints the syntax tree as SQL both dialects share; a dialect overrides only what
 * differs (placeholders, JSON, dates). Each print starts a fresh parameter list.
 */
export abstract class SqlPrinter {
  protected params: SqlParam[] = [];

  print(query: Select): PrintedQuery {
    this.params = [];
    const sql = this.select(query);
    return { sql, params: this.params };
  }

  /** The placeholder for the parameter just added (1-based position). */
  protected abstract placeholder(position: number, value: SqlParam): string;
  protected abstract jsonValue(e: Extract<Expr, { kind: 'json_value' }>): string;
  protected abstract jsonEquals(e: Extract<Expr, { kind: 'json_equals' }>): string;
  protected abstract jsonHas(e: Extract<Expr, { kind: 'json_has' }>): string;
  protected abstract localDate(e: Extract<Expr, { kind: 'local_date' }>): string;
  protected abstract isIsoDate(e: Extract<Expr, { kind: 'is_iso_date' }>): string;
  protected abstract localTime(e: Extract<Expr, { kind: 'local_time' }>): string;
  protected abstract dateAddDays(e: Extract<Expr, { kind: 'date_add_days' }>): string;
  protected abstract utcMonthDay(e: Extract<Expr, { kind: 'utc_month_day' }>): string;
  protected abstract isAnniversary(e: Extract<Expr, { kind: 'is_anniversary' }>): string;
  protected abstract daysBetween(e: Extract<Expr, { kind: 'days_between' }>): string;

  protected bind(value: SqlParam): string {
    this.params.push(value);
    return this.placeholder(this.params.length, value);
  }

  protected ident(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
  }

  protected select(q: Select): string {
    const parts: string[] = [];
    if (q.with.length > 0) {
      parts.push(`WITH ${q.with.map((w) => `${this.ident(w.name)} AS MATERIALIZED (${this.select(w.query)})`).join(', ')}`);
    }
    parts.push(`SELECT ${q.columns.map((c) => `${this.expr(c.expr)} AS ${this.ident(c.alias)}`).join(', ')}`);
    parts.push(`FROM ${this.from(q.from)}`);
    for (const j of q.joins) parts.push(`${j.type === 'left' ? 'LEFT JOIN' : 'JOIN'} ${this.from(j.item)} ON ${this.expr(j.on)}`);
    if (q.where) parts.push(`WHERE ${this.expr(q.where)}`);
    if (q.groupBy.length > 0) parts.push(`GROUP BY ${q.groupBy.map((e) => this.expr(e)).join(', ')}`);
    if (q.orderBy.length > 0) parts.push(`ORDER BY ${q.orderBy.map((o) => `${this.expr(o.expr)}${o.desc ? ' DESC' : ''}`).join(', ')}`);
    if (q.limit) parts.push(`LIMIT ${this.expr(q.limit)}`);
    return parts.join('\n');
  }

  protected from(f: FromItem): string {
    switch (f.kind) {
      case 'table':
        return `${this.ident(f.table)} AS ${this.ident(f.alias)}`;
      case 'derived':
        return `(${this.select(f.query)}) AS ${this.ident(f.alias)}`;
      case 'cte_ref':
        return `${this.ident(f.name)} AS ${this.ident(f.alias)}`;
      default: {
        const never: never = f;
        throw new Error(`unknown from item ${JSON.stringify(never)}`);
      }
    }
  }

  expr(e: Expr): string {
    switch (e.kind) {
      case 'column':
        return `${this.ident(e.table)}.${this.ident(e.name)}`;
      case 'param':
        return this.bind(e.value);
      case 'number':
        if (!Number.isFinite(e.value)) throw new Error('a compiler number must be finite');
        return String(e.value);
      case 'compare':
        return `${this.expr(e.left)} ${e.op} ${this.expr(e.right)}`;
      case 'and':
        return e.items.length === 0 ? '1 = 1' : `(${e.items.map((i) => this.expr(i)).join(' AND ')})`;
      case 'or':
        return e.items.length === 0 ? '1 = 0' : `(${e.items.map((i) => this.expr(i)).join(' OR ')})`;
      case 'not':
        return `NOT (${this.expr(e.item)})`;
      case 'in':
        if (e.list.length === 0) return e.negated ? '1 = 1' : '1 = 0';
        return `${this.expr(e.expr)} ${e.negated ? 'NOT IN' : 'IN'} (${e.list.map((i) => this.expr(i)).join(', ')})`;
      case 'in_query':
        return `${this.expr(e.expr)} ${e.negated ? 'NOT IN' : 'IN'} (${this.select(e.query)})`;
      case 'is_null':
        return `${this.expr(e.expr)} IS ${e.negated ? 'NOT ' : ''}NULL`;
      case 'exists':
        return `${e.negated ? 'NOT ' : ''}EXISTS (${this.select(e.query)})`;
      case 'aggregate':
        return `${e.fn}(${e.arg === '*' ? '*' : this.expr(e.arg)})`;
      case 'coalesce':
        return `coalesce(${e.items.map((i) => this.expr(i)).join(', ')})`;
      case 'lower':
        return `lower(${this.expr(e.expr)})`;
      case 'like':
        return `lower(${this.expr(e.expr)}) LIKE lower(${this.expr(e.pattern)}) ESCAPE '\\'`;
      case 'arith':
        return `(${this.expr(e.left)} ${e.op} ${this.expr(e.right)})`;
      case 'substr':
        return `substr(${this.expr(e.expr)}, ${e.start}, ${e.length})`;
      case 'to_int':
        return `CAST(${this.expr(e.expr)} AS integer)`;
      case 'json_value':
        return this.jsonValue(e);
      case 'json_equals':
        return this.jsonEquals(e);
      case 'json_has':
        return this.jsonHas(e);
      case 'is_true':
        return `(CASE WHEN ${this.expr(e.expr)} THEN 1 ELSE 0 END = 1)`;
      case 'local_date':
        return this.localDate(e);
      case 'local_time':
        return this.localTime(e);
      case 'is_iso_date':
        return this.isIsoDate(e);
      case 'date_add_days':
        return this.dateAddDays(e);
      case 'days_between':
        return this.daysBetween(e);
      case 'utc_month_day':
        return this.utcMonthDay(e);
      case 'is_anniversary':
        return this.isAnniversary(e);
      case 'case':
        return `CASE ${e.whens.map((w) => `WHEN ${this.expr(w.when)} THEN ${this.expr(w.then)}`).join(' ')}${e.otherwise ? ` ELSE ${this.expr(e.otherwise)}` : ''} END`;
      case 'scalar_query':
        return `(${this.select(e.query)})`;
      case 'concat':
        return `(${e.items.map((i) => this.expr(i)).join(' || ')})`;
      case 'row_number': {
        const partition = e.partitionBy.length ? `PARTITION BY ${e.partitionBy.map((p) => this.expr(p)).join(', ')} ` : '';
        const order = e.orderBy.length ? `ORDER BY ${e.orderBy.map((o) => `${this.expr(o.expr)}${o.desc ? ' DESC' : ''}`).join(', ')}` : '';
        return `row_number() OVER (${partition}${order})`;
      }
      default: {
        const never: never = e;
        throw new Error(`unknown expression ${JSON.stringify(never)}`);
      }
    }
  }
}
