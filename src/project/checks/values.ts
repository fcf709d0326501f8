import { CronExpressionParser } from 'cron-parser';

/** Why a cron expression is not usable, or null when it is. */
export function cronProblem(expr: string): string | null {
  const fields = expr.trim().split(/\s+/);
  if (fields.length !== 5) return `a cron expression has 5 fields (minute hour day month weekday), this one has ${fields.length}`;
  try {
    CronExpressionParser.parse(expr);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

const zones = new Set<string>(Intl.supportedValuesOf('timeZone'));

export function isTimezone(tz: string): boolean {
  if (tz === 'UTC' || zones.has(tz)) return true;
  try {
    // Accepts aliases (Europe/Kiev, US/Eastern) that supportedValuesOf leaves out.
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function timezoneNames(): Iterable<string> {
  return zones;
}
