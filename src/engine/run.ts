import { existsSync } from 'node:fs';
import { CronExpressionParser } from 'cron-parser';
import { dispatch, type DispatchNotice, type DispatchReport } from '../delivery/dispatcher.js';
import { deliveryOutcome, notDelivered, type DeliveryOutcome } from '../delivery/outcome.js';
import { JourneyError } from '../errors.js';
import type { Project } from '../project/model.js';
import { openStore } from '../store/open.js';
import { countByStatus } from '../store/outbox-operator.js';
import { withStoreCopy } from '../store/store-copy.js';
import { tickWithLock } from './runner.js';
import type { TickReport } from './tick.js';

export interface RunResult {
  tick: TickReport;
  delivery: DispatchReport | null;
  outcome: DeliveryOutcome;
}

export interface RunOptions {
  storePath: string;
  now: () => Date;
  deliver: boolean;
  env?: NodeJS.ProcessEnv;
  /** The dispatcher's notices (a circuit opening, a rate limit used up, a provider that cannot start). */
  onNotice?: (notice: DispatchNotice) => void;
}

/** `journey run --once`: one tick under the lock, then the outbox delivered until nothing is due. */
export async function runOnce(project: Project, opts: RunOptions): Promise<RunResult> {
  if (!existsSync(opts.storePath)) throw new JourneyError(`no store at ${opts.storePath}`, { hint: 'import the shop data first: journey import customers FILE (and orders, ...)' });
  const db = openStore(opts.storePath);
  try {
    const tick = tickWithLock(db, project, opts.now());
    const delivery = opts.deliver ? await dispatch(db, project.config, opts.env ?? process.env, { now: () => opts.now().getTime(), ...(opts.onNotice ? { onNotice: opts.onNotice } : {}) }) : null;
    return { tick, delivery, outcome: deliveryOutcome(delivery, delivery ? notDelivered(countByStatus(db)) : null) };
  } finally {
    db.close();
  }
}

/** `journey run --dry-run`: the same tick on a copy of the store, which is then thrown away. */
export function dryRun(project: Project, opts: RunOptions): RunResult {
  return withStoreCopy(opts.storePath, 'dry-run', (copy) => {
    const db = openStore(copy);
    try {
      return { tick: tickWithLock(db, project, opts.now()), delivery: null, outcome: deliveryOutcome(null, null) };
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

