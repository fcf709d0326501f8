import { localDate, localInstant, localTime } from './local-date.js';

const DAY = 86_400_000;
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

const minutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** The weekday (mon..sun) of a local date. */
export function weekday(date: string): string {
  return WEEKDAYS[new Date(`${date}T00:00:00Z`).getUTCDay()]!;
}

/** The instant a local date's HH:MM happens in a zone (a time skipped by DST moves on with the clock). */
export function atLocalTime(date: string, hhmm: string, timeZone: string): number {
  return localInstant(date, hhmm, timeZone);
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
}

/** The first instant at or after `ms` whose local time is HH:MM, on one of `days` (all when empty). */
export function nextLocalTime(ms: number, timeZone: string, hhmm: string, days: readonly string[] = []): number {
  const today = localDate(ms, timeZone);
  for (let k = 0; k <= 8; k++) {
    const date = addDays(today, k);
    if (days.length > 0 && !days.includes(weekday(date))) continue;
    const at = atLocalTime(date, hhmm, timeZone);
    if (at >= ms) return at;
  }
  throw new Error(`no ${hhmm} within a week of ${new Date(ms).toISOString()} in ${timeZone}`);
}

/** Whether a local time lies in [from, to), a window that may span midnight (21:00-08:00). */
export function inWindow(hhmm: string, from: string, to: string): boolean {
  const t = minutes(hhmm);
  const f = minutes(from);
  const e = minutes(to);
  return f <= e ? t >= f && t < e : t >= f || t < e;
}

export interface SendPolicy {
  quietFrom: string | null;
  quietTo: string | null;
  windowFrom: string | null;
  windowTo: string | null;
  /** Days the send window is open; empty: every day. */
  windowDays: readonly string[];
}

/**
 * The first instant at or after `ms` when a message may go out in this zone: outside
 * quiet hours and inside the send window. A send that falls inside quiet hours waits
 * for them to end; it is never dropped.
 */
export function nextAllowed(ms: number, timeZone: string, p: SendPolicy): number {
  let t = ms;
  for (let i = 0; i < 16; i++) {
    const time = localTime(t, timeZone);
    const date = localDate(t, timeZone);
    if (p.quietFrom && p.quietTo && inWindow(time, p.quietFrom, p.quietTo)) {
      t = nextLocalTime(t, timeZone, p.quietTo);
      continue;
    }
    if (p.windowFrom && p.windowTo) {
      const dayOk = p.windowDays.length === 0 || p.windowDays.includes(weekday(date));
      if (!dayOk || !inWindow(time, p.windowFrom, p.windowTo)) {
        t = nextLocalTime(t, timeZone, p.windowFrom, p.windowDays);
        continue;
      }
    }
    return t;
  }
  return t;
}
