/**
 * Templates as files of the project: `templates/NAME.liquid` (HTML e-mail, or the text
 * of an SMS) or `templates/NAME.mjml.liquid` (MJML, compiled to responsive HTML), each
 * opening with front matter:
 *
 *   ---
 *   channel: email
 *   subject: "Thank you, {{ customer.first_name | default: 'friend' }}"
 *   preheader: Your code inside
 *   provider_template: d-123   # optional: the provider renders, with our variables as its data
 *   provider_variables:        # a Twilio Content template's variables, each Liquid
 *     "1": "{{ customer.first_name | default: 'there' }}"
 *   locale: en                 # optional: the language of its words, for money and dates
 *   ---
 *   <p>Hello ...</p>
 *
 * Every part keeps the line its text starts on, so that a Liquid error points at the
 * template file's own line and column.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import type { Diagnostic } from '../project/diagnostic.js';
import { PROVIDER_VARIABLE_NAME, PROVIDER_VARIABLES_MAX } from './provider-variables.js';

export type TemplateFormat = 'liquid' | 'mjml';

/** A piece of Liquid text and where it starts in its file (1-based). */
export interface Located {
  text: string;
  line: number;
  col: number;
}

export interface TemplateFile {
  name: string;
  /** As displayed (relative to the working folder). */
  file: string;
  format: TemplateFormat;
  channel: string;
  subject: Located | null;
  preheader: Located | null;
  providerTemplate: string | null;
  /** A Twilio Content template's variables, in file order: each a Liquid text where it is written. */
  providerVariables: { name: string; value: Located }[] | null;
  /** The language the template is written in (BCP 47): money and dates are formatted in it; null: the customer's. */
  locale: string | null;
  body: Located;
}

const FRONT_MATTER_KEYS = ['channel', 'subject', 'preheader', 'provider_template', 'provider_variables', 'locale'] as const;

/** The template name of a file name, or null when it is not a template. */
export function templateName(fileName: string): { name: string; format: TemplateFormat } | null {
  const m = /^([a-z][a-z0-9_-]*)(\.mjml)?\.liquid$/.exec(fileName);
  return m ? { name: m[1]!, format: m[2] ? 'mjml' : 'liquid' } : null;
}

/** Every template file under a folder; problems with a file (not its Liquid) as diagnostics. */
export function loadTemplateFiles(dir: string, display: (file: string) => string): { templates: TemplateFile[]; diagnostics: Diagnostic[] } {
  const templates: TemplateFile[] = [];
  const diagnostics: Diagnostic[] = [];
  if (!existsSync(dir)) return { templates, diagnostics };
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (!entry.isFile() || entry.name.startsWith('.')) continue;
    const file = display(path.join(dir, entry.name));
    const named = templateName(entry.name);
    if (!named) {
      if (entry.name.endsWith('.liquid')) {
        diagnostics.push({ severity: 'error', code: 'template-name', file, line: 0, col: 0, message: `'${entry.name}' is not a template name`, hint: 'name templates like thank-you.liquid or thank-you.mjml.liquid (lower case, digits, - and _)' });
      }
      continue;
    }
    const parsed = parseTemplateFile(named.name, named.format, file, readFileSync(path.join(dir, entry.name), 'utf8'));
    if (parsed.template) templates.push(parsed.template);
    diagnostics.push(...parsed.diagnostics);
  }
  return { templates, diagnostics };
}

