import type { Journey, Step } from '../project/model.js';
import { buildStepGraph } from '../project/step-graph.js';

/** What an edit does to one step of a live journey, and to the customers it concerns. */
export type StepChange =
  | { kind: 'added'; step: string; /** customers already past the place it was added: they will not get it */ past: number }
  | { kind: 'removed'; step: string; waiting: number; movedTo: string | null }
  | { kind: 'changed'; step: string; waiting: number; fields: string[] };

export interface JourneyDiff {
  steps: StepChange[];
  /** Journey-level settings that differ: trigger, entry, exit_when, goal, policies, ... */
  settings: string[];
}

/** A step without where it stands in the file, so that moving it is not an edit. */
function comparable(step: Step): Record<string, unknown> {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>)
          .filter(([k]) => k !== 'path')
          .map(([k, x]) => [k, k === 'steps' ? (x as Step[]).map((s) => s.id) : strip(x)]),
      );
    }
    return v;
  };
  return strip(step) as Record<string, unknown>;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Compares the deployed version of a journey with the file, step by step (steps are
 * matched by id), and says for each change who it reaches: customers waiting at a
 * changed step get the new definition, those at a removed step move (removed_steps)
 * or exit, and those already past an added step do not get it.
 */
export function diffJourney(before: Journey, after: Journey, waitingByStep: Map<string, number>): JourneyDiff {
  const old = buildStepGraph(before);
  const now = buildStepGraph(after);
  const steps: StepChange[] = [];
  const order = now.order.map((s) => s.id);
  for (const step of old.order) {
    const next = now.nodes.get(step.id)?.step;
    if (!next) {
      steps.push({ kind: 'removed', step: step.id, waiting: waitingByStep.get(step.id) ?? 0, movedTo: after.removedSteps[step.id] ?? null });
      continue;
    }
    const a = comparable(step);
    const b = comparable(next);
    const fields = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !same(a[k], b[k]));
    if (fields.length > 0) steps.push({ kind: 'changed', step: step.id, waiting: waitingByStep.get(step.id) ?? 0, fields });
  }
  for (const step of now.order) {
    if (old.nodes.has(step.id)) continue;
    // customers at a step written after the new one, that existed before, are past it
    const at = order.indexOf(step.id);
    const past = order.slice(at + 1).reduce((n, id) => n + (old.nodes.has(id) ? (waitingByStep.get(id) ?? 0) : 0), 0);
    steps.push({ kind: 'added', step: step.id, past });
  }
  const settings = (['trigger', 'entry', 'exitWhen', 'goal', 'policies', 'testRecipients', 'enabled', 'name'] as const)
    .filter((k) => !same(stripPaths(before[k]), stripPaths(after[k])))
    .map((k) => (k === 'exitWhen' ? 'exit_when' : k === 'testRecipients' ? 'test_recipients' : k));
  return { steps, settings };
}

function stripPaths(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v ?? null, (k, x) => (k === 'path' ? undefined : x)));
}
