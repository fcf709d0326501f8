import path from 'node:path';
import { Command } from 'commander';
import { usageError } from '../../errors.js';
import { DEFAULT_DEMO_NOW, FUTURE_DIR, generateDemoData } from '../../demo-data/generate.js';
import { parseDuration } from '../../project/duration.js';
import { approxMs } from '../../time/duration.js';
import { MAX_DEMO_CUSTOMERS, MAX_DEMO_FUTURE_MS, wholeNumberFlag } from '../flags.js';
import { chalk, printJson } from '../output.js';
import { clockNow, hasNow } from '../project-option.js';

export function registerDemoData(program: Command): void {
  program
    .command('demo-data')
    .description('write a realistic demo shop as CSV files that `journey import` reads with no flags')
    .option('--customers <n>', 'how many customers (about 5 orders each on average)', '1000')
    .option('--seed <seed>', 'the same seed gives the same files, byte for byte', '1')
    .option('--out <dir>', 'where to write the files', 'demo-data')
    .option('--future <duration>', `how long after today the shop keeps trading, written to <out>/${FUTURE_DIR}/ for \`journey simulate\` (0 for none)`, '30d')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `\nThe shop's today is the global --now, by default ${new Date(DEFAULT_DEMO_NOW).toISOString()} so that the same seed gives the same files.
The main files hold the shop up to today; ${FUTURE_DIR}/ holds what happens after it (new customers, orders
and each order's status changes), which \`journey simulate\` replays as its clock reaches it.`)
    .action((flags: { customers: string; seed: string; out: string; future: string; json?: boolean }, cmd: Command) => {
      const customers = wholeNumberFlag(flags.customers, '--customers', { min: 1, max: MAX_DEMO_CUSTOMERS }, '1000');
      const future = flags.future === '0' ? null : parseDuration(flags.future);
      if (flags.future !== '0' && (!future || future.unit === 'mo' || future.unit === 'y')) {
        throw usageError(`--future '${flags.future}' is not a duration of hours, days or weeks`, 'e.g. --future 30d, or --future 0 for none');
      }
      if (future && approxMs(future) > MAX_DEMO_FUTURE_MS) throw usageError(`--future '${flags.future}' is too long: at most 366d`, 'e.g. --future 30d, or --future 0 for none');
      const result = generateDemoData({
        customers,
        seed: flags.seed,
        outDir: path.resolve(flags.out),
        now: hasNow(cmd) ? clockNow(cmd).getTime() : DEFAULT_DEMO_NOW,
        future: future ? approxMs(future) : 0,
      });
      if (flags.json) return printJson(result);
      const files = result.files.map((f) => `  ${f.file.padEnd(26)} ${f.rows.toLocaleString('en-US').padStart(12)} rows`).join('\n');
      const futureFiles = path.join(flags.out, FUTURE_DIR);
      process.stdout.write(`${chalk.green('wrote')} ${result.outDir} in ${result.seconds.toFixed(1)} s\n${files}\n` +
        `load it with: journey import customers ${path.join(flags.out, 'customers.csv')} (then products, orders, order-items, events, suppressions)\n` +
        (future ? `after today: journey import customers ${path.join(futureFiles, 'customers.csv')} (then orders, order-items), for journey simulate\n` : ''));
    });
}
