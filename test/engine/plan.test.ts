import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planProject, sourceHash } from '../../src/engine/plan.js';
import { openProject } from '../../src/project/open-project.js';
import { storePathFor } from '../../src/project/paths.js';
import { importFile } from '../../src/store/import/import.js';
import { deployVersion } from '../../src/store/journey-state.js';
import { openStore } from '../../src/store/open.js';
import { copyExampleShop } from '../helpers/example-shop.js';

// The example shop's journeys over the hand-counted shop of test/fixtures/segments/shop.
const root = path.resolve(__dirname, '../..');
const now = new Date('2026-11-25T12:00:00Z');
let dir: string;

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [path.join(root, 'bin/journey.js'), '-C', dir, '--now', now.toISOString(), ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'journey-plan-'));
  copyExampleShop(dir);
  const db = openStore(storePathFor(dir));
  for (const [kind, file] of [['customers', 'customers.csv'], ['orders', 'orders.csv'], ['suppressions', 'suppressions.csv']] as const) {
    await importFile(db, { kind, file: path.join(root, 'test/fixtures/segments/shop', file), now: now.getTime() });
  }
  db.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('journey plan', () => {
  it('on a project never run: every journey is new, backfills enter their segment, the rest wait for newcomers (exit 2)', () => {
    const r = cli('plan', '--json');
    expect(r.status, r.stderr).toBe(2);
    const plan = JSON.parse(r.stdout);
    const byId = Object.fromEntries(plan.journeys.map((j: { journey: string }) => [j.journey, j]));
    expect(plan.journeys.every((j: { status: string }) => j.status === 'new')).toBe(true);
    // win-back-30d backfills no_order_30d = c04, c13 (hand-counted); its first step e-mails both
    expect(byId['win-back-30d'].entering.count).toBe(2);
    expect(byId['win-back-30d'].entering.sample).toEqual(['c04', 'c13']);
    // 13:00 in Prague: both are e-mailed at once, and wait a week
    expect(byId['win-back-30d'].tick.steps.filter((s: { queued: number; moved: number }) => s.queued + s.moved > 0)).toEqual([
      expect.objectContaining({ step: 'miss_you', description: 'send email we-miss-you', queued: 2, moved: 2, skipped: 0, deferred: 0 }),
    ]);
    // no backfill: first_time_buyers (c01) is recorded, nobody enters now
    expect(byId['drive-to-second-purchase'].trigger.population).toBe(1);
    expect(byId['drive-to-second-purchase'].entering.count).toBe(0);
    // c15 and c16 have their registration anniversary today; the trigger fires from 10:00 their time:
    // 12:00 UTC is 13:00 in Prague (c15) and 02:00 next day in Kiritimati (c16)
    expect(byId['registration-anniversary'].entering.sample).toEqual(['c15']);
  });

  it('after a deployment with no edits: nothing to change (exit 0)', () => {
    const project = openProject(dir);
    const db = openStore(storePathFor(dir));
    for (const j of project.journeys) deployVersion(db, { id: j.id, source: j.source, hash: sourceHash(j.source), enabled: j.enabled }, now.getTime());
    db.close();
    const r = cli('plan');
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('0 new, 0 changed, 0 removed, 8 unchanged');
  });

  it('an edit says, per step, what happens to the customers inside', () => {
    const file = path.join(dir, 'journeys/drive-to-second-purchase.yaml');
    const before = readFileSync(file, 'utf8');
    // customers sit at wait_open (3), sms_reminder (1) and wait_week (4)
    const db = openStore(storePathFor(dir));
    const enrol = db.transaction(() => {
      let n = 0;
      for (const [step, count] of [['wait_open', 3], ['sms_reminder', 1], ['wait_week', 4]] as const) {
        for (let i = 0; i < count; i++) {
          db.run(
            `INSERT INTO enrolments (journey_id, version, customer_id, entry_key, trigger_at, entered_at, status, step_id, step_started_at, due_at)
             VALUES ('drive-to-second-purchase', 1, ?, ?, ?, ?, 'active', ?, ?, ?)`,
            [`c0${n + 1}`.slice(-3), `test:${n}`, now.getTime(), now.getTime(), step, now.getTime(), now.getTime() + 86_400_000],
          );
          n++;
        }
      }
      return n;
    });
    db.close();
    expect(enrol).toBe(8);
    const edited = before
      .replace(/  - id: sms_reminder\n(    .*\n)+?(?=  - id:)/, '')
      .replace('    send: { channel: email, template: loyalty-invite }', '    send: { channel: email, template: loyalty-invite, coupon: second-order-10 }')
      .replace('  - id: done\n', '  - id: survey\n    send: { channel: email, template: thank-you }\n  - id: done\n')
      .replace('steps:\n', 'removed_steps:\n  sms_reminder: { moved_to: wait_week }\n\nsteps:\n');
    writeFileSync(file, edited);
    try {
      const project = openProject(dir);
      const plan = planProject(project, { now, storePath: storePathFor(dir), only: ['drive-to-second-purchase'], sample: 0 });
      const p = plan.journeys[0]!;
      expect(p.status).toBe('changed');
      expect(p.inside).toBe(8);
      expect(p.diff!.steps).toEqual([
        { kind: 'removed', step: 'sms_reminder', waiting: 1, movedTo: 'wait_week' },
        { kind: 'changed', step: 'loyalty', waiting: 0, fields: ['coupon'] },
        { kind: 'added', step: 'survey', past: 0 },
      ]);
      const human = cli('plan', 'drive-to-second-purchase');
      expect(human.status).toBe(2);
      expect(human.stdout).toContain('- step sms_reminder removed: 1 customer(s) there move to wait_week');
      expect(human.stdout).toContain('~ step loyalty changed (coupon)');
    } finally {
      writeFileSync(file, before);
    }
  });

  it("gives a segment trigger's population whether or not its membership check is due at the tick", () => {
    const copy = mkdtempSync(path.join(os.tmpdir(), 'journey-plan-checked-'));
    try {
      cpSync(dir, copy, { recursive: true });
      const project = openProject(copy);
      const plan = (at: Date) => planProject(project, { now: at, storePath: storePathFor(copy), only: ['drive-to-second-purchase', 'win-back-30d'], sample: 5 });
      const population = (p: ReturnType<typeof plan>) => Object.fromEntries(p.journeys.map((j) => [j.journey, j.trigger.population]));
      // never run: the tick checks both segments (first_time_buyers = c01, no_order_30d = c04, c13)
      expect(population(plan(now))).toEqual({ 'drive-to-second-purchase': 1, 'win-back-30d': 2 });
      const ran = spawnSync(process.execPath, [path.join(root, 'bin/journey.js'), '-C', copy, '--now', now.toISOString(), 'run', '--once', '--no-deliver'], { encoding: 'utf8' });
      expect(ran.status, ran.stderr).toBe(0);
      // ten minutes on, neither hourly nor daily check is due: the same sizes, counted without the tick
      const later = plan(new Date(now.getTime() + 10 * 60_000));
      expect(later.journeys.every((j) => j.tick!.entered === 0)).toBe(true);
      expect(population(later)).toEqual({ 'drive-to-second-purchase': 1, 'win-back-30d': 2 });
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('an unknown journey is an error (exit 1, not the 2 of "changes"), and so is a missing store', () => {
    const r = cli('plan', 'no-such-journey');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("no journey matches no-such-journey");
    const empty = mkdtempSync(path.join(os.tmpdir(), 'journey-plan-empty-'));
    cpSync(path.join(dir, 'journey.config.yaml'), path.join(empty, 'journey.config.yaml'));
    // the folders the config names must exist (validate's missing-folder), even empty
    for (const folder of ['journeys', 'segments']) mkdirSync(path.join(empty, folder));
    const r2 = spawnSync(process.execPath, [path.join(root, 'bin/journey.js'), '-C', empty, 'plan'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/no store at .*hint: import the shop data first/s);
    rmSync(empty, { recursive: true, force: true });
  });
});
