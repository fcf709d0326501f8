import { Command } from 'commander';
import { migrate } from '../../store/migrate.js';
import { openSqlite } from '../../store/sqlite.js';
import { storePathFor } from '../../project/paths.js';
import { chalk, printJson } from '../output.js';
import { projectDir } from '../project-option.js';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('create the store or bring it to the latest schema (every command that uses the store does this too)')
    .option('--json', 'print the result as JSON')
    .action((flags: { json?: boolean }, cmd: Command) => {
      const file = storePathFor(projectDir(cmd));
      const db = openSqlite(file);
      try {
        const result = migrate(db);
        if (flags.json) return printJson({ store: file, ...result });
        const applied = result.applied.map((m) => `${String(m.version).padStart(3, '0')} ${m.name}`);
        process.stdout.write(
          applied.length === 0
            ? `store ${file} is up to date (schema version ${result.to})\n`
            : `${chalk.green('migrated')} ${file} from version ${result.from} to ${result.to}: ${applied.join(', ')}\n`,
        );
      } finally {
        db.close();
      }
    });
}
