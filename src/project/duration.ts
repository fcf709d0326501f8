import type { Duration, DurationUnit } from '../time/duration.js';

export { approxMs, shift } from '../time/duration.js';

const DURATION = /^([1-9][0-9]*)(m|h|d|w|mo|y)$/;

export function parseDuration(text: string): Duration | null {
  const m = DURATION.exec(text);
  return m ? { amount: Number(m[1]), unit: m[2] as DurationUnit, text } : null;
}
