import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExampleShop } from '../helpers/example-shop.js';

// journey segment through the built CLI, on the hand-counted shop (test/fixtures/segments/shop).
const root = path.resolve(__dirname, '../..');
let dir: string;
const cli = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(root, 'bin/journey.js'), '-C', dir, '--now', '2026-11-25T12:00:00Z', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'journey-segment-cli-'));
  copyExampleShop(dir);
  for (const kind of ['customers', 'orders', 'suppressions']) {
    const r = cli('import', kind, path.join(root, 'test/fixtures/segments/shop', `${kind}.csv`));
    expect(r.status, r.stderr).toBe(0);
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('journey segment', () => {
  it('counts members at --now and samples them with the values the rule used', () => {
    const r = cli('segment', 'no_order_30d', '--sample', '5');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^no_order_30d: 2 customers \(at 2026-11-25T12:00:00.000Z/);
    // addresses are masked unless --show-pii
    expect(r.stdout).toMatch(/c04\s+d\*\*@shop\.test\s+2026-10-16T10:00:00Z/);
    expect(r.stdout).toMatch(/c13\s+m\*\*@shop\.test\s+2026-05-09T10:00:00Z/);
    expect(r.stdout).not.toContain('dan@shop.test');
    const shown = cli('--show-pii', 'segment', 'no_order_30d', '--sample', '5');
    expect(shown.stdout).toMatch(/c04\s+dan@shop\.test\s+2026-10-16T10:00:00Z/);
  });

  it('prints the SQL with every value as a parameter, and the query plan', () => {
    const r = cli('segment', 'first_time_buyers', '--explain', '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.count).toBe(1);
    expect(out.sql.text).not.toContain('email'); // the channel is a parameter, not text
    expect(out.sql.params).toContain('email');
    expect(out.sql.text).toContain('?');
    expect(out.plan.join('\n')).toMatch(/SEARCH|SCAN/);
  });

  it('follows the clock: a month later the first-time buyer is no longer recent', () => {
    const r = spawnSync(process.execPath, [path.join(root, 'bin/journey.js'), '-C', dir, '--now', '2026-12-26T12:00:00Z', 'segment', 'first_time_buyers', '--json'], { encoding: 'utf8' });
    expect(JSON.parse(r.stdout).count).toBe(0);
  });

  it('names an unknown segment with a suggestion (exit 1) and a bad --now as a usage error (exit 64)', () => {
    const r = cli('segment', 'first_time_buyer');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("unknown segment 'first_time_buyer'");
    expect(r.stderr).toContain("did you mean 'first_time_buyers'?");
    const bad = spawnSync(process.execPath, [path.join(root, 'bin/journey.js'), '-C', dir, '--now', 'tomorrow', 'segment', 'high_value'], { encoding: 'utf8' });
    expect(bad.status).toBe(64);
    expect(bad.stderr).toContain("--now 'tomorrow' is not a time");
    const noSuchDay = spawnSync(process.execPath, [path.join(root, 'bin/journey.js'), '-C', dir, '--now', '2026-02-30', 'segment', 'high_value'], { encoding: 'utf8' });
    expect(noSuchDay.status).toBe(64);
    expect(noSuchDay.stderr).toContain("--now '2026-02-30' is not a time");
  });

  it('refuses a --sample that is not a sensible whole number, before touching the store', () => {
    for (const [flag, said] of [
      ['99999999999999999999', "--sample '99999999999999999999' is not a whole number"],
      ['1e3', "--sample '1e3' is not a whole number"],
      ['0', '--sample 0 is out of range: 1 to 10,000'],
    ] as const) {
      const r = cli('segment', 'high_value', '--sample', flag);
      expect(r.status, flag).toBe(64);
      expect(r.stderr).toContain(said);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
  });
});
