/**
 * Date terms of rules: moments ("30d ago", a date) from the compilation's clock, and
 * comparisons of epoch-ms columns, by instant or by the customer's local calendar.
 */
import { shift } from '../project/duration.js';
import type { DateComparison, Moment } from '../project/model.js';
import { and, cmp, col, or, param, type Expr } from './sql/nodes.js';
import { anniversaryPrefilter, calendarDays, period } from './calendar.js';
import { defined } from './terms.js';

/** A moment of a rule ("30d ago", a date) in epoch ms, from the compilation's clock. */
export function momentMs(m: Moment, now: Date): number {
  return m.kind === 'ago' ? shift(now, m.duration, -1).getTime() : Date.parse(m.iso.length === 10 ? `${m.iso}T00:00:00Z` : m.iso);
}

/** Compares an epoch-ms column; calendar windows compare local dates in the customer's timezone `tz`. */
export function dateComparison(column: Expr, d: DateComparison, tz: Expr, now: Date): Expr {
  const nowMs = now.getTime();
  const parts = d.terms.map((t): Expr => {
    switch (t.op) {
      case 'exists':
        return { kind: 'is_null', expr: column, negated: t.value };
      case 'before':
      case 'after': {
        if (d.calendar && t.at.kind === 'ago') {
          const local: Expr = { kind: 'local_date', instant: column, timezone: tz };
          const boundary: Expr = { kind: 'date_add_days', date: { kind: 'local_date', instant: param(nowMs), timezone: tz }, days: -(calendarDays(t.at.duration) - 1) };
          return defined(column, () => cmp(t.op === 'before' ? '<' : '>=', local, boundary));
        }
        return defined(column, (x) => cmp(t.op === 'before' ? '<' : '>=', x, param(momentMs(t.at, now))));
      }
      case 'anniversary': {
        const { unit, every } = period(t.every);
        const exact: Expr = { kind: 'is_anniversary', instant: column, now: param(nowMs), timezone: tz, unit, every };
        // A local date costs a function call per row; the UTC month and day rule out
        // all but a handful of dates first, for every timezone at once.
        return defined(column, () => and(anniversaryPrefilter(column, now, unit, every), exact));
      }
      default: {
        const never: never = t;
        throw new Error(`unknown date term ${JSON.stringify(never)}`);
      }
    }
  });
  return and(...parts);
}

/** A customer's timezone: their own, or the project's when they have none. */
export function customerTimezone(alias: string, defaultTimezone: string): Expr {
  const tz = col(alias, 'timezone');
  return { kind: 'case', whens: [{ when: or({ kind: 'is_null', expr: tz, negated: false }, cmp('=', tz, param(''))), then: param(defaultTimezone) }], otherwise: tz };
}
