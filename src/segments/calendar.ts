/**
 * Calendar terms of rules and date triggers: anniversaries (every N months or days of a
 * date, in the customer's zone) and windows of whole days.
 */
import type { Duration } from '../project/model.js';
import { CompileError } from './compile-error.js';
import { param, TRUE, type Expr } from './sql/nodes.js';

/** An anniversary period in whole months or days. */
export function period(every: Duration): { unit: 'months' | 'days'; every: number } {
  if (every.unit === 'mo' || every.unit === 'y') return { unit: 'months', every: every.amount * (every.unit === 'y' ? 12 : 1) };
  if (every.unit === 'd' || every.unit === 'w') return { unit: 'days', every: calendarDays(every) };
  throw new CompileError(`an anniversary repeats in days, weeks, months or years, not ${every.text}`);
}

/**
 * Dates whose local day (in any zone, UTC-12 to UTC+14) can be an anniversary today
 * have a UTC month-day within two days of today's, or, on a month's last days, one of
 * the later days of longer months. Yearly periods filter on month and day, monthly
 * ones on the day alone; daily periods fall on any day.
 */
export function anniversaryPrefilter(instant: Expr, now: Date, unit: 'months' | 'days', every: number): Expr {
  if (unit === 'days') return TRUE;
  const DAY = 86_400_000;
  const monthDays = new Set<string>();
  const md = (d: Date) => d.toISOString().slice(5, 10);
  for (let k = -2; k <= 2; k++) monthDays.add(md(new Date(now.getTime() + k * DAY)));
  for (let k = -1; k <= 1; k++) {
    const today = new Date(now.getTime() + k * DAY);
    const month = today.getUTCMonth();
    if (new Date(today.getTime() + DAY).getUTCMonth() === month) continue;
    // today is a month's last day: dates on its day and after, in any year, are due
    const mm = String(month + 1).padStart(2, '0');
    for (let day = today.getUTCDate() - 1; day <= 31; day++) monthDays.add(`${mm}-${String(day).padStart(2, '0')}`);
    monthDays.add(md(new Date(today.getTime() + DAY)));
  }
  const monthDay: Expr = { kind: 'utc_month_day', instant };
  if (every % 12 === 0) return { kind: 'in', expr: monthDay, list: [...monthDays].sort().map(param), negated: false };
  // A local 1st or 2nd can be the previous month's 28th to 31st in UTC, and the other way round.
  const days = [...new Set([...[...monthDays].map((x) => x.slice(3)), '01', '02', '28', '29', '30', '31'])].sort();
  return { kind: 'in', expr: { kind: 'substr', expr: monthDay, start: 4, length: 2 }, list: days.map(param), negated: false };
}

/** Whole calendar days a duration stands for (calendar windows take d and w). */
export function calendarDays(d: Duration): number {
  if (d.unit === 'd') return d.amount;
  if (d.unit === 'w') return d.amount * 7;
  throw new CompileError(`calendar windows count whole days: use d or w, not ${d.text}`);
}
