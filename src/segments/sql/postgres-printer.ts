import type { Expr, SqlParam } from './nodes.js';
import { anniversaryOfDates } from './anniversary.js';
import { SqlPrinter } from './printer.js';

/**
 * PostgreSQL: numbered placeholders with explicit types (an untyped $n inside CASE or
 * coalesce cannot be inferred), jsonb operators, and time zones done by the server.
 * Times are bigint epoch milliseconds as in the SQLite store.
 */
export class PostgresPrinter extends SqlPrinter {
  protected placeholder(position: number, value: SqlParam): string {
    if (typeof value === 'number') return `$${position}::${Number.isInteger(value) ? 'bigint' : 'numeric'}`;
    if (typeof value === 'string') return `$${position}::text`;
    return `$${position}`;
  }

  protected jsonValue(e: Extract<Expr, { kind: 'json_value' }>): string {
    const doc = `(${this.expr(e.column)})::jsonb`;
    const key = this.expr(e.key);
    if (e.as === 'text') return `CASE WHEN jsonb_typeof(${doc} -> ${key}) = 'string' THEN ${doc} ->> ${key} END`;
    // double precision, not numeric: JSON numbers are doubles in SQLite and JavaScript too
    return `CASE WHEN jsonb_typeof(${doc} -> ${key}) = 'number' THEN (${doc} ->> ${key})::double precision END`;
  }

  protected jsonEquals(e: Extract<Expr, { kind: 'json_equals' }>): string {
    if (typeof e.value === 'number') {
      const doc = `(${this.expr(e.column)})::jsonb`;
      const key = this.expr(e.key);
      return `CASE WHEN jsonb_typeof(${doc} -> ${key}) = 'number' THEN (${doc} ->> ${key})::double precision = ${this.bind(e.value)}::double precision END`;
    }
    return `(${this.expr(e.column)})::jsonb -> ${this.expr(e.key)} = ${this.bind(JSON.stringify(e.value))}::jsonb`;
  }

  protected jsonHas(e: Extract<Expr, { kind: 'json_has' }>): string {
    return `coalesce(jsonb_typeof((${this.expr(e.column)})::jsonb -> ${this.expr(e.key)}), 'null') <> 'null'`;
  }

  protected localDate(e: Extract<Expr, { kind: 'local_date' }>): string {
    return `to_char(to_timestamp(${this.expr(e.instant)} / 1000.0) AT TIME ZONE ${this.expr(e.timezone)}, 'YYYY-MM-DD')`;
  }

  protected isIsoDate(e: Extract<Expr, { kind: 'is_iso_date' }>): string {
    return `${this.expr(e.expr)} ~ '^[0-9]{4}-[0-1][0-9]-[0-3][0-9]'`;
  }

  protected localTime(e: Extract<Expr, { kind: 'local_time' }>): string {
    return `to_char(to_timestamp(${this.expr(e.instant)} / 1000.0) AT TIME ZONE ${this.expr(e.timezone)}, 'HH24:MI')`;
  }

  protected dateAddDays(e: Extract<Expr, { kind: 'date_add_days' }>): string {
    return `to_char((${this.expr(e.date)})::date + ${this.bind(e.days)}::integer, 'YYYY-MM-DD')`;
  }

  protected utcMonthDay(e: Extract<Expr, { kind: 'utc_month_day' }>): string {
    return `to_char(to_timestamp(${this.expr(e.instant)} / 1000.0) AT TIME ZONE 'UTC', 'MM-DD')`;
  }

  /** PostgreSQL computes local dates natively, so the anniversary is plain SQL over them. */
  protected isAnniversary(e: Extract<Expr, { kind: 'is_anniversary' }>): string {
    const date: Expr = { kind: 'local_date', instant: e.instant, timezone: e.timezone };
    const today: Expr = { kind: 'local_date', instant: e.now, timezone: e.timezone };
    return this.expr(anniversaryOfDates(date, today, e.unit, e.every));
  }

  protected daysBetween(e: Extract<Expr, { kind: 'days_between' }>): string {
    return `((${this.expr(e.to)})::date - (${this.expr(e.from)})::date)`;
  }
}
