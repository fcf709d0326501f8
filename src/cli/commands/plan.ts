import { Command } from 'commander';
import { shownText } from '../../pii.js';
import { planProject, type JourneyPlan, type PlannedStep, type ProjectPlan, type TestModePlan } from '../../engine/plan.js';
import { describeUnsetEnvRef, unsetEnvRefs } from '../../project/checks/env-refs.js';
import { openProject } from '../../project/open-project.js';
import { storePathFor } from '../../project/paths.js';
import { MAX_SAMPLE, wholeNumberFlag } from '../flags.js';
import { segmentChangeLines } from '../format/segment-changes.js';
import { chalk, printJson } from '../output.js';
import { clockNow, projectDir } from '../project-option.js';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('a dry run: who would enter each journey at the next tick, what it would send, and what edits do to customers inside')
    .argument('[journeys...]', 'journey ids or files (default: all)')
    .option('--sample <n>', 'customer ids to show per journey', '5')
    .option('--json', 'print one JSON object')
    .addHelpText(
      'after',
      '\nWhat the next tick does (enter, queue, defer, skip, exit, complete) comes from the tick itself, run on the store inside a transaction that is rolled back: the same numbers `journey run --dry-run` prints at this --now.\n' +
        '\nExit codes (like terraform plan -detailed-exitcode): 0 nothing to change, 2 journeys are new, changed or removed, 1 errors (an unknown journey, no store, ...), 64 usage error (a bad --sample, an unknown flag).',
    )
    .action((only: string[], opts: { sample: string; json?: boolean }, cmd: Command) => {
      // a usage error's 64, never 2: to plan's reader (CI) 2 means "changes"
      const sample = wholeNumberFlag(opts.sample, '--sample', { min: 0, max: MAX_SAMPLE }, '10');
      const root = projectDir(cmd);
      const project = openProject(root);
      // said before the plan, on stderr: a provider that cannot start sends nothing at the next run
      for (const u of unsetEnvRefs(project.config, process.env)) process.stderr.write(`${chalk.yellow('warning')} ${project.config.file ?? ''}: ${describeUnsetEnvRef(u)}\n  ${chalk.dim('hint:')} ${u.hint}\n`);
      const plan = planProject(project, { now: clockNow(cmd), storePath: storePathFor(root), only, sample });
      if (opts.json) printJson(plan);
      else process.stdout.write(human(plan));
      process.exitCode = plan.changes ? 2 : 0;
    });
}

const n = (x: number) => x.toLocaleString('en-US');

const STATUS: Record<JourneyPlan['status'], (s: string) => string> = {
  new: (s) => chalk.green(`+ ${s}`),
  changed: (s) => chalk.yellow(`~ ${s}`),
  removed: (s) => chalk.red(`- ${s}`),
  unchanged: (s) => chalk.dim(`  ${s}`),
};

function journey(p: JourneyPlan): string[] {
  const version = p.status === 'new' ? 'new, never run' : p.status === 'changed' ? (p.diff === null ? `v${p.version.deployed}, its segments changed` : `changed since v${p.version.deployed}`) : p.status === 'removed' ? `removed (was v${p.version.deployed})` : `v${p.version.deployed}, unchanged`;
  const lines = [`${STATUS[p.status](chalk.bold(p.journey))} ${chalk.dim(`${p.file ?? ''} — ${version}${p.enabled ? '' : ', paused'}`)}`];
  lines.push(`    trigger   ${p.trigger.description}${p.trigger.population !== null ? `: ${n(p.trigger.population)} customers now` : ''}`);
  lines.push(`    enter     ${chalk.bold(n(p.entering.count))}${p.entering.note ? chalk.dim(` — ${p.entering.note}`) : ''}`);
  if (p.entering.test && p.entering.count > 0) lines.push(chalk.cyan(`              as test enrolments: they use up no entry limit, cap or coupon of live sends`));
  if (p.entering.afterTest > 0) lines.push(chalk.yellow(`              ${n(p.entering.afterTest)} of them were in it in test mode only and now enter for real`));
  for (const s of p.tick?.steps ?? []) {
    const said = step(s);
    if (said) lines.push(`    step      ${s.step} ${chalk.dim(`(${s.description})`)}: ${said}`);
  }
  if (p.testMode) lines.push(...testModeLines(p.testMode));
  if (p.inside > 0) lines.push(`    inside    ${n(p.inside)} active before the tick`);
  if (p.entering.sample.length > 0) lines.push(chalk.dim(`    sample    ${p.entering.sample.map(shownText).join(', ')}`));
  for (const c of p.diff?.steps ?? []) {
    switch (c.kind) {
      case 'added':
        lines.push(chalk.green(`    + step ${c.step} added`) + chalk.dim(`: ${n(c.past)} customer(s) already past it will not get it`));
        break;
      case 'removed':
        lines.push(chalk.red(`    - step ${c.step} removed`) + chalk.dim(`: ${n(c.waiting)} customer(s) there ${c.movedTo ? `move to ${c.movedTo}` : 'exit (step_removed)'}`));
        break;
      case 'changed':
        lines.push(chalk.yellow(`    ~ step ${c.step} changed (${c.fields.join(', ')})`) + chalk.dim(`: ${n(c.waiting)} customer(s) there continue with the new version`));
        break;
      default: {
        const never: never = c;
        throw new Error(`unknown change ${JSON.stringify(never)}`);
      }
    }
  }
  if (p.diff && p.diff.settings.length > 0) lines.push(chalk.yellow(`    ~ ${p.diff.settings.join(', ')} changed`));
  lines.push(...segmentChangeLines(p.segments));
  return lines;
}

