import { error, type PendingDiagnostic } from './diagnostic.js';
import { didYouMean } from './did-you-mean.js';
import type { SchemaSet } from './schema-validator.js';
import { sameSchema } from './schema-node.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- schema documents are free-form JSON

/** One schema violation, with the YAML path it concerns and the value found there. */
export interface SchemaProblem {
  path: (string | number)[];
  keyword: string;
  params: Json;
  schema: Json;
  parentSchema: Json;
  data: unknown;
  /** Said when the rule broken belongs to a union whose description explains the choices. */
  hint?: string;
}

const DURATION_HELP = 'write a whole number and a unit: 30m, 12h, 3d, 2w, 6mo, 1y';

/** What a value of a named shared definition is called, and how to write one. */
const DEF_WORDS: Record<string, { noun: string; help: string }> = {
  'common.schema.json#/$defs/duration': { noun: 'a duration', help: DURATION_HELP },
  'common.schema.json#/$defs/durationOrDate': { noun: 'a duration or a date', help: `${DURATION_HELP}; or a date such as 2025-01-31` },
  'common.schema.json#/$defs/timeOfDay': { noun: 'a time of day', help: 'write HH:MM on the 24-hour clock, e.g. 08:00 or 21:30' },
  'common.schema.json#/$defs/identifier': { noun: 'a name', help: "use lower-case letters, digits, '_' and '-', starting with a letter" },
  'common.schema.json#/$defs/stepId': { noun: 'a step id', help: "use lower-case letters, digits, '_' and '-', starting with a letter" },
  'common.schema.json#/$defs/channel': { noun: 'a channel name', help: "use lower-case letters, digits, '_' and '-', e.g. email or sms" },
  'common.schema.json#/$defs/secretRef': { noun: 'a secret reference', help: 'put the secret in an environment variable and write ${VARIABLE_NAME} here; never a literal secret' },
  'journey.schema.json#/$defs/steps': { noun: 'a list of steps', help: '' },
};

const TYPE_WORDS: Record<string, string> = {
  string: 'text',
  number: 'a number',
  integer: 'a whole number',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  array: 'a list',
  null: 'empty',
};

const SECRET_REF = 'common.schema.json#/$defs/secretRef';
const SECRET_KEY = /(^|_)(api_?key|auth_?token|token|secret|password|signing_secret|key)$/i;

/** Whether the value at a path is one that a secret is written in (api_key, auth_token, signing_secret, ...). */
export function mayHoldSecret(path: readonly (string | number)[]): boolean {
  const last = path[path.length - 1];
  return typeof last === 'string' && SECRET_KEY.test(last);
}

function found(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `'${v}'`;
  return String(v);
}

/** How to name the value at a path in a sentence: 'count', 'item 2 of days', 'the file'. */
function subject(path: (string | number)[]): string {
  const last = path[path.length - 1];
  if (last === undefined) return 'the file';
  if (typeof last === 'number') {
    const parent = path[path.length - 2];
    return parent === undefined ? `item ${last + 1}` : `item ${last + 1} of '${parent}'`;
  }
  return `'${last}'`;
}

/** Maps whose entries are named things: segments: { name: {...} }. */
const NAMED_ENTRIES: Record<string, string> = {
  segments: 'segment',
  providers: 'provider',
  channels: 'channel',
  templates: 'template',
  coupons: 'coupon',
  removed_steps: 'removed step',
};

/** "step", "trigger", "segment 'vip'", ... for the object at a path. */
function objectNoun(path: (string | number)[]): string {
  const last = path[path.length - 1];
  if (typeof last === 'number' || last === undefined) return path.length === 0 ? 'file' : 'step';
  const parent = path[path.length - 2];
  if (typeof parent === 'string' && NAMED_ENTRIES[parent]) return `${NAMED_ENTRIES[parent]} '${last}'`;
  return String(last);
}

/** "this send", "segment 'vip'": how a sentence names the object at a path. */
function thisObject(path: (string | number)[]): string {
  const noun = objectNoun(path);
  if (noun === 'file') return 'the file';
  return noun.includes("'") ? noun : `this ${noun}`;
}

export function describeProblem(p: SchemaProblem, schemas: SchemaSet): PendingDiagnostic {
  const d = describe(p, schemas);
  return d.hint || !p.hint ? d : { ...d, hint: p.hint };
}

