import { existsSync } from 'node:fs';
import { shownText } from '../../pii.js';
import { Command, Option } from 'commander';
import { recommend, type Recommendation } from '../../engine/recommend.js';
import { JourneyError } from '../../errors.js';
import { approxMs, parseDuration } from '../../project/duration.js';
import { openProject } from '../../project/open-project.js';
import { storePathFor } from '../../project/paths.js';
import { openStore } from '../../store/open.js';
import { chalk, printJson } from '../output.js';
import { clockNow, projectDir } from '../project-option.js';

interface Flags {
  strategy: 'related' | 'popular' | 'new' | 'category';
  count: string;
  within?: string;
  category?: string;
  fallback: 'popular' | 'new' | 'none';
  includePurchased?: boolean;
  order?: string;
  json?: boolean;
}

export function registerRecommend(program: Command): void {
  program
    .command('recommend')
    .description("the products a send step's recommendations would give a customer now, and why each was chosen")
    .argument('<customer>', "the customer's id, an id of the shop system the imports recorded, or their e-mail address or phone number")
    .addOption(new Option('--strategy <name>', 'related, category, popular or new').choices(['related', 'category', 'popular', 'new']).makeOptionMandatory())
    .option('--count <n>', 'how many products', '4')
    .option('--within <duration>', "the strategy's window (related 365d, category 90d, popular 30d by default; new: no limit)")
    .option('--category <name>', 'popular: best sellers of this category only')
    .addOption(new Option('--fallback <name>', 'tops up a strategy that finds too few').choices(['popular', 'new', 'none']).default('popular'))
    .option('--include-purchased', 'also products the customer bought before (exclude_purchased: false)')
    .option('--order <id>', "related and category: start from this order of the customer's (default: their latest)")
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExit codes: 0 listed (even none), 1 bad input (an unknown customer or order, a bad --count or --within), 64 usage error.')
    .action((customer: string, flags: Flags, cmd: Command) => {
      const count = Number(flags.count);
      if (!Number.isInteger(count) || count < 1 || count > 100) throw new JourneyError(`--count '${flags.count}' is not a whole number from 1 to 100`, { location: { field: '--count' } });
      const within = flags.within === undefined ? null : parseDuration(flags.within);
      if (within === null && flags.within !== undefined) throw new JourneyError(`--within '${flags.within}' is not a duration`, { location: { field: '--within' }, hint: 'e.g. --within 90d (m, h, d, w, mo, y)' });
      const root = projectDir(cmd);
      const project = openProject(root);
      const storePath = storePathFor(root);
      if (!existsSync(storePath)) throw new JourneyError(`no store at ${storePath}`, { hint: 'import the shop data first: journey import customers FILE' });
      const db = openStore(storePath);
      let result: Recommendation;
      try {
        result = recommend(db, project, {
          customer,
          order: flags.order,
          now: clockNow(cmd),
          spec: { strategy: flags.strategy, count, withinMs: within ? approxMs(within) : null, category: flags.category ?? null, excludePurchased: flags.includePurchased !== true, fallback: flags.fallback },
        });
      } finally {
        db.close();
      }
      if (flags.json) return printJson(result);
      const basis = result.strategy === 'related' || result.strategy === 'category' ? (result.basisOrder ? `, from order ${result.basisOrder}` : ', the customer has no order to start from') : '';
      const lines = [`${chalk.bold(shownText(result.customer))}: ${result.strategy}${basis}${result.fallback !== 'none' && result.fallback !== result.strategy ? `; ${result.fallback} fills in where it finds too few` : ''}`];
      for (const p of result.products) lines.push(`  ${p.position}. ${p.id}  ${p.title ?? ''}${p.category ? chalk.dim(` [${p.category}]`) : ''}  ${chalk.dim(`— ${p.reason}`)}`);
      if (result.products.length < result.count) lines.push(chalk.yellow(`  ${result.products.length} of ${result.count}: no more products fit (in stock, for sale${flags.includePurchased ? '' : ', not bought by the customer'})`));
      process.stdout.write(lines.join('\n') + '\n');
    });
}
