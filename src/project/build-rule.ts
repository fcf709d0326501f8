import type { YamlPath } from './diagnostic.js';
import { parseDuration } from './duration.js';
import {
  CUSTOMER_FIELDS,
  type CustomerField,
  type DateComparison,
  type DateTerm,
  type Duration,
  type Moment,
  type NumberTerm,
  type Rule,
  type Scalar,
  type StatusFilter,
  type StringTerm,
  type ValueTerm,
} from './model.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- schema-checked YAML data

/** Builds the rule tree of data that already passed the schema (one key per condition). */
export function buildRule(data: Obj, path: YamlPath): Rule {
  const [key, value] = Object.entries(data)[0]!;
  const at = [...path, key];
  switch (key) {
    case 'all':
    case 'any':
      return { kind: key, rules: (value as Obj[]).map((r, i) => buildRule(r, [...at, i])), path };
    case 'not':
      return { kind: 'not', rule: buildRule(value, at), path };
    case 'segment':
      return { kind: 'segment', name: value, path };
    case 'registered_at':
      return { kind: 'registered_at', date: dateComparison(value), path };
    case 'orders':
      return {
        kind: 'orders',
        filter: {
          statuses: statuses(value.status),
          categories: list(value.category),
          products: list(value.product),
          skus: list(value.sku),
          total: value.total === undefined ? [] : numberTerms(value.total),
          placed: dateComparison(value),
        },
        count: value.count === undefined ? [{ op: 'gte', value: 1 }] : numberTerms(value.count),
        path,
      };
    case 'last_order_at':
    case 'first_order_at':
      return { kind: 'order_date', which: key === 'last_order_at' ? 'last' : 'first', statuses: statuses(value.status), date: dateComparison(value), path };
    case 'lifetime_value':
    case 'average_order_value':
      return {
        kind: 'order_amount',
        measure: key,
        statuses: statuses(value.status),
        within: value.within ? duration(value.within) : null,
        terms: numberTerms(Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'status' && k !== 'within'))),
        path,
      };
    case 'event':
      return {
        kind: 'event',
        type: value.type,
        where: value.where ?? {},
        occurred: dateComparison(value),
        count: value.count === undefined ? [{ op: 'gte', value: 1 }] : numberTerms(value.count),
        path,
      };
    case 'consent':
    case 'suppressed':
    case 'reachable':
      return { kind: key, channel: value, path };
    case 'orders_since_entry':
      return { kind: 'orders_since_entry', count: numberTerms(value), path };
    case 'opened':
    case 'clicked':
    case 'delivered':
      return { kind: 'message', event: key, step: value, path };
    case 'messages_received':
      return {
        kind: 'messages_received',
        within: duration(value.within),
        channel: value.channel ?? null,
        count: value.count === undefined ? [{ op: 'gte', value: 1 }] : numberTerms(value.count),
        path,
      };
    case 'trigger_order':
      return { kind: 'trigger_order', statuses: list(value.status), path };
    default:
      if ((CUSTOMER_FIELDS as readonly string[]).includes(key)) {
        return { kind: 'customer_field', field: key as CustomerField, terms: stringTerms(value), path };
      }
      if (key.startsWith('attributes.')) {
        return { kind: 'attribute', name: key.slice('attributes.'.length), terms: valueTerms(value), path };
      }
      // The schema admits no other key; reaching here means schema and builder disagree.
      throw new Error(`rule key '${key}' is in the schema but not in the rule builder`);
  }
}

export function duration(text: string): Duration {
  const d = parseDuration(text);
  if (!d) throw new Error(`'${text}' passed the schema but is not a duration`);
  return d;
}

function moment(text: string): Moment {
  const d = parseDuration(text);
  return d ? { kind: 'ago', duration: d } : { kind: 'date', iso: text };
}

function list(v: unknown): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? (v as string[]) : [v as string];
}

export function statuses(v: unknown): StatusFilter {
  if (v === undefined) return 'default';
  if (v === 'any') return 'any';
  return list(v);
}

export function numberTerms(v: number | Obj): NumberTerm[] {
  if (typeof v === 'number') return [{ op: 'eq', value: v }];
  return Object.entries(v).map(([op, value]): NumberTerm =>
    op === 'between' ? { op, low: (value as number[])[0]!, high: (value as number[])[1]! } : { op: op as Exclude<NumberTerm['op'], 'between'>, value: value as number },
  );
}

function stringTerms(v: string | Obj): StringTerm[] {
  if (typeof v === 'string') return [{ op: 'eq', value: v }];
  return Object.entries(v).map(([op, value]): StringTerm => {
    if (op === 'in' || op === 'not_in') return { op, values: value as string[] };
    if (op === 'exists') return { op, value: value as boolean };
    return { op: op as 'eq' | 'ne' | 'contains' | 'starts_with' | 'ends_with', value: value as string };
  });
}

function valueTerms(v: Scalar | Obj): ValueTerm[] {
  if (typeof v !== 'object') return [{ op: 'eq', value: v }];
  return Object.entries(v).map(([op, value]): ValueTerm => {
    switch (op) {
      case 'in':
      case 'not_in':
        return { op, values: value as Scalar[] };
      case 'exists':
        return { op, value: value as boolean };
      case 'before':
      case 'after':
        return { op, at: moment(value as string) };
      case 'within':
        return { op: 'after', at: { kind: 'ago', duration: duration(value as string) } };
      case 'anniversary':
        return { op, every: duration(value as string) };
      case 'contains':
        return { op, value: value as string };
      case 'gt':
      case 'gte':
      case 'lt':
      case 'lte':
        return { op, value: value as number };
      default:
        return { op: op as 'eq' | 'ne', value: value as Scalar };
    }
  });
}

/**
 * Reads the date keywords of an object (before, after, within, between, anniversary,
 * exists, calendar). between: [near, far] means after `far` and before `near`.
 */
export function dateComparison(v: Obj): DateComparison {
  const terms: DateTerm[] = [];
  if (v.before !== undefined) terms.push({ op: 'before', at: moment(v.before), path: ['before'] });
  if (v.after !== undefined) terms.push({ op: 'after', at: moment(v.after), path: ['after'] });
  if (v.within !== undefined) terms.push({ op: 'after', at: { kind: 'ago', duration: duration(v.within) }, path: ['within'] });
  if (v.between !== undefined) {
    const [near, far] = v.between as string[];
    terms.push({ op: 'after', at: moment(far!), path: ['between', 1] }, { op: 'before', at: moment(near!), path: ['between', 0] });
  }
  if (v.anniversary !== undefined) terms.push({ op: 'anniversary', every: duration(v.anniversary) });
  if (v.exists !== undefined) terms.push({ op: 'exists', value: v.exists });
  return { terms, calendar: v.calendar === true };
}
