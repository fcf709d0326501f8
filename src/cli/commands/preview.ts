import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { preview, type Preview } from '../../engine/preview.js';
import { JourneyError } from '../../errors.js';
import { openProject } from '../../project/open-project.js';
import { storePathFor } from '../../project/paths.js';
import { openStore } from '../../store/open.js';
import { maskAddress, showPii, shownText } from '../../pii.js';
import { chalk, printJson, writeOutputFile } from '../output.js';
import { clockNow, projectDir } from '../project-option.js';

export function registerPreview(program: Command): void {
  program
    .command('preview')
    .description("one send step's message for one customer, as the tick would send it, and its provider's request body; sends nothing, writes nothing")
    .argument('<journey>', 'the journey id or file')
    .argument('<step>', 'the send step')
    .requiredOption('--customer <id>', "the customer whose data fills the message (an id, an alias, an e-mail address or a phone number)")
    .option('--variant <name>', "the split variant the customer is in (a variant's name, or split/variant)")
    .option('--html <file>', 'also write a page showing the message, to open in a browser')
    .option('--json', 'print one JSON object')
    .addHelpText('after', '\nExit codes: 0 the message renders and its provider would take it, 1 it would not (or bad input), 64 usage error.')
    .action((journey: string, step: string, opts: { customer: string; variant?: string; html?: string; json?: boolean }, cmd: Command) => {
      const root = projectDir(cmd);
      const project = openProject(root);
      const storePath = storePathFor(root);
      if (!existsSync(storePath)) throw new JourneyError(`no store at ${storePath}`, { hint: 'import the shop data first: journey import customers FILE' });
      const db = openStore(storePath);
      let result: Preview;
      try {
        result = preview(db, project, { journey, step, customer: opts.customer, variant: opts.variant, now: clockNow(cmd) });
      } finally {
        db.close();
      }
      const shown = masked(result);
      if (opts.html) writeOutputFile(opts.html, page(shown), '--html');
      const refused = 'error' in shown.request ? shown.request.error : null;
      // shown all the same: the template is what is being looked at; but no one should read it as what this customer gets
      if (shown.unreachable) process.stderr.write(`${chalk.yellow('warning')}: ${shown.unreachable}\n`);
      if (refused) process.stderr.write(`${chalk.red('error')}: provider ${shown.provider} would refuse this message: ${refused}\n`);
      if (opts.json) printJson(shown);
      else human(shown, opts.html ?? null);
      process.exitCode = refused ? 1 : 0;
    });
}

/** Every text of the preview with the customer's address masked (also as a form field encodes it), unless --show-pii. */
function masked(p: Preview): Preview {
  if (showPii()) return p;
  const forms = [p.to, encodeURIComponent(p.to), new URLSearchParams({ a: p.to }).toString().slice(2)].filter((f, i, all) => f !== '' && all.indexOf(f) === i);
  const mask = maskAddress(p.to);
  const hide = (text: string | null): string | null => (text === null ? null : forms.reduce((t, f) => t.split(f).join(mask), text));
  return JSON.parse(JSON.stringify(p), (_key, value: unknown) => (typeof value === 'string' ? hide(value) : value)) as Preview;
}

