import type { PendingDiagnostic, YamlPath } from './diagnostic.js';

type Obj = Record<string, unknown>;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A file's data with the parts its schema rejects cut away, so that the checks that
 * do not need those parts still run in the same pass as the schema (one run shows
 * every error). Only mapping keys are cut, never list items: a list that lost an item
 * would shift the indices that locate everything after it. A problem inside a list
 * item cuts the key holding the list; a problem at the root gives up (data: null).
 */
export interface Pruned {
  data: Obj | null;
  /** Where something was cut, as paths into the original data. */
  cut: YamlPath[];
}

const MAX_ROUNDS = 8;

export function pruneInvalid(data: unknown, validate: (data: unknown) => PendingDiagnostic[]): Pruned {
  if (!isObject(data)) return { data: null, cut: [] };
  const copy = structuredClone(data);
  const cut: YamlPath[] = [];
  // Cutting a required key makes its parent invalid in turn, so this goes round until
  // the rest validates; each round removes at least one key, so it ends.
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const problems = validate(copy);
    if (problems.length === 0) return { data: copy, cut };
    let removed = false;
    for (const p of problems) {
      const at = removableKey(copy, p.path);
      if (at === null) return { data: null, cut };
      if (deleteAt(copy, at)) {
        cut.push(at);
        removed = true;
      }
    }
    if (!removed) return { data: null, cut };
  }
  return { data: null, cut };
}

/** The deepest mapping key on the path that exists in the data (the path may go past it), or null for the root. */
function removableKey(root: Obj, path: YamlPath): YamlPath | null {
  let node: unknown = root;
  let best: YamlPath | null = null;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (isObject(node) && typeof seg === 'string' && Object.hasOwn(node, seg)) {
      best = path.slice(0, i + 1);
      node = node[seg];
    } else if (Array.isArray(node) && typeof seg === 'number' && seg < node.length) {
      node = node[seg];
    } else {
      break;
    }
  }
  return best;
}

function deleteAt(root: Obj, path: YamlPath): boolean {
  let node: unknown = root;
  for (const seg of path.slice(0, -1)) node = (node as Record<string | number, unknown> | undefined)?.[seg];
  const last = path[path.length - 1];
  if (!isObject(node) || typeof last !== 'string' || !Object.hasOwn(node, last)) return false;
  delete node[last];
  return true;
}

/** The value at a path of plain data, or undefined. */
export function valueAt(data: unknown, path: YamlPath): unknown {
  let node: unknown = data;
  for (const seg of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[seg];
  }
  return node;
}

/** Whether `prefix` is the start of `path` (or equal to it). */
export function startsWith(path: YamlPath, prefix: YamlPath): boolean {
  return prefix.length <= path.length && prefix.every((s, i) => path[i] === s);
}
