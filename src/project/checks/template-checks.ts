/**
 * Templates: each compiles (Liquid, and MJML for .mjml.liquid), and renders, strictly,
 * for every sample customer (content/samples.ts) at every step that sends it, with
 * that step's coupon, recommendations, split variant and data. A variable or filter
 * that does not exist is an error at the template's file:line:col; a value that
 * renders as nothing for one of the samples is an error too, since a customer would
 * read the gap ("your code  ends soon"): `| default: "..."` or an `{% if %}` fixes it.
 */
import { compileTemplate, emptyOutputsAt, renderCounting, TemplateError, unknownVariables, type CompiledTemplate } from '../../content/render.js';
import { SAMPLE_CUSTOMERS, sampleVariables, type SendContext } from '../../content/samples.js';
import type { Located } from '../../content/templates.js';
import { error, type Diagnostic, type PendingDiagnostic } from '../diagnostic.js';
import type { Journey, Step, Target } from '../model.js';
import type { CheckContext, Finding } from './types.js';

/** Every send step of a journey, with the split variant it is inside (if any). */
export function sendContexts(journey: Journey): SendContext[] {
  const out: SendContext[] = [];
  const orderTrigger = journey.trigger.kind === 'order_status_changed' || journey.trigger.kind === 'order_placed';
  const visit = (steps: Step[], variant: string | null) => {
    for (const step of steps) {
      if (step.kind === 'send') out.push({ journey, step, variant, orderTrigger });
      const nested = (t: Target | null, v: string | null) => {
        if (t?.kind === 'steps') visit(t.steps, v);
      };
      if (step.kind === 'branch') {
        for (const c of step.cases) nested(c.then, variant);
        nested(step.otherwise, variant);
      }
      if (step.kind === 'split') for (const v of step.variants) nested(v.then, v.name);
    }
  };
  visit(journey.steps, null);
  return out;
}