function human(p: Preview, htmlFile: string | null): void {
  const c = p.content;
  const lines = [
    `${chalk.bold(`${p.journey} / ${p.step}`)}${p.variant ? ` (${p.variant})` : ''} for ${shownText(p.customer)}: ${p.channel} ${p.template} via ${p.provider}`,
    `  to          ${p.to}`,
  ];
  if (p.unreachable) lines.push(chalk.yellow(`  not sent    the step skips this customer now (not_reachable:${p.channel}): shown as it would read`));
  if (p.order) lines.push(`  order       ${p.order} (the customer's latest, as an order trigger would enter with)`);
  if (c?.subject != null) lines.push(`  subject     ${c.subject}`);
  if (c?.preheader != null) lines.push(`  preheader   ${c.preheader}`);
  if (p.coupon) lines.push(`  coupon      ${p.coupon} ${chalk.dim('(drawn for this preview; the customer gets a code of their own when the step sends)')}`);
  for (const [i, r] of p.recommendations.entries()) lines.push(`  ${i === 0 ? 'products   ' : '           '} ${r.id} ${r.title ?? ''}${r.reason ? chalk.dim(` — ${r.reason}`) : ''}`);
  if (!c) lines.push(`  content     rendered by the provider's own template from the variables (see the request)`);
  if (c?.variables) {
    lines.push(`  content     rendered by the provider's own template from its provider_variables:`);
    for (const [name, value] of Object.entries(c.variables)) lines.push(`    ${name} = ${value}`);
  }
  if (c?.body != null) {
    lines.push('', chalk.bold('— message —'), c.body);
    if (p.sms) lines.push(chalk.dim(`(${p.sms.encoding}, ${p.sms.units} ${p.sms.encoding === 'GSM-7' ? 'septets' : 'UTF-16 units'}: ${p.sms.segments} SMS part${p.sms.segments === 1 ? '' : 's'})`));
  }
  if (c?.text != null) lines.push('', chalk.bold('— text part —'), c.text);
  if (c?.html != null) lines.push('', chalk.bold('— HTML part —'), htmlFile ? `${c.html.length} characters, in ${htmlFile}` : `${c.html.length} characters (--html FILE writes a page to open in a browser; --json prints it)`);
  if ('error' in p.request) lines.push('', chalk.bold('— request —'), `none: ${p.request.error}`);
  else lines.push('', chalk.bold(`— request: ${p.request.method} ${p.request.url} (${p.request.contentType}) —`), p.request.body);
  lines.push('', chalk.dim('nothing was sent or written'));
  process.stdout.write(lines.join('\n') + '\n');
}

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A page to open in a browser: the message's fields, its HTML in a frame of its own (its styles stay its own; no script runs), the text parts and the request. */
function page(p: Preview): string {
  const c = p.content;
  const row = (name: string, value: string | null | undefined) => (value == null ? '' : `<tr><th>${esc(name)}</th><td>${esc(value)}</td></tr>`);
  const request = 'error' in p.request ? `none: ${p.request.error}` : `${p.request.method} ${p.request.url}\ncontent-type: ${p.request.contentType}\n\n${p.request.body}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(`${p.journey} / ${p.step} for ${p.customer}`)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f3f3f3; color: #222 }
header, section { max-width: 760px; margin: 16px auto; background: #fff; padding: 12px 16px; border-radius: 6px }
th { text-align: left; padding-right: 16px; color: #666; font-weight: normal; vertical-align: top }
iframe { display: block; width: 100%; height: 900px; border: 0 }
pre { white-space: pre-wrap; word-break: break-word; font-size: 12px }
h1 { font-size: 16px } h2 { font-size: 14px; color: #666 }
</style></head><body>
<header><h1>${esc(`${p.journey} / ${p.step}`)}${p.variant ? ` (${esc(p.variant)})` : ''}</h1><table>
${row('customer', p.customer)}${row('to', p.to)}${row('channel', `${p.channel} via ${p.provider}, template ${p.template}`)}${row('subject', c?.subject)}${row('preheader', c?.preheader)}${row('coupon', p.coupon)}${row('order', p.order)}
</table></header>
${c?.html != null ? `<section><h2>HTML part</h2><iframe id="html-part" title="HTML part" sandbox="allow-same-origin" srcdoc="${esc(c.html)}"></iframe></section>` : ''}
${c?.text != null ? `<section><h2>Text part</h2><pre id="text-part">${esc(c.text)}</pre></section>` : ''}
${c?.body != null ? `<section><h2>Message${p.sms ? ` — ${p.sms.encoding}, ${p.sms.segments} SMS part${p.sms.segments === 1 ? '' : 's'}` : ''}</h2><pre id="body">${esc(c.body)}</pre></section>` : ''}
<section><h2>Provider request</h2><pre id="request">${esc(request)}</pre></section>
</body></html>
`;
}
