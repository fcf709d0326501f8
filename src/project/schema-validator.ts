import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import type { PendingDiagnostic } from './diagnostic.js';
import { didYouMean } from './did-you-mean.js';
import { AJV_OPTIONS, BASE_URI, ROOT_SCHEMA, SCHEMA_FILES, schemaHash, type FileKind } from './schema-files.js';
import { describeProblem, type SchemaProblem } from './schema-messages.js';
import { sameSchema, schemaKey } from './schema-node.js';

export type { FileKind } from './schema-files.js';

export const SCHEMA_DIR = fileURLToPath(new URL('../../schemas/', import.meta.url));
/** Written by scripts/compile-schemas.js next to this module in dist/; absent under src/. */
const COMPILED = fileURLToPath(new URL('./schema-validators.cjs', import.meta.url));

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- schema documents are free-form JSON

/** The schema documents, loaded once, by file name. */
export class SchemaSet {
  readonly docs = new Map<string, Json>();
  private readonly validators = new Map<FileKind, ValidateFunction>();
  /** Where the validators came from: compiled by the build (the fast start), or here. */
  readonly compiled: 'at-build' | 'at-run-time';

  constructor(dir = SCHEMA_DIR) {
    const texts = SCHEMA_FILES.map((name) => readFileSync(`${dir}/${name}.schema.json`, 'utf8'));
    SCHEMA_FILES.forEach((name, i) => this.docs.set(`${name}.schema.json`, JSON.parse(texts[i]!) as Json));
    const compiled = dir === SCHEMA_DIR ? precompiled(schemaHash(texts)) : null;
    const ajv = compiled ? null : runtimeCompiler(this.docs);
    this.compiled = compiled ? 'at-build' : 'at-run-time';
    for (const [kind, file] of Object.entries(ROOT_SCHEMA) as [FileKind, string][]) {
      this.validators.set(kind, compiled ? compiled[kind] : ajv!.getSchema(BASE_URI + file)!);
    }
  }

  /** Our schemas write every $ref as 'file.schema.json#/pointer', so a ref resolves without knowing where it stands. */
  resolveRef(ref: string): Json {
    const [file, pointer = ''] = ref.split('#');
    let node = this.docs.get(file!.replace(BASE_URI, ''));
    for (const part of pointer.split('/').filter(Boolean)) node = node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    return node;
  }

  /** A schema and every schema its $ref chain leads to. */
  refChain(schema: Json): Json[] {
    const chain: Json[] = [];
    let s = schema;
    while (s && typeof s === 'object' && !chain.includes(s)) {
      chain.push(s);
      s = typeof s.$ref === 'string' ? this.resolveRef(s.$ref) : undefined;
    }
    return chain;
  }

  validate(kind: FileKind, data: unknown): PendingDiagnostic[] {
    const validator = this.validators.get(kind)!;
    if (validator(data)) return [];
    const problems = simplify(this, (validator.errors ?? []).map((e) => toProblem(e, data)));
    return dedupe(problems.map((p) => describeProblem(p, this)));
  }
}

/** The validators compiled at build time, when they were made from these very schemas. */
function precompiled(hash: string): Record<FileKind, ValidateFunction> | null {
  try {
    const mod = createRequire(import.meta.url)(COMPILED) as Record<FileKind, ValidateFunction> & { schemaHash: string };
    return mod.schemaHash === hash ? mod : null;
  } catch {
    return null;
  }
}

function runtimeCompiler(docs: Map<string, Json>) {
  const require = createRequire(import.meta.url);
  const Ajv2020 = (require('ajv/dist/2020.js') as { default: typeof import('ajv/dist/2020.js').default }).default;
  const ajv = new Ajv2020({ ...AJV_OPTIONS });
  for (const doc of docs.values()) ajv.addSchema(doc);
  return ajv;
}

function toProblem(e: ErrorObject, root: unknown): SchemaProblem {
  const path: (string | number)[] = [];
  let data: unknown = root;
  for (const raw of e.instancePath.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(data)) {
      path.push(Number(seg));
      data = data[Number(seg)];
    } else {
      path.push(seg);
      data = (data as Record<string, unknown> | undefined)?.[seg];
    }
  }
  return { path, keyword: e.keyword, params: e.params as Json, schema: e.schema as Json, parentSchema: e.parentSchema as Json, data };
}

const isWithin = (path: readonly (string | number)[], prefix: readonly (string | number)[]) =>
  path.length >= prefix.length && prefix.every((s, i) => path[i] === s);
const samePath = (a: readonly (string | number)[], b: readonly (string | number)[]) => a.length === b.length && isWithin(a, b);

