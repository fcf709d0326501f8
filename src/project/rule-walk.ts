import type { Journey, Rule } from './model.js';
import { stepsOf } from './step-graph.js';

/** Every rule node of a tree, depth first. */
export function* ruleNodes(rule: Rule): Generator<Rule> {
  yield rule;
  switch (rule.kind) {
    case 'all':
    case 'any':
      for (const r of rule.rules) yield* ruleNodes(r);
      break;
    case 'not':
      yield* ruleNodes(rule.rule);
      break;
    default:
      break;
  }
}

/** Every rule a journey holds: exit_when, step guards, branch cases. */
export function* journeyRules(journey: Journey): Generator<Rule> {
  for (const r of journey.exitWhen) yield* ruleNodes(r);
  for (const step of stepsOf(journey)) {
    if (step.when) yield* ruleNodes(step.when);
    if (step.kind === 'branch') for (const c of step.cases) yield* ruleNodes(c.when);
  }
}
