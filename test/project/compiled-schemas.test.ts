/**
 * `npm run build` compiles the JSON Schemas into validation code (scripts/compile-schemas.js)
 * so that the CLI does not compile them at every start. The built CLI must say exactly
 * what the run-time compiled validators say, for every file of the broken corpus.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validatePaths } from '../../src/project/load-project.js';
import { SchemaSet } from '../../src/project/schema-validator.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const brokenDir = path.join(repo, 'test/fixtures/validate/project/broken');
const corpus = readdirSync(brokenDir).filter((f) => /\.ya?ml$/.test(f)).sort();

// the built modules (npm test builds first)
const built = (await import(path.join(repo, 'dist/project/load-project.js'))) as { validatePaths: typeof validatePaths };
const BuiltSchemaSet = ((await import(path.join(repo, 'dist/project/schema-validator.js'))) as { SchemaSet: typeof SchemaSet }).SchemaSet;

describe('schemas compiled at build time', () => {
  it('are what the built CLI uses; the sources compile at run time', () => {
    expect(new BuiltSchemaSet().compiled).toBe('at-build');
    expect(new SchemaSet().compiled).toBe('at-run-time');
  });

  it.each(corpus)('%s: the same diagnostics either way', (name) => {
    const file = [path.join(brokenDir, name)];
    expect(built.validatePaths(file, repo).diagnostics).toEqual(validatePaths(file, repo).diagnostics);
  });
});
