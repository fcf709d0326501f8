/** One line on stderr per dispatcher notice (`journey outbox send`, `journey run`). */
import type { DispatchNotice } from '../../delivery/dispatcher.js';
import { chalk } from '../output.js';

export function humanNotice(n: DispatchNotice): string {
  switch (n.kind) {
    case 'circuit_open':
      return `${chalk.yellow('circuit open')} ${n.provider} until ${new Date(n.until).toISOString()}: ${n.error}\n`;
    case 'circuit_closed':
      return `${chalk.green('circuit closed')} ${n.provider}\n`;
    case 'rate_limited':
      return `${chalk.yellow('rate limit used up')} ${n.provider}: waiting until ${new Date(n.until).toISOString()}\n`;
    case 'provider_unavailable':
      return `${chalk.red('provider unavailable')} ${n.provider}: ${n.error}\n`;
    case 'unknown_provider':
      return `${chalk.red('unknown provider')} ${n.provider}: ${n.rows} message(s) failed\n`;
    case 'reclaimed':
      return `${chalk.yellow('taken over')} ${n.rows} message(s) a stopped dispatcher left mid-send${n.inDoubt ? `, ${n.inDoubt} of them in doubt (their request may have arrived)` : ''}${n.dead ? `, ${n.dead} dead` : ''}\n`;
    case 'held':
      return `${chalk.yellow('held in doubt')} ${n.provider}: ${n.rows} message(s); settle them with journey outbox resolve\n`;
    default:
      return unexpected(n);
  }
}

function unexpected(value: never): never {
  throw new Error(`unexpected notice ${JSON.stringify(value)}`);
}
