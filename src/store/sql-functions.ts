import type Database from 'better-sqlite3';
import { isAnniversary } from '../time/anniversary.js';
import { shift, type DurationUnit } from '../time/duration.js';
import { localDate, localTime, startOfLocalDay } from '../time/local-date.js';
import { nextAllowed, nextLocalTime } from '../time/windows.js';

/** The calendar date (YYYY-MM-DD) of an epoch-ms instant in a timezone: journey_local_date(ms, tz). */
export const LOCAL_DATE_FUNCTION = 'journey_local_date';
/** journey_local_time(ms, tz): the wall-clock time HH:MM of an instant in a timezone. */
export const LOCAL_TIME_FUNCTION = 'journey_local_time';
/** journey_shift(ms, amount, unit): ms moved by a duration (calendar months for mo and y). */
export const SHIFT_FUNCTION = 'journey_shift';
/** journey_next_time(ms, tz, 'HH:MM', 'mon,tue' or ''): the next instant at that local time. */
export const NEXT_TIME_FUNCTION = 'journey_next_time';
/** journey_next_allowed(ms, tz, quiet_from, quiet_to, window_from, window_to, 'mon,...'): the first instant a send may go out. */
export const NEXT_ALLOWED_FUNCTION = 'journey_next_allowed';
/** journey_bucket(text): a stable number 0-9999 from a text (FNV-1a), for A/B splits. */
export const BUCKET_FUNCTION = 'journey_bucket';
/** journey_day_start(ms, tz): when the local day of an instant began. */
export const DAY_START_FUNCTION = 'journey_day_start';
/** journey_week_start(ms, tz): when the local calendar week (from Monday) of an instant began. */
export const WEEK_START_FUNCTION = 'journey_week_start';
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
  db.function(SHIFT_FUNCTION, { deterministic: true }, (ms: unknown, amount: unknown, unit: unknown) =>
    ms === null ? null : shift(new Date(Number(ms)), { amount: Number(amount), unit: unit as DurationUnit, text: '' }, Number(amount) < 0 ? -1 : 1).getTime(),
  );
  db.function(NEXT_TIME_FUNCTION, { deterministic: true }, (ms: unknown, timeZone: unknown, hhmm: unknown, days: unknown) =>
    orNull(() => nextLocalTime(Number(ms), zone(timeZone), String(hhmm), dayList(days))),
  );
  db.function(NEXT_ALLOWED_FUNCTION, { deterministic: true }, (ms: unknown, timeZone: unknown, qf: unknown, qt: unknown, wf: unknown, wt: unknown, days: unknown) =>
    orNull(() =>
      nextAllowed(Number(ms), zone(timeZone), {
        quietFrom: text(qf),
        quietTo: text(qt),
        windowFrom: text(wf),
        windowTo: text(wt),
        windowDays: dayList(days),
      }),
    ),
  );
  db.function(BUCKET_FUNCTION, { deterministic: true }, (key: unknown) => bucket(String(key)));
  db.function(DAY_START_FUNCTION, { deterministic: true }, (ms: unknown, timeZone: unknown) =>
    orNull(() => startOfLocalDay(localDate(Number(ms), zone(timeZone)), zone(timeZone))),
  );
  db.function(WEEK_START_FUNCTION, { deterministic: true }, (ms: unknown, timeZone: unknown) =>
    orNull(() => {
      const date = localDate(Number(ms), zone(timeZone));
      const sinceMonday = (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;
      return startOfLocalDay(new Date(Date.parse(`${date}T00:00:00Z`) - sinceMonday * 86_400_000).toISOString().slice(0, 10), zone(timeZone));
    }),
  );
  // One call instead of a dozen local-date calls in SQL: anniversaries run over every customer.
  db.function(ANNIVERSARY_FUNCTION, { deterministic: true }, (ms: unknown, now: unknown, timeZone: unknown, unit: unknown, every: unknown) => {
    if ((typeof ms !== 'number' && typeof ms !== 'bigint') || (typeof now !== 'number' && typeof now !== 'bigint')) return null;
    const tz = zone(timeZone);
    return orNull(() => (isAnniversary(localDate(Number(ms), tz), localDate(Number(now), tz), unit === 'days' ? 'days' : 'months', Number(every)) ? 1 : 0));
  });
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const dayList = (v: unknown): string[] => (typeof v === 'string' && v !== '' ? v.split(',') : []);

/** FNV-1a over the UTF-16 code units, folded to 0-9999: stable across runs and machines. */
export function bucket(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % 10_000;
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
