/**
 * Segments that each name the one below twice, 31 levels (valid: within the nesting
 * limit): compiling them took minutes (each reference compiled its whole subtree again),
 * and the query SQLite cannot compile was an internal error. Now: seconds, and exit 1
 * with what to do.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const diamond = (n: number) =>
  `segments:\n  s0:\n    rule: { orders: { count: { gte: 1 } } }\n${Array.from({ length: n - 1 }, (_, k) => `  s${k + 1}:\n    rule: { any: [ { segment: s${k} }, { all: [ { segment: s${k} }, { email: { exists: true } } ] } ] }`).join('\n')}\n`;

function journey(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/journey.js'), ...args], { cwd, encoding: 'utf8', timeout: 30_000, env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('segments naming segments many times over', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'journey-diamond-'));
    cpSync(path.join(repo, 'examples/shop'), dir, { recursive: true });
    writeFileSync(path.join(dir, 'journey.config.yaml'), readFileSync(path.join(dir, 'journey.config.yaml'), 'utf8').replace('journeys: ../../journeys', `journeys: ${path.join(repo, 'journeys')}`));
    writeFileSync(path.join(dir, 'segments', 'diamond.yaml'), diamond(31));
    writeFileSync(path.join(dir, 'customers.csv'), 'id,email\nc1,ada@example.test\n');
    expect(journey(dir, 'import', 'customers', 'customers.csv').status).toBe(0);
  });

  it('a few levels: computed', () => {
    const r = journey(dir, 'segment', 's8');
    expect(r.stdout).toContain('s8: 0 customers');
    expect(r.status).toBe(0);
  });

  it('31 levels: exit 1 in seconds, saying the query is too complex and what to do', () => {
    const started = performance.now();
    const r = journey(dir, 'segment', 's30');
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(r.stderr).toMatch(/^error: the query is too complex for SQLite \(too many references to "\w+": max 65535\)\n {2}hint: segments that name the same segments/);
    expect(r.status).toBe(1);
  });
});
