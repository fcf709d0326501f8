import { and, cmp, num, or, type Expr } from './nodes.js';

/**
 * "today is an anniversary of date" over two YYYY-MM-DD expressions, in SQL both
 * dialects run: for days, a positive multiple of the period between them; for
 * months, a positive multiple of months and the same day of the month, or the last
 * day of a month too short for the date's day. (src/time/anniversary.ts is the same
 * rule in TypeScript, for SQLite's function.)
 */
export function anniversaryOfDates(date: Expr, today: Expr, unit: 'months' | 'days', every: number): Expr {
  const part = (e: Expr, start: number, length: number): Expr => ({ kind: 'to_int', expr: { kind: 'substr', expr: e, start, length } });
  if (unit === 'days') {
    const days: Expr = { kind: 'days_between', from: date, to: today };
    return and(cmp('>', days, num(0)), cmp('=', { kind: 'arith', op: '%', left: days, right: num(every) }, num(0)));
  }
  const monthsBetween: Expr = {
    kind: 'arith',
    op: '+',
    left: { kind: 'arith', op: '*', left: { kind: 'arith', op: '-', left: part(today, 1, 4), right: part(date, 1, 4) }, right: num(12) },
    right: { kind: 'arith', op: '-', left: part(today, 6, 2), right: part(date, 6, 2) },
  };
  const sameDay = cmp('=', part(today, 9, 2), part(date, 9, 2));
  const monthEnd = and(cmp('>', part(date, 9, 2), part(today, 9, 2)), cmp('=', part({ kind: 'date_add_days', date: today, days: 1 }, 9, 2), num(1)));
  return and(cmp('>', monthsBetween, num(0)), cmp('=', { kind: 'arith', op: '%', left: monthsBetween, right: num(every) }, num(0)), or(sameDay, monthEnd));
}