const SKIP_REASON: Record<string, string> = { when: 'its when does not hold', frequency_cap: 'frequency cap' };
const skipReason = (r: string) => SKIP_REASON[r] ?? (r.startsWith('not_reachable:') ? `not reachable on ${r.slice('not_reachable:'.length)}` : r);

/** What the tick does at a step, plainly: "50 now, 507 deferred to 08:00 customer time (quiet hours), 3 skipped (not reachable on email)". */
function step(s: PlannedStep): string {
  const parts: string[] = [];
  const send = s.description.startsWith('send ');
  if (send && (s.queued > 0 || s.deferred > 0 || s.skipped > 0)) parts.push(`${chalk.bold(n(s.queued))} now`);
  for (const d of s.deferrals) parts.push(`${n(d.count)} deferred ${s.deferredTo[d.reason] ?? d.reason}`);
  for (const k of s.skips) parts.push(`${n(k.count)} skipped (${skipReason(k.reason)})`);
  // a send's moves are its queued; other steps say how many went on
  if (!send && s.moved > 0) parts.push(`${n(s.moved)} move on`);
  if (s.completed > 0) parts.push(`${n(s.completed)} complete`);
  if (s.exited > 0) parts.push(`${n(s.exited)} exit (exit_when)`);
  return parts.join(', ');
}

/** Test mode as it is: where each channel and sync goes, and what does not go out at all. */
function testModeLines(t: TestModePlan): string[] {
  const to = [
    ...Object.entries(t.recipients).map(([ch, addresses]) => `${ch} → ${addresses.join(', ')}`),
    ...Object.entries(t.sync).map(([provider, profile]) => `sync ${provider} → ${profile}`),
  ];
  const lines = [chalk.cyan(`    test mode nothing reaches a customer: ${to.join('; ')} (at most ${t.sample} ${t.sample === 1 ? 'copy' : 'copies'} of each step per address)`)];
  const off = [...t.notSent.channels.map((c) => `${c} messages (no test recipient)`), ...t.notSent.syncs.map((p) => `syncs to ${p} (no test profile)`)];
  if (off.length) lines.push(chalk.yellow(`              not sent at all: ${off.join(', ')}`));
  return lines;
}

function human(plan: ProjectPlan): string {
  const lines = [chalk.dim(`plan at ${plan.now}`), ''];
  for (const p of plan.journeys) lines.push(...journey(p), '');
  const count = (s: JourneyPlan['status']) => plan.journeys.filter((p) => p.status === s).length;
  const total = (k: 'entered' | 'queued' | 'deferred' | 'skipped' | 'exited' | 'completed') => n(plan.journeys.reduce((a, p) => a + (p.tick?.[k] ?? 0), 0));
  lines.push(
    `${count('new')} new, ${count('changed')} changed, ${count('removed')} removed, ${count('unchanged')} unchanged; ` +
      `next tick: ${total('entered')} enter, ${total('queued')} messages queued now, ${total('deferred')} deferred, ${total('skipped')} skipped, ${total('exited')} exit, ${total('completed')} complete`,
  );
  for (const pool of plan.couponPools) if (pool.warning) lines.push(`${chalk.yellow('warning')}: ${pool.warning}`);
  return lines.join('\n') + '\n';
}
