import { usageError } from '../errors.js';

/**
 * A flag's whole number within [min, max]: digits only, so that "1e3", "0x10" or a
 * number past 2^53 is a usage error instead of a value SQLite later refuses.
 */
export function wholeNumberFlag(text: string, flag: string, range: { min: number; max: number }, example: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) throw usageError(`${flag} '${text}' is not a whole number`, `e.g. ${flag} ${example}`);
  if (n < range.min || n > range.max) throw usageError(`${flag} ${text} is out of range: ${range.min} to ${range.max.toLocaleString('en-US')}`, `e.g. ${flag} ${example}`);
  return n;
}

/** The most rows a --sample prints: a sample, not an export. */
export const MAX_SAMPLE = 10_000;

/** The most customers demo-data writes: about 5 orders each, some 1.5 GB of CSV at the most. */
export const MAX_DEMO_CUSTOMERS = 1_000_000;

/** The longest wait a flag takes (setTimeout's own limit is 24.8 days; a day is plenty). */
export const MAX_WAIT_MS = 24 * 3_600_000;

/** The longest demo-data --future: a year of trading after today. */
export const MAX_DEMO_FUTURE_MS = 366 * 86_400_000;

/** The most ticks one simulate runs: ten years of hourly ticks. */
export const MAX_SIMULATE_TICKS = 100_000;
