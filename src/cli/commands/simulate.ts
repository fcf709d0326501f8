import { Command } from 'commander';
import { simulate, type SimulationResult } from '../../engine/simulate.js';
import { usageError } from '../../errors.js';
import { parseDuration } from '../../project/duration.js';
import { openProject } from '../../project/open-project.js';
import { storePathFor } from '../../project/paths.js';
import { approxMs } from '../../time/duration.js';
import { shownAddress } from '../format/pii.js';
import { chalk, printJson } from '../output.js';
import { projectDir } from '../project-option.js';

const time = (flag: string, text: string): Date => {
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) throw usageError(`${flag} '${text}' is not a time`, 'write an ISO 8601 time, e.g. 2026-11-25T09:00:00Z');
  return new Date(ms);
};

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
      const root = projectDir(cmd);
      const result = simulate(openProject(root), { storePath: storePathFor(root), from: time('--from', opts.from), to: time('--to', opts.to), stepMs: approxMs(step) });
      const shown = { ...result, timeline: result.timeline.map((m) => ({ ...m, address: shownAddress(m.address) })) };
      if (opts.json) printJson(shown);
      else process.stdout.write(human(shown, Number(opts.limit)));
    });
}

function human(r: SimulationResult, limit: number): string {
  const lines = [chalk.dim(`simulated ${r.ticks} ticks from ${r.from} to ${r.to}; messages recorded, not sent`), ''];
  for (const m of r.timeline.slice(0, limit)) lines.push(`${m.at.replace('.000Z', 'Z')}  ${m.journey_id}/${m.step_id}  ${m.channel} ${m.template} → ${m.customer_id} (${m.address})`);
  if (r.timeline.length > limit) lines.push(chalk.dim(`... and ${r.timeline.length - limit} more (--limit, --json)`));
  lines.push('');
  for (const j of r.journeys) {
    const exits = Object.entries(j.exits).map(([k, v]) => `${k} ${v}`).join(', ');
    const messages = Object.entries(j.messages).map(([k, v]) => `${k} ${v}`).join(', ');
    lines.push(`${chalk.bold(j.journey_id)}: ${j.entered} entered, ${j.active} still inside, ${j.completed} completed, ${j.exited} exited${exits ? ` (${exits})` : ''}, ${j.converted} converted (${j.revenue.toFixed(2)} revenue)`);
    if (messages) lines.push(chalk.dim(`  messages: ${messages}`));
  }
  return lines.join('\n') + '\n';
}
