/**
 * `journey validate` end to end, through the built CLI (bin/journey.js runs dist/).
 * `npm test` builds first; when dist/ is missing (a bare `npx vitest run`) it is built here.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const bin = path.join(repo, 'bin/journey.js');
const broken = 'test/fixtures/validate/project/broken';
const unknownStepKey = `${broken}/07-unknown-step-key.yaml`;
const unknownCouponKey = `${broken}/13-unknown-coupon-key.config.yaml`;
const backfillWarning = `${broken}/52-backfill-unbounded.yaml`;

// the example shop's providers read these; set, as where journey runs (an unset one is a
// warning of its own: test/cli/unset-env.test.ts)
const PROVIDER_SECRETS = { SENDGRID_API_KEY: 'set', TWILIO_AUTH_TOKEN: 'set', KLAVIYO_API_KEY: 'set' };

function journey(args: string[], cwd = repo, env: Record<string, string | undefined> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...PROVIDER_SECRETS, NO_COLOR: '1', FORCE_COLOR: undefined, ...env },
  });
}

let elsewhere: string;

beforeAll(() => {
  if (!existsSync(path.join(repo, 'dist/cli/main.js'))) {
    const build = spawnSync('npm', ['run', 'build'], { cwd: repo, encoding: 'utf8', shell: process.platform === 'win32' });
    if (!existsSync(path.join(repo, 'dist/cli/main.js'))) throw new Error(`npm run build did not produce dist/:\n${build.stdout}\n${build.stderr}`);
  }
  elsewhere = mkdtempSync(path.join(os.tmpdir(), 'journey-validate-'));
});

afterAll(() => {
  if (elsewhere) rmSync(elsewhere, { recursive: true, force: true });
});

describe('journey validate: exit codes', () => {
  it('exits 0 on the example project', () => {
    const r = journey(['validate', 'examples/shop']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/✔ \d+ files valid/);
    expect(r.stderr).toBe('');
  });

  it('exits 1 on a broken file, printing file:line:col severity message [code] and the hint', () => {
    const r = journey(['validate', unknownStepKey]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`${unknownStepKey}:13:5 error unknown key 'wiat' — did you mean 'wait'? [unknown-key]`);
    expect(r.stdout).toContain('✖ 1 error, 0 warnings in 1 file');
    const withHint = journey(['validate', unknownCouponKey]);
    expect(withHint.stdout).toContain(`${unknownCouponKey}:12:47 error unknown key 'valid' [unknown-key]\n  hint: allowed here: discount, code, prefix, valid_for, pool, length, alphabet\n`);
  });

  it('prints no colour codes with NO_COLOR', () => {
    const r = journey(['validate', unknownStepKey]);
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  it('exits 64 (usage) on an unknown flag', () => {
    const r = journey(['validate', '--no-such-flag', 'examples/shop']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain("unknown option '--no-such-flag'");
  });

  it('exits 64 (usage) on a path that does not exist', () => {
    const r = journey(['validate', 'no/such/journey.yaml']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('no such file or folder: no/such/journey.yaml');
  });

  it('exits 64 (usage) on an unknown format', () => {
    expect(journey(['validate', '--format', 'xml', 'examples/shop']).status).toBe(64);
  });
});

describe('journey validate --format json', () => {
  it('has the documented shape', () => {
    const r = journey(['validate', '--format', 'json', unknownCouponKey, backfillWarning]);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(out).sort()).toEqual(['diagnostics', 'errors', 'files', 'notes', 'valid', 'warnings']);
    expect(out).toMatchObject({ valid: false, files: 2, errors: 1, warnings: 1, notes: [] });
    expect(out.diagnostics).toEqual([
      {
        severity: 'error',
        code: 'unknown-key',
        file: unknownCouponKey,
        line: 12,
        column: 47,
        message: "unknown key 'valid'",
        hint: 'allowed here: discount, code, prefix, valid_for, pool, length, alphabet',
      },
      {
        severity: 'warning',
        code: 'unbounded-backfill',
        file: backfillWarning,
        line: 9,
        column: 13,
        message: "backfill enters everyone already in 'ever_bought', whose last order has no upper bound on how long ago",
        hint: 'it would reach customers from years ago; bound the segment, e.g. last_order_at: { between: [30d, 10mo] }',
      },
    ]);
  });

  it('leaves hint out when there is none, and --json is the same as --format json', () => {
    const r = journey(['validate', '--json', unknownStepKey]);
    const out = JSON.parse(r.stdout) as { diagnostics: Record<string, unknown>[] };
    expect(out.diagnostics).toHaveLength(1);
    expect(Object.keys(out.diagnostics[0]!).sort()).toEqual(['code', 'column', 'file', 'line', 'message', 'severity']);
  });

  it('reports a valid project as valid with no diagnostics', () => {
    const out = JSON.parse(journey(['validate', '--format', 'json', 'examples/shop']).stdout) as Record<string, unknown>;
    expect(out).toMatchObject({ valid: true, errors: 0, warnings: 0, diagnostics: [] });
    expect(out.files).toBeGreaterThanOrEqual(8);
  });
});

describe('journey validate --format github', () => {
  it('prints one workflow annotation per diagnostic', () => {
    const r = journey(['validate', '--format', 'github', unknownStepKey, unknownCouponKey]);
    expect(r.status).toBe(1);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      `::error file=${unknownStepKey},line=13,col=5,title=journey unknown-key::unknown key 'wiat' — did you mean 'wait'?`,
      // the hint goes on a second line of the message, escaped
      `::error file=${unknownCouponKey},line=12,col=47,title=journey unknown-key::unknown key 'valid'%0Aallowed here: discount, code, prefix, valid_for, pool, length, alphabet`,
    ]);
  });

  it('names files from the root of the git repository, wherever it runs from', () => {
    const r = journey(['validate', '--format', 'github', `../../${unknownStepKey}`], path.join(repo, 'examples/shop'), { GITHUB_WORKSPACE: undefined });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`^::error file=${unknownStepKey.replace(/[.]/g, '\\.')},line=13,col=5,`));
  });

  it('names files from $GITHUB_WORKSPACE when it is set', () => {
    const r = journey(['validate', '--format', 'github', unknownStepKey], repo, { GITHUB_WORKSPACE: path.join(repo, 'test') });
    expect(r.stdout).toMatch(/^::error file=fixtures\/validate\/project\/broken\/07-unknown-step-key\.yaml,line=13,col=5,/);
  });

  it('names files from the current folder outside a repository', () => {
    const dir = mkdtempSync(path.join(elsewhere, 'norepo-'));
    mkdirSync(path.join(dir, 'sub'));
    writeFileSync(path.join(dir, 'x.yaml'), 'id: x\ntrigger: { event: order_placed }\nsteps:\n  - id: a\n    wiat: 1d\n');
    const r = journey(['validate', '--format', 'github', '../x.yaml'], path.join(dir, 'sub'), { GITHUB_WORKSPACE: undefined });
    expect(r.stdout).toMatch(/^::error file=\.\.\/x\.yaml,line=5,col=5,/);
  });

  it('annotates warnings as warnings', () => {
    const r = journey(['validate', '--format', 'github', backfillWarning]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^::warning file=[^,]+52-backfill-unbounded\.yaml,line=9,col=13,title=journey unbounded-backfill::backfill enters/);
  });
});

describe('journey validate --strict', () => {
  it('passes a warning without --strict and fails it with --strict', () => {
    const loose = journey(['validate', backfillWarning]);
    expect(loose.status).toBe(0);
    expect(loose.stdout).toContain(`${backfillWarning}:9:13 warning backfill enters everyone already in 'ever_bought'`);
    const strict = journey(['validate', '--strict', backfillWarning]);
    expect(strict.status).toBe(1);
    expect(strict.stdout).toContain('✖ 0 errors, 1 warning in 1 file');
  });
});

describe('journey -C', () => {
  it('validates the project named with -C from another folder', () => {
    const r = journey(['-C', path.join(repo, 'examples/shop'), 'validate'], elsewhere);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/✔ \d+ files valid/);
  });

  it('takes a -C relative to the current folder, after the command too', () => {
    const r = journey(['validate', '-C', '../examples/shop', '--format', 'json'], path.join(repo, 'test'));
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as { valid: boolean; files: number };
    expect(out.valid).toBe(true);
    expect(out.files).toBeGreaterThanOrEqual(8);
  });

  it("validates the corpus's context project with -C: broken/ is not part of it", () => {
    const r = journey(['-C', path.join(repo, 'test/fixtures/validate/project'), 'validate', '--format', 'json'], elsewhere);
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as { diagnostics: unknown[] }).diagnostics).toEqual([]);
  });

  it('with -C and a file of that project, checks the file against the project', () => {
    const project = path.join(repo, 'test/fixtures/validate/project');
    const r = journey(['-C', project, 'validate', path.join(project, 'broken/30-unknown-template.yaml')], elsewhere);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("30-unknown-template.yaml:13:17 error unknown template 'thankyou' — did you mean 'thank-you'? [unknown-template]");
  });

  it("with -C and a file of that project's journeys folder kept outside it (journeys: ../../journeys), checks the file against the project", () => {
    // the repository's layout: examples/shop's journeys are ../../journeys
    const copy = mkdtempSync(path.join(os.tmpdir(), 'journey-validate-outside-'));
    mkdirSync(path.join(copy, 'journeys'));
    writeFileSync(path.join(copy, 'journeys', 'lapsed.yaml'), 'id: lapsed\ntrigger: { segment: no_order_30, check: "0 * * * *" }\nsteps:\n  - id: hello\n    send: { channel: email, template: we-miss-you }\n');
    mkdirSync(path.join(copy, 'examples'));
    spawnSync('cp', ['-r', path.join(repo, 'examples/shop'), path.join(copy, 'examples/shop')]);
    try {
      const r = journey(['-C', 'examples/shop', 'validate', 'journeys/lapsed.yaml'], copy);
      expect(r.status, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toContain("journeys/lapsed.yaml:2:21 error unknown segment 'no_order_30' — did you mean 'no_order_30d'? [unknown-segment]");
      expect(r.stdout + r.stderr).not.toContain('were not checked');
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});

describe('journey validate: every error in one run', () => {
  const stages = 'test/fixtures/validate/stages';

  it('shows the syntax, schema and semantic errors of every file together, and the semantic errors of files with schema errors', () => {
    const r = journey(['validate', '--format', 'json', stages]);
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout) as { diagnostics: { file: string; line: number; code: string }[] };
    expect(out.diagnostics.map((d) => `${path.relative(stages, d.file)}:${d.line} ${d.code}`)).toEqual([
      // a schema error in the config: the rest of the project is still checked against it
      'journey.config.yaml:9 unknown-key',
      // a schema error and, in the same file, a step that does not exist
      'journeys/schema-and-step.yaml:5 unknown-key',
      'journeys/schema-and-step.yaml:8 unknown-step',
      'journeys/syntax.yaml:3 yaml-syntax',
      'journeys/unknown-template.yaml:5 unknown-template',
      // one segment fails the schema, another of the same file has an empty range
      'segments/segments.yaml:3 unknown-key',
      'segments/segments.yaml:5 empty-range',
    ]);
    // uses-broken.yaml names the template and the segment whose declarations have errors: those are not unknown names
    expect(out.diagnostics.some((d) => d.file.endsWith('uses-broken.yaml'))).toBe(false);
  });

  it('checks a journey file against a config with errors, and says that the config has errors', () => {
    const r = journey(['validate', `${stages}/journeys/unknown-template.yaml`]);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`${stages}/journeys/unknown-template.yaml:5:39 error unknown template 'ofer' — did you mean 'offer'? [unknown-template]`);
    expect(r.stdout).toContain(`${stages}/journey.config.yaml warning the project config has errors, so references to its entries that have errors were not checked [config-invalid]`);
  });
});

describe('journey validate: the folders the config names', () => {
  const project = (config: string): string => {
    const dir = mkdtempSync(path.join(elsewhere, 'folders-'));
    mkdirSync(path.join(dir, 'segments'));
    writeFileSync(path.join(dir, 'journey.config.yaml'), config);
    writeFileSync(path.join(dir, 'segments/s.yaml'), 'segments:\n  buyers:\n    rule: { orders: { count: { gte: 1 } } }\n');
    return dir;
  };

  it('a journeys: folder that does not exist is an error at the key, with a hint', () => {
    const dir = project('version: 1\ntimezone: UTC\njourneys: ../jurneys\n');
    const r = journey(['validate'], dir);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain("journey.config.yaml:3:11 error folder '../jurneys' does not exist (journeys names the folder that holds the journey files) [missing-folder]");
    expect(r.stdout).toMatch(/ {2}hint: create \S*jurneys, or correct the path: it is relative to the folder of the config/);
  });

  it('a segments_dir: folder that does not exist is an error too, and plan refuses the project', () => {
    const dir = project('version: 1\ntimezone: UTC\nsegments_dir: segmets\n');
    const r = journey(['validate', '--json'], dir);
    expect(r.status).toBe(1);
    expect((JSON.parse(r.stdout) as { diagnostics: unknown[] }).diagnostics).toEqual([
      expect.objectContaining({ code: 'missing-folder', file: 'journey.config.yaml', line: 3, column: 15 }),
    ]);
    const plan = journey(['plan'], dir);
    expect(plan.status).toBe(1);
  });

  it('a folder that exists validates', () => {
    const dir = project('version: 1\ntimezone: UTC\nsegments_dir: segments\n');
    expect(journey(['validate'], dir).status).toBe(0);
  });
});

describe('journey validate: order statuses', () => {
  const project = (config: string): string => {
    const dir = mkdtempSync(path.join(elsewhere, 'statuses-'));
    mkdirSync(path.join(dir, 'segments'));
    writeFileSync(path.join(dir, 'journey.config.yaml'), config);
    writeFileSync(path.join(dir, 'segments/s.yaml'), 'segments:\n  returners:\n    rule: { orders: { status: [returned, refunded] } }\n');
    return dir;
  };

  it("a status of the shop's own is a warning until the config declares it under order_statuses", () => {
    const undeclared = journey(['validate', '--strict'], project('version: 1\n'));
    expect(undeclared.status).toBe(1);
    expect(undeclared.stdout).toContain("segments/s.yaml:3:32 warning 'returned' is not an order status journey knows [unknown-status]");
    const declared = journey(['validate', '--strict'], project('version: 1\norder_statuses: [returned]\n'));
    expect(declared.stdout).toMatch(/✔ 2 files valid/);
    expect(declared.status).toBe(0);
  });
});

describe('journey validate: removed_steps against what was deployed', () => {
  const config = 'version: 1\nchannels:\n  email: { provider: dev }\nproviders:\n  dev: { type: console }\ntemplates:\n  hi: { channel: email, subject: Hi, body: Hello }\n';
  const v1 = 'id: welcome\ntrigger: { event: order_placed }\nsteps:\n  - id: first\n    send: { channel: email, template: hi }\n  - id: pause\n    wait: 1d\n  - id: second\n    send: { channel: email, template: hi }\n';
  // v2 drops step pause, lists it under removed_steps, and one more that never existed
  const v2 = v1.replace('  - id: pause\n    wait: 1d\n', '').replace('steps:\n', 'removed_steps:\n  pause: { moved_to: second }\n  puase: { moved_to: second }\nsteps:\n');

  const project = (): string => {
    const dir = mkdtempSync(path.join(elsewhere, 'removed-'));
    mkdirSync(path.join(dir, 'journeys'));
    writeFileSync(path.join(dir, 'journey.config.yaml'), config);
    writeFileSync(path.join(dir, 'journeys/welcome.yaml'), v1);
    return dir;
  };

  it('with a store, a removed step that no deployed version had is a warning, with a did-you-mean', () => {
    const dir = project();
    expect(journey(['migrate'], dir).status).toBe(0);
    const run = journey(['run', '--once', '--no-deliver'], dir);
    expect(run.status, run.stderr).toBe(0);
    writeFileSync(path.join(dir, 'journeys/welcome.yaml'), v2);
    const r = journey(['validate', '--json'], dir);
    const out = JSON.parse(r.stdout) as { diagnostics: { code: string; line: number; message: string }[] };
    expect(out.diagnostics.map((d) => [d.code, d.line, d.message])).toEqual([
      ['removed-step-unknown', 5, "step 'puase' is not in this journey and no deployed version of 'welcome' had it — did you mean 'pause'?"],
    ]);
    expect(r.status).toBe(0);
  });

  it('with no store, each removed step is a warning that it could not be checked, and no store is created', () => {
    const dir = project();
    writeFileSync(path.join(dir, 'journeys/welcome.yaml'), v2);
    const r = journey(['validate', '--json'], dir);
    const out = JSON.parse(r.stdout) as { diagnostics: { code: string; line: number }[] };
    expect(out.diagnostics.map((d) => [d.code, d.line])).toEqual([
      ['removed-step-unchecked', 4],
      ['removed-step-unchecked', 5],
    ]);
    expect(existsSync(path.join(dir, '.journey/store.db'))).toBe(false);
  });
});
