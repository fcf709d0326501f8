import type { FieldType } from './kinds.js';
import { KNOWN_ORDER_STATUSES } from '../order-statuses.js';
import { countryCode } from './countries.js';
import { type DateFormat, isTimeZone, parseTimestamp, type ZoneClock } from './timestamps.js';

/** A converted value, or why the raw one is unusable. */
export type Converted = { ok: true; value: string | number | null } | { ok: false; reason: string };

export interface ConvertContext {
  readonly dateFormat: DateFormat;
  readonly zone: ZoneClock;
  /** Source status -> canonical status, from a preset or a mapping file. */
  readonly statuses: ReadonlyMap<string, string>;
  /** Status texts already converted with these statuses (a mapping's context keeps one). */
  readonly statusCache?: Map<string, Converted>;
}

/** An id longer than this is not an id but a broken export (a 10 MB cell); it is refused, not stored. */
export const MAX_ID_LENGTH = 256;
/** The longest text value: a title, a URL, a note. */
export const MAX_TEXT_LENGTH = 65_536;

const ok = (value: string | number | null): Converted => ({ ok: true, value });
const bad = (reason: string): Converted => ({ ok: false, reason });

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const INTEGER = /^[+-]?\d+$/;
const STATUS = /^[a-z][a-z0-9_]*$/;
/** How a spreadsheet shows a long number it has rounded: 7.02255E+12 (the digits past the sixth are gone). */
const SCIENTIFIC = /^-?\d(\.\d+)?E\+\d{1,3}$/i;

export const SCIENTIFIC_ID_REASON =
  'is a number a spreadsheet rounded into scientific notation: its digits are lost, and other rows may carry the same damaged id; ' +
  're-export the file from the shop without opening it in a spreadsheet, or key customers by e-mail (a mapping with Email: id)';

/** Spellings exports use for the canonical statuses. */
const STATUS_SYNONYMS: Readonly<Record<string, string>> = {
  cancelled: 'canceled',
  created: 'pending',
  approved: 'processing',
};

export function canonicalStatus(text: string, statuses: ReadonlyMap<string, string>): string | undefined {
  const mapped = statuses.get(text) ?? statuses.get(text.toLowerCase());
  const status = (mapped ?? text).trim().toLowerCase().replace(/[\s-]+/g, '_');
  const canonical = STATUS_SYNONYMS[status] ?? status;
  return STATUS.test(canonical) ? canonical : undefined;
}

/** An e-mail address as the imports take one. */
export const isEmailAddress = (text: string): boolean => EMAIL.test(text);

