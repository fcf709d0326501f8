import { Command } from 'commander';
import { simulate, type SimulationResult } from '../../engine/simulate.js';
import { usageError } from '../../errors.js';
import { parseDuration } from '../../project/duration.js';
import { openProject } from '../../project/open-project.js';
import { storePathFor } from '../../project/paths.js';
import { approxMs } from '../../time/duration.js';
import { MAX_SIMULATE_TICKS, wholeNumberFlag } from '../flags.js';
import { shownAddress, shownText } from '../../pii.js';
import { chalk, printJson } from '../output.js';
import { projectDir, timeFlag } from '../project-option.js';

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('run ticks on a copy of the store against a moving clock, with a recorder for providers; print who got what and when')
    .requiredOption('--from <time>', 'the first tick (ISO 8601)')
    .requiredOption('--to <time>', 'the last tick at or before this time')
    .option('--step <duration>', 'time between ticks (30m, 1h, 1d)', '1h')
    .option('--limit <n>', 'messages to list in the timeline', '50')
    .option('--json', 'print one JSON object (the whole timeline)')
    .action((opts: { from: string; to: string; step: string; limit: string; json?: boolean }, cmd: Command) => {
      const step = parseDuration(opts.step);
      if (!step || step.unit === 'mo' || step.unit === 'y') throw usageError(`--step '${opts.step}' is not a duration of minutes, hours, days or weeks`, 'e.g. --step 1h');
      const limit = wholeNumberFlag(opts.limit, '--limit', { min: 0, max: Number.MAX_SAFE_INTEGER }, '50');
      const from = timeFlag('--from', opts.from);
      const to = timeFlag('--to', opts.to);
      const stepMs = approxMs(step);
      const ticks = Math.floor((to.getTime() - from.getTime()) / stepMs) + 1;
      if (ticks > MAX_SIMULATE_TICKS) {
        throw usageError(`--from ${opts.from} --to ${opts.to} --step ${opts.step} is ${ticks.toLocaleString('en-US')} ticks: at most ${MAX_SIMULATE_TICKS.toLocaleString('en-US')}`, 'a shorter period or a longer --step, e.g. --step 1d');
      }
      const root = projectDir(cmd);
      const result = simulate(openProject(root), { storePath: storePathFor(root), from, to, stepMs });
      const shown = { ...result, timeline: result.timeline.map((m) => ({ ...m, address: shownAddress(m.address) })) };
      if (opts.json) printJson(shown);
      else process.stdout.write(human(shown, limit));
    });
}

const COLUMNS = ['inside at start', 'entered', 'completed', 'exited', 'inside at end', 'messages', 'converted', 'revenue'] as const;

function human(r: SimulationResult, limit: number): string {
  const lines = [chalk.dim(`simulated ${r.ticks} ticks from ${r.from} to ${r.to}; messages recorded, not sent`), ''];
  for (const m of r.timeline.slice(0, limit)) lines.push(`${m.at.replace('.000Z', 'Z')}  ${m.journey_id}/${m.step_id}  ${m.channel} ${m.template} → ${shownText(m.customer_id)} (${m.address})`);
  if (r.timeline.length > limit) lines.push(chalk.dim(`... and ${r.timeline.length - limit} more (--limit, --json)`));
  lines.push('');
  const width = Math.max('journey'.length, ...r.journeys.map((j) => j.journey_id.length));
  const count = (n: number) => n.toLocaleString('en-US');
  const money = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const rows = r.journeys.map((j) => [
    ...[j.inside_at_start, j.entered, j.completed, j.exited, j.inside_at_end, j.sent].map(count),
    // no goal, nothing to convert: a dash, not a zero
    j.goal ? count(j.converted) : '-',
    j.goal ? money(j.revenue) : '-',
  ]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((cells) => cells[i]!.length)));
  lines.push(chalk.bold(['journey'.padEnd(width), ...COLUMNS.map((c, i) => c.padStart(widths[i]!))].join('  ')));
  r.journeys.forEach((j, k) => lines.push([j.journey_id.padEnd(width), ...rows[k]!.map((c, i) => c.padStart(widths[i]!))].join('  ')));
  lines.push(chalk.dim('inside at start + entered = completed + exited + inside at end. Completed, exited and converted count what happened in'));
  lines.push(chalk.dim('the period, also to customers who entered before it; messages counts what the sends queued (recorded, not sent), not syncs.'));
  lines.push('');
  for (const j of r.journeys) {
    const list = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${count(v)}`).join(', ');
    const parts = [
      j.goal ? `goal ${j.goal}` : '',
      Object.keys(j.completions).length > 0 ? `completed: ${list(j.completions)}` : '',
      Object.keys(j.exits).length > 0 ? `exited: ${list(j.exits)}` : '',
      Object.keys(j.messages).length > 0 ? `by step: ${list(j.messages)}` : '',
    ].filter(Boolean);
    if (parts.length > 0) lines.push(`${chalk.bold(j.journey_id)}  ${parts.join(chalk.dim(' · '))}`);
    if (j.test_mode) lines.push(chalk.cyan(`  ${j.journey_id} is in test mode: its messages went to the test addresses, not its customers; what they bought is not the journey's doing`));
  }
  return lines.join('\n') + '\n';
}
