import { warning, type PendingDiagnostic } from '../diagnostic.js';
import { approxMs } from '../duration.js';
import type { Duration, Journey } from '../model.js';
import type { CheckContext, Finding } from './types.js';

/**
 * Entry limits and trigger timing that validate but cannot be what the author meant:
 * each does something quieter than it reads (a yearly journey that fires once, a
 * re-entry delay that the journey's own length already exceeds).
 */
export function checkEntryTiming(ctx: CheckContext): Finding[] {
  return ctx.project.journeys.flatMap((journey) => entryTiming(journey).map((diagnostic) => ({ file: journey.file, diagnostic })));
}

function entryTiming(journey: Journey): PendingDiagnostic[] {
  const out: PendingDiagnostic[] = [];
  const { trigger, entry } = journey;
  if (trigger.kind === 'date' && trigger.every) {
    if (entry.maxPerCustomer === 1) {
      out.push(
        warning(
          'entry-once-for-recurring-date',
          ['entry', 'max_per_customer'],
          `max_per_customer: 1 with every: ${trigger.every.text} enters a customer on the first occurrence only, never again`,
          'drop max_per_customer: a date trigger enters once per occurrence by default',
          'key',
        ),
      );
    }
    if (entry.reentryAfter && approxMs(entry.reentryAfter) > approxMs(trigger.every)) {
      out.push(
        warning(
          'reentry-longer-than-period',
          ['entry', 'reentry_after'],
          `reentry_after: ${entry.reentryAfter.text} is longer than the trigger's every: ${trigger.every.text}, so every other occurrence is skipped`,
          `make reentry_after shorter than ${trigger.every.text}, or drop it`,
          'key',
        ),
      );
    }
  }
  if (trigger.kind === 'date' && trigger.catchUp && trigger.catchUp.unit !== 'd' && trigger.catchUp.unit !== 'w') {
    out.push(warning('catch-up-unit', ['trigger', 'catch_up'], `catch_up counts whole days: ${trigger.catchUp.text} is taken as ${Math.ceil(approxMs(trigger.catchUp) / 86_400_000)}d`, 'write it in days or weeks (3d, 1w)'));
  }
  if (trigger.kind === 'order_placed' && entry.maxPerOrder > 1) {
    out.push(warning('max-per-order-placed', ['entry', 'max_per_order'], `an order is placed once: max_per_order: ${entry.maxPerOrder} has no effect on an order_placed trigger`, 'drop max_per_order', 'key'));
  }
  const inside = minimumStay(journey);
  if (entry.reentryAfter && inside && approxMs(entry.reentryAfter) < approxMs(inside.total)) {
    out.push(
      warning(
        'reentry-shorter-than-journey',
        ['entry', 'reentry_after'],
        `reentry_after: ${entry.reentryAfter.text} is shorter than the ${inside.text} every customer spends inside the journey (its waits), and nobody enters while inside: the real gap is at least ${inside.text}`,
        `make reentry_after at least ${inside.text}, or shorten the waits`,
        'key',
      ),
    );
  }
  return out;
}

/**
 * The least time every customer spends inside: the waits on the journey's first steps
 * up to the first step that can take some customers elsewhere (a branch, a split, a
 * guard, a jump, an exit, a wait_for that may end early). A lower bound; null when none.
 */
function minimumStay(journey: Journey): { total: Duration; text: string } | null {
  let ms = 0;
  const parts: string[] = [];
  for (const step of journey.steps) {
    if (step.when || step.next || step.kind === 'branch' || step.kind === 'split' || step.kind === 'exit' || step.kind === 'wait_for') break;
    if (step.kind !== 'wait' || !step.duration) continue;
    const d = approxMs(step.duration);
    // a wait counted from entry ends that long after entry; from the trigger, maybe sooner
    if (step.from === 'step') ms += d;
    else if (step.from === 'entry') ms = Math.max(ms, d);
    else continue;
    parts.push(step.duration.text);
  }
  if (ms === 0) return null;
  const days = Math.ceil(ms / 86_400_000);
  return { total: { amount: days, unit: 'd', text: `${days}d` }, text: parts.length === 1 ? parts[0]! : `${days}d` };
}
