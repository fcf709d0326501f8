/**
 * The one renderer of message content. A template is compiled once per process (Liquid
 * parsed; MJML compiled to HTML with its Liquid kept as text) and rendered per message,
 * in strict mode, from the variables of variables.ts. What it returns is what the
 * customer reads: the outbox row stores it, and the providers put it in their requests
 * as it is.
 */
import { createRequire } from 'node:module';
import { Drop } from 'liquidjs';
import type { Config } from '../project/model.js';
import { htmlToText } from './html-text.js';
import { withPreheader } from './preheader.js';
import { countingEmpty, EMPTY_OUTPUT, FORMAT_LOCALE, liquid, type Template } from './liquid.js';
import { smsSegments, type SmsSegments } from './sms.js';
import { PROVIDER_VARIABLE_MAX_LENGTH } from './provider-variables.js';
import type { Located } from './templates.js';
import type { MessageVariables } from './variables.js';

export interface RenderedMessage {
  /** E-mail: the subject, the preheader, the HTML and its text part. */
  subject: string | null;
  preheader: string | null;
  html: string | null;
  text: string | null;
  /** SMS and other text channels: the message. */
  body: string | null;
  /** A Twilio Content template's variables, rendered (only when the template declares provider_variables). */
  variables?: Record<string, string>;
}

/** A problem with a template's Liquid or MJML, where it is: the template file (line and column in it), or the config. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly template: string,
    readonly part: 'subject' | 'preheader' | 'body' | 'send.subject' | `provider_variables.${string}`,
    /** The template file as displayed, or null for a template written in journey.config.yaml. */
    readonly file: string | null,
    readonly line: number,
    readonly col: number,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

interface Part {
  name: 'subject' | 'preheader' | 'body' | `provider_variables.${string}`;
  source: Located;
  /** What renders at send time (for MJML: the compiled HTML, its Liquid kept as text). */
  text: string;
  tree: Template[];
  /** The source's own tree, whose errors have the source's positions (differs from tree for MJML only). */
  sourceTree: Template[];
  kind: 'html' | 'text';
}

export interface CompiledTemplate {
  name: string;
  channel: string;
  providerTemplate: string | null;
  /** The template's language, for money and dates (front matter locale); null: the customer's locale. */
  locale: string | null;
  /** E-mail (HTML with a text part) or a text message. */
  html: boolean;
  file: string | null;
  parts: Part[];
}

type Mjml = (source: string, options: Record<string, unknown>) => { html: string; errors: { line: number; message: string; tagName?: string }[] };
let mjmlCompiler: Mjml | undefined;

/** MJML's compiler, loaded only by projects that have MJML templates (it takes a second to load). */
function mjml(): Mjml {
  mjmlCompiler ??= createRequire(import.meta.url)('mjml') as Mjml;
  return mjmlCompiler;
}

/** Liquid's messages end with ", line:2, col:6"; the position is given apart. */
const bare = (message: string) => message.replace(/, line:\d+, col:\d+$/, '').replace(/^undefined variable/, 'unknown variable');

/** The error of a liquidjs exception at its place in a located text. */
export function liquidError(err: unknown, template: string, part: TemplateError['part'], file: string | null, at: Located): TemplateError {
  const e = err as { message?: string; token?: { getPosition?: () => [number, number] } };
  const [line, col] = e.token?.getPosition?.() ?? [1, 1];
  return new TemplateError(bare(e.message ?? String(err)), template, part, file, at.line + line - 1, line === 1 ? at.col + col - 1 : col);
}

/** Compiles a template of the config; throws a TemplateError where its Liquid or MJML is wrong. */
export function compileTemplate(name: string, t: Config['templates'][string]): CompiledTemplate {
  const file = t.source?.file ?? null;
  const html = t.source ? t.source.format === 'mjml' || t.channel === 'email' : t.channel === 'email';
  const parts: Part[] = [];
  const add = (partName: Part['name'], source: Located | null, kind: 'html' | 'text', compiled?: (text: string) => string) => {
    if (!source) return;
    let sourceTree: Template[];
    try {
      sourceTree = liquid(kind).parse(source.text);
    } catch (err) {
      throw liquidError(err, name, partName, file, source);
    }
    let tree = sourceTree;
    let text = source.text;
    if (compiled) {
      const out = (text = compiled(source.text));
      try {
        tree = liquid(kind).parse(out);
      } catch (err) {
        throw new TemplateError(`MJML moved Liquid where it no longer parses (${bare((err as Error).message)}); put Liquid tags between sections in <mj-raw>`, name, partName, file, source.line, 1);
      }
    }
    parts.push({ name: partName, source, text, tree, sourceTree, kind });
  };
  if (t.source) {
    add('subject', t.source.subject, 'text');
    add('preheader', t.source.preheader, 'text');
    for (const v of t.source.providerVariables ?? []) add(`provider_variables.${v.name}`, v.value, 'text');
    if (!t.providerTemplate) {
      const body = t.source.body;
      add('body', body, html ? 'html' : 'text', t.source.format === 'mjml' ? (text) => compileMjml(name, file!, body, text) : undefined);
    }
  } else {
    add('subject', t.subject === null ? null : { text: t.subject, line: 1, col: 1 }, 'text');
    for (const [name, text] of Object.entries(t.providerVariables ?? {})) add(`provider_variables.${name}`, { text, line: 1, col: 1 }, 'text');
    if (!t.providerTemplate) add('body', t.body === null ? null : { text: t.body, line: 1, col: 1 }, html ? 'html' : 'text');
  }
  return { name, channel: t.channel, providerTemplate: t.providerTemplate, locale: t.source?.locale ?? null, html, file, parts };
}

