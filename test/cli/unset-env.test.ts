/**
 * A `${VAR}` whose variable is unset would make its provider refuse to start at the
 * next run, sending nothing: validate and plan warn now, naming the variable and
 * where it is read, never a value.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VALUE = 'SG.valueThatMustNeverBePrinted';

function project(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-unset-env-'));
  const config = readFileSync(path.join(repo, 'examples/shop/journey.config.yaml'), 'utf8').replace('journeys: ../../journeys', 'journeys: journeys');
  writeFileSync(path.join(dir, 'journey.config.yaml'), config);
  mkdirSync(path.join(dir, 'journeys'));
  mkdirSync(path.join(dir, 'segments'));
  return dir;
}

const run = (dir: string, args: string[], env: Record<string, string>) => {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SENDGRID|TWILIO|KLAVIYO)_/.test(k)));
  return spawnSync(process.execPath, [path.join(repo, 'bin/journey.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...base, NO_COLOR: '1', ...env } });
};

describe('an unset ${VAR} in the config', () => {
  const dir = project();

  it('is a located warning of validate that names the variable, and --strict fails on it', () => {
    const r = run(dir, ['validate'], { TWILIO_AUTH_TOKEN: VALUE, KLAVIYO_API_KEY: VALUE });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/journey\.config\.yaml:\d+:\d+ warning provider 'sendgrid' reads \$\{SENDGRID_API_KEY\}, and SENDGRID_API_KEY is not set \[unset-env\]/);
    expect(r.stdout).not.toContain('TWILIO_AUTH_TOKEN is not set');
    expect(r.stdout + r.stderr).not.toContain(VALUE);
    expect(run(dir, ['validate', '--strict'], { TWILIO_AUTH_TOKEN: VALUE, KLAVIYO_API_KEY: VALUE }).status).toBe(1);
  });

  it('is said by plan on stderr before anything else, and a set variable is not', () => {
    const r = run(dir, ['plan'], { SENDGRID_API_KEY: VALUE, KLAVIYO_API_KEY: VALUE });
    expect(r.stderr.split('\n')[0]).toBe("warning journey.config.yaml: provider 'twilio' reads ${TWILIO_AUTH_TOKEN}, and TWILIO_AUTH_TOKEN is not set");
    expect(r.stderr).not.toContain('SENDGRID_API_KEY');
    expect(r.stdout + r.stderr).not.toContain(VALUE);
  });
});