export function checkTemplates(ctx: CheckContext): { diagnostics: Diagnostic[]; findings: Finding[] } {
  const diagnostics: Diagnostic[] = [];
  const findings: Finding[] = [];
  if (!ctx.configUsable) return { diagnostics, findings };
  const { config } = ctx.project;
  const configFile = config.file;
  const reported = new Set<string>();
  const report = (err: TemplateError, from: { file: string; path: (string | number)[] } | null) => {
    const key = `${err.template}|${err.part}|${err.line}|${err.col}|${err.message}`;
    if (reported.has(key)) return;
    reported.add(key);
    if (err.file) {
      diagnostics.push({ severity: 'error', code: 'template', file: err.file, line: err.line, col: err.col, message: err.message, hint: hintOf(err.message) });
    } else if (err.part === 'send.subject' && from) {
      findings.push({ file: from.file, diagnostic: error('template', from.path, `subject: ${err.message}`, hintOf(err.message)) });
    } else if (configFile) {
      const path = err.part.startsWith('provider_variables.') ? ['templates', err.template, 'provider_variables', err.part.slice('provider_variables.'.length)] : ['templates', err.template, err.part === 'body' ? 'body' : 'subject'];
      findings.push({ file: configFile, diagnostic: error('template', path, err.message, hintOf(err.message)) });
    }
  };

  // provider_variables fill a Twilio Content template; another provider takes our variables as they are
  for (const [name, t] of Object.entries(config.templates)) {
    if (!t.providerVariables) continue;
    const provider = config.providers[config.channels[t.channel]?.provider ?? '']?.type;
    const problem = !t.providerTemplate
      ? { message: "'provider_variables' go with 'provider_template': they fill a Twilio Content template", hint: 'add provider_template: HX... (the Content template SID), or remove them' }
      : provider && provider !== 'twilio'
        ? { message: `'provider_variables' are for Twilio Content templates; channel '${t.channel}' sends through ${provider}, which takes the variables of README, "Message content", as they are`, hint: 'remove provider_variables, or send this channel through a twilio provider' }
        : null;
    if (!problem) continue;
    if (t.source) {
      const at = t.source.providerVariables?.[0]?.value ?? t.source.body;
      diagnostics.push({ severity: 'error', code: 'template-provider-variables', file: t.source.file, line: at.line, col: at.col, message: problem.message, hint: problem.hint });
    } else if (configFile) findings.push({ file: configFile, diagnostic: error('template-provider-variables', ['templates', name, 'provider_variables'], problem.message, problem.hint) });
  }

  // the front matter's preheader goes first in the body (content/preheader.ts): MJML's own would be a second one
  for (const t of Object.values(config.templates)) {
    const source = t.source;
    const at = source?.format === 'mjml' && source.preheader ? source.body.text.search(/<mj-preview\b/i) : -1;
    if (!source || at < 0) continue;
    diagnostics.push({ severity: 'warning', code: 'template-preheader', file: source.file, ...placeIn(source.body, at), message: 'the front matter has a preheader and the MJML an <mj-preview>: inboxes would show both', hint: 'keep one of them' });
  }

  // a recommended product's price is in the product's currency; `money` alone writes the message's
  for (const t of Object.values(config.templates)) {
    const source = t.source;
    if (!source) continue;
    const text = source.body.text;
    const loops = [...text.matchAll(/\{%-?\s*for\s+(\w+)\s+in\s+recommendations\b/g)].map((m) => m[1]!);
    const products = ['recommendations(?:\\.first|\\.last|\\[\\d+\\])', ...loops].join('|');
    for (const m of text.matchAll(new RegExp(`\\{\\{-?\\s*(${products})\\.price\\s*\\|\\s*money\\s*(?=-?\\}\\}|\\|)`, 'g'))) {
      diagnostics.push({
        severity: 'warning',
        code: 'template-money-currency',
        file: source.file,
        ...placeIn(source.body, m.index!),
        message: `${m[1]}.price is in the product's currency, and | money alone writes the message's: a customer whose last order was in another currency would read the wrong price`,
        hint: `write {{ ${m[1]}.price | money: ${m[1]}.currency }}`,
      });
    }
  }

  const compiled = new Map<string, CompiledTemplate | null>();
  for (const [name, t] of Object.entries(config.templates)) {
    try {
      compiled.set(name, compileTemplate(name, t));
    } catch (err) {
      if (!(err instanceof TemplateError)) throw err;
      compiled.set(name, null);
      report(err, null);
    }
  }

  const used = new Set<string>();
  for (const journey of ctx.project.journeys) {
    for (const at of sendContexts(journey)) {
      const template = compiled.get(at.step.template);
      if (!template) continue;
      used.add(at.step.template);
      const subjectPath = [...at.step.path, 'send', 'subject'];
      // a send that names its own provider: the template's variables must still reach a Twilio Content template
      const own = at.step.provider ? config.providers[at.step.provider]?.type : undefined;
      if (own && own !== 'twilio' && config.templates[at.step.template]?.providerVariables) {
        findings.push({
          file: journey.file,
          diagnostic: error('template-provider-variables', [...at.step.path, 'send', 'provider'], `template '${at.step.template}' has provider_variables, for a Twilio Content template; this send goes through ${own}`, 'send it through a twilio provider, or use a template without provider_variables'),
        });
      }
      if (template.channel === 'email' && !template.providerTemplate && !template.parts.some((p) => p.name === 'subject') && !at.step.subject) {
        findings.push({ file: journey.file, diagnostic: error('template-subject', [...at.step.path, 'send', 'template'], `template '${template.name}' has no subject and this step gives none`, "add subject: to the template's front matter, or to this send") });
      }
      // every unknown variable, not only the first the render stops at
      for (const err of unknownVariables(template, sampleVariables(config, SAMPLE_CUSTOMERS[0]!, at))) report(err, { file: journey.file, path: subjectPath });
      for (const customer of SAMPLE_CUSTOMERS) {
        const vars = sampleVariables(config, customer, at);
        try {
          const { emptyOutputs } = renderCounting(template, vars, { subject: at.step.subject, fromSource: true, check: true });
          if (emptyOutputs > 0 && !reported.has(`empty|${template.name}|${at.journey.id}|${at.step.id}`)) {
            reported.add(`empty|${template.name}|${at.journey.id}|${at.step.id}`);
            findings.push({ file: journey.file, diagnostic: emptyFinding(template, customer.id, emptyOutputs, [...at.step.path, 'send', 'template'], emptyOutputsAt(template, vars)) });
          }
        } catch (err) {
          if (!(err instanceof TemplateError)) throw err;
          report(err, { file: journey.file, path: subjectPath });
        }
      }
    }
  }
  // a template no step sends is still rendered, with no coupon and no recommendations
  for (const [name, template] of compiled) {
    if (!template || used.has(name)) continue;
    for (const err of unknownVariables(template, sampleVariables(config, SAMPLE_CUSTOMERS[0]!, null))) report(err, null);
    for (const customer of SAMPLE_CUSTOMERS) {
      try {
        renderCounting(template, sampleVariables(config, customer, null), { fromSource: true, check: true });
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        report(err, null);
      }
    }
  }
  return { diagnostics, findings };
}

/** The line and column in the file of an offset into a text that starts at `text.line`, `text.col`. */
function placeIn(text: Located, offset: number): { line: number; col: number } {
  const before = text.text.slice(0, offset).split('\n');
  return { line: text.line + before.length - 1, col: before.length === 1 ? text.col + offset : before.at(-1)!.length + 1 };
}

function emptyFinding(t: CompiledTemplate, customer: string, n: number, path: (string | number)[], where: { file: string | null; line: number; col: number }[]): PendingDiagnostic {
  // where, so that the gap is found without a preview: file:line:col of each (the config's own templates: line:col of their text)
  const places = where.map((w) => (w.file ? `${w.file}:${w.line}:${w.col}` : `${w.line}:${w.col}`));
  const shown = places.length > 5 ? [...places.slice(0, 5), `and ${places.length - 5} more`] : places;
  return error(
    'template-empty-output',
    path,
    `template '${t.name}' prints ${n === 1 ? 'a value' : `${n} values`} as nothing for the sample customer '${customer}' at this step${shown.length ? `: ${shown.join(', ')}` : t.file ? ` (${t.file})` : ''}`,
    'give it a fallback ({{ customer.first_name | default: "there" }}) or wrap it in {% if %}; journey preview shows the message',
  );
}

function hintOf(message: string): string | undefined {
  if (message.startsWith('unknown variable')) return 'the variables are listed in README, "Message content"; a step without a coupon has coupon: null';
  if (message.startsWith('undefined filter')) return 'Liquid filters, and money and local_date';
  return undefined;
}
