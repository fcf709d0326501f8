import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { Diagnostic, PendingDiagnostic, YamlPath } from './diagnostic.js';

/**
 * A YAML file as parsed, kept with its document so that any value can be traced
 * back to the line and column where the author wrote it.
 */
export interface YamlSource {
  /** The path as the user named it (relative paths stay relative in messages). */
  file: string;
  text: string;
  doc: Document;
  lines: LineCounter;
  /** The plain data, or undefined when the YAML could not be parsed. */
  data: unknown;
  /** Syntax problems found by the parser. */
  syntaxErrors: Diagnostic[];
}

/** Limits on what one project file may hold; past them the file is an error, not a crash or a hang. */
export const YAML_LIMITS = {
  /** Bytes of one file: the largest journey of the library is under 3 KB. */
  fileBytes: 1024 * 1024,
  /** Mappings and lists inside one another (a `when:` of nested `not:` counts two a level). */
  depth: 64,
  /** Values that aliases may expand to, in all (the yaml library's guard against "billion laughs"). */
  aliasExpansion: 100,
} as const;

export function readYamlSource(file: string, text = readFileSync(file, 'utf8')): YamlSource {
  const lines = new LineCounter();
  const fail = (d: Omit<Diagnostic, 'severity' | 'file'>): YamlSource => {
    const doc = parseDocument('', { lineCounter: new LineCounter() });
    return { file, text, doc, lines, data: undefined, syntaxErrors: [{ severity: 'error', file, ...d }] };
  };
  if (Buffer.byteLength(text) > YAML_LIMITS.fileBytes) {
    return fail({ code: 'file-too-large', line: 1, col: 1, message: `the file is larger than ${YAML_LIMITS.fileBytes / 1024 / 1024} MB`, hint: 'a journey or segment file is a few kilobytes; split it, or check that the right file is named' });
  }
  // checked before parsing: the parser and the schema validator recurse once a level
  const deep = tooDeepAt(text, YAML_LIMITS.depth);
  if (deep !== null) {
    lines.addNewLine(0);
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines.addNewLine(i + 1);
    const pos = lines.linePos(deep);
    return fail({ code: 'too-deep', line: pos.line, col: pos.col, message: `values nest more than ${YAML_LIMITS.depth} levels deep here`, hint: 'write the rule flatter: all/any take lists, and not: of not: cancels out' });
  }
  // uniqueKeys off: the library compares each key with every earlier one (20,000 keys took
  // 8 s); duplicateKeys() does the same check with a set per mapping
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, strict: true });
  const errors: { code: string; message: string; pos: [number, number] }[] = [...doc.errors, ...duplicateKeys(doc)];
  const syntaxErrors: Diagnostic[] = [];
  // One YAML mistake makes the parser report several errors further on; the first,
  // placed where the author went wrong, is the one worth reading.
  const first = [...errors].sort((a, b) => a.pos[0] - b.pos[0])[0];
  if (first) {
    const isDuplicate = first.code === 'DUPLICATE_KEY';
    const over = errors.find((e) => e.code === 'MULTILINE_IMPLICIT_KEY' || e.code === 'BLOCK_AS_IMPLICIT_KEY');
    const unclosed = first.code === 'MISSING_CHAR' && /quote/.test(first.message) ? unclosedQuote(text) : undefined;
    const pos = over ? overIndentedLine(text, lines.linePos(over.pos[0]).line) : lines.linePos(unclosed ?? first.pos[0]);
    syntaxErrors.push({
      severity: 'error',
      code: isDuplicate ? 'duplicate-key' : over ? 'yaml-indentation' : 'yaml-syntax',
      file,
      line: pos.line,
      col: pos.col,
      message: over ? 'this key is indented deeper than the key above it; keys of one mapping start at the same column' : yamlMessage(first.code, first.message),
      ...(isDuplicate ? { hint: 'each key may appear once in a mapping; remove or rename one' } : {}),
    });
  }
  if (syntaxErrors.length === 0) {
    const alias = aliasProblem(doc);
    if (alias) {
      const { offset, ...said } = alias;
      syntaxErrors.push({ severity: 'error', file, ...lines.linePos(offset), ...said });
    }
  }
  let data: unknown;
  if (syntaxErrors.length === 0) {
    try {
      data = doc.toJS({ maxAliasCount: YAML_LIMITS.aliasExpansion });
    } catch (err) {
      // the yaml library throws a ReferenceError when aliases expand past the limit
      if (!(err instanceof ReferenceError)) throw err;
      const at = firstAliasOffset(doc);
      syntaxErrors.push({ severity: 'error', file, code: 'yaml-alias', ...lines.linePos(at), message: `aliases here expand to more than ${YAML_LIMITS.aliasExpansion} values`, hint: 'write the values out, or use fewer aliases of aliases' });
    }
  }
  return { file, text, doc, lines, data, syntaxErrors };
}

