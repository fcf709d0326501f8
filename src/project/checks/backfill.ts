import type { Rule, Segment } from '../model.js';
import { ruleNodes } from '../rule-walk.js';

/**
 * A backfill enters everyone already in a segment. When nothing in the rule bounds
 * how long ago the customer last did something, that reaches people who last bought
 * years ago. Returns what is unbounded ("last order", "registration"), or null.
 */
export function backfillReach(rule: Rule, segments: Map<string, Segment>): string | null {
  if (isRecent(rule, segments, new Set())) return null;
  for (const r of expand(rule, segments, new Set())) {
    if (r.kind === 'order_date' || r.kind === 'orders' || r.kind === 'order_amount') return 'last order';
  }
  for (const r of expand(rule, segments, new Set())) if (r.kind === 'registered_at') return 'registration';
  return 'membership';
}

/** Whether every member of the rule did something dated within a bounded time. */
function isRecent(rule: Rule, segments: Map<string, Segment>, seen: Set<string>): boolean {
  switch (rule.kind) {
    case 'all':
      return rule.rules.some((r) => isRecent(r, segments, seen));
    case 'any':
      return rule.rules.every((r) => isRecent(r, segments, seen));
    case 'segment': {
      const target = segments.get(rule.name);
      if (!target || seen.has(rule.name)) return false;
      return isRecent(target.rule, segments, new Set([...seen, rule.name]));
    }
    case 'order_date':
      return rule.which === 'last' && rule.date.terms.some((t) => t.op === 'after');
    case 'orders':
      return rule.filter.placed.terms.some((t) => t.op === 'after') && rule.count.every((c) => c.op !== 'eq' || c.value > 0);
    case 'registered_at':
      return rule.date.terms.some((t) => t.op === 'after' || t.op === 'anniversary');
    case 'event':
      return rule.occurred.terms.some((t) => t.op === 'after');
    default:
      return false;
  }
}

function* expand(rule: Rule, segments: Map<string, Segment>, seen: Set<string>): Generator<Rule> {
  for (const r of ruleNodes(rule)) {
    yield r;
    if (r.kind === 'segment' && !seen.has(r.name)) {
      const target = segments.get(r.name);
      seen.add(r.name);
      if (target) yield* expand(target.rule, segments, seen);
    }
  }
}
