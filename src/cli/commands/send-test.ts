import { existsSync } from 'node:fs';
import { shownText } from '../../pii.js';
import { Command } from 'commander';
import { sendTest, type SendTestResult } from '../../engine/send-test.js';
import { JourneyError, usageError } from '../../errors.js';
import { openProject } from '../../project/open-project.js';
import { storePathFor } from '../../project/paths.js';
import { openStore } from '../../store/open.js';
import { chalk, printJson } from '../output.js';
import { clockNow, projectDir } from '../project-option.js';

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerSendTest(program: Command): void {
  program
    .command('send-test')
    .description("send each send step of a journey (every split variant), rendered for one real customer, to a test address; enrols nobody")
    .argument('<journey>', 'the journey id or file')
    .requiredOption('--customer <id>', "the customer whose data fills the messages (an id, an alias, an e-mail address or a phone number)")
    .requiredOption('--to <address>', 'the test address (repeat it: an e-mail address for e-mail steps, a phone number for SMS steps)', collect, [])
    .option('--step <id>', 'only this send step')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExit codes: 0 every message was accepted by its provider, 1 one was not (or bad input), 64 usage error.')
    .action(async (journey: string, opts: { customer: string; to: string[]; step?: string; json?: boolean }, cmd: Command) => {
      if (opts.to.some((a) => a.trim() === '')) throw usageError('--to is empty', 'e.g. --to team@shop.example');
      const root = projectDir(cmd);
      const project = openProject(root);
      const storePath = storePathFor(root);
      if (!existsSync(storePath)) throw new JourneyError(`no store at ${storePath}`, { hint: 'import the shop data first: journey import customers FILE' });
      const db = openStore(storePath);
      let result: SendTestResult;
      try {
        result = await sendTest(db, project, { journey, customer: opts.customer, to: opts.to.map((a) => a.trim()), step: opts.step, now: clockNow(cmd), providerOptions: { baseDir: root } });
      } finally {
        db.close();
      }
      if (opts.json) printJson(result);
      else human(result);
      process.exitCode = result.ok ? 0 : 1;
    });
}

function human(r: SendTestResult): void {
  const sent = r.sends.filter((s) => s.outcome === 'sent').length;
  const summary = `${sent} of ${r.sends.length} test message${r.sends.length === 1 ? '' : 's'} of ${r.journey} for customer ${shownText(r.customer)} accepted by the provider`;
  // what went wrong is said first, on stderr
  if (sent < r.sends.length) process.stderr.write(`${chalk.red('error')}: ${r.sends.length - sent} not sent: ${summary}\n`);
  const lines = sent === r.sends.length ? [summary] : [];
  for (const s of r.sends) {
    const what = `${s.step}${s.variant ? ` (${s.variant})` : ''}  ${s.channel} ${s.template} via ${s.provider}`;
    if (s.outcome === 'sent') lines.push(`  ${chalk.green('sent')}      ${what} → ${s.to} (${s.providerMessageId})`);
    else lines.push(`  ${chalk.red(s.outcome === 'failed' ? 'failed' : 'not sent')}  ${what}${s.to ? ` → ${s.to}` : ''}: ${s.error}`);
  }
  lines.push(chalk.dim('  nobody was enrolled; coupon codes in test messages are TEST-... and not valid'));
  process.stdout.write(lines.join('\n') + '\n');
}