/** A compiled template as plain data (what renders, without parsed trees), to hand to a render thread. */
export type PortableTemplate = Omit<CompiledTemplate, 'parts'> & { parts: Omit<Part, 'tree' | 'sourceTree'>[] };

export function portableTemplate(t: CompiledTemplate): PortableTemplate {
  return { ...t, parts: t.parts.map(({ name, source, text, kind }) => ({ name, source, text, kind })) };
}

/** The template back from its plain data: its Liquid parsed again (it parsed before, so it does again), MJML not compiled again. */
export function fromPortable(t: PortableTemplate): CompiledTemplate {
  return {
    ...t,
    parts: t.parts.map((p) => {
      const tree = liquid(p.kind).parse(p.text);
      return { ...p, tree, sourceTree: p.text === p.source.text ? tree : liquid(p.kind).parse(p.source.text) };
    }),
  };
}

function compileMjml(name: string, file: string, at: Located, text: string): string {
  const result = mjml()(text, { validationLevel: 'soft', keepComments: false });
  const problem = result.errors[0];
  if (problem) throw new TemplateError(`MJML: ${problem.message}`, name, 'body', file, at.line + problem.line - 1, 1);
  return result.html;
}

export interface RenderOptions {
  /** Liquid that replaces the template's subject (send.subject). */
  subject?: string | null;
  /** Render the source (positions of the file as written) rather than the compiled MJML: validate's errors point at the file. */
  fromSource?: boolean;
  /** Validate's sample customers: with liquid.ts's 'check' engine, which finds a misspelt variable under `| default:` too. */
  check?: boolean;
}

const subjectTrees = new Map<string, Template[]>();

/** Text in which Liquid sees nothing but text: it renders as it is. */
const isPlain = (text: string) => !text.includes('{{') && !text.includes('{%');

/** Renders a compiled template; throws a TemplateError for a variable the data lacks. */
export function renderTemplate(t: CompiledTemplate, vars: MessageVariables, opts: RenderOptions = {}): RenderedMessage {
  const out: RenderedMessage = { subject: null, preheader: null, html: null, text: null, body: null };
  const scope = vars as unknown as Record<string, unknown>;
  // the money and local_date filters read it: an English template prints English dates to every customer
  const renderOptions = { globals: { [FORMAT_LOCALE]: t.locale } };
  const mode = opts.check ? 'check' : 'send';
  for (const part of t.parts) {
    let value: string;
    try {
      // text without Liquid ("Picked for you") is itself: no render context made for it, once per message
      const text = opts.fromSource ? part.source.text : part.text;
      value = isPlain(text) ? text : (liquid(part.kind, mode).renderSync(opts.fromSource ? part.sourceTree : part.tree, scope, renderOptions) as string);
    } catch (err) {
      throw liquidError(err, t.name, part.name, t.file, part.source);
    }
    if (part.name.startsWith('provider_variables.')) {
      const name = part.name.slice('provider_variables.'.length);
      const text = value.trim();
      if (text === '') throw new TemplateError(`provider variable '${name}' renders empty: Twilio refuses an empty variable`, t.name, part.name, t.file, part.source.line, part.source.col);
      if (text.length > PROVIDER_VARIABLE_MAX_LENGTH) {
        throw new TemplateError(`provider variable '${name}' renders to ${text.length} characters: Twilio takes at most ${PROVIDER_VARIABLE_MAX_LENGTH}`, t.name, part.name, t.file, part.source.line, part.source.col);
      }
      (out.variables ??= {})[name] = text;
    } else if (part.name === 'body') {
      if (t.html) {
        out.html = value;
        out.text = htmlToText(value);
      } else {
        out.body = value.trim();
      }
    } else {
      out[part.name as 'subject' | 'preheader'] = value.trim();
    }
  }
  // after the text part was made: the preheader is for the inbox's preview, not a line of the message
  if (out.html !== null && out.preheader) out.html = withPreheader(out.html, out.preheader);
  if (opts.subject) {
    let tree = subjectTrees.get(opts.subject);
    try {
      if (!tree) subjectTrees.set(opts.subject, (tree = liquid('text').parse(opts.subject)));
      out.subject = (liquid('text', mode).renderSync(tree, scope, renderOptions) as string).trim();
    } catch (err) {
      throw liquidError(err, t.name, 'send.subject', null, { text: opts.subject, line: 1, col: 1 });
    }
  }
  return out;
}