/** Keys set twice in one mapping (scalar keys, as people write them), in linear time. */
function duplicateKeys(doc: Document): { code: string; message: string; pos: [number, number] }[] {
  const out: { code: string; message: string; pos: [number, number] }[] = [];
  visit(doc, {
    Map(_, map) {
      const seen = new Set<string>();
      for (const pair of map.items) {
        const key = isPair(pair) ? keyValue(pair.key) : undefined;
        if (key === undefined) continue;
        if (seen.has(key)) {
          const at = (pair.key as Node).range?.[0] ?? 0;
          out.push({ code: 'DUPLICATE_KEY', message: 'Map keys must be unique', pos: [at, at + 1] });
        }
        seen.add(key);
      }
      return undefined;
    },
  });
  return out;
}

/** An alias whose anchor is not set before it: the yaml library would throw when converting. */
function aliasProblem(doc: Document): { code: string; offset: number; message: string; hint: string } | null {
  let problem: { code: string; offset: number; message: string; hint: string } | null = null;
  visit(doc, {
    Alias(_, node) {
      if (node.resolve(doc) !== undefined) return undefined;
      problem = { code: 'yaml-alias', offset: node.range?.[0] ?? 0, message: `the alias *${node.source} names no anchor set before it`, hint: `set the anchor first (&${node.source}) or write the value out` };
      return visit.BREAK;
    },
  });
  return problem;
}

