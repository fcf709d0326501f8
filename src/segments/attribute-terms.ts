/** Terms on customers' attributes (a JSON document), compiled to SQL expressions. */
import type { ValueTerm } from '../project/model.js';
import { anniversaryOfDates } from './sql/anniversary.js';
import { cmp, not, or, param, type Expr } from './sql/nodes.js';
import { period } from './calendar.js';
import { momentMs } from './date-terms.js';
import { defined, escapeLike, numberTerm } from './terms.js';

/** A term on one key of a customer's JSON attributes `doc`. */
export function attributeTerm(doc: Expr, name: string, t: ValueTerm, now: Date): Expr {
  const nowMs = now.getTime();
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
      const day = new Date(momentMs(t.at, now)).toISOString().slice(0, 10);
      return defined(text, (x) => cmp(t.op === 'before' ? '<' : '>=', { kind: 'substr', expr: x, start: 1, length: 10 }, param(day)));
    }
    case 'anniversary': {
      const today = new Date(nowMs).toISOString().slice(0, 10);
      const { unit, every } = period(t.every);
      const date: Expr = { kind: 'substr', expr: text, start: 1, length: 10 };
      // Only a value that starts like a date is one: the date arithmetic must never see
      // 'gold' (PostgreSQL would fail the query, SQLite's julianday('1') reads a day number).
      return {
        kind: 'is_true',
        expr: { kind: 'case', whens: [{ when: { kind: 'is_iso_date', expr: text }, then: anniversaryOfDates(date, param(today), unit, every) }], otherwise: null },
      };
    }
    default: {
      const never: never = t;
      throw new Error(`unknown attribute term ${JSON.stringify(never)}`);
    }
  }
}
