import type Database from 'better-sqlite3';
import { isAnniversary } from '../time/anniversary.js';
import { localDate, localTime } from '../time/local-date.js';

/** The calendar date (YYYY-MM-DD) of an epoch-ms instant in a timezone: journey_local_date(ms, tz). */
export const LOCAL_DATE_FUNCTION = 'journey_local_date';
/** journey_local_time(ms, tz): the wall-clock time HH:MM of an instant in a timezone. */
export const LOCAL_TIME_FUNCTION = 'journey_local_time';
/** journey_is_anniversary(ms, now_ms, tz, 'months' | 'days', every): 1 when today (in tz) is an anniversary of ms. */
export const ANNIVERSARY_FUNCTION = 'journey_is_anniversary';

/**
 * SQL functions SQLite lacks and segment queries need. PostgreSQL has them built in
 * (AT TIME ZONE), so its printer uses those instead.
 */
export function registerSqlFunctions(db: Database.Database): void {
  // deterministic: SQLite may evaluate it once per distinct argument pair
  db.function(LOCAL_DATE_FUNCTION, { deterministic: true }, (ms: unknown, timeZone: unknown) =>
    typeof ms === 'number' || typeof ms === 'bigint' ? orNull(() => localDate(Number(ms), zone(timeZone))) : null,
  );
  db.function(LOCAL_TIME_FUNCTION, { deterministic: true }, (ms: unknown, timeZone: unknown) =>
    typeof ms === 'number' || typeof ms === 'bigint' ? orNull(() => localTime(Number(ms), zone(timeZone))) : null,
  );
  // One call instead of a dozen local-date calls in SQL: anniversaries run over every customer.
  db.function(ANNIVERSARY_FUNCTION, { deterministic: true }, (ms: unknown, now: unknown, timeZone: unknown, unit: unknown, every: unknown) => {
    if ((typeof ms !== 'number' && typeof ms !== 'bigint') || (typeof now !== 'number' && typeof now !== 'bigint')) return null;
    const tz = zone(timeZone);
    return orNull(() => (isAnniversary(localDate(Number(ms), tz), localDate(Number(now), tz), unit === 'days' ? 'days' : 'months', Number(every)) ? 1 : 0));
  });
}

const zone = (timeZone: unknown): string => (typeof timeZone === 'string' && timeZone !== '' ? timeZone : 'UTC');

/**
 * A value that is not a timezone gives NULL, not an error: SQLite may fold a rule's
 * constant ('timezone: Nowhere') into the call for rows the rule rejects anyway.
 */
function orNull<T>(f: () => T): T | null {
  try {
    return f();
  } catch (e) {
    if (e instanceof RangeError) return null;
    throw e;
  }
}
