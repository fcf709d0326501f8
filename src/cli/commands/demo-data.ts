import path from 'node:path';
import { Command } from 'commander';
import { usageError } from '../../errors.js';
import { DEFAULT_DEMO_NOW, generateDemoData } from '../../demo-data/generate.js';
import { chalk, printJson } from '../output.js';
import { clockNow, hasNow } from '../project-option.js';

export function registerDemoData(program: Command): void {
  program
    .command('demo-data')
    .description('write a realistic demo shop as CSV files that `journey import` reads with no flags')
    .option('--customers <n>', 'how many customers (about 5 orders each on average)', '1000')
    .option('--seed <seed>', 'the same seed gives the same files, byte for byte', '1')
    .option('--out <dir>', 'where to write the files', 'demo-data')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', `\nThe shop's today is the global --now (nothing happens after it), by default ${new Date(DEFAULT_DEMO_NOW).toISOString()} so that the same seed gives the same files.`)
    .action((flags: { customers: string; seed: string; out: string; json?: boolean }, cmd: Command) => {
      const customers = Number(flags.customers);
      if (!Number.isInteger(customers) || customers < 1) throw usageError(`--customers "${flags.customers}" is not a positive whole number`);
      const result = generateDemoData({ customers, seed: flags.seed, outDir: path.resolve(flags.out), now: hasNow(cmd) ? clockNow(cmd).getTime() : DEFAULT_DEMO_NOW });
      if (flags.json) return printJson(result);
      const files = result.files.map((f) => `  ${f.file.padEnd(18)} ${f.rows.toLocaleString('en-US').padStart(12)} rows`).join('\n');
      process.stdout.write(`${chalk.green('wrote')} ${result.outDir} in ${result.seconds.toFixed(1)} s\n${files}\n` +
        `load it with: journey import customers ${path.join(flags.out, 'customers.csv')} (then products, orders, order-items, events, suppressions)\n`);
    });
}