/**
 * ajv reports every branch of every oneOf/anyOf that failed; a person made one
 * mistake. Unions are resolved innermost first: a union that picks a kind by its
 * keys ("a step has one of send, wait, ...") becomes one sentence; a union of value
 * shapes (a duration or a mapping) keeps only the errors of the branches that
 * accept the kind of value written, or becomes "must be X or Y" when none does.
 */
function simplify(schemas: SchemaSet, input: SchemaProblem[]): SchemaProblem[] {
  let problems = dropMisspeltRequired(input.filter((p) => p.keyword !== 'if'));
  const unions = problems
    .filter((p) => p.keyword === 'oneOf' || p.keyword === 'anyOf')
    .sort((a, b) => b.path.length - a.path.length);
  for (const union of unions) {
    if (!problems.includes(union)) continue;
    const branches = union.schema as Json[];
    const replacement = isKeyPresenceUnion(branches)
      ? resolveKeyPresence(union, branches, problems)
      : resolveValueUnion(schemas, union, branches, problems);
    problems = replacement;
  }
  return problems;
}

/**
 * `tempalte:` written for `template:` is reported twice by ajv: an unknown key and a
 * missing one. The unknown key, with its "did you mean", is the one to keep.
 */
function dropMisspeltRequired(problems: SchemaProblem[]): SchemaProblem[] {
  return problems.filter((p) => {
    if (p.keyword !== 'required') return true;
    const missing = String(p.params.missingProperty);
    return !problems.some(
      (q) => q.keyword === 'additionalProperties' && samePath(q.path, p.path) && didYouMean(String(q.params.additionalProperty), [missing]) === missing,
    );
  });
}

function isKeyPresenceUnion(branches: Json[]): boolean {
  return branches.every((b) => b && typeof b === 'object' && Object.keys(b).length === 1 && Array.isArray(b.required));
}

function resolveKeyPresence(union: SchemaProblem, branches: Json[], problems: SchemaProblem[]): SchemaProblem[] {
  const keys: string[] = branches.flatMap((b) => b.required as string[]);
  const rest = problems.filter(
    (p) => p !== union && !(p.keyword === 'required' && samePath(p.path, union.path) && branches.some((b) => sameSchema(b, p.parentSchema))),
  );
  const present = keys.filter((k) => union.data && typeof union.data === 'object' && k in (union.data as object));
  if (present.length > 1) return [...rest, { ...union, keyword: 'x-too-many-keys', params: { keys, present } }];
  // An unknown key next to the missing one is almost always the intended key misspelt.
  const unknownKeyHere = rest.some((p) => p.keyword === 'additionalProperties' && samePath(p.path, union.path));
  if (unknownKeyHere) return rest;
  return [...rest, { ...union, keyword: 'x-missing-kind', params: { keys } }];
}

function resolveValueUnion(schemas: SchemaSet, union: SchemaProblem, branches: Json[], problems: SchemaProblem[]): SchemaProblem[] {
  const inside = problems.filter((p) => p !== union && isWithin(p.path, union.path));
  const outside = problems.filter((p) => p !== union && !isWithin(p.path, union.path));
  const matching = branches.filter((b) => acceptsValueOf(schemas, b, union.data));
  if (matching.length === 0) {
    return [...outside, { ...union, keyword: 'x-union-type', params: { branches } }];
  }
  const matchingSchemas = new Set(matching.flatMap((b) => schemas.refChain(b)).map(schemaKey));
  // Errors at the union's own value come from each branch; keep those of branches that
  // accept this kind of value. Deeper errors can only come from a branch that accepted it.
  const kept = inside
    .filter((p) => !samePath(p.path, union.path) || matchingSchemas.has(schemaKey(p.parentSchema)))
    .map((p) => (samePath(p.path, union.path) && !p.hint ? { ...p, hint: union.parentSchema?.description } : p));
  if (matching.length > 1 && kept.every((p) => samePath(p.path, union.path))) {
    return [...outside, { ...union, keyword: 'x-union-value', params: { branches: matching } }];
  }
  return [...outside, ...kept];
}

function jsonType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Whether a schema (following refs and nested unions) accepts values of this JSON type at all. */
export function acceptsValueOf(schemas: SchemaSet, schema: Json, value: unknown): boolean {
  const t = jsonType(value);
  for (const s of schemas.refChain(schema)) {
    if ('const' in s) return jsonType(s.const) === t;
    if (Array.isArray(s.enum)) return s.enum.some((v: unknown) => jsonType(v) === t);
    if (s.type !== undefined) {
      const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
      return types.some((ty) => ty === t || (ty === 'integer' && t === 'number'));
    }
    const union = s.anyOf ?? s.oneOf;
    if (Array.isArray(union)) return union.some((b: Json) => acceptsValueOf(schemas, b, value));
  }
  return true;
}

function dedupe(list: PendingDiagnostic[]): PendingDiagnostic[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    const key = `${d.path.join('/')}|${d.at ?? ''}|${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