/** +digits: spaces, dots, dashes and brackets dropped; a 00 prefix read as +. */
export function normalisePhone(text: string): string | undefined {
  // a leading ' is how a spreadsheet was told to keep "+351 ..." as text
  let phone = text.replace(/^'/, '').replace(/[\s().-]/g, '');
  if (phone.startsWith('00')) phone = '+' + phone.slice(2);
  return /^\+?\d{5,15}$/.test(phone) ? phone : undefined;
}

/** Empty text and missing values are null; a field's type decides the rest. */
export function convert(raw: unknown, type: FieldType, ctx: ConvertContext): Converted {
  if (raw === undefined || raw === null) return ok(null);
  if (type === 'json') return convertJson(raw);
  if (typeof raw === 'number' || typeof raw === 'boolean') return convertScalar(raw, type, ctx);
  if (typeof raw !== 'string') return bad('is not a text or number value');
  const text = raw.trim();
  if (text === '') return ok(null);
  switch (type) {
    case 'id':
      if (text.length > MAX_ID_LENGTH) return bad(`is too long for an id: at most ${MAX_ID_LENGTH} characters`);
      // an id that is no longer the one the shop wrote would merge people: never used as a key
      return SCIENTIFIC.test(text) ? bad(SCIENTIFIC_ID_REASON) : ok(text);
    case 'text':
      return text.length > MAX_TEXT_LENGTH ? bad(`is too long: at most ${MAX_TEXT_LENGTH.toLocaleString('en-US')} characters`) : ok(text);
    case 'lower':
      return text.length > MAX_ID_LENGTH ? bad(`is too long for a name: at most ${MAX_ID_LENGTH} characters`) : ok(text.toLowerCase());
    case 'email':
      return EMAIL.test(text) ? ok(text.toLowerCase()) : bad('is not an e-mail address');
    case 'phone': {
      const phone = normalisePhone(text);
      return phone ? ok(phone) : bad('is not a phone number (5 to 15 digits, optionally starting with +)');
    }
    case 'timestamp': {
      const ms = parseTimestamp(text, ctx.dateFormat, ctx.zone);
      return ms === undefined ? bad(`is not a date-time in the format ${describeFormat(ctx.dateFormat)}`) : ok(ms);
    }
    case 'number':
      return DECIMAL.test(text) ? amount(Number(text)) : bad('is not a number (digits with an optional "." for decimals)');
    case 'integer':
      return INTEGER.test(text) ? wholeNumber(Number(text)) : bad('is not a whole number');
    case 'status': {
      // a file holds a handful of statuses, on every order row: each is worked out once
      const cache = ctx.statusCache;
      const known = cache?.get(text);
      if (known) return known;
      const converted = convertStatus(text, ctx.statuses);
      if (cache && cache.size < STATUS_CACHE_SIZE) cache.set(text, converted);
      return converted;
    }
    case 'timezone':
      return isTimeZone(text) ? ok(text) : bad('is not an IANA time zone such as Europe/Paris');
    case 'country': {
      const code = countryCode(text);
      return code ? ok(code) : bad('is not a country: an ISO 3166 code (US) or a country name (United States)');
    }
    case 'currency':
      return /^[A-Za-z]{3}$/.test(text) ? ok(text.toUpperCase()) : bad('is not a three-letter currency code');
  }
}

const STATUS_CACHE_SIZE = 1000;

function convertStatus(text: string, statuses: ReadonlyMap<string, string>): Converted {
  const status = canonicalStatus(text, statuses);
  if (!status) return bad('is not a status name (letters, digits, spaces, - or _)');
  return isKnownStatus(status, statuses) ? ok(status) : bad(`is not an order status journey knows (${KNOWN_ORDER_STATUSES.join(', ')})`);
}

function convertScalar(raw: number | boolean, type: FieldType, ctx: ConvertContext): Converted {
  if (typeof raw === 'boolean') return bad('is true/false, not a value of this field');
  switch (type) {
    case 'number':
      return amount(raw);
    case 'integer':
      return Number.isInteger(raw) ? wholeNumber(raw) : bad('is not a whole number');
    case 'timestamp': {
      const ms = parseTimestamp(raw, ctx.dateFormat, ctx.zone);
      return ms === undefined ? bad(`is a number, not a date-time in the format ${describeFormat(ctx.dateFormat)}`) : ok(ms);
    }
    case 'id':
    case 'text':
    case 'lower':
    case 'phone':
      return convert(String(raw), type, ctx);
    case 'email':
    case 'status':
    case 'timezone':
    case 'country':
    case 'currency':
    case 'json':
      return bad('is a number, not a text value');
  }
}

/** Prices and totals: a negative one or one past what a double holds is a broken export, not a refund. */
function amount(n: number): Converted {
  if (!Number.isFinite(n)) return bad('is too large a number');
  return n < 0 ? bad('is negative; prices and totals are 0 or more') : ok(n);
}

/** Quantities and line numbers: past 2^53 a whole number is no longer exact. */
function wholeNumber(n: number): Converted {
  return Number.isSafeInteger(n) ? ok(n) : bad(`is too large: whole numbers go up to ${Number.MAX_SAFE_INTEGER.toLocaleString('en-US')}`);
}

/**
 * A status the store knows: one of the canonical ones, or one a mapping file's statuses:
 * produces (a shop's own, which its config then declares under order_statuses). Any
 * other would be stored and match no segment rule.
 */
function isKnownStatus(status: string, statuses: ReadonlyMap<string, string>): boolean {
  if ((KNOWN_ORDER_STATUSES as readonly string[]).includes(status)) return true;
  for (const produced of statuses.values()) if (canonicalStatus(produced, new Map()) === status) return true;
  return false;
}

/** A JSON object as text: from a JSON Lines object, or JSON text in a CSV cell. */
function convertJson(raw: unknown): Converted {
  let value = raw;
  if (typeof raw === 'string') {
    if (raw.trim() === '') return ok(null);
    try {
      value = JSON.parse(raw);
    } catch {
      return bad('is not valid JSON');
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return bad('is not a JSON object');
  if (jsonDepth(value, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) return bad(`nests deeper than ${MAX_JSON_DEPTH} levels`);
  return ok(JSON.stringify(value));
}

/** Properties and attributes nest a few levels; past this they are refused (serialising 5,000 levels overflowed the stack). */
export const MAX_JSON_DEPTH = 32;

/** How deep a parsed JSON value nests, counted without recursion and only up to `limit` + 1. */
function jsonDepth(root: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== 'object') continue;
    deepest = Math.max(deepest, depth);
    if (deepest > limit) return deepest;
    for (const child of Object.values(value)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** A JSON-able scalar for an attributes / properties key: numbers stay numbers in JSON Lines. */
export function bagValue(raw: unknown): unknown {
  if (typeof raw === 'string') {
    const text = raw.trim();
    return text === '' ? undefined : text;
  }
  return raw ?? undefined;
}

const TRUE = new Set(['1', 'true', 'yes', 'y', 'granted', 'subscribed', 'opted_in', 'opt_in', 'accepted']);
const FALSE = new Set(['0', 'false', 'no', 'n', 'denied', 'unsubscribed', 'not_subscribed', 'opted_out', 'opt_out', 'declined', 'revoked']);

/** A consent cell: granted, denied, or null when the source says nothing. */
export function convertConsent(raw: unknown): { ok: true; value: 0 | 1 | null } | { ok: false; reason: string } {
  if (raw === undefined || raw === null) return { ok: true, value: null };
  if (typeof raw === 'boolean') return { ok: true, value: raw ? 1 : 0 };
  const text = String(raw).trim().toLowerCase().replace(/[\s-]+/g, '_');
  if (text === '') return { ok: true, value: null };
  if (TRUE.has(text)) return { ok: true, value: 1 };
  if (FALSE.has(text)) return { ok: true, value: 0 };
  return { ok: false, reason: 'is not a consent value (yes/no, true/false, 1/0, subscribed/unsubscribed)' };
}

function describeFormat(format: DateFormat): string {
  switch (format.kind) {
    case 'iso':
      return 'ISO 8601 (2024-05-31T14:30:00Z, or without a zone)';
    case 'epoch_ms':
      return 'epoch_ms (milliseconds since 1970)';
    case 'epoch_s':
      return 'epoch_s (seconds since 1970)';
    case 'pattern':
      return `"${format.pattern}"`;
  }
}
