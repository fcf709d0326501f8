import { Command } from 'commander';
import { cronProblem } from '../../project/checks/values.js';
import { dryRun, runOnce, runOnSchedule, type RunResult } from '../../engine/run.js';
import type { DispatchNotice } from '../../delivery/dispatcher.js';
import { JourneyError, usageError } from '../../errors.js';
import { openProject } from '../../project/open-project.js';
import { storePathFor } from '../../project/paths.js';
import { chalk, printJson } from '../output.js';
import { humanNotice } from '../format/notices.js';
import { clockNow, hasNow, projectDir } from '../project-option.js';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('tick the journeys: enter customers, move them on, send (once, or on a cron schedule)')
    .option('--once', 'one tick, then deliver the outbox, then exit (for cron)')
    .option('--cron <expr>', 'stay up and tick on this schedule (five-field cron, UTC)')
    .option('--dry-run', 'show what a tick would do, on a copy of the store')
    .option('--no-deliver', 'write messages to the outbox but do not send them')
    .option('--json', 'print each tick as JSON')
    .addHelpText(
      'after',
      '\nThe tick line counts what it queued in the outbox; the delivery line counts what providers accepted (sent).\n' +
        '\nExit codes (--once):\n' +
        '  0  the tick ran, and delivery sent every due message or scheduled its retry\n' +
        '  1  it could not do its job: delivery could not run for a provider (e.g. its secret is unset; its messages stay pending),\n' +
        '     the store is locked by another runner, or the input is wrong\n' +
        '  64 usage error\n' +
        '  3  it ran, but messages of this run failed or went dead (journey outbox --status failed,dead), are held in doubt,\n' +
        '     or wait for a provider that stopped answering (circuit open)\n' +
        'The first line on stderr says why when the code is not 0. --cron prints that line for each tick and keeps going.\n' +
        'SIGINT/SIGTERM stop --cron after the current tick.',
    )
    .action(async (opts: { once?: boolean; cron?: string; dryRun?: boolean; deliver: boolean; json?: boolean }, cmd: Command) => {
      const modes = [opts.once, opts.cron !== undefined, opts.dryRun].filter(Boolean).length;
      if (modes !== 1) throw usageError('choose one of --once, --cron EXPR or --dry-run');
      if (opts.cron !== undefined) {
        const problem = cronProblem(opts.cron);
        if (problem) throw usageError(`--cron '${opts.cron}' is not a valid cron expression: ${problem}`, "e.g. --cron '*/5 * * * *'");
      }
      const root = projectDir(cmd);
      // --json: a run that cannot start still answers with its outcome on stdout, as one that ran does (the error itself goes to stderr)
      const answering = opts.json === true && opts.cron === undefined;
      const project = withOutcome(answering, () => openProject(root));
      // --now fixes the clock for one tick; a scheduled runner uses the real time
      const fixed = hasNow(cmd) ? clockNow(cmd) : null;
      const now = () => fixed ?? new Date();
      // --once: the verdict is the first line on stderr, so the dispatcher's notices wait for it
      const notices: string[] = [];
      const onNotice = (n: DispatchNotice) => (opts.once ? notices.push(humanNotice(n)) : process.stderr.write(humanNotice(n)));
      const base = { storePath: storePathFor(root), now, deliver: opts.deliver, onNotice };
      const show = (r: RunResult): void => {
        if (r.outcome.problem) process.stderr.write(`${chalk.red('error')}: ${r.outcome.problem}\n`);
        for (const line of notices.splice(0)) process.stderr.write(line);
        if (opts.json) printJson(r);
        else process.stdout.write(human(r, opts.dryRun === true));
      };
      if (opts.once) {
        const r = await runOnce(project, base).catch((err: unknown) => {
          for (const line of notices.splice(0)) process.stderr.write(line);
          if (answering) printFailedOutcome(err);
          throw err;
        });
        show(r);
        process.exitCode = r.outcome.exitCode;
        return;
      }
      if (opts.dryRun) return show(withOutcome(answering, () => dryRun(project, base)));
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      process.stderr.write(`ticking on '${opts.cron}' (UTC); Ctrl-C stops after the current tick\n`);
      await runOnSchedule(project, { ...base, cron: opts.cron!, signal: stop.signal, onTick: show });
    });
}

/** The outcome of a run that could not start, as --json gives it for one that ran: { tick: null, delivery: null, outcome }. */
function printFailedOutcome(err: unknown): void {
  if (!(err instanceof JourneyError)) return;
  printJson({ tick: null, delivery: null, outcome: { exitCode: err.exitCode, problem: err.message, pending: null } });
}

/** fn's result; when `answering`, a failure prints its outcome first (then is thrown on, for stderr and the exit code). */
function withOutcome<T>(answering: boolean, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (answering) printFailedOutcome(err);
    throw err;
  }
}

const n = (x: number) => x.toLocaleString('en-US');

function human(r: RunResult, dry: boolean): string {
  const lines = [chalk.dim(`${dry ? 'dry run' : 'tick'} at ${r.tick.now}`)];
  for (const j of r.tick.journeys) {
    const parts = [`${n(j.entered)} entered`, `${n(j.queued)} queued`, `${n(j.skipped)} skipped`, `${n(j.deferred)} deferred`, `${n(j.exited)} exited`, `${n(j.completed)} completed`, `${n(j.converted)} converted`];
    lines.push(`  ${chalk.bold(j.journey)} ${chalk.dim(`v${j.version}`)}  ${parts.join(', ')}`);
    if (j.testMode) {
      const skipped = Object.entries(j.testMode.skipped).map(([reason, k]) => `${n(k)} ${reason}`);
      lines.push(chalk.cyan(`    test mode: ${n(j.testMode.sent)} to test addresses${skipped.length ? `; skipped ${skipped.join(', ')}` : ''}`));
    }
  }
  if (r.delivery) {
    const d = r.delivery;
    // put back unattempted (a circuit open, a lookup not due yet) and in doubt: so that the counts add up to what was due
    const waiting = `${d.deferred ? `, ${n(d.deferred)} deferred` : ''}${d.inDoubt ? `, ${n(d.inDoubt)} in doubt` : ''}`;
    lines.push(`  delivery: ${n(d.sent)} sent, ${n(d.retried)} to retry, ${n(d.failed)} failed, ${n(d.dead)} dead${waiting}${d.problems.length ? chalk.red(`; ${d.problems.map((p) => `${p.provider}: ${p.error}`).join('; ')}`) : ''}`);
  } else if (!dry) {
    lines.push(chalk.dim('  delivery: not run (--no-deliver)'));
  }
  return lines.join('\n') + '\n';
}
