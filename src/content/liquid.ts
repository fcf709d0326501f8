/**
 * The Liquid engine every template is rendered with (liquidjs, the language of
 * Shopify themes and notifications). Strict: a variable or filter that does not exist
 * is an error, never empty text, so `journey validate` can point at it.
 *
 * Two engines: HTML templates escape every output (a first name is text, not markup;
 * `| raw` opts out), text and SMS templates do not. Both count the outputs that came
 * out empty (null, or empty text), which is how validate and the tests tell that a
 * customer would read a gap ("your code  ends soon").
 */
import { Liquid, type Template } from 'liquidjs';

export type { Template };

let emptyOutputs = 0;

/** Runs fn and says how many outputs it printed as nothing. */
export function countingEmpty<T>(fn: () => T): { value: T; empty: number } {
  const before = emptyOutputs;
  const value = fn();
  return { value, empty: emptyOutputs - before };
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text as HTML: the five characters markup gives a meaning escaped ('&#39;', which every mail client reads). */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

function stringOf(value: unknown): string {
  if (value === null || value === undefined || value === '') {
    emptyOutputs++;
    return '';
  }
  if (Array.isArray(value)) return value.map(stringOf).join('');
  return String(value);
}

const formats = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function numberFormat(locale: string, currency: string): Intl.NumberFormat {
  const key = `n|${locale}|${currency}`;
  let f = formats.get(key) as Intl.NumberFormat | undefined;
  if (!f) {
    try {
      f = new Intl.NumberFormat(locale, { style: 'currency', currency });
    } catch {
      f = new Intl.NumberFormat('en', { style: 'currency', currency: /^[A-Z]{3}$/.test(currency) ? currency : 'EUR' });
    }
    formats.set(key, f);
  }
  return f;
}

const DATE_STYLES = new Set(['short', 'medium', 'long', 'full']);

function dateFormat(locale: string, timeZone: string, style: string): Intl.DateTimeFormat {
  const key = `d|${locale}|${timeZone}|${style}`;
  let f = formats.get(key) as Intl.DateTimeFormat | undefined;
  if (!f) {
    const dateStyle = (DATE_STYLES.has(style) ? style : 'long') as 'short' | 'medium' | 'long' | 'full';
    try {
      f = new Intl.DateTimeFormat(locale, { dateStyle, timeZone });
    } catch {
      f = new Intl.DateTimeFormat('en', { dateStyle, timeZone: 'UTC' });
    }
    formats.set(key, f);
  }
  return f;
}

interface FilterThis {
  context: { getSync(path: string[]): unknown };
}

const scoped = (self: FilterThis, path: string[], fallback: string): string => {
  try {
    const v = self.context.getSync(path);
    return typeof v === 'string' && v !== '' ? v : fallback;
  } catch {
    return fallback;
  }
};

/** The render-wide name under which a template's own locale reaches the filters (null: the customer's). */
export const FORMAT_LOCALE = 'template_locale';

/** The locale money and dates are written in: the template's language, else the customer's. */
function formatLocale(self: FilterThis): string {
  const own = scoped(self, [FORMAT_LOCALE], '');
  return own !== '' ? own : scoped(self, ['customer', 'locale'], 'en');
}

/** Thrown by the 'locate' engine at an output that prints nothing: Liquid names the output's place. */
export const EMPTY_OUTPUT = 'prints nothing';

function createEngine(html: boolean, lenientIf: boolean, locate = false): Liquid {
  const escape = html ? (v: unknown) => escapeHtml(stringOf(v)) : stringOf;
  const engine = new Liquid({
    strictVariables: true,
    // an attribute a customer may lack ({{ customer.attributes.tier | default: "member" }},
    // {% if customer.attributes.vip %}) is asked about, not a mistake; printed bare it still is
    lenientIf,
    strictFilters: true,
    ownPropertyOnly: true,
    // templates are files of the project, rendered from a parsed tree: no includes from disk at render time
    relativeReference: false,
    outputEscape: locate
      ? (v: unknown) => {
          if (v === null || v === undefined || v === '') throw new Error(EMPTY_OUTPUT);
          return escape(v);
        }
      : escape,
    // 'locate' goes on past each output that prints nothing, to name them all
    catchAllErrors: locate,
  });
  // {{ 1290.5 | money }} in the message's currency and the template's (else the customer's) locale; | money: "EUR" names a currency
  engine.registerFilter('money', function (this: FilterThis, value: unknown, currency?: unknown) {
    if (value === null || value === undefined || value === '') return value;
    const n = Number(value);
    if (!Number.isFinite(n)) return value;
    const cur = typeof currency === 'string' && currency !== '' ? currency : scoped(this, ['currency'], 'EUR');
    return numberFormat(formatLocale(this), cur).format(n);
  });
  // {{ coupon.expires_at | local_date }}: the day in the customer's timezone, written in the template's (else the customer's) locale (short, medium, long, full)
  engine.registerFilter('local_date', function (this: FilterThis, value: unknown, style?: unknown) {
    if (value === null || value === undefined || value === '') return value;
    const d = new Date(typeof value === 'number' ? value : String(value));
    if (Number.isNaN(d.getTime())) return value;
    return dateFormat(formatLocale(this), scoped(this, ['customer', 'timezone'], 'UTC'), typeof style === 'string' ? style : 'long').format(d);
  });
  return engine;
}

let engines: Record<'send' | 'check' | 'locate', { html: Liquid; text: Liquid }> | undefined;

/**
 * The engine for HTML (escaping) or text output. 'send' renders messages: a variable
 * a message lacks is an error (the message fails, it is never sent with a gap), except
 * under `| default:` and in `{% if %}`. 'check' renders validate's sample customers
 * with no such exception, so that a misspelt variable is found under `| default:`
 * too; a sample's attributes answer null for any name instead (content/samples.ts).
 */
export function liquid(kind: 'html' | 'text', mode: 'send' | 'check' | 'locate' = 'send'): Liquid {
  engines ??= {
    send: { html: createEngine(true, true), text: createEngine(false, true) },
    check: { html: createEngine(true, false), text: createEngine(false, false) },
    // validate: where a template prints nothing for a sample customer
    locate: { html: createEngine(true, false, true), text: createEngine(false, false, true) },
  };
  return engines[mode][kind];
}

/** The filters beyond Liquid's own, as the README lists them. */
export const FILTERS = ['money', 'local_date'] as const;
