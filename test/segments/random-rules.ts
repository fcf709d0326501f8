/**
 * Seeded random rule trees for the differential test. Each rule is built as the YAML
 * data a user writes and passed through buildRule, so the trees are exactly those of
 * real segment files. Values come from the data set's vocabulary, plus some that
 * match nothing.
 */
import { buildRule } from '../../src/project/build-rule.js';
import type { Rule, Segment } from '../../src/project/model.js';
import type { Vocabulary } from './edge-data.js';

export type Rng = () => number;

/** mulberry32: a tiny, good-enough seeded PRNG. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Obj = Record<string, unknown>;

export const CUSTOMER_FIELD_NAMES = ['email', 'phone', 'first_name', 'last_name', 'locale', 'timezone', 'country', 'city'];

/** Durations of window comparisons: every unit, and the lengths the data's edges are built on. */
const DURATIONS = ['90m', '24h', '1d', '3d', '7d', '2w', '14d', '30d', '90d', '180d', '1mo', '6mo', '10mo', '12mo', '1y', '2y', '24mo'];
/** The durations the data set has customers exactly on the edge of, for every clock (edge-data.ts): drawn more often. */
const EDGE_DURATIONS = ['7d', '30d', '6mo', '10mo', '1y'];
const WINDOW_POOL = [...DURATIONS, ...EDGE_DURATIONS, ...EDGE_DURATIONS];
const ANNIVERSARIES = ['12mo', '1y', '1mo', '6mo', '7d', '2w', '365d', '3mo', '1d'];
const FIXED_MOMENTS = ['2026-11-25', '2026-10-26', '2026-01-25', '2025-11-25', '2024-02-29', '2026-10-26T08:00:00Z', '2026-11-24T23:00:00Z', '2026-11-25T09:00:00+01:00', '2027-02-28T11:00:00.000Z'];

export interface GeneratorOptions {
  /** Names of segments a rule may refer to. */
  segments: string[];
  /**
   * How often a `calendar: true` window keeps a duration that is not in days or
   * weeks (6mo, 24h): the compiler rejects those with a CompileError, which the test
   * checks; otherwise such durations are replaced by day counts. Default 0.
   */
  nonDayCalendar?: number;
}

const DAY_DURATIONS = ['1d', '3d', '7d', '2w', '14d', '30d', '90d', '180d', '365d'];
const isDayDuration = (text: string): boolean => /^[1-9][0-9]*(d|w)$/.test(text);
const isDuration = (text: string): boolean => /^[1-9][0-9]*(m|h|d|w|mo|y)$/.test(text);

export class RuleGenerator {
  private readonly pick = <T>(xs: readonly T[]): T => xs[Math.floor(this.rng() * xs.length)]!;
  private readonly chance = (p: number): boolean => this.rng() < p;
  private readonly int = (lo: number, hi: number): number => lo + Math.floor(this.rng() * (hi - lo + 1));

  constructor(
    private readonly rng: Rng,
    private readonly vocab: Vocabulary,
    private readonly opts: GeneratorOptions,
  ) {}

  /** A rule tree as YAML data, depth up to maxDepth (0 = one condition). */
  data(maxDepth = 3): Obj {
    if (maxDepth > 0 && this.chance(0.45)) {
      const op = this.pick(['all', 'all', 'any', 'any', 'not']);
      if (op === 'not') return { not: this.data(maxDepth - 1) };
      const n = this.int(1, 3);
      return { [op]: Array.from({ length: n }, () => this.data(maxDepth - 1)) };
    }
    return this.condition();
  }

  rule(maxDepth = 3): { data: Obj; rule: Rule } {
    const data = this.data(maxDepth);
    return { data, rule: buildRule(data, []) };
  }