function describe(p: SchemaProblem, schemas: SchemaSet): PendingDiagnostic {
  const defOf = (schema: Json): { noun: string; help: string } | undefined => {
    for (const [ref, words] of Object.entries(DEF_WORDS)) if (schemas.refChain(schema).some((s) => sameSchema(s, schemas.resolveRef(ref)))) return words;
    return undefined;
  };
  // A value where a secret belongs may be one (an API key pasted in): it is never
  // repeated, since validate's output lands in CI logs.
  const secret = mayHoldSecret(p.path) || schemas.refChain(p.parentSchema).some((s) => sameSchema(s, schemas.resolveRef(SECRET_REF)));
  const shown = (v: unknown): string => (secret && v !== null && typeof v !== 'object' ? 'this value (not shown: it may be a secret)' : found(v));
  const describeSchema = (schema: Json): string => {
    const def = defOf(schema);
    if (def) return def.noun;
    for (const s of schemas.refChain(schema)) {
      if ('const' in s) return JSON.stringify(s.const);
      if (Array.isArray(s.enum)) return `one of ${s.enum.join(', ')}`;
      if (s.type) return (Array.isArray(s.type) ? s.type : [s.type]).map((t: string) => TYPE_WORDS[t] ?? t).join(' or ');
    }
    return 'another shape';
  };
  const hintOf = (schema: Json): string | undefined => {
    for (const s of schemas.refChain(schema)) if (typeof s.description === 'string') return s.description;
    return undefined;
  };

  switch (p.keyword) {
    case 'additionalProperties': {
      const key = String(p.params.additionalProperty);
      const allowed = Object.keys(p.parentSchema.properties ?? {});
      const guess = didYouMean(key, allowed);
      const at = [...p.path, key];
      if (guess) return error('unknown-key', at, `unknown key '${key}' — did you mean '${guess}'?`, undefined, 'key');
      return error('unknown-key', at, `unknown key '${key}'`, allowed.length ? `allowed here: ${allowed.join(', ')}` : undefined, 'key');
    }
    case 'required': {
      const key = String(p.params.missingProperty);
      const kind = p.data && typeof p.data === 'object' && typeof (p.data as Json).type === 'string' ? (p.data as Json).type : undefined;
      const hint = kind && p.path[p.path.length - 2] === 'providers' ? `a ${kind} provider needs '${key}'` : undefined;
      return error('missing-key', p.path, `${thisObject(p.path)} is missing the required key '${key}'`, hint);
    }
    case 'x-missing-kind': {
      const keys: string[] = p.params.keys;
      return error('missing-kind', p.path, `${thisObject(p.path)} needs one of: ${keys.join(', ')}`);
    }
    case 'x-too-many-keys': {
      const present: string[] = p.params.present;
      return error('too-many-kinds', [...p.path, present[1]!], `${thisObject(p.path)} has both '${present[0]}' and '${present[1]}'; it takes exactly one of: ${(p.params.keys as string[]).join(', ')}`, objectNoun(p.path) === 'step' ? 'split it into two steps' : undefined, 'key');
    }
    case 'x-union-type': {
      const options = [...new Set((p.params.branches as Json[]).map(describeSchema))];
      return error('wrong-type', p.path, `${subject(p.path)} must be ${options.join(' or ')}, not ${shown(p.data)}`, hintOf(p.parentSchema));
    }
    case 'x-union-value':
      return error('invalid-value', p.path, `${subject(p.path)} cannot be ${shown(p.data)}`, hintOf(p.parentSchema));
    case 'type': {
      const def = defOf(p.parentSchema);
      if (def) return error('wrong-type', p.path, `${subject(p.path)} must be ${def.noun}, not ${shown(p.data)}`, def.help || undefined);
      const expected = (Array.isArray(p.params.type) ? p.params.type : String(p.params.type).split(',')).map((t: string) => TYPE_WORDS[t] ?? t).join(' or ');
      return error('wrong-type', p.path, `${subject(p.path)} must be ${expected}, not ${shown(p.data)}`, hintOf(p.parentSchema));
    }
    case 'pattern': {
      const def = defOf(p.parentSchema);
      if (def) return error('invalid-value', p.path, `${shown(p.data)} is not ${def.noun}`, def.help);
      return error('invalid-value', p.path, `${shown(p.data)} is not a valid value for ${subject(p.path)}`, hintOf(p.parentSchema));
    }
    case 'propertyNames': {
      const name = String(p.params.propertyName);
      return error('invalid-name', [...p.path, name], `'${name}' is not a valid name`, "use lower-case letters, digits, '_' and '-', starting with a letter", 'key');
    }
    case 'enum': {
      const options = (p.params.allowedValues as unknown[]).map(String);
      const guess = typeof p.data === 'string' ? didYouMean(p.data, options) : undefined;
      return error('invalid-value', p.path, `${shown(p.data)} is not one of: ${options.join(', ')}${guess ? ` — did you mean '${guess}'?` : ''}`);
    }
    case 'const':
      return error('invalid-value', p.path, `${subject(p.path)} must be ${JSON.stringify(p.params.allowedValue)}, not ${shown(p.data)}`);
    case 'minItems':
      return error('too-few', p.path, `${subject(p.path)} needs at least ${p.params.limit} item${p.params.limit === 1 ? '' : 's'}`);
    case 'maxItems':
      return error('too-many', p.path, `${subject(p.path)} takes at most ${p.params.limit} items`);
    case 'uniqueItems':
      return error('duplicate-item', p.path, `${subject(p.path)} lists the same value twice (items ${p.params.j + 1} and ${p.params.i + 1})`);
    case 'minProperties':
      return error('empty', p.path, `${subject(p.path)} is empty`, hintOf(p.parentSchema));
    case 'maxProperties': {
      const keys = Object.keys((p.data as object) ?? {});
      return error('too-many-keys', [...p.path, keys[p.params.limit] ?? keys[0]!], `a condition holds one key, but this one has ${keys.length}: ${keys.join(', ')}`, 'put each condition in its own list item under all: [...] or any: [...]', 'key');
    }
    case 'minimum':
    case 'exclusiveMinimum':
    case 'maximum':
    case 'exclusiveMaximum': {
      const words = { minimum: 'at least', exclusiveMinimum: 'more than', maximum: 'at most', exclusiveMaximum: 'less than' }[p.keyword];
      return error('out-of-range', p.path, `${subject(p.path)} must be ${words} ${p.params.limit}, not ${shown(p.data)}`);
    }
    case 'minLength':
      return error('empty', p.path, `${subject(p.path)} cannot be empty`);
    default:
      return error('schema', p.path, `${subject(p.path)}: ${p.keyword} rule not met`, hintOf(p.parentSchema));
  }
}
