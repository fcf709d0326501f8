import { existsSync } from 'node:fs';
import { shownText } from '../../pii.js';
import { Command } from 'commander';
import { JourneyError, usageError } from '../../errors.js';
import { storePathFor } from '../../project/paths.js';
import { openStore } from '../../store/open.js';
import { forgetCustomers, hashKey, scrub, type ForgetResult } from '../../store/privacy.js';
import { chalk, printJson } from '../output.js';
import { clockNow, projectDir } from '../project-option.js';

export function registerForget(program: Command): void {
  program
    .command('forget')
    .description("erase customers (a right-to-erasure request): every row of theirs, their addresses kept only as keyed hashes so they are never messaged again")
    .argument('[customer...]', "customers: ids, ids of the shop system the imports recorded, or e-mail addresses or phone numbers")
    .option('--scrub', 'only rewrite the store without free pages and empty its write-ahead log (after a forget that another process kept from finishing that)')
    .option('--json', 'print one JSON object')
    .action((customers: string[], opts: { scrub?: boolean; json?: boolean }, cmd: Command) => {
      if (customers.length === 0 && !opts.scrub) throw usageError('name the customers to forget', 'e.g. journey forget c0000042 (or --scrub alone)');
      if (customers.length > 0 && opts.scrub) throw usageError('--scrub takes no customers: a forget scrubs anyway');
      const storePath = storePathFor(projectDir(cmd));
      if (!existsSync(storePath)) throw new JourneyError(`no store at ${storePath}`, { hint: 'nothing to forget: the project has no store yet' });
      // before the store is opened: without the key nothing is done
      const key = opts.scrub ? '' : hashKey();
      const db = openStore(storePath);
      try {
        if (opts.scrub) {
          const s = scrub(db);
          if (opts.json) printJson(s);
          else process.stdout.write(s.vacuumed && s.walCleared ? 'free pages and write-ahead log scrubbed\n' : '');
          if (!(s.vacuumed && s.walCleared)) busy(s);
          return;
        }
        const r = forgetCustomers(db, customers, { key, now: clockNow(cmd).getTime() });
        if (opts.json) printJson(r);
        else process.stdout.write(human(r));
        if (r.notFound.length > 0) {
          process.exitCode = 1;
          process.stderr.write(`${chalk.red('error')}: no customer ${r.notFound.map((c) => `'${shownText(c)}'`).join(', ')} in the store: nothing removed for ${r.notFound.length === 1 ? 'it' : 'them'}\n`);
        }
        if (!(r.vacuumed && r.walCleared)) busy(r);
      } finally {
        db.close();
      }
    });
}

function busy(s: Pick<ForgetResult, 'vacuumed' | 'walCleared'>): void {
  process.exitCode = 1;
  process.stderr.write(
    // until the checkpoint copies the rewritten pages back, the old ones stay in the database file too
    `${chalk.red('error')}: another process has the store open, so ${!s.walCleared ? 'the database file and its write-ahead log' : 'its free pages'} may still hold erased data\n` +
      `  ${chalk.dim('hint:')} stop journey run / serve / outbox send on this store, then run: journey forget --scrub\n`,
  );
}

function human(r: ForgetResult): string {
  if (r.forgotten.length === 0) return '';
  const removed = Object.entries(r.removed).map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`);
  const lines = [
    `${chalk.green('forgot')} ${r.forgotten.map(shownText).join(', ')}`,
    `  removed: ${removed.join(', ')}`,
    `  ${r.hashed} address${r.hashed === 1 ? '' : 'es'} kept as keyed hashes only, so that ${r.forgotten.length === 1 ? 'this person is' : 'these people are'} not messaged again if re-imported`,
  ];
  if (r.sharing.length > 0) lines.push(chalk.yellow(`  other customers with the same address, kept but no longer messaged: ${r.sharing.map(shownText).join(', ')}`));
  if (r.vacuumed && r.walCleared) lines.push('  free pages and write-ahead log scrubbed');
  return lines.join('\n') + '\n';
}