  condition(): Obj {
    const kinds: Array<() => Obj> = [
      () => this.customerField(),
      () => this.customerField(),
      () => this.attribute(),
      () => this.attribute(),
      () => this.attribute(),
      () => ({ registered_at: this.dateComparison(true, false) }),
      () => ({ registered_at: this.dateComparison(true, false) }),
      () => this.orders(),
      () => this.orders(),
      () => this.orders(),
      () => ({ [this.pick(['last_order_at', 'first_order_at'])]: this.withStatus(this.dateComparison(false, true)) }),
      () => ({ [this.pick(['last_order_at', 'first_order_at'])]: this.withStatus(this.dateComparison(false, true)) }),
      () => this.orderAmount(),
      () => this.orderAmount(),
      () => this.event(),
      () => this.event(),
      () => ({ [this.pick(['consent', 'suppressed', 'reachable'])]: this.pick(['email', 'sms']) }),
      () => ({ [this.pick(['consent', 'suppressed', 'reachable'])]: this.pick(['email', 'sms']) }),
    ];
    if (this.opts.segments.length > 0) kinds.push(() => ({ segment: this.pick(this.opts.segments) }));
    return this.pick(kinds)();
  }

  // --- customer fields ---

  private fieldValue(field: string): string {
    const values = this.vocab.fieldValues[field] ?? [];
    if (values.length === 0 || this.chance(0.12)) return this.pick(['nobody', 'ZZ', 'x@y.z']);
    return this.pick(values);
  }

  /** A piece of a value, case changed sometimes: for contains / starts_with / ends_with. */
  private fragment(field: string): string {
    const v = this.fieldValue(field);
    if (v.length === 0) return 'q';
    const kind = this.pick(['start', 'end', 'middle']);
    const len = this.int(1, Math.min(6, v.length));
    let f = kind === 'start' ? v.slice(0, len) : kind === 'end' ? v.slice(-len) : v.slice(Math.floor((v.length - len) / 2), Math.floor((v.length - len) / 2) + len);
    if (this.chance(0.3)) f = this.chance(0.5) ? f.toUpperCase() : f.toLowerCase();
    if (this.chance(0.05)) f = this.pick(['_', '%', 'g_s', 'G_S']); // LIKE wildcards must be literal
    return f;
  }

  private customerField(): Obj {
    const field = this.pick(CUSTOMER_FIELD_NAMES);
    if (this.chance(0.2)) return { [field]: this.fieldValue(field) };
    const ops = ['eq', 'ne', 'in', 'not_in', 'contains', 'starts_with', 'ends_with', 'exists'];
    const terms: Obj = {};
    for (let i = this.int(1, 2); i > 0; i--) {
      const op = this.pick(ops);
      if (op === 'in' || op === 'not_in') terms[op] = Array.from({ length: this.int(1, 3) }, () => this.fieldValue(field));
      else if (op === 'exists') terms[op] = this.chance(0.5);
      else if (op === 'eq' || op === 'ne') terms[op] = this.fieldValue(field);
      else terms[op] = this.fragment(field);
    }
    return { [field]: terms };
  }

  // --- attributes ---

  private scalar(name: string): string | number | boolean {
    const values = (this.vocab.attributeValues[name] ?? []).filter((v) => v !== null && typeof v !== 'object') as Array<string | number | boolean>;
    if (values.length === 0 || this.chance(0.15)) return this.pick<string | number | boolean>(['gold', 1, true, false, '1', 10, 0, 'nothing', 2.5]);
    return this.pick(values);
  }

  private number(name: string): number {
    const numbers = (this.vocab.attributeValues[name] ?? []).filter((v): v is number => typeof v === 'number');
    if (numbers.length > 0 && this.chance(0.6)) return this.pick(numbers);
    return this.pick([-5, 0, 1, 1.5, 2, 10, 11, 100]);
  }

