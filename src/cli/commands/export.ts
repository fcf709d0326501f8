import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { Command } from 'commander';
import { JourneyError } from '../../errors.js';
import { storePathFor } from '../../project/paths.js';
import { openStore } from '../../store/open.js';
import { exportCustomer } from '../../store/privacy.js';
import { chalk } from '../output.js';
import { clockNow, projectDir } from '../project-option.js';

export function registerExport(program: Command): void {
  program
    .command('export')
    .description("everything the store holds about a customer, as JSON (a data access request); addresses are not masked: it is the person's own data")
    .argument('<customer>', "the customer's id, an id of the shop system the imports recorded, or their e-mail address or phone number")
    .option('--out <file>', 'write to this file (created readable by its owner only) instead of stdout')
    .action((customer: string, opts: { out?: string }, cmd: Command) => {
      const storePath = storePathFor(projectDir(cmd));
      if (!existsSync(storePath)) throw new JourneyError(`no store at ${storePath}`, { hint: 'import the shop data first' });
      const db = openStore(storePath);
      let text: string;
      try {
        const data = exportCustomer(db, customer, clockNow(cmd));
        if (data === null) throw new JourneyError(`no customer '${customer}' in the store`, { hint: 'an erased customer (journey forget) has nothing left to export' });
        text = JSON.stringify(data, null, 2) + '\n';
      } finally {
        db.close();
      }
      if (opts.out === undefined) return void process.stdout.write(text);
      let fd: number;
      try {
        fd = openSync(opts.out, 'wx', 0o600);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new JourneyError(code === 'EEXIST' ? `${opts.out} already exists` : `cannot create ${opts.out}: ${(err as Error).message}`, {
          hint: code === 'EEXIST' ? 'name a new file: an export is not written over another file' : undefined,
        });
      }
      try {
        writeSync(fd, text);
      } finally {
        closeSync(fd);
      }
      process.stderr.write(`${chalk.green('exported')} ${customer} to ${opts.out}\n`);
    });
}
