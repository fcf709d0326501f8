/** A length of time as the language writes it: a whole number and a unit. */
export type DurationUnit = 'm' | 'h' | 'd' | 'w' | 'mo' | 'y';
export interface Duration {
  amount: number;
  unit: DurationUnit;
  /** As written: 30d. */
  text: string;
}

const MS: Record<Exclude<DurationUnit, 'mo' | 'y'>, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/**
 * The moment a duration before (sign -1) or after (+1) a given instant. Months and
 * years are calendar months (Jan 31 - 1mo = Dec 31; Mar 31 - 1mo = Feb 28/29), not
 * 30-day blocks, so that "6mo ago" is what a marketer means.
 */
export function shift(instant: Date, d: Duration, sign: 1 | -1): Date {
  if (d.unit === 'mo' || d.unit === 'y') {
    const months = d.amount * (d.unit === 'y' ? 12 : 1) * sign;
    const t = new Date(instant.getTime());
    const day = t.getUTCDate();
    t.setUTCDate(1);
    t.setUTCMonth(t.getUTCMonth() + months);
    const lastDay = new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth() + 1, 0)).getUTCDate();
    t.setUTCDate(Math.min(day, lastDay));
    return t;
  }
  return new Date(instant.getTime() + sign * d.amount * MS[d.unit]);
}

/** An approximate length in milliseconds, for comparing durations (30d < 10mo). */
export function approxMs(d: Duration): number {
  if (d.unit === 'mo') return d.amount * 30.44 * 86_400_000;
  if (d.unit === 'y') return d.amount * 365.25 * 86_400_000;
  return d.amount * MS[d.unit];
}