  private attribute(): Obj {
    const name = this.pick(this.vocab.attributeNames);
    const key = `attributes.${name}`;
    if (this.chance(0.15)) return { [key]: this.scalar(name) };
    const ops = ['eq', 'ne', 'in', 'not_in', 'contains', 'exists', 'gt', 'gte', 'lt', 'lte', 'before', 'after', 'within', 'anniversary'];
    const terms: Obj = {};
    for (let i = this.int(1, 2); i > 0; i--) {
      const op = this.pick(ops);
      switch (op) {
        case 'eq':
        case 'ne':
          terms[op] = this.scalar(name);
          break;
        case 'in':
        case 'not_in':
          terms[op] = Array.from({ length: this.int(1, 3) }, () => this.scalar(name));
          break;
        case 'contains': {
          const s = this.scalar(name);
          terms[op] = typeof s === 'string' && s.length > 0 ? (this.chance(0.5) ? s.slice(0, 3).toUpperCase() : s.slice(-3)) : this.pick(['o', 'GOLD', '_s', 'g_s', '%']);
          break;
        }
        case 'exists':
          terms[op] = this.chance(0.5);
          break;
        case 'gt':
        case 'gte':
        case 'lt':
        case 'lte':
          terms[op] = this.number(name);
          break;
        case 'before':
        case 'after': {
          // sometimes exactly the date an attribute holds, to hit the boundary
          const dates = (this.vocab.attributeValues[name] ?? []).filter((v): v is string => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}/.test(v));
          terms[op] = dates.length > 0 && this.chance(0.3) ? this.pick(dates).slice(0, 10) : this.moment();
          break;
        }
        case 'within':
          terms[op] = this.pick(WINDOW_POOL);
          break;
        case 'anniversary':
          terms[op] = this.pick(ANNIVERSARIES);
          break;
      }
    }
    return { [key]: terms };
  }

  // --- dates ---

  private moment(): string {
    if (this.chance(0.75)) return this.pick(WINDOW_POOL);
    if (this.chance(0.5) && this.vocab.dates.length > 0) return this.pick(this.vocab.dates);
    return this.pick(FIXED_MOMENTS);
  }

  /** before / after / within / between, anniversary (registered_at only), exists, calendar. */
  dateComparison(anniversary: boolean, orderDate: boolean): Obj {
    const out: Obj = {};
    const keys = ['before', 'after', 'within', 'within', 'between', 'between', 'exists'];
    if (anniversary) keys.push('anniversary', 'anniversary', 'anniversary');
    for (let i = this.int(1, 2); i > 0; i--) this.windowKey(out, this.pick(keys));
    void orderDate;
    return this.calendarDays(out);
  }

  /** Under calendar: true, durations in days or weeks only (mostly; see GeneratorOptions.nonDayCalendar). */
  private calendarDays(out: Obj): Obj {
    if (out.calendar !== true || this.chance(this.opts.nonDayCalendar ?? 0)) return out;
    const fix = (m: string): string => (isDuration(m) && !isDayDuration(m) ? this.pick(DAY_DURATIONS) : m);
    for (const k of ['before', 'after', 'within']) if (typeof out[k] === 'string') out[k] = fix(out[k] as string);
    if (Array.isArray(out.between)) out.between = (out.between as string[]).map(fix);
    return out;
  }

  /** A placement window only (orders, events): before / after / within / between, calendar. */
  private window(out: Obj): Obj {
    if (this.chance(0.45)) return out;
    for (let i = this.int(1, 2); i > 0; i--) this.windowKey(out, this.pick(['before', 'after', 'within', 'within', 'between', 'between']));
    return this.calendarDays(out);
  }

  private windowKey(out: Obj, key: string): void {
    switch (key) {
      case 'before':
      case 'after':
        out[key] = this.moment();
        break;
      case 'within':
        out[key] = this.pick(WINDOW_POOL);
        break;
      case 'between': {
        // nearest first, as users write it: [30d, 10mo]; sometimes dates, sometimes reversed
        const a = this.moment();
        const b = this.moment();
        out[key] = [a, b];
        break;
      }
      case 'anniversary':
        out[key] = this.pick(ANNIVERSARIES);
        break;
      case 'exists':
        out[key] = this.chance(0.5);
        break;
    }
    if (key !== 'exists' && key !== 'anniversary' && this.chance(0.35)) out.calendar = this.chance(0.85);
  }

  private statusValue(): unknown {
    const r = this.rng();
    if (r < 0.4) return undefined;
    if (r < 0.55) return 'any';
    if (r < 0.8) return this.pick(this.vocab.statuses);
    return Array.from({ length: this.int(1, 3) }, () => this.pick(this.vocab.statuses));
  }

  private withStatus(o: Obj): Obj {
    const s = this.statusValue();
    if (s !== undefined) o.status = s;
    return o;
  }

  private listOrOne(values: string[]): string | string[] {
    return this.chance(0.5) ? this.pick(values) : Array.from({ length: this.int(1, 3) }, () => this.pick(values));
  }

  private numberComparison(values: number[], integer: boolean, allowNe = true, allowBare = true): unknown {
    const v = (): number => (integer ? this.int(0, 4) : values.length > 0 && this.chance(0.6) ? this.pick(values) : this.pick([0, 10, 25.5, 50, 100, 250, 500]));
    if (allowBare && this.chance(0.2)) return v();
    const ops = ['eq', 'gt', 'gte', 'lt', 'lte', 'between'];
    if (allowNe) ops.push('ne');
    const out: Obj = {};
    for (let i = this.int(1, 2); i > 0; i--) {
      const op = this.pick(ops);
      if (op === 'between') {
        const a = v();
        const b = v();
        out[op] = this.chance(0.85) ? [Math.min(a, b), Math.max(a, b)] : [Math.max(a, b), Math.min(a, b)];
      } else out[op] = v();
    }
    return out;
  }

  private orders(): Obj {
    const o: Obj = {};
    if (this.chance(0.6)) o.count = this.numberComparison([], true);
    this.withStatus(o);
    if (this.chance(0.2)) o.category = this.listOrOne(this.vocab.categories);
    if (this.chance(0.15)) o.product = this.listOrOne(this.vocab.products);
    if (this.chance(0.15)) o.sku = this.listOrOne(this.vocab.skus);
    if (this.chance(0.2)) o.total = this.numberComparison(this.vocab.totals, false);
    this.window(o);
    return { orders: o };
  }

  private orderAmount(): Obj {
    const measure = this.pick(['lifetime_value', 'average_order_value']);
    const o = this.numberComparison(this.vocab.totals, false, false, false) as Obj;
    this.withStatus(o);
    if (this.chance(0.3)) o.within = this.pick(WINDOW_POOL);
    return { [measure]: o };
  }

  private event(): Obj {
    const o: Obj = { type: this.pick(this.vocab.eventTypes) };
    if (this.chance(0.5)) o.count = this.numberComparison([], true);
    if (this.chance(0.35)) {
      const where: Obj = {};
      const keys = Object.keys(this.vocab.propertyValues);
      for (let i = this.int(1, 2); i > 0; i--) {
        const k = this.chance(0.9) ? this.pick(keys) : 'no_such_prop';
        const values = (this.vocab.propertyValues[k] ?? []).filter((v) => v !== null && typeof v !== 'object') as Array<string | number | boolean>;
        where[k] = values.length > 0 && this.chance(0.85) ? this.pick(values) : this.pick<string | number | boolean>(['spring', 10, true, '10', 1]);
      }
      o.where = where;
    }
    this.window(o);
    return { event: o };
  }
}

/**
 * Named segments the random rules refer to: each may refer only to the ones before
 * it, so there are no cycles (validate rejects those).
 */
export function randomSegments(rng: Rng, vocab: Vocabulary, count = 4): { segments: Map<string, Segment>; yaml: Record<string, Obj> } {
  const segments = new Map<string, Segment>();
  const yaml: Record<string, Obj> = {};
  for (let i = 0; i < count; i++) {
    const name = `seg_${String.fromCharCode(97 + i)}`;
    const gen = new RuleGenerator(rng, vocab, { segments: [...segments.keys()] });
    const { data, rule } = gen.rule(2);
    yaml[name] = data;
    segments.set(name, { name, description: null, rule, definition: {}, file: 'random.yaml', path: ['segments', name] });
  }
  return { segments, yaml };
}
