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
