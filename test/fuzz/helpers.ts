/**
 * What the fuzz suites share: how many inputs (FUZZ_RUNS for a nightly run, FUZZ_SEED to
 * replay one), a bound on each input, and capturing the CLI's output in-process.
 */
import fc from 'fast-check';

/** Inputs per property: the CI default keeps the whole suite at 10,000+ inputs in a few minutes. */
export function runs(ciDefault: number): number {
  const scale = process.env.FUZZ_RUNS === undefined ? 1 : Number(process.env.FUZZ_RUNS) / 10_000;
  return Math.max(1, Math.round(ciDefault * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

/**
 * fast-check's parameters: the seed is printed on every failure (with the shrunk input
 * and a path), and FUZZ_SEED / FUZZ_PATH replay that failure alone.
 */
/** The seed of CI's runs. */
export const CI_SEED = 20261207;

export function params<T>(numRuns: number): fc.Parameters<T> {
  // CI (CI=true) runs one fixed seed, so that a red run is a finding to replay, not luck;
  // elsewhere every run explores new inputs
  const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : process.env.CI ? CI_SEED : Date.now() ^ (Math.random() * 0x100000000);
  return { numRuns, seed, ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}), endOnFailure: false, verbose: 1 };
}

/** The most one input may take: "no hang" as a number (the machine is shared; normal inputs take milliseconds). */
export const INPUT_BUDGET_MS = 5_000;

/** A secret as a provider key looks: it must never come out of any command. */
export const SECRET = 'SG.fuzzSecretValue4f9c2a7e1b';

/** A stack trace line, which output never holds without --debug. */
export const STACK_LINE = /^\s+at .+[:(]\d+:\d+\)?$/m;

export interface Captured<T> {
  value: T;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs fn with process.stdout/stderr writes collected instead of printed. */
export async function capture<T>(fn: () => Promise<T> | T): Promise<Captured<T>> {
  const out: string[] = [];
  const err: string[] = [];
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  const collect = (into: string[]) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      cb?.();
      return true;
    }) as typeof process.stdout.write;
  process.stdout.write = collect(out);
  process.stderr.write = collect(err);
  const started = performance.now();
  try {
    const value = await fn();
    return { value, stdout: out.join(''), stderr: err.join(''), ms: performance.now() - started };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}

/** Text mutations that break YAML, CSV and flags the ways people and tools do. */
export const NASTY = [
  '', ' ', '\t', '\n', '\r\n', ':', ': ', '- ', '-', '#', '&a ', '*a', '<<: *a', '{', '}', '[', ']', '"', "'", '\\', '|', '>', '!!js/function', '!!binary',
  '~', 'null', 'true', 'yes', '0', '-1', '1e309', '99999999999999999999', '0x10', 'NaN', '.inf', '2026-02-30', '+99:00',
  '__proto__', 'constructor', 'prototype', 'toString', '${UNSET_FUZZ_VAR}', '${SENDGRID_API_KEY}', SECRET, '\u0000', '\uFEFF', '\u202E', 'é', '😀',
  'segment: ', 'not: ', 'all: ', 'any: ', 'when: ', 'wait: ', 'steps: ', 'id: ', 'x'.repeat(300),
];

/** A mutation of `base`: characters deleted, duplicated or replaced, nasty tokens inserted. */
export function mutated(base: string): fc.Arbitrary<string> {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 8 }), fc.string({ unit: 'grapheme', maxLength: 4 })) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 200 }), times: fc.integer({ min: 1, max: 50 }) }),
  );
  return fc.array(op, { minLength: 0, maxLength: 6 }).map((ops) => {
    let text = base;
    for (const o of ops) {
      const at = text.length === 0 ? 0 : o.at % (text.length + 1);
      if (o.kind === 'insert') text = text.slice(0, at) + o.text + text.slice(at);
      else if (o.kind === 'delete') text = text.slice(0, at) + text.slice(at + o.length);
      else text = text.slice(0, at) + text.slice(at, at + o.length).repeat(o.times + 1) + text.slice(at + o.length);
    }
    return text;
  });
}
