import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
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

export function readYamlSource(file: string, text = readFileSync(file, 'utf8')): YamlSource {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, strict: true });
  const syntaxErrors: Diagnostic[] = [];
  for (const e of doc.errors) {
    const pos = lines.linePos(e.pos[0]);
    syntaxErrors.push({
      severity: 'error',
      code: e.code === 'DUPLICATE_KEY' ? 'duplicate-key' : 'yaml-syntax',
      file,
      line: pos.line,
      col: pos.col,
      message: yamlMessage(e.code, e.message),
      ...(e.code === 'DUPLICATE_KEY' ? { hint: 'each key may appear once in a mapping; remove or rename one' } : {}),
    });
  }
  const data = syntaxErrors.length === 0 ? doc.toJS({ maxAliasCount: 100 }) : undefined;
  return { file, text, doc, lines, data, syntaxErrors };
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
      const pair = node.items.find((p) => isPair(p) && keyValue(p.key) === String(seg));
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
