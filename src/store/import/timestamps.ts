/**
 * Timestamps from exports into epoch milliseconds (UTC). Exports write local
 * times without a zone (Olist: Brazil), ISO 8601 with an offset (Shopify), or
 * epoch numbers; a date format and a zone for zone-less times say which.
 */
import { isoParts, validParts, type Parts } from '../../time/iso.js';

export type DateFormat =
  | { kind: 'iso' }
  | { kind: 'epoch_ms' }
  | { kind: 'epoch_s' }
  | { kind: 'pattern'; pattern: string; regex: RegExp; order: PatternToken[] };

type PatternToken = 'YYYY' | 'MM' | 'DD' | 'HH' | 'mm' | 'ss' | 'SSS';
const TOKENS: readonly PatternToken[] = ['YYYY', 'SSS', 'MM', 'DD', 'HH', 'mm', 'ss'];
const TOKEN_REGEX: Record<PatternToken, string> = {
  YYYY: '(\\d{4})',
  MM: '(\\d{1,2})',
  DD: '(\\d{1,2})',
  HH: '(\\d{1,2})',
  mm: '(\\d{2})',
  ss: '(\\d{2})',
  SSS: '(\\d{1,3})',
};

/** "iso", "epoch_ms", "epoch_s", or a pattern of YYYY MM DD HH mm ss SSS and literals. */
export function parseDateFormat(text: string): DateFormat | string {
  if (text === 'iso') return { kind: 'iso' };
  if (text === 'epoch_ms') return { kind: 'epoch_ms' };
  if (text === 'epoch_s') return { kind: 'epoch_s' };
  let regex = '^';
  const order: PatternToken[] = [];
  let i = 0;
  while (i < text.length) {
    const token = TOKENS.find((t) => text.startsWith(t, i));
    if (token) {
      if (order.includes(token)) return `${token} appears twice`;
      order.push(token);
      regex += TOKEN_REGEX[token];
      i += token.length;
    } else {
      regex += text[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      i++;
    }
  }
  for (const needed of ['YYYY', 'MM', 'DD'] as const) if (!order.includes(needed)) return `a date format needs ${needed}`;
  return { kind: 'pattern', pattern: text, regex: new RegExp(regex + '$'), order };
}

function patternParts(text: string, format: Extract<DateFormat, { kind: 'pattern' }>): Parts | undefined {
  const m = format.regex.exec(text);
  if (!m) return undefined;
  const get = (t: PatternToken, fallback: number) => {
    const i = format.order.indexOf(t);
    return i < 0 ? fallback : Number(m[i + 1]);
  };
  const sss = format.order.indexOf('SSS');
  return {
    year: get('YYYY', 0),
    month: get('MM', 1),
    day: get('DD', 1),
    hour: get('HH', 0),
    minute: get('mm', 0),
    second: get('ss', 0),
    ms: sss < 0 ? 0 : Number(m[sss + 1]!.padEnd(3, '0')),
    offset: undefined,
  };
}


/**
 * Converts a wall-clock time in `timeZone` to UTC. The zone's offset is looked up
 * once per hour of wall-clock time and cached: Intl is slow, and exports repeat hours.
 */
export class ZoneClock {
  private readonly offsets = new Map<number, number>();
  private readonly formatter: Intl.DateTimeFormat | undefined;

  constructor(readonly timeZone: string) {
    this.formatter =
      timeZone === 'UTC'
        ? undefined
        : new Intl.DateTimeFormat('en-US', {
            timeZone,
            hourCycle: 'h23',
            year: 'numeric',
            month: '2-digit',
            day: '2-digit',
            hour: '2-digit',
            minute: '2-digit',
            second: '2-digit',
          });
  }

  /** Minutes east of UTC at the instant utcMs. */
  private offsetAt(utcMs: number): number {
    const parts = this.formatter!.formatToParts(new Date(utcMs));
    const n = (type: string) => Number(parts.find((p) => p.type === type)!.value);
    const asUtc = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
    return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 60000);
  }

  toUtc(wallMs: number): number {
    if (!this.formatter) return wallMs;
    const hour = Math.floor(wallMs / 3_600_000);
    let offset = this.offsets.get(hour);
    if (offset === undefined) {
      // two passes settle the offset around a DST change
      offset = this.offsetAt(wallMs);
      offset = this.offsetAt(wallMs - offset * 60000);
      if (this.offsets.size > 200_000) this.offsets.clear();
      this.offsets.set(hour, offset);
    }
    return wallMs - offset * 60000;
  }
}

const zoneCheck = new Map<string, boolean>();
export function isTimeZone(name: string): boolean {
  let ok = zoneCheck.get(name);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: name });
      ok = true;
    } catch {
      ok = false;
    }
    zoneCheck.set(name, ok);
  }
  return ok;
}

/** Epoch ms, or undefined when the value does not match the format. */
export function parseTimestamp(value: string | number, format: DateFormat, zone: ZoneClock): number | undefined {
  switch (format.kind) {
    case 'epoch_ms':
    case 'epoch_s': {
      const n = typeof value === 'number' ? value : /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
      if (!Number.isFinite(n)) return undefined;
      return Math.round(format.kind === 'epoch_s' ? n * 1000 : n);
    }
    case 'iso':
    case 'pattern': {
      // a JSON number where a date-time is expected: epoch milliseconds, as JavaScript writes them
      if (typeof value === 'number') return Number.isFinite(value) ? Math.round(value) : undefined;
      const parts = format.kind === 'iso' ? isoParts(value) : patternParts(value, format);
      if (!parts || !validParts(parts)) return undefined;
      const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour, parts.minute, parts.second, parts.ms);
      return parts.offset === undefined ? zone.toUtc(wall) : wall - parts.offset * 60000;
    }
  }
}
