import { existsSync } from 'node:fs';
import { CronExpressionParser } from 'cron-parser';
import { dispatch, type DispatchNotice, type DispatchReport } from '../delivery/dispatcher.js';
import { JourneyError } from '../errors.js';
import type { Project } from '../project/model.js';
import { openStore } from '../store/open.js';
import { countByStatus, type OutboxStatus } from '../store/outbox.js';
import { withStoreCopy } from '../store/store-copy.js';
import { tickWithLock } from './runner.js';
import type { TickReport } from './tick.js';

export interface RunResult {
  tick: TickReport;
  delivery: DispatchReport | null;
  outcome: RunOutcome;
}

/**
 * Whether `journey run` did its job, as its exit code says it: 0 it did (the tick ran,
 * and delivery, when asked for, sent or scheduled a retry for every due message);
 * 1 delivery could not run for a provider (a missing secret, ...), whose messages stay
 * pending; 3 the tick and delivery ran, but messages of this run failed or went dead.
 */
export interface RunOutcome {
  exitCode: 0 | 1 | 3;
  /** The first line an operator reads when the exit code is not 0; null when it is. */
  problem: string | null;
  /** Outbox rows still pending after delivery (due later, to retry, or waiting for a provider); null without delivery. */
  pending: number | null;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function outcomeOf(delivery: DispatchReport | null, pending: number | null): RunOutcome {
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
  const problems = [lostText, held].filter((p): p is string => p !== null);
  if (problems.length > 0) return { exitCode: 3, problem: problems.join('; '), pending };
  return { exitCode: 0, problem: null, pending };
}

export interface RunOptions {
  storePath: string;
  now: () => Date;
  deliver: boolean;
  env?: NodeJS.ProcessEnv;
  /** The dispatcher's notices (a circuit opening, a rate limit used up, a provider that cannot start). */
  onNotice?: (notice: DispatchNotice) => void;
}

/** Messages still waiting in the outbox: queued, in an attempt, or in doubt. */
const notDelivered = (c: Record<OutboxStatus, number>) => c.queued + c.attempting + c.in_doubt;

/** `journey run --once`: one tick under the lock, then the outbox delivered until nothing is due. */
export async function runOnce(project: Project, opts: RunOptions): Promise<RunResult> {
  if (!existsSync(opts.storePath)) throw new JourneyError(`no store at ${opts.storePath}`, { hint: 'import the shop data first: journey import customers FILE (and orders, ...)' });
  const db = openStore(opts.storePath);
  try {
    const tick = tickWithLock(db, project, opts.now());
    const delivery = opts.deliver ? await dispatch(db, project.config, opts.env ?? process.env, { now: () => opts.now().getTime(), ...(opts.onNotice ? { onNotice: opts.onNotice } : {}) }) : null;
    return { tick, delivery, outcome: outcomeOf(delivery, delivery ? notDelivered(countByStatus(db)) : null) };
  } finally {
    db.close();
  }
}

/** `journey run --dry-run`: the same tick on a copy of the store, which is then thrown away. */
export function dryRun(project: Project, opts: RunOptions): RunResult {
  return withStoreCopy(opts.storePath, 'dry-run', (copy) => {
    const db = openStore(copy);
    try {
      return { tick: tickWithLock(db, project, opts.now()), delivery: null, outcome: outcomeOf(null, null) };
    } finally {
      db.close();
    }
  });
}

/** The next time a five-field cron expression fires after `from`. */
export function nextCronTime(expr: string, from: Date): Date {
  return CronExpressionParser.parse(expr, { currentDate: from, tz: 'UTC' }).next().toDate();
}

/**
 * `journey run --cron EXPR`: ticks on schedule until the signal aborts; a stop
 * request waits for the current tick (and its delivery) to finish.
 */
export async function runOnSchedule(project: Project, opts: RunOptions & { cron: string; signal: AbortSignal; onTick: (r: RunResult) => void }): Promise<void> {
  while (!opts.signal.aborted) {
    const at = nextCronTime(opts.cron, new Date());
    await sleepUntil(at, opts.signal);
    if (opts.signal.aborted) return;
    opts.onTick(await runOnce(project, opts));
  }
}

function sleepUntil(at: Date, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, at.getTime() - Date.now()));
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

