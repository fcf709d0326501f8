import type Database from 'better-sqlite3';
import { localDate } from '../time/local-date.js';

/** The calendar date (YYYY-MM-DD) of an epoch-ms instant in a timezone: journey_local_date(ms, tz). */
export const LOCAL_DATE_FUNCTION = 'journey_local_date';

/**
 * SQL functions SQLite lacks and segment queries need. PostgreSQL has them built in
 * (AT TIME ZONE), so its printer uses those instead.
 */
export function registerSqlFunctions(db: Database.Database): void {
  // deterministic: SQLite may evaluate it once per distinct argument pair
  db.function(LOCAL_DATE_FUNCTION, { deterministic: true }, (ms: unknown, timeZone: unknown) =>
    typeof ms === 'number' || typeof ms === 'bigint' ? localDate(Number(ms), typeof timeZone === 'string' && timeZone !== '' ? timeZone : 'UTC') : null,
  );
}
