/**
 * journey plan says what the next tick does, number for number: on the example shop
 * with demo data (as examples/demo.js builds it), at night, in the morning, after
 * ticks (caps biting) and a week on, `plan --json` and `run --dry-run --json` agree
 * per journey and per step. And a small shop where plan's numbers must honour quiet
 * hours and a frequency cap, in JSON and in words.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, Shop, journey } from './helpers/shop.js';
import { copyExampleShop } from '../helpers/example-shop.js';

interface StepNumbers {
  step: string;
  queued: number;
  skipped: number;
  skips: { reason: string; count: number }[];
  deferred: number;
  deferrals: { reason: string; count: number; earliest: string; latest: string }[];
  moved: number;
  exited: number;
  completed: number;
}
type Numbers = { entered: number; queued: number; deferred: number; skipped: number; exited: number; completed: number; converted: number; steps: StepNumbers[] };

const cli = (dir: string, now: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/journey.js'), '-C', dir, '--now', now, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

const numbers = (t: Numbers): Numbers => ({
  entered: t.entered,
  queued: t.queued,
  deferred: t.deferred,
  skipped: t.skipped,
  exited: t.exited,
  completed: t.completed,
  converted: t.converted,
  steps: t.steps.map((s) => ({ step: s.step, queued: s.queued, skipped: s.skipped, skips: s.skips, deferred: s.deferred, deferrals: s.deferrals, moved: s.moved, exited: s.exited, completed: s.completed })),
});

describe('plan and the tick agree on the example shop', () => {
  let dir: string;
  const shopNow = '2026-01-01T10:00:00Z';
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'journey-plan-tick-'));
    copyExampleShop(dir);
    // win-back-30d ships in test mode (a handful of copies to the team); live, it sends
    // enough for the frequency cap to bite, which this comparison must cover
    const winBack = path.join(dir, 'journeys/win-back-30d.yaml');
    writeFileSync(winBack, readFileSync(winBack, 'utf8').replace(/^test_recipients:\n  email: \[.*\]\n/m, ''));
    const gen = cli(dir, shopNow, 'demo-data', '--customers', '1500', '--seed', '1', '--out', path.join(dir, 'data'));
    expect(gen.status, gen.stderr).toBe(0);
    for (const kind of ['customers', 'products', 'orders', 'order-items', 'events', 'suppressions']) {
      const r = cli(dir, shopNow, 'import', kind, path.join(dir, 'data', `${kind.replace('-', '_')}.csv`));
      expect(r.status, r.stderr).toBe(0);
    }
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('per journey and step: entered, queued, deferred (why, until when), skipped (why), moved, exited, completed', () => {
    const seen = { queued: 0, quiet: 0, cap: 0, moved: 0 };
    // 03:00 in Prague (quiet hours, first run: backfills enter), the morning, the next day
    // (caps from the first ticks), and a week on (waits end, follow-ups go out)
    for (const now of ['2026-01-01T02:00:00Z', '2026-01-01T09:00:00Z', '2026-01-02T10:00:00Z', '2026-01-08T12:00:00Z']) {
      const plan = cli(dir, now, 'plan', '--json');
      expect([0, 2], plan.stderr).toContain(plan.status);
      const dry = cli(dir, now, 'run', '--dry-run', '--json');
      expect(dry.status, dry.stderr).toBe(0);
      const planned = Object.fromEntries((JSON.parse(plan.stdout).journeys as { journey: string; tick: Numbers }[]).map((j) => [j.journey, numbers(j.tick)]));
      const ticked = Object.fromEntries((JSON.parse(dry.stdout).tick.journeys as ({ journey: string } & Numbers)[]).map((j) => [j.journey, numbers(j)]));
      expect(planned, `plan and run --dry-run at ${now}`).toEqual(ticked);
      for (const j of Object.values(ticked)) {
        seen.queued += j.queued;
        for (const s of j.steps) {
          seen.moved += s.moved;
          for (const d of s.deferrals) seen[d.reason === 'quiet_hours' ? 'quiet' : d.reason === 'frequency_cap' ? 'cap' : 'queued'] += d.count;
        }
      }
      // the store moves on as in production, so the next plan starts where this tick left it
      const tick = cli(dir, now, 'run', '--once', '--no-deliver');
      expect(tick.status, tick.stderr).toBe(0);
    }
    // the comparison covered sends, quiet hours, caps and moves, not only zeros
    expect(seen.queued).toBeGreaterThan(0);
    expect(seen.quiet).toBeGreaterThan(0);
    expect(seen.cap).toBeGreaterThan(0);
    expect(seen.moved).toBeGreaterThan(0);
  }, 300_000);
});

describe("plan's numbers honour quiet hours and a frequency cap", () => {
  let shop: Shop;
  const T = '2026-03-02T13:00:00Z'; // 22:00 in Tokyo (quiet until 08:00), 08:00 in New York, 13:00 in London
  beforeAll(async () => {
    shop = await Shop.create({
      config: 'policies:\n  frequency_cap: { max: 1, per: 24h, on_cap: defer }\n',
      segments: 'segments:\n  everyone:\n    rule: { reachable: email }\n  londoners:\n    rule: { timezone: Europe/London }\n',
      journeys: {
        // files load in name order: a-news sends first, so b-hello meets the cap
        'a-news': journey('a-news', `
trigger: { segment: londoners, backfill: true }
steps:
  - id: news
    send: { channel: email, template: followup }
`),
        'b-hello': journey('b-hello', `
trigger: { segment: everyone, backfill: true }
policies:
  quiet_hours: { from: "21:00", to: "08:00", timezone: customer }
steps:
  - id: hello
    send: { channel: email, template: hello }
  - id: nudge
    send: { channel: sms, template: nudge-sms }
`),
      },
      customers: [
        'tokyo,t@shop.test,,T,2025-01-01T00:00:00Z,Asia/Tokyo,yes,',
        'ny,ny@shop.test,,N,2025-01-01T00:00:00Z,America/New_York,yes,',
        'ldn,l@shop.test,,L,2025-01-01T00:00:00Z,Europe/London,yes,',
      ],
    });
    shop.db.close();
  });
  afterAll(() => shop.close());

  it('in JSON: one now, one deferred to the end of quiet hours, one deferred by the cap; nobody reachable by SMS', () => {
    const r = cli(shop.dir, T, 'plan', '--json', 'b-hello');
    expect(r.status, r.stderr).toBe(2);
    const p = JSON.parse(r.stdout).journeys[0];
    expect(p.entering).toMatchObject({ count: 3, sample: ['ldn', 'ny', 'tokyo'] });
    expect(p.tick.steps).toEqual([
      expect.objectContaining({
        step: 'hello',
        queued: 1,
        moved: 1,
        deferred: 2,
        deferrals: [
          // 08:00 in Tokyo is 23:00 UTC
          { reason: 'quiet_hours', count: 1, earliest: '2026-03-02T23:00:00.000Z', latest: '2026-03-02T23:00:00.000Z' },
          // ldn got a-news at 13:00: its next message can go 24 hours later
          { reason: 'frequency_cap', count: 1, earliest: '2026-03-03T13:00:00.000Z', latest: '2026-03-03T13:00:00.000Z' },
        ],
        deferredTo: { quiet_hours: 'to 08:00 customer time (quiet hours)', frequency_cap: 'until the frequency cap allows (1 per 24h)' },
      }),
      // ny, e-mailed, has no phone: the SMS step skips it, and that is the journey's end
      expect.objectContaining({ step: 'nudge', queued: 0, skipped: 1, skips: [{ reason: 'not_reachable:sms', count: 1 }], completed: 1 }),
    ]);
    expect(p.tick).toMatchObject({ entered: 3, queued: 1, deferred: 2, skipped: 1, completed: 1 });
  });

  it('in words, per step, with a summary that totals what it lists; and the store is untouched', () => {
    const r = cli(shop.dir, T, 'plan');
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toContain(
      'step      hello (send email hello): 1 now, 1 deferred to 08:00 customer time (quiet hours), 1 deferred until the frequency cap allows (1 per 24h)',
    );
    expect(r.stdout).toContain('step      nudge (send sms nudge-sms): 0 now, 1 skipped (not reachable on sms), 1 complete');
    expect(r.stdout).toContain('step      news (send email followup): 1 now, 1 complete');
    expect(r.stdout).toContain('2 new, 0 changed, 0 removed, 0 unchanged; next tick: 4 enter, 2 messages queued now, 2 deferred, 1 skipped, 0 exit, 2 complete');
    const inspect = JSON.parse(cli(shop.dir, T, 'inspect', 'ldn', '--json').stdout);
    expect(inspect.journeys).toEqual([]);
    const again = cli(shop.dir, T, 'plan', '--json');
    expect(JSON.parse(again.stdout).journeys.map((j: { status: string }) => j.status)).toEqual(['new', 'new']);
  });
});
