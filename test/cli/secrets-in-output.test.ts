/**
 * A secret pasted into journey.config.yaml is rejected without being repeated: validate's
 * output lands in CI logs, in every format.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SECRET = 'SG.k3yThatMustNeverBePrinted';

describe('a literal secret in the config', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-secret-'));
  const config = readFileSync(path.join(repo, 'examples/shop/journey.config.yaml'), 'utf8')
    .replace('api_key: ${SENDGRID_API_KEY}', `api_key: ${SECRET}`)
    .replace('auth_token: ${TWILIO_AUTH_TOKEN}', `auth_token: ${SECRET}2`)
    .replace('journeys: ../../journeys', 'journeys: journeys');
  writeFileSync(path.join(dir, 'journey.config.yaml'), config);
  mkdirSync(path.join(dir, 'journeys'));
  mkdirSync(path.join(dir, 'segments'));

  it.each(['human', 'json', 'github'])('is an error that does not repeat it (--format %s)', (format) => {
    const r = spawnSync(process.execPath, [path.join(repo, 'bin/journey.js'), 'validate', '--format', format], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toContain('not shown: it may be a secret');
    expect(out).not.toContain('k3yThatMustNeverBePrinted');
  });

  it('is not repeated by a command that refuses the project either', () => {
    const r = spawnSync(process.execPath, [path.join(repo, 'bin/journey.js'), 'plan'], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).not.toContain('k3yThatMustNeverBePrinted');
  });
});

describe('a secret given as a flag value', () => {
  it('is not repeated by the usage error that refuses it (exit 64)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-secret-flag-'));
    const r = spawnSync(process.execPath, [path.join(repo, 'bin/journey.js'), 'validate', '--format', SECRET], { cwd: dir, encoding: 'utf8' });
    expect(r.status).toBe(64);
    expect(r.stderr).toContain("option '-f, --format <format>' argument");
    expect(r.stdout + r.stderr).not.toContain('k3yThatMustNeverBePrinted');
  });
});
