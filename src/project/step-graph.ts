import type { Journey, Step, Target } from './model.js';

/**
 * A journey's steps as a graph: every step (nested ones included) with the steps a
 * customer can go to from it. The engine and the checks share this one reading of
 * "what comes next".
 */
export interface StepNode {
  step: Step;
  /** Where the customer goes when the step is done and it names no other place. */
  fallthrough: string | null;
  successors: string[];
  /** The step ids named as targets, with where they were named (for error positions). */
  references: { id: string; path: readonly (string | number)[]; role: string }[];
}

export interface StepGraph {
  entry: string | null;
  nodes: Map<string, StepNode>;
  /** Steps in the order written, nested ones after the step that holds them. */
  order: Step[];
  /** Step ids used more than once, with every step that used them. */
  duplicates: Map<string, Step[]>;
}

export function buildStepGraph(journey: Pick<Journey, 'steps'>): StepGraph {
  const nodes = new Map<string, StepNode>();
  const order: Step[] = [];
  const seen = new Map<string, Step[]>();

  const firstOf = (target: Target | null, after: string | null): string | null => {
    if (!target) return after;
    return target.kind === 'goto' ? target.step : (target.steps[0]?.id ?? after);
  };

  const visit = (steps: Step[], after: string | null): void => {
    steps.forEach((step, i) => {
      const fallthrough = steps[i + 1]?.id ?? after;
      const next = step.next ?? fallthrough;
      order.push(step);
      seen.set(step.id, [...(seen.get(step.id) ?? []), step]);
      const references: StepNode['references'] = [];
      if (step.next) references.push({ id: step.next, path: [...step.path, 'next'], role: 'next' });
      const successors: (string | null)[] = [];
      switch (step.kind) {
        case 'send':
        case 'wait':
        case 'update':
        case 'sync':
          successors.push(next);
          break;
        case 'wait_for':
          successors.push(step.onEvent ?? next, step.onTimeout ?? next);
          if (step.onEvent) references.push({ id: step.onEvent, path: [...step.path, 'wait_for', 'on_event'], role: 'on_event' });
          if (step.onTimeout) references.push({ id: step.onTimeout, path: [...step.path, 'wait_for', 'on_timeout'], role: 'on_timeout' });
          if (step.of) references.push({ id: step.of, path: [...step.path, 'wait_for', 'of'], role: 'of' });
          break;
        case 'branch':
          for (const c of step.cases) successors.push(firstOf(c.then, next));
          successors.push(firstOf(step.otherwise, next));
          for (const t of [...step.cases.map((c) => c.then), step.otherwise]) {
            if (t?.kind === 'goto') references.push({ id: t.step, path: t.path, role: 'then' });
            if (t?.kind === 'steps') visit(t.steps, next);
          }
          break;
        case 'split':
          for (const v of step.variants) {
            successors.push(firstOf(v.then, next));
            if (v.then?.kind === 'goto') references.push({ id: v.then.step, path: v.then.path, role: 'then' });
            if (v.then?.kind === 'steps') visit(v.then.steps, next);
          }
          break;
        case 'exit':
          break;
        default: {
          const never: never = step;
          throw new Error(`unknown step kind ${(never as Step).kind}`);
        }
      }
      // A step with a 'when' that does not hold is skipped: the customer moves on.
      if (step.when) successors.push(next);
      if (!nodes.has(step.id)) {
        nodes.set(step.id, { step, fallthrough, successors: [...new Set(successors.filter((s): s is string => s !== null))], references });
      }
    });
  };
  visit(journey.steps, null);

  const duplicates = new Map([...seen].filter(([, steps]) => steps.length > 1));
  return { entry: journey.steps[0]?.id ?? null, nodes, order, duplicates };
}

/** The step ids reachable from the first step. */
export function reachable(graph: StepGraph): Set<string> {
  return graph.entry ? reachableFrom(graph, graph.entry) : new Set();
}

/** The step ids reachable from one step, optionally only through steps of a given set. */
export function reachableFrom(graph: StepGraph, start: string, within?: Set<string>): Set<string> {
  const out = new Set<string>();
  const stack = [start];
  while (stack.length) {
    const id = stack.pop()!;
    if (out.has(id) || !graph.nodes.has(id) || (within && !within.has(id))) continue;
    out.add(id);
    stack.push(...graph.nodes.get(id)!.successors);
  }
  return out;
}

/** Strongly connected groups of steps that form a loop (Tarjan), each in written order. */
export function loops(graph: StepGraph): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  const strong = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.nodes.get(v)?.successors ?? []) {
      if (!graph.nodes.has(w)) continue;
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      const selfLoop = graph.nodes.get(v)!.successors.includes(v);
      if (group.length > 1 || selfLoop) {
        const rank = new Map(graph.order.map((s, i) => [s.id, i]));
        out.push(group.sort((a, b) => rank.get(a)! - rank.get(b)!));
      }
    }
  };
  for (const s of graph.order) if (!idx.has(s.id)) strong(s.id);
  return out;
}

/** Every step of a journey, nested ones included, in the order written. */
export function stepsOf(journey: Pick<Journey, 'steps'>): Step[] {
  return buildStepGraph(journey).order;
}
