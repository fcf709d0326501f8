import type { Expr } from './nodes.js';
import { ANNIVERSARY_FUNCTION, LOCAL_DATE_FUNCTION, LOCAL_TIME_FUNCTION } from '../../store/sql-functions.js';
import { SqlPrinter } from './printer.js';

export class SqlitePrinter extends SqlPrinter {
  protected placeholder(): string {
    return '?';
  }

  private path(key: Expr): string {
    if (key.kind !== 'param' || typeof key.value !== 'string') throw new Error('a JSON key must be a string parameter');
    return this.bind(`$."${key.value}"`);
  }

  protected jsonValue(e: Extract<Expr, { kind: 'json_value' }>): string {
    const column = this.expr(e.column);
    if (e.as === 'text') {
      const path = this.path(e.key);
      // json_extract gives 1/0 for true/false; a text comparison must see only strings
      return `CASE WHEN json_type(${column}, ${path}) = 'text' THEN json_extract(${column}, ${this.path(e.key)}) END`;
    }
    const path = this.path(e.key);
    return `CASE WHEN json_type(${column}, ${path}) IN ('integer', 'real') THEN json_extract(${column}, ${this.path(e.key)}) END`;
  }

  protected jsonEquals(e: Extract<Expr, { kind: 'json_equals' }>): string {
    const column = this.expr(e.column);
    if (typeof e.value === 'boolean') return `json_type(${column}, ${this.path(e.key)}) = ${this.bind(e.value ? 'true' : 'false')}`;
    const type = typeof e.value === 'number' ? `IN ('integer', 'real')` : `= 'text'`;
    return `(json_type(${column}, ${this.path(e.key)}) ${type} AND json_extract(${column}, ${this.path(e.key)}) = ${this.bind(e.value)})`;
  }

  protected jsonHas(e: Extract<Expr, { kind: 'json_has' }>): string {
    return `coalesce(json_type(${this.expr(e.column)}, ${this.path(e.key)}), 'null') <> 'null'`;
  }

  protected localDate(e: Extract<Expr, { kind: 'local_date' }>): string {
    return `${LOCAL_DATE_FUNCTION}(${this.expr(e.instant)}, ${this.expr(e.timezone)})`;
  }

  protected isIsoDate(e: Extract<Expr, { kind: 'is_iso_date' }>): string {
    return `${this.expr(e.expr)} GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]*'`;
  }

  protected localTime(e: Extract<Expr, { kind: 'local_time' }>): string {
    return `${LOCAL_TIME_FUNCTION}(${this.expr(e.instant)}, ${this.expr(e.timezone)})`;
  }

  protected dateAddDays(e: Extract<Expr, { kind: 'date_add_days' }>): string {
    return `date(${this.expr(e.date)}, ${this.bind(`${e.days >= 0 ? '+' : ''}${e.days} days`)})`;
  }

  protected utcMonthDay(e: Extract<Expr, { kind: 'utc_month_day' }>): string {
    return `strftime('%m-%d', ${this.expr(e.instant)} / 1000, 'unixepoch')`;
  }

  protected isAnniversary(e: Extract<Expr, { kind: 'is_anniversary' }>): string {
    return `${ANNIVERSARY_FUNCTION}(${this.expr(e.instant)}, ${this.expr(e.now)}, ${this.expr(e.timezone)}, ${this.bind(e.unit)}, ${e.every}) = 1`;
  }

  protected daysBetween(e: Extract<Expr, { kind: 'days_between' }>): string {
    return `CAST(julianday(${this.expr(e.to)}) - julianday(${this.expr(e.from)}) AS integer)`;
  }
}
