/**
 * Comparisons a rule makes of one value (a count, a sum, a text): the SQL condition,
 * and for counts whether a number passes, which the compiler uses to read "at least
 * one" and "none" as joins instead of counts.
 */
import type { NumberTerm, StringTerm } from '../project/model.js';
import { and, cmp, or, param, type Expr } from './sql/nodes.js';

/** (x IS NOT NULL AND f(x)): a missing value never matches a comparison, even under NOT. */
export function defined(x: Expr, f: (x: Expr) => Expr): Expr {
  return and({ kind: 'is_null', expr: x, negated: true, guard: true }, f(x));
}

export function numberTerm(x: Expr, t: NumberTerm): Expr {
  switch (t.op) {
    case 'between':
      return and(cmp('>=', x, param(t.low)), cmp('<=', x, param(t.high)));
    case 'eq':
      return cmp('=', x, param(t.value));
    case 'ne':
      return cmp('<>', x, param(t.value));
    case 'gt':
      return cmp('>', x, param(t.value));
    case 'gte':
      return cmp('>=', x, param(t.value));
    case 'lt':
      return cmp('<', x, param(t.value));
    case 'lte':
      return cmp('<=', x, param(t.value));
    default: {
      const never: never = t;
      throw new Error(`unknown number term ${JSON.stringify(never)}`);
    }
  }
}

export function numberTermAdmits(t: NumberTerm, n: number): boolean {
  switch (t.op) {
    case 'between':
      return n >= t.low && n <= t.high;
    case 'eq':
      return n === t.value;
    case 'ne':
      return n !== t.value;
    case 'gt':
      return n > t.value;
    case 'gte':
      return n >= t.value;
    case 'lt':
      return n < t.value;
    case 'lte':
      return n <= t.value;
    default: {
      const never: never = t;
      throw new Error(`unknown number term ${JSON.stringify(never)}`);
    }
  }
}

/** true for "at least one", false for "none", null when the count itself matters. */
export function presenceOnly(count: NumberTerm[]): boolean | null {
  const admits = (n: number) => count.every((t) => numberTermAdmits(t, n));
  const zero = admits(0);
  // Counts up to 1000 stand for "any larger count": a condition that admits 1..1000 but not 0 is "at least one".
  const some = [1, 2, 3, 10, 1000].map(admits);
  if (!zero && some.every(Boolean)) return true;
  if (zero && some.every((v) => !v)) return false;
  return null;
}

export function stringTerm(x: Expr, t: StringTerm): Expr {
  switch (t.op) {
    case 'eq':
      return defined(x, () => cmp('=', x, param(t.value)));
    case 'ne':
      return or({ kind: 'is_null', expr: x, negated: false }, cmp('<>', x, param(t.value)));
    case 'in':
      return defined(x, () => ({ kind: 'in', expr: x, list: t.values.map(param), negated: false }));
    case 'not_in':
      return or({ kind: 'is_null', expr: x, negated: false }, { kind: 'in', expr: x, list: t.values.map(param), negated: true });
    case 'contains':
      return defined(x, () => ({ kind: 'like', expr: x, pattern: param(`%${escapeLike(t.value)}%`) }));
    case 'starts_with':
      return defined(x, () => ({ kind: 'like', expr: x, pattern: param(`${escapeLike(t.value)}%`) }));
    case 'ends_with':
      return defined(x, () => ({ kind: 'like', expr: x, pattern: param(`%${escapeLike(t.value)}`) }));
    case 'exists':
      return t.value ? defined(x, () => cmp('<>', x, param(''))) : or({ kind: 'is_null', expr: x, negated: false }, cmp('=', x, param('')));
    default: {
      const never: never = t;
      throw new Error(`unknown string term ${JSON.stringify(never)}`);
    }
  }
}

export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

