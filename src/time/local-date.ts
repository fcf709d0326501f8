/**
 * Calendar dates in a timezone, fast enough to run once per row of a million-row
 * segment query (SQLite has no timezone support; the store registers this as an SQL
 * function). A zone's UTC offset is looked up once per zone and UTC day, except on
 * days when it changes (DST), which are computed exactly every time.
 */
export const DAY_MS = 86_400_000;
const formatters = new Map<string, Intl.DateTimeFormat>();
const dayOffsets = new Map<string, number | null>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's offset from UTC at an instant, in milliseconds (east positive). */
export function utcOffset(ms: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

function offsetAt(ms: number, timeZone: string): number {
  const day = Math.floor(ms / DAY_MS);
  const key = `${timeZone}|${day}`;
  let cached = dayOffsets.get(key);
  if (cached === undefined) {
    const start = utcOffset(day * DAY_MS, timeZone);
    const end = utcOffset(day * DAY_MS + DAY_MS - 1, timeZone);
    cached = start === end ? start : null;
    if (dayOffsets.size > 500_000) dayOffsets.clear();
    dayOffsets.set(key, cached);
  }
  return cached ?? utcOffset(ms, timeZone);
}

/** YYYY-MM-DD of an epoch-ms instant in an IANA timezone. */
export function localDate(ms: number, timeZone: string): string {
  return new Date(ms + offsetAt(ms, timeZone)).toISOString().slice(0, 10);
}

/** HH:MM of an epoch-ms instant in an IANA timezone. */
export function localTime(ms: number, timeZone: string): string {
  return new Date(ms + offsetAt(ms, timeZone)).toISOString().slice(11, 16);
}

/** The instant a local calendar date begins in a timezone. */
export function startOfLocalDay(date: string, timeZone: string): number {
  return localInstant(date, '00:00', timeZone);
}

/**
 * The instant a local date and wall-clock time (HH:MM) happen in a timezone, with the
 * offset in force at that moment (not at midnight: 09:00 on a DST-change day is 09:00).
 * A time the clocks skip (02:30 on spring-forward night) comes out an hour later.
 */
export function localInstant(date: string, hhmm: string, timeZone: string): number {
  const guess = Date.parse(`${date}T${hhmm}:00Z`);
  // Two passes settle the offset even next to a DST change.
  let ms = guess - utcOffset(guess, timeZone);
  ms = guess - utcOffset(ms, timeZone);
  return ms;
}
