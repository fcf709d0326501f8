/**
 * Fuzzing what validate reads: journeys, segments and the config, from the library's
 * own files, valid and mutated (deleted, duplicated, nasty tokens). Whatever the text,
 * validate returns (no crash), within a bound (no hang), every diagnostic is located
 * and one line, and no secret (a literal one in the config, or an env value) comes out.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { validatePaths } from '../../src/project/load-project.js';
import { INPUT_BUDGET_MS, mutated, params, runs, SECRET } from './helpers.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shop = path.join(repo, 'examples/shop');
const baseConfig = readFileSync(path.join(shop, 'journey.config.yaml'), 'utf8').replace('journeys: ../../journeys', 'journeys: journeys');
// a literal secret where a ${VAR} belongs: rejected, never repeated
const secretConfig = baseConfig.replace('api_key: ${SENDGRID_API_KEY}', `api_key: ${SECRET}`);
const journeys = readdirSync(path.join(repo, 'journeys')).filter((f) => f.endsWith('.yaml')).map((f) => readFileSync(path.join(repo, 'journeys', f), 'utf8'));
const segments = readdirSync(path.join(shop, 'segments')).map((f) => readFileSync(path.join(shop, 'segments', f), 'utf8'));

/** A chain of segments, each within the previous one: nesting that must stay bounded. */
const chain = (n: number) => `segments:\n${Array.from({ length: n }, (_, i) => `  s${i}:\n    ${i === 0 ? 'orders: { count: { gte: 1 } }' : `segment: s${i - 1}`}`).join('\n')}\n`;
/** Thousands of unknown keys: the output stays short. */
const unknownKeys = (base: string, n: number) => base + Array.from({ length: n }, (_, i) => `junk_${i}: 1`).join('\n') + '\n';

type Target = 'journey' | 'segment' | 'config';

const input = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...journeys).chain((j) => fc.record({ target: fc.constant<Target>('journey'), text: mutated(j) })) },
  { weight: 3, arbitrary: fc.constantFrom(...segments).chain((s) => fc.record({ target: fc.constant<Target>('segment'), text: mutated(s) })) },
  { weight: 2, arbitrary: fc.constantFrom(baseConfig, secretConfig).chain((c) => fc.record({ target: fc.constant<Target>('config'), text: mutated(c) })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 300 }).map((n) => ({ target: 'segment' as Target, text: chain(n) })) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...journeys), fc.integer({ min: 1, max: 3000 })).map(([j, n]) => ({ target: 'journey' as Target, text: unknownKeys(j, n) })) },
);

describe('fuzz: validate', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'journey-fuzz-validate-'));
    mkdirSync(path.join(dir, 'journeys'));
    cpSync(path.join(shop, 'segments'), path.join(dir, 'segments'), { recursive: true });
    cpSync(path.join(shop, 'templates'), path.join(dir, 'templates'), { recursive: true });
    vi.stubEnv('SENDGRID_API_KEY', SECRET);
  });
  afterAll(() => vi.unstubAllEnvs());

  it('returns located, one-line diagnostics for any journey, segment or config text, in bounded time, without a secret', () => {
    fc.assert(
      fc.property(input, ({ target, text }) => {
        writeFileSync(path.join(dir, 'journey.config.yaml'), target === 'config' ? text : baseConfig);
        writeFileSync(path.join(dir, 'journeys', 'fuzzed.yaml'), target === 'journey' ? text : journeys[0]!);
        writeFileSync(path.join(dir, 'segments', 'fuzzed.yaml'), target === 'segment' ? text : 'segments: {}\n');
        const started = performance.now();
        const result = validatePaths([dir], dir);
        const ms = performance.now() - started;
        expect(ms, 'one input took too long').toBeLessThan(INPUT_BUDGET_MS);
        for (const d of result.diagnostics) {
          expect(d.file, JSON.stringify(d)).toMatch(/\S/);
          expect(Number.isInteger(d.line) && d.line >= 0 && Number.isInteger(d.col) && d.col >= 0, JSON.stringify(d)).toBe(true);
          expect(d.message, JSON.stringify(d)).toMatch(/\S/);
          expect(d.message, JSON.stringify(d)).not.toContain('\n');
        }
        // the first errors of a kind and a count, not a screenful
        expect(result.diagnostics.length).toBeLessThanOrEqual(2_000);
        expect(JSON.stringify(result)).not.toContain(SECRET.slice(3));
      }),
      params(runs(2_000)),
    );
    // bounded per input (INPUT_BUDGET_MS), as the other fuzz files are: about a minute alone,
    // more beside other test files on two cores
  }, runs(2_000) * INPUT_BUDGET_MS);
});
