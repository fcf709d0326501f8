import type { Rng } from './prng.js';

const HOUR = 3_600_000;

/** An order's statuses and when each began, from `pending` at its placement on. */
export type StatusTimeline = readonly (readonly [status: string, at: number])[];

/**
 * How an order moves: pending when placed, processing within hours, shipped in about
 * a day, delivered a few days later; some are canceled before they ship, a few turn
 * out unavailable, and a few delivered ones are refunded two weeks later. Each change
 * is a whole second at least one second after the one before.
 */
export function statusTimeline(rng: Rng, placedAt: number): StatusTimeline {
  const steps: [string, number][] = [['pending', placedAt]];
  let at = placedAt;
  // a typical wait of `hours`, between half and one and a half times it
  const then = (status: string, hours: number) => {
    at += Math.max(1000, Math.floor((hours * HOUR * (0.5 + rng.next())) / 1000) * 1000);
    steps.push([status, at]);
  };
  const r = rng.next();
  if (r < 0.04) {
    if (rng.chance(0.5)) then('processing', 3);
    then('canceled', 20);
    return steps;
  }
  then('processing', 4);
  if (r < 0.045) {
    then('unavailable', 30);
    return steps;
  }
  then('shipped', 30);
  then('delivered', 24 * 3);
  if (r < 0.06) then('refunded', 24 * 14);
  return steps;
}

/** The status an order had at `t` (its last change at or before `t`), or undefined before it was placed. */
export function statusAt(timeline: StatusTimeline, t: number): readonly [string, number] | undefined {
  let current: readonly [string, number] | undefined;
  for (const step of timeline) {
    if (step[1] > t) break;
    current = step;
  }
  return current;
}