export function parseTemplateFile(name: string, format: TemplateFormat, file: string, text: string): { template?: TemplateFile; diagnostics: Diagnostic[] } {
  const problem = (line: number, col: number, message: string, hint?: string, code = 'template-front-matter'): { diagnostics: Diagnostic[] } => ({
    diagnostics: [{ severity: 'error', code, file, line, col, message, ...(hint ? { hint } : {}) }],
  });
  const normalised = text.replace(/\r\n/g, '\n');
  if (!normalised.startsWith('---\n')) return problem(1, 1, 'a template starts with front matter: a line ---, then channel: (and subject: for e-mail), then ---', 'see README, "Message content"');
  const end = normalised.indexOf('\n---', 3);
  if (end < 0 || (normalised[end + 4] !== '\n' && normalised[end + 4] !== undefined)) return problem(1, 1, 'the front matter is not closed by a line ---');
  const yamlText = normalised.slice(4, end + 1);
  const bodyStart = end + 5;
  const bodyLine = normalised.slice(0, Math.min(bodyStart, normalised.length)).split('\n').length;
  const lines = new LineCounter();
  const doc = parseDocument(yamlText, { lineCounter: lines, uniqueKeys: true, strict: true });
  if (doc.errors.length > 0) {
    const pos = lines.linePos(doc.errors[0]!.pos[0]);
    return problem(pos.line + 1, pos.col, `front matter: ${doc.errors[0]!.message.split('\n')[0]}`);
  }
  if (!isMap(doc.contents)) return problem(2, 1, 'the front matter is not a mapping of keys (channel:, subject:, ...)');
  const values: Partial<Record<(typeof FRONT_MATTER_KEYS)[number], Located>> = {};
  let providerVariables: { name: string; value: Located }[] | null = null;
  let variablesAt: { line: number; col: number } | null = null;
  for (const pair of doc.contents.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    const keyPos = lines.linePos((pair.key as { range?: number[] })?.range?.[0] ?? 0);
    if (!(FRONT_MATTER_KEYS as readonly string[]).includes(key)) {
      return problem(keyPos.line + 1, keyPos.col, `unknown front matter key '${key}'`, `the keys are ${FRONT_MATTER_KEYS.join(', ')}`);
    }
    if (key === 'provider_variables') {
      variablesAt = { line: keyPos.line + 1, col: keyPos.col };
      if (!isMap(pair.value)) return problem(keyPos.line + 1, keyPos.col, "'provider_variables' must map each variable's name to its Liquid text", 'e.g. "1": "{{ customer.first_name }}"');
      providerVariables = [];
      for (const v of pair.value.items) {
        const name = isScalar(v.key) ? String(v.key.value) : '';
        const at = lines.linePos((v.key as { range?: number[] })?.range?.[0] ?? 0);
        if (!PROVIDER_VARIABLE_NAME.test(name)) return problem(at.line + 1, at.col, `provider variable '${name}' is not a Twilio variable name`, 'a name is 1 to 16 letters, digits or _ ("1", "2", first_name)');
        if (!isScalar(v.value) || (typeof v.value.value !== 'string' && typeof v.value.value !== 'number')) return problem(at.line + 1, at.col, `provider variable '${name}' must be text`);
        const vpos = lines.linePos(v.value.range![0]);
        const vquoted = v.value.type === 'QUOTE_DOUBLE' || v.value.type === 'QUOTE_SINGLE';
        providerVariables.push({ name, value: { text: String(v.value.value), line: vpos.line + 1, col: vpos.col + (vquoted ? 1 : 0) } });
      }
      if (providerVariables.length > PROVIDER_VARIABLES_MAX) return problem(keyPos.line + 1, keyPos.col, `${providerVariables.length} provider variables: Twilio takes at most ${PROVIDER_VARIABLES_MAX}`);
      continue;
    }
    if (!isScalar(pair.value) || typeof pair.value.value !== 'string' && typeof pair.value.value !== 'number') {
      return problem(keyPos.line + 1, keyPos.col, `'${key}' must be text`);
    }
    const range = pair.value.range!;
    const pos = lines.linePos(range[0]);
    // a quoted value's text starts one column after its quote
    const quoted = pair.value.type === 'QUOTE_DOUBLE' || pair.value.type === 'QUOTE_SINGLE';
    values[key as (typeof FRONT_MATTER_KEYS)[number]] = { text: String(pair.value.value), line: pos.line + 1, col: pos.col + (quoted ? 1 : 0) };
  }
  if (!values.channel) return problem(2, 1, "the front matter needs 'channel' (email, sms, ...)");
  if (variablesAt && !values.provider_template) return problem(variablesAt.line, variablesAt.col, "'provider_variables' go with 'provider_template': they fill a Twilio Content template", 'add provider_template: HX... (the Content template SID), or remove them');
  let locale: string | null = null;
  if (values.locale) {
    try {
      locale = Intl.getCanonicalLocales(values.locale.text)[0] ?? null;
    } catch {
      locale = null;
    }
    if (!locale) return problem(values.locale.line, values.locale.col, `locale '${values.locale.text}' is not a language tag`, 'e.g. en, en-GB, pt-BR, cs');
  }
  const body: Located = { text: normalised.slice(Math.min(bodyStart, normalised.length)), line: bodyLine, col: 1 };
  const template: TemplateFile = {
    name,
    file,
    format,
    channel: values.channel.text,
    subject: values.subject ?? null,
    preheader: values.preheader ?? null,
    providerTemplate: values.provider_template?.text ?? null,
    providerVariables,
    locale,
    body,
  };
  return { template, diagnostics: [] };
}
