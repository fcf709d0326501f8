/**
 * Validates a request body against the request-body schema of one operation in a
 * provider's official OpenAPI description (copied into test/fixtures/provider-specs). The descriptions leave
 * objects open (no additionalProperties: false), which would let a misspelt field
 * through; here every object that lists its properties is closed, so a wrong field
 * name fails the test. OpenAPI 3.0 `nullable` becomes a "null" type.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';

const SPECS = fileURLToPath(new URL('../../fixtures/provider-specs/', import.meta.url));

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- OpenAPI documents

export function loadSpec(file: string): Json {
  return JSON.parse(readFileSync(SPECS + file, 'utf8'));
}

export type Validate = (body: unknown) => string[];

export function requestValidator(file: string, path: string, method: string, contentType: string): Validate {
  const spec = loadSpec(file);
  const op = spec.paths[path][method];
  const requestBody = deref(spec, op.requestBody);
  const schema = prepare(spec, requestBody.content[contentType].schema, new Set());
  const ajv = new Ajv2020({ strict: false, allErrors: true, coerceTypes: contentType.includes('form') });
  ajv.addFormat('email', /^[^\s@]+@[^\s@]+\.[^\s@]+$/);
  ajv.addFormat('uri', { validate: (s: string) => URL.canParse(s) });
  ajv.addFormat('phone-number', /^(\+[1-9]\d{6,14}|[a-z]+:\+?\d{6,15}|[A-Za-z0-9 ]{1,11})$/);
  ajv.addFormat('date-time', { validate: (s: string) => !Number.isNaN(Date.parse(s)) });
  const validate = ajv.compile(schema);
  return (body) => {
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'additionalProperty' in e.params ? ` '${String(e.params.additionalProperty)}'` : ''}`);
  };
}

function deref(spec: Json, node: Json): Json {
  let out = node;
  while (out && typeof out === 'object' && typeof out.$ref === 'string' && out.$ref.startsWith('#/')) {
    out = out.$ref
      .slice(2)
      .split('/')
      .map((p: string) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
      .reduce((acc: Json, key: string) => acc[key], spec);
  }
  return out;
}

/** Inlines $refs, turns nullable into a null type, closes objects, drops vendor keys. */
function prepare(spec: Json, node: Json, stack: Set<Json>): Json {
  if (Array.isArray(node)) return node.map((n) => prepare(spec, n, stack));
  if (!node || typeof node !== 'object') return node;
  const target = deref(spec, node);
  // A $ref next to sibling keywords (SendGrid's disposition) keeps the siblings.
  const merged = target !== node ? { ...target, ...Object.fromEntries(Object.entries(node).filter(([k]) => k !== '$ref')) } : node;
  if (stack.has(target)) return {};
  stack.add(target);
  const out: Json = {};
  for (const [key, value] of Object.entries(merged)) {
    if (key.startsWith('x-') || key === 'example' || key === 'examples' || key === 'description' || key === 'nullable') continue;
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, prepare(spec, v, stack)]));
    } else {
      out[key] = prepare(spec, value, stack);
    }
  }
  stack.delete(target);
  if (merged.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null'];
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}
