import chalk from 'chalk';
import { formatLocation, type JourneyError } from '../errors.js';
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

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
