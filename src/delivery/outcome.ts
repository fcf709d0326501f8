import type { DispatchReport } from './dispatcher.js';

/**
 * Whether delivery (`journey run --once`, `journey outbox send`) did its job, as the
 * exit code says it: 0 it did (it sent or scheduled a retry for every due message; for
 * run, also: the tick ran, or delivery was not asked for); 1 delivery could not run for
 * a provider (a missing secret, ...), whose messages stay pending; 3 delivery ran, but
 * messages of this run failed, went dead or are held in doubt, or a provider stopped
 * answering (its circuit is open): its messages wait, unsent.
 */
export interface DeliveryOutcome {
  exitCode: 0 | 1 | 3;
  /** The first line an operator reads when the exit code is not 0; null when it is. */
  problem: string | null;
  /** Outbox rows still pending after delivery (due later, to retry, or waiting for a provider); null without delivery. */
  pending: number | null;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function deliveryOutcome(delivery: DispatchReport | null, pending: number | null): DeliveryOutcome {
  if (!delivery) return { exitCode: 0, problem: null, pending };
  const lost = [...(delivery.failed ? [`${plural(delivery.failed, 'message')} failed`] : []), ...(delivery.dead ? [`${plural(delivery.dead, 'message')} went dead`] : [])];
  const lostText = lost.length > 0 ? `${lost.join(' and ')} in this run's delivery (journey outbox --status failed,dead)` : null;
  if (delivery.problems.length > 0) {
    const cannot = delivery.problems.map((p) => `for ${p.provider}: ${p.error}`).join('; ');
    return {
      exitCode: 1,
      problem: `delivery could not run ${cannot}; ${plural(pending ?? 0, 'message')} stay pending in the outbox${lostText ? `; and ${lostText}` : ''}`,
      pending,
    };
  }
  const held = delivery.held ? `${plural(delivery.held, 'message')} held in doubt: the provider may have accepted ${delivery.held === 1 ? 'it' : 'them'} (journey outbox --status in_doubt, then journey outbox resolve)` : null;
  // a provider that kept failing is left alone for a while: what it did not take waits, unsent
  const down = Object.entries(delivery.providers).filter(([, p]) => p.breaker !== 'closed' && p.pending > 0);
  const stopped = down.length
    ? down
        .map(([name, p]) => {
          const doubt = p.inDoubt - p.held;
          return `${name} stopped answering (circuit open): ${plural(p.pending, 'message')} wait${p.pending === 1 ? 's' : ''} for it${doubt ? `, ${doubt} of them in doubt (the next delivery asks ${name} whether it has ${doubt === 1 ? 'it' : 'them'})` : ''}`;
        })
        .join('; ')
    : null;
  const problems = [stopped, lostText, held].filter((p): p is string => p !== null);
  if (problems.length > 0) return { exitCode: 3, problem: problems.join('; '), pending };
  return { exitCode: 0, problem: null, pending };
}

/** Messages still waiting in the outbox: queued, in an attempt, or in doubt. */
export const notDelivered = (c: { queued: number; attempting: number; in_doubt: number }): number => c.queued + c.attempting + c.in_doubt;
