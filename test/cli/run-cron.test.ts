import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyExampleShop } from '../helpers/example-shop.js';

// journey run --cron: stays up on its schedule and stops cleanly on SIGTERM / SIGINT.
const root = path.resolve(__dirname, '../..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'journey-cron-'));
  copyExampleShop(dir);
  writeFileSync(path.join(dir, 'customers.csv'), 'id,email,consent_email\nc1,c1@shop.test,yes\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function start(...args: string[]) {
  const child = spawn(process.execPath, [path.join(root, 'bin/journey.js'), '-C', dir, ...args], { env: { ...process.env, NO_COLOR: '1' } });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => stderr };
}

describe('journey run --cron', () => {
  it('waits for its schedule and stops at once on SIGTERM and SIGINT, exit 0', async () => {
    const r = spawn(process.execPath, [path.join(root, 'bin/journey.js'), '-C', dir, 'import', 'customers', path.join(dir, 'customers.csv')]);
    await new Promise((resolve) => r.on('exit', resolve));
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const run = start('run', '--cron', '0 0 1 1 *');
      for (let i = 0; i < 100 && !run.stderr().includes('ticking on'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(run.stderr()).toContain("ticking on '0 0 1 1 *'");
      const t0 = Date.now();
      run.child.kill(signal);
      expect(await run.exited).toBe(0);
      expect(Date.now() - t0).toBeLessThan(2000);
    }
  });

  it('refuses an invalid schedule as a usage error (exit 64)', async () => {
    const run = start('run', '--cron', '61 * * * *');
    expect(await run.exited).toBe(64);
    expect(run.stderr()).toContain("--cron '61 * * * *' is not a valid cron expression");
  });
});