function firstAliasOffset(doc: Document): number {
  let at = 0;
  visit(doc, {
    Alias(_, node) {
      at = node.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return at;
}

/**
 * The offset where values first nest deeper than `max`, or null. It reads the text as
 * YAML is laid out: block levels by indentation (a `- ` item opens one more), flow
 * levels by brackets outside quotes and comments. Approximate by design: it only has
 * to find files no person writes, before the parser recurses into them.
 */
export function tooDeepAt(text: string, max: number): number | null {
  const indents: number[] = [];
  let flow = 0;
  let lineStart = true;
  let col = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      lineStart = true;
      col = 0;
      continue;
    }
    if (lineStart) {
      if (c === ' ' || c === '-' || c === '\t') {
        col++;
        continue;
      }
      lineStart = false;
      if (c !== '#' && flow === 0) {
        while (indents.length > 0 && indents[indents.length - 1]! >= col) indents.pop();
        indents.push(col);
        if (indents.length > max) return i;
      }
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      while (i + 1 < text.length && text[i + 1] !== '\n') i++;
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s:,[{-]/.test(text[i - 1]!))) {
      i = endOfQuoted(text, i);
    } else if (c === '{' || c === '[') {
      if (++flow + indents.length > max) return i;
    } else if ((c === '}' || c === ']') && flow > 0) {
      flow--;
    }
  }
  return null;
}

function endOfQuoted(text: string, open: number): number {
  const quote = text[open]!;
  for (let i = open + 1; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') i++;
    else if (text[i] === quote) {
      if (quote === "'" && text[i + 1] === "'") i++;
      else return i;
    }
  }
  return text.length;
}

/** The first line below `line` that is indented deeper than it: where the stray key stands. */
function overIndentedLine(text: string, line: number): { line: number; col: number } {
  const all = text.split('\n');
  const indent = (l: string) => l.length - l.trimStart().length;
  const base = indent(all[line - 1] ?? '');
  for (let i = line; i < all.length; i++) {
    const l = all[i]!;
    if (l.trim() === '' || l.trimStart().startsWith('#')) continue;
    if (indent(l) > base) return { line: i + 1, col: indent(l) + 1 };
    break;
  }
  return { line, col: base + 1 };
}

/** The offset of a quote that opens a scalar and is never closed (the parser reports where it gave up). */
function unclosedQuote(text: string): number | undefined {
  let open: number | undefined;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (open === undefined) {
      if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
        while (i < text.length && text[i] !== '\n') i++;
      } else if ((c === '"' || c === "'") && (i === 0 || /[\s:,[{-]/.test(text[i - 1]!))) {
        open = i;
        quote = c;
      }
    } else if (quote === '"' && c === '\\') {
      i++;
    } else if (c === quote) {
      if (quote === "'" && text[i + 1] === "'") i++;
      else open = undefined;
    }
  }
  return open;
}

function yamlMessage(code: string, message: string): string {
  if (code === 'DUPLICATE_KEY') return 'this key is already set above in the same mapping';
  if (code === 'TAB_AS_INDENT') return 'tabs cannot indent YAML; use spaces';
  // The parser's own first line is a good sentence; drop its trailing position excerpt.
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** The node at a path, or the deepest existing ancestor when the path goes further. */
function walk(doc: Document, path: YamlPath): { node: Node | null; keyNode: Node | null; complete: boolean } {
  let node: Node | null = doc.contents as Node | null;
  let keyNode: Node | null = null;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = pairsByKey(node).get(String(seg));
      if (!pair) return { node, keyNode, complete: false };
      keyNode = pair.key as Node;
      // `key:` with no value has no value node; the key is where the author looks.
      node = (pair.value as Node | null) ?? keyNode;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) return { node, keyNode, complete: false };
      keyNode = null;
      node = item;
    } else {
      return { node, keyNode, complete: false };
    }
  }
  return { node, keyNode, complete: true };
}

/**
 * A mapping's pairs by key, built once per mapping: a file with 20,000 unknown keys
 * has 20,000 diagnostics to place, and a scan for each was quadratic.
 */
const PAIRS = new WeakMap<object, Map<string, Pair>>();
function pairsByKey(map: YAMLMap): Map<string, Pair> {
  let pairs = PAIRS.get(map);
  if (!pairs) {
    pairs = new Map();
    for (const p of map.items) {
      const key = isPair(p) ? keyValue(p.key) : undefined;
      // the first of duplicate keys, as a scan found it
      if (key !== undefined && !pairs.has(key)) pairs.set(key, p as Pair);
    }
    PAIRS.set(map, pairs);
  }
  return pairs;
}

function keyValue(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}

export function positionOf(source: YamlSource, path: YamlPath, at: 'key' | 'value' = 'value'): { line: number; col: number } {
  const { node, keyNode, complete } = walk(source.doc, path);
  const target = complete && at === 'key' && keyNode ? keyNode : node;
  const offset = target?.range?.[0] ?? 0;
  return source.lines.linePos(offset);
}

export function resolve(source: YamlSource, pending: PendingDiagnostic): Diagnostic {
  const { line, col } = positionOf(source, pending.path, pending.at);
  return {
    severity: pending.severity,
    code: pending.code,
    file: source.file,
    line,
    col,
    message: pending.message,
    ...(pending.hint ? { hint: pending.hint } : {}),
  };
}

/** The keys of the mapping at a path, in the order written (for "which key is extra"). */
export function keysAt(source: YamlSource, path: YamlPath): string[] {
  const { node, complete } = walk(source.doc, path);
  if (!complete || !isMap(node)) return [];
  return node.items.map((p) => keyValue(p.key)).filter((k): k is string => k !== undefined);
}
