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

describe("links.secret's ${VAR} unset", () => {
  const dir = project();

  it('validate and plan warn, naming the variable and what it stops (the tick renders no message without it)', () => {
    const env = { SENDGRID_API_KEY: VALUE, TWILIO_AUTH_TOKEN: VALUE, KLAVIYO_API_KEY: VALUE, JOURNEY_LINK_SECRET: '' };
    const v = run(dir, ['validate'], env);
    expect(v.status, v.stdout + v.stderr).toBe(0);
    expect(v.stdout).toMatch(/journey\.config\.yaml:\d+:\d+ warning links\.secret reads \$\{JOURNEY_LINK_SECRET\}, and JOURNEY_LINK_SECRET is not set \[unset-env\]/);
    expect(v.stdout).toContain('the unsubscribe and preference links are signed with it');
    const p = run(dir, ['plan'], env);
    expect(p.stderr.split('\n')[0]).toBe('warning journey.config.yaml: links.secret reads ${JOURNEY_LINK_SECRET}, and JOURNEY_LINK_SECRET is not set');
    expect(v.stdout + v.stderr + p.stdout + p.stderr).not.toContain(VALUE);
  });
});

describe('a command on a project with errors, some secrets unset too', () => {
  it('says first that the project has errors, then the errors, then the warnings (exit 1)', () => {
    const dir = project();
    const config = path.join(dir, 'journey.config.yaml');
    writeFileSync(config, readFileSync(config, 'utf8').replace(/^currency:/m, 'curency:'));
    const r = run(dir, ['run', '--once'], {});
    expect(r.status).toBe(1);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toBe('error: the project has 1 error(s)');
    const error = lines.findIndex((l) => l.includes("error unknown key 'curency'"));
    const warning = lines.findIndex((l) => l.includes('warning provider'));
    expect(error).toBeGreaterThan(0);
    expect(warning).toBeGreaterThan(error);
  });
});
