/**
 * The broken-file corpus of `journey validate` (issue 2): every file under
 * test/fixtures/validate/project/broken holds exactly one mistake and, on its first
 * lines, the diagnostics it must produce:
 *
 *   # expect: 12:7 error unknown key 'wiat' — did you mean 'wait'?
 *
 * (line:col severity message; the hint and code are not part of the line). The files
 * sit inside a small valid project (../journey.config.yaml, ../segments), so that
 * references to segments, channels, templates, providers and coupons are checked.
 * A file named *.config.yaml is validated as a standalone config.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import type { Diagnostic } from '../../src/project/diagnostic.js';
import { validatePaths } from '../../src/project/load-project.js';

const here = path.dirname(fileURLToPath(import.meta.url));

// the corpus is about the files: its configs' ${VAR}s are set, as where journey runs
// (an unset one is a warning of its own, test/cli/unset-env.test.ts)
for (const v of ['SENDGRID_API_KEY', 'TWILIO_AUTH_TOKEN', 'KLAVIYO_API_KEY', 'JOURNEY_LINK_SECRET', 'POSTMARK_SERVER_TOKEN', 'MAILGUN_API_KEY', 'WEBHOOK_TOKEN']) vi.stubEnv(v, 'set-for-the-corpus');
const repo = path.resolve(here, '../..');
const fixture = path.join(repo, 'test/fixtures/validate/project');
const brokenDir = path.join(fixture, 'broken');
const corpus = readdirSync(brokenDir)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();

const EXPECT = /^# expect: (\d+):(\d+) (error|warning) (.+)$/;

interface Expected {
  line: number;
  col: number;
  severity: string;
  message: string;
}

function expectationsOf(file: string): Expected[] {
  const out: Expected[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('# expect:')) continue;
    const m = EXPECT.exec(line.trimEnd());
    if (!m) throw new Error(`${path.basename(file)}: malformed expect line: ${line}`);
    out.push({ line: Number(m[1]), col: Number(m[2]), severity: m[3]!, message: m[4]! });
  }
  return out;
}

const shape = (d: Diagnostic): Expected => ({ line: d.line, col: d.col, severity: d.severity, message: d.message });

function diagnosticsOf(name: string): Diagnostic[] {
  return validatePaths([path.join(brokenDir, name)], repo).diagnostics;
}

describe('the broken-file corpus', () => {
  it('holds at least 40 files, each with an expectation', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(40);
    for (const name of corpus) expect(expectationsOf(path.join(brokenDir, name)), name).not.toHaveLength(0);
  });

  it('covers journeys, segment files and configs', () => {
    const kinds = corpus.map((name) => {
      if (name.endsWith('.config.yaml')) return 'config';
      return /^segments:/m.test(readFileSync(path.join(brokenDir, name), 'utf8')) ? 'segments' : 'journey';
    });
    expect(kinds.filter((k) => k === 'config').length).toBeGreaterThanOrEqual(5);
    expect(kinds.filter((k) => k === 'segments').length).toBeGreaterThanOrEqual(4);
    expect(kinds.filter((k) => k === 'journey').length).toBeGreaterThanOrEqual(30);
  });

  it.each(corpus)('%s', (name) => {
    const expected = expectationsOf(path.join(brokenDir, name));
    const diagnostics = diagnosticsOf(name);
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(diagnostics.map(shape)).toEqual(expected);
    // Every diagnostic is about the file named, with a stable code.
    for (const d of diagnostics) {
      expect(d.file).toBe(path.relative(repo, path.join(brokenDir, name)));
      expect(d.code).toMatch(/^[a-z][a-z-]*$/);
    }
  });
});

describe('hints where the hint is the useful part', () => {
  const hintOf = (name: string): string | undefined => diagnosticsOf(name)[0]?.hint;

  it('an unknown key with no close match lists the keys allowed there', () => {
    expect(hintOf('13-unknown-coupon-key.config.yaml')).toBe('allowed here: discount, code, prefix, valid_for, pool, length, alphabet');
  });

  it('an unknown coupon with no close match lists the declared coupons', () => {
    expect(hintOf('33-unknown-coupon.yaml')).toBe('declared coupons: second-order-10, vip-20');
  });

  it('an unknown step with no close match lists the steps of the journey', () => {
    expect(hintOf('55-unknown-on-event-step.yaml')).toBe('steps here: offer, wait_click, reminder, done');
  });

  it('a trigger key that does not apply lists the keys that do', () => {
    expect(hintOf('49-status-on-segment-trigger.yaml')).toBe('keys of a segment trigger: segment, check, backfill');
  });

  it('a bad duration says how to write one', () => {
    expect(hintOf('21-duration-with-space.yaml')).toBe('write a whole number and a unit: 30m, 12h, 3d, 2w, 6mo, 1y');
  });

  it('split weights list each variant with its weight', () => {
    expect(hintOf('38-split-weights.yaml')).toBe('weights: offer 60, control 50');
  });

  it('a misspelt message event lists the message events', () => {
    expect(hintOf('68-wait-for-unknown-event.yaml')).toMatch(/^message events: email_delivered, email_opened, .*sms_clicked/);
  });

  it('a did-you-mean in the message needs no hint repeating it', () => {
    expect(hintOf('30-unknown-template.yaml')).toBeUndefined();
    expect(hintOf('28-unknown-segment-typo.yaml')).toBeUndefined();
  });

  it('the unbounded-backfill warning says how to bound the segment', () => {
    expect(hintOf('52-backfill-unbounded.yaml')).toMatch(/between: \[30d, 10mo\]/);
  });
});

describe('valid projects validate cleanly', () => {
  const journeysDir = path.join(repo, 'journeys');
  const journeys = readdirSync(journeysDir).filter((f) => f.endsWith('.yaml')).sort();

  it('the library holds journeys for the five seed scenarios', () => {
    expect(journeys.length).toBeGreaterThanOrEqual(5);
    const seeds = new Set(journeys.flatMap((f) => /# Seed (\d)/.exec(readFileSync(path.join(journeysDir, f), 'utf8'))?.[1] ?? []));
    expect([...seeds].sort()).toEqual(['1', '2', '3', '4', '5']);
  });

  it.each(journeys)('journeys/%s alone has no diagnostics', (name) => {
    const result = validatePaths([path.join('journeys', name)], repo);
    expect(result.diagnostics).toEqual([]);
  });

  it('examples/shop (with its journeys in ../../journeys) has no diagnostics', () => {
    const result = validatePaths(['examples/shop'], repo);
    expect(result.diagnostics).toEqual([]);
    expect(result.notes).toEqual([]);
    for (const name of journeys) expect(result.files).toContain(path.join('journeys', name));
    expect(result.files).toContain(path.join('examples/shop', 'journey.config.yaml'));
  });

  it('the corpus context project has no diagnostics', () => {
    const result = validatePaths([path.relative(repo, fixture)], repo);
    expect(result.diagnostics).toEqual([]);
    // broken/ is not part of the project: only config, segments/ and journeys/
    expect(result.files.some((f) => f.includes('broken'))).toBe(false);
    expect(result.files.length).toBeGreaterThanOrEqual(4);
  });
});
