import { Command } from 'commander';
import { planProject, type JourneyPlan, type ProjectPlan, type TestModePlan } from '../../engine/plan.js';
import { usageError } from '../../errors.js';
import { openProject } from '../../project/open-project.js';
import { storePathFor } from '../../project/paths.js';
import { chalk, printJson } from '../output.js';
import { clockNow, projectDir } from '../project-option.js';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('a dry run: who would enter each journey at the next tick, what it would send, and what edits do to customers inside')
    .argument('[journeys...]', 'journey ids or files (default: all)')
    .option('--sample <n>', 'customer ids to show per journey', '5')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExit codes (like terraform plan -detailed-exitcode): 0 nothing to change, 2 journeys are new, changed or removed, 1 errors.')
    .action((only: string[], opts: { sample: string; json?: boolean }, cmd: Command) => {
      const sample = Number(opts.sample);
      if (!Number.isInteger(sample) || sample < 0) throw usageError(`--sample '${opts.sample}' is not a whole number`, 'e.g. --sample 10');
      const root = projectDir(cmd);
      const plan = planProject(openProject(root), { now: clockNow(cmd), storePath: storePathFor(root), only, sample });
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
  const version = p.status === 'new' ? 'new, never run' : p.status === 'changed' ? `changed since v${p.version.deployed}` : p.status === 'removed' ? `removed (was v${p.version.deployed})` : `v${p.version.deployed}, unchanged`;
  const lines = [`${STATUS[p.status](chalk.bold(p.journey))} ${chalk.dim(`${p.file ?? ''} — ${version}${p.enabled ? '' : ', paused'}`)}`];
  lines.push(`    trigger   ${p.trigger.description}${p.trigger.population !== null ? `: ${n(p.trigger.population)} customers now` : ''}`);
  lines.push(`    enter     ${chalk.bold(n(p.entering.count))}${p.entering.note ? chalk.dim(` — ${p.entering.note}`) : ''}`);
  if (p.entering.test && p.entering.count > 0) lines.push(chalk.cyan(`              as test enrolments: they use up no entry limit, cap or coupon of live sends`));
  if (p.entering.afterTest > 0) lines.push(chalk.yellow(`              ${n(p.entering.afterTest)} of them were in it in test mode only and now enter for real`));
  for (const s of p.firstSteps) {
    const skipped = s.reaching - s.reachable;
    // in test mode the customers are who the copies are about, not who gets them
    const test = p.testMode ? chalk.cyan(p.testMode.recipients[s.channel] ? ` (test mode: at most ${Math.min(s.reachable, p.testMode.sample)} copies each to ${p.testMode.recipients[s.channel]!.join(', ')})` : ' (test mode: not sent)') : '';
    lines.push(`    send      ${s.step}: ${s.channel} ${s.template} ${p.testMode ? 'for' : 'to'} ${chalk.bold(n(s.reachable))}${test}${skipped ? chalk.dim(` (${n(skipped)} not reachable on ${s.channel}: skipped with a reason)`) : ''}${s.guarded ? chalk.dim(' if its when holds') : ''}`);
  }
  if (p.stopsAt && p.entering.count > 0) lines.push(`    then      ${p.stopsAt}`);
  if (p.testMode) lines.push(...testModeLines(p.testMode));
  if (p.inside > 0 || p.due.length > 0) lines.push(`    inside    ${n(p.inside)} active`);
  for (const d of p.due) lines.push(`    due       ${n(d.count)} at ${d.step} → ${d.next}`);
  if (p.entering.sample.length > 0) lines.push(chalk.dim(`    sample    ${p.entering.sample.join(', ')}`));
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
  return lines;
}

/** Messages a send step writes at once: one per reachable customer, or in test mode the copies to the test addresses. */
function messagesOf(p: JourneyPlan, s: JourneyPlan['firstSteps'][number]): number {
  if (!p.testMode) return s.reachable;
  return Math.min(s.reachable, p.testMode.sample) * (p.testMode.recipients[s.channel]?.length ?? 0);
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
  lines.push(`${count('new')} new, ${count('changed')} changed, ${count('removed')} removed, ${count('unchanged')} unchanged; next tick: ${n(plan.journeys.reduce((a, p) => a + p.entering.count, 0))} enter, ${n(plan.journeys.reduce((a, p) => a + p.firstSteps.reduce((b, s) => b + messagesOf(p, s), 0), 0))} messages at once`);
  return lines.join('\n') + '\n';
}
