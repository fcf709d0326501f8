import { existsSync } from 'node:fs';
import { shownText } from '../../pii.js';
import { Command } from 'commander';
import { JourneyError } from '../../errors.js';
import { storePathFor } from '../../project/paths.js';
import { openStore } from '../../store/open.js';
import { customerIdOf } from '../../store/customer-ref.js';
import { customerJourneys } from '../../store/reports.js';
import { chalk, printJson } from '../output.js';
import { projectDir } from '../project-option.js';

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z'));

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description("show each journey a customer is or was in: where, since when, and why they took each step")
    .argument('<customer>', "the customer's id, an id of the shop system the imports recorded, or their e-mail address or phone number")
    .option('--json', 'print one JSON object')
    .action((ref: string, opts: { json?: boolean }, cmd: Command) => {
      const storePath = storePathFor(projectDir(cmd));
      if (!existsSync(storePath)) throw new JourneyError(`no store at ${storePath}`, { hint: 'import the shop data first' });
      const db = openStore(storePath);
      try {
        const customer = customerIdOf(db, ref);
        const journeys = customerJourneys(db, customer);
        if (opts.json) return printJson({ customer, journeys });
        const lines = [chalk.bold(`customer ${shownText(customer)}`)];
        if (journeys.length === 0) lines.push(chalk.dim('  in no journey'));
        for (const { enrolment: e, log } of journeys) {
          const where = e.status === 'active' ? `at ${e.step_id} since ${iso(e.step_started_at)}, next look ${iso(e.due_at)}` : `${e.status} (${e.exit_reason}) at ${iso(e.exited_at)}`;
          lines.push('', `  ${chalk.bold(e.journey_id)} v${e.version} entered ${iso(e.entered_at)}: ${where}${e.variant ? ` variants ${e.variant}` : ''}${e.converted_at ? chalk.green(` converted ${iso(e.converted_at)} (${e.conversion_value ?? 0})`) : ''}`);
          // the step queued its message; "sent" is said only of what a provider accepted
          const outcome = (l: (typeof log)[number]) => (l.outcome === 'sent' ? `queued${l.delivery ? ` (${l.delivery === 'sent' ? 'sent: the provider accepted it' : l.delivery})` : ''}` : l.outcome);
          for (const l of log) lines.push(chalk.dim(`    ${iso(l.at)}  ${(l.step_id ?? '').padEnd(16)} ${outcome(l)}${l.detail ? `: ${l.detail}` : ''}`));
        }
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        db.close();
      }
    });
}
