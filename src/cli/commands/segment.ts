import { Command } from 'commander';
import { openProject } from '../../project/open-project.js';
import { storePathFor } from '../../project/paths.js';
import { inspectSegment, type SegmentInspection } from '../../segments/inspect.js';
import { MAX_SAMPLE, wholeNumberFlag } from '../flags.js';
import { shownRow } from '../../pii.js';
import { chalk, printJson } from '../output.js';
import { clockNow, projectDir } from '../project-option.js';

export function registerSegment(program: Command): void {
  program
    .command('segment')
    .description('count the customers in a segment now (or at --now), with a sample, the SQL and its plan')
    .argument('<name>', 'the segment')
    .option('--sample <n>', 'also list N members with the values the rule looked at')
    .option('--sql', 'print the SQL and its parameters')
    .option('--explain', 'print the SQL and the database query plan')
    .option('--json', 'print one JSON object')
    .action((name: string, opts: { sample?: string; sql?: boolean; explain?: boolean; json?: boolean }, cmd: Command) => {
      const sample = opts.sample === undefined ? undefined : wholeNumberFlag(opts.sample, '--sample', { min: 1, max: MAX_SAMPLE }, '10');
      const root = projectDir(cmd);
      const inspected = inspectSegment(openProject(root), name, { now: clockNow(cmd), storePath: storePathFor(root), sample, sql: opts.sql, explain: opts.explain });
      const result = inspected.sample ? { ...inspected, sample: inspected.sample.map((row) => shownRow(row)) } : inspected;
      if (opts.json) printJson(result);
      else process.stdout.write(human(result));
    });
}

function human(r: SegmentInspection): string {
  const lines = [`${chalk.bold(r.segment)}: ${chalk.green(r.count.toLocaleString('en-US'))} customer${r.count === 1 ? '' : 's'} ${chalk.dim(`(at ${r.now}, ${r.ms.toFixed(0)} ms)`)}`];
  if (r.description) lines.push(chalk.dim(r.description));
  if (r.sample) {
    lines.push('');
    if (r.sample.length === 0) lines.push(chalk.dim('no members'));
    else {
      const keys = Object.keys(r.sample[0]!);
      const cells = r.sample.map((row) => keys.map((k) => formatCell(k, row[k])));
      const widths = keys.map((k, i) => Math.max(k.length, ...cells.map((c) => c[i]!.length)));
      lines.push(keys.map((k, i) => chalk.bold(k.padEnd(widths[i]!))).join('  '));
      for (const c of cells) lines.push(c.map((v, i) => v.padEnd(widths[i]!)).join('  '));
    }
  }
  if (r.sql) {
    lines.push('', chalk.bold('SQL'), r.sql.text, '', chalk.bold('parameters'), ...r.sql.params.map((p, i) => `  ${i + 1}: ${JSON.stringify(p)}`));
  }
  if (r.plan) lines.push('', chalk.bold('query plan'), ...r.plan);
  return lines.join('\n') + '\n';
}

function formatCell(key: string, v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'number' && /_at$/.test(key)) return new Date(v).toISOString().replace('.000Z', 'Z');
  if (typeof v === 'number' && !Number.isInteger(v)) return v.toFixed(2);
  return String(v);
}
