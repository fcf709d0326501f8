import chalk from 'chalk';
import { writeFileSync } from 'node:fs';
import { formatLocation, JourneyError } from '../errors.js';
import { shownText } from '../pii.js';
import { withoutSecrets } from '../secrets.js';

// chalk already turns colour off when stdout is not a terminal; NO_COLOR (no-color.org)
// is honoured here explicitly so that it wins even on a terminal.
if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') chalk.level = 0;

export { chalk };

export function printError(err: JourneyError): void {
  const where = formatLocation(err.location);
  // an import's rejected value or a provider's answer may hold an address, and errors land in
  // logs (hints are journey's own words, never data)
  const lines = [`${chalk.red('error')}${where ? ` ${chalk.bold(where)}` : ''}: ${shownText(withoutSecrets(err.message))}`];
  if (err.hint) lines.push(`  ${chalk.dim('hint:')} ${err.hint}`);
  process.stderr.write(lines.join('\n') + '\n');
}

/** Writes a command's --out / --html file; what the file system refuses is the user's to fix, not a bug. */
export function writeOutputFile(file: string, text: string, flag: string): void {
  try {
    // what these files hold is the customer's (a preview's name, order and signed links; issued codes by customer): readable by the owner only, as the store is
    writeFileSync(file, text, { mode: 0o600 });
  } catch (err) {
    throw outputFileError(file, err, flag);
  }
}

export function outputFileError(file: string, err: unknown, flag: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return err;
  const reason = code === 'ENOENT' ? 'its folder does not exist' : code === 'EISDIR' ? 'it is a folder' : code === 'ENAMETOOLONG' ? 'the name is too long' : (err as Error).message;
  return new JourneyError(`cannot write ${file}: ${reason}`, { location: { file, field: flag }, hint: `give ${flag} a file in a folder that exists and that you can write to`, cause: err });
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
