/**
 * Files the user names that cannot be written or opened (an --out in a folder that does
 * not exist, a rejects file that is a folder, a store path too long, a store that is not
 * a database) are input errors: exit 1 and a line that names the file, never exit 70
 * (each was an internal error, found by the command-line fuzz).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function journey(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(repo, 'bin/journey.js'), ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('files that cannot be written or opened', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'journey-file-errors-'));
    cpSync(path.join(repo, 'examples/shop'), dir, { recursive: true });
    writeFileSync(path.join(dir, 'journey.config.yaml'), readFileSync(path.join(dir, 'journey.config.yaml'), 'utf8').replace('journeys: ../../journeys', `journeys: ${path.join(repo, 'journeys')}`));
    writeFileSync(path.join(dir, 'customers.csv'), 'id,email\nc1,ada@example.test\n');
    expect(journey(dir, 'import', 'customers', 'customers.csv').status).toBe(0);
  });

  it('coupons export --out in a folder that does not exist: exit 1, naming the file and the flag', () => {
    const r = journey(dir, 'coupons', 'export', 'second-order-10', '--out', '/no/such/dir/codes.csv');
    expect(r.stderr).toContain('error /no/such/dir/codes.csv, field --out: cannot write /no/such/dir/codes.csv: its folder does not exist');
    expect(r.status).toBe(1);
  });

  it('import --skip-invalid naming a folder: exit 1 before anything is imported', () => {
    mkdirSync(path.join(dir, 'a-folder'), { recursive: true });
    const r = journey(dir, 'import', 'customers', 'customers.csv', '--skip-invalid', 'a-folder');
    expect(r.stderr).toContain('cannot write the rejects file a-folder: it is a folder');
    expect(r.status).toBe(1);
  });

  it('a store path too long to open: exit 1, naming the store', () => {
    const long = mkdtempSync(path.join(os.tmpdir(), 'journey-long-store-'));
    writeFileSync(path.join(long, 'journey.config.yaml'), `version: 1\nstore:\n  path: ${'x'.repeat(5_000)}/store.db\n`);
    const r = journey(long, 'import', 'customers', path.join(dir, 'customers.csv'));
    expect(r.stderr).toMatch(/^error \S+\/x{5000}\/store\.db: cannot open the store \S+: the path is too long/);
    expect(r.status).toBe(1);
  });

  it('-C naming a folder that is not there: a usage error (64), and no folder or store is made', () => {
    const missing = path.join(dir, 'no-such-project');
    const r = journey(dir, '-C', missing, 'import', 'customers', 'customers.csv');
    expect(r.stderr.split('\n')[0]).toBe(`error: -C ${missing}: no such folder`);
    expect(r.status).toBe(64);
    expect(existsSync(missing)).toBe(false);
  });

  it('a store that is not a database: exit 1, naming it', () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'journey-not-a-db-'));
    cpSync(dir, other, { recursive: true });
    writeFileSync(path.join(other, '.journey/store.db'), 'id,email\nthis is a CSV file, not a store\n'.repeat(200));
    for (const suffix of ['-wal', '-shm']) writeFileSync(path.join(other, `.journey/store.db${suffix}`), '');
    const r = journey(other, 'import', 'customers', 'customers.csv');
    expect(r.stderr).toContain('cannot open the store');
    expect(r.stderr).toContain('it is not a SQLite database');
    expect(r.status).toBe(1);
  });
});
