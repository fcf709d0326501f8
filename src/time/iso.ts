/** Dates and times as ISO 8601 text, read strictly: a day that does not exist, or an offset no place uses, is not a time. */

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

export interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  /** Minutes east of UTC when the text says; undefined for a local time. */
  offset: number | undefined;
}

export function isoParts(text: string): Parts | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  let offset: number | undefined;
  const zone = m[8];
  if (zone === 'Z' || zone === 'z') offset = 0;
  else if (zone) {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = Number(digits.slice(2) || '0');
    // offsets in use run from -12:00 to +14:00; +99:00 is a typo, not a place
    if (minutes > 59 || hours * 60 + minutes > 14 * 60) return undefined;
    offset = sign * (hours * 60 + minutes);
  }
  return {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
    ms: m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0,
    offset,
  };
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function validParts(p: Parts): boolean {
  if (p.month < 1 || p.month > 12 || p.day < 1 || p.hour > 23 || p.minute > 59 || p.second > 60) return false;
  // the days Date.UTC gives the month (which reads years 0-99 as 1900-1999), without a Date per value: an import reads millions
  const year = p.year >= 0 && p.year <= 99 ? 1900 + p.year : p.year;
  const leap = p.month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return p.day <= DAYS_IN_MONTH[p.month - 1]! + (leap ? 1 : 0);
}

/** Epoch ms of an ISO 8601 date or date-time (UTC when it names no offset), or undefined when it is not a real time. */
export function parseIsoInstant(text: string): number | undefined {
  const p = isoParts(text);
  if (!p || !validParts(p)) return undefined;
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.ms) - (p.offset ?? 0) * 60000;
}
