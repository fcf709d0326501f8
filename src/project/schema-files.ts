import { createHash } from 'node:crypto';

/** The schema documents in schemas/, by name, and the document each kind of file is checked against. */
export const SCHEMA_FILES = ['common', 'rule', 'journey', 'segment', 'config'] as const;
export type FileKind = 'journey' | 'segments' | 'config';
export const ROOT_SCHEMA: Readonly<Record<FileKind, string>> = {
  journey: 'journey.schema.json',
  segments: 'segment.schema.json',
  config: 'config.schema.json',
};
export const BASE_URI = 'https://journey.dev/schemas/';

/** The same options at build time (scripts/compile-schemas.js) and at run time, so both validate alike. */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strictTypes: false, strictTuples: false, allowUnionTypes: true } as const;

/** Which schema texts a compiled validator was made from. */
export function schemaHash(texts: readonly string[]): string {
  const h = createHash('sha256');
  for (const t of texts) h.update(t).update('\0');
  return h.digest('hex');
}