/**
 * Every variable of the template's source that the variables lack, each where it is
 * written: rendering stops at the first, and validate reports all of a project's errors
 * in one run. Read from Liquid's own analysis of the template, and only where it is sure:
 * a path through null, a list it cannot index, or a customer's attributes (any name may
 * be there) is left to the render.
 */
export function unknownVariables(t: CompiledTemplate, vars: MessageVariables): TemplateError[] {
  const out: TemplateError[] = [];
  for (const part of t.parts) {
    const analysis = liquid(part.kind, 'check').analyzeSync(part.sourceTree);
    for (const found of Object.values(analysis.globals).flat()) {
      if (!isUnknown(vars as unknown as Record<string, unknown>, found.segments)) continue;
      const { row, col } = found.location;
      out.push(new TemplateError(`unknown variable: ${found.toString()}`, t.name, part.name, t.file, part.source.line + row - 1, row === 1 ? part.source.col + col - 1 : col));
    }
  }
  return out;
}

/** Whether a path of segments certainly names nothing in the variables. */
function isUnknown(scope: Record<string, unknown>, segments: readonly unknown[]): boolean {
  let value: unknown = scope;
  for (const segment of segments) {
    if (typeof segment !== 'string' && typeof segment !== 'number') return false;
    if (value === null || value === undefined || value instanceof Drop) return false;
    if (Array.isArray(value)) {
      if (segment === 'size') return false;
      value = segment === 'first' ? value[0] : segment === 'last' ? value[value.length - 1] : typeof segment === 'number' ? value[segment] : undefined;
      if (value === undefined) return false;
      continue;
    }
    if (typeof value !== 'object') return false;
    if (!Object.prototype.hasOwnProperty.call(value, segment)) return segment !== 'size';
    value = (value as Record<string | number, unknown>)[segment];
  }
  return false;
}

const locateTrees = new WeakMap<Part, Template[]>();

/**
 * Where the template prints nothing for these variables: each output's place in its
 * file (or its line and column in the config's text), in order.
 */
export function emptyOutputsAt(t: CompiledTemplate, vars: MessageVariables): { file: string | null; line: number; col: number }[] {
  const out: { file: string | null; line: number; col: number }[] = [];
  const scope = vars as unknown as Record<string, unknown>;
  for (const part of t.parts) {
    if (isPlain(part.source.text)) continue;
    try {
      // parsed again by that engine: an output's escape is the parsing engine's
      let tree = locateTrees.get(part);
      if (!tree) locateTrees.set(part, (tree = liquid(part.kind, 'locate').parse(part.source.text)));
      liquid(part.kind, 'locate').renderSync(tree, scope, { globals: { [FORMAT_LOCALE]: t.locale } });
    } catch (err) {
      for (const e of leafErrors(err)) {
        if (!String((e as Error).message).startsWith(EMPTY_OUTPUT)) continue;
        const at = liquidError(e, t.name, part.name, t.file, part.source);
        out.push({ file: at.file, line: at.line, col: at.col });
      }
    }
  }
  return out;
}

/** Every error of a render that went on past each (catchAllErrors): they nest as the tags that hold them do. */
function leafErrors(err: unknown): unknown[] {
  const nested = (err as { errors?: unknown[] }).errors;
  return nested ? nested.flatMap(leafErrors) : [err];
}

/** Renders and counts the outputs that came out empty (validate, tests). */
export function renderCounting(t: CompiledTemplate, vars: MessageVariables, opts: RenderOptions = {}): { message: RenderedMessage; emptyOutputs: number } {
  const { value, empty } = countingEmpty(() => renderTemplate(t, vars, opts));
  return { message: value, emptyOutputs: empty };
}

/** Compiled templates of one config, each compiled once. */
export class TemplateSet {
  private readonly compiled = new Map<string, CompiledTemplate>();

  constructor(private readonly config: Config) {}

  get(name: string): CompiledTemplate | undefined {
    let t = this.compiled.get(name);
    if (!t) {
      const def = this.config.templates[name];
      if (!def) return undefined;
      t = compileTemplate(name, def);
      this.compiled.set(name, t);
    }
    return t;
  }
}

export { smsSegments, type SmsSegments };
