/**
 * A segment edit is a change, end to end through the CLI: `journey run` records the
 * segment versions each journey uses, and `journey plan` shows an edited segment as
 * a change of every journey that uses it (exit 2), with who joins and who leaves.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Shop, journey } from './helpers/shop.js';

const NOW = '2026-06-01T12:00:00Z';

const SEGMENTS = (between: string, lapsedVip = '{ segment: lapsed }') => `segments:
  everyone:
    rule: { reachable: email }
  vip:
    rule: { attributes.tier: gold }
  lapsed:
    description: Last order a while ago, reachable by e-mail.
    rule:
      all:
        - last_order_at: { between: ${between} }
        - reachable: email
  lapsed_vip:
    rule:
      all:
        - ${lapsedVip}
        - attributes.tier: gold
`;

const step = `steps:
  - id: hello
    send: { channel: email, template: hello }
`;

let shop: Shop;
const segmentsFile = () => path.join(shop.dir, 'segments/segments.yaml');

beforeAll(async () => {
  shop = await Shop.create({
    segments: SEGMENTS('[30d, 10mo]'),
    journeys: {
      'win-back': journey('win-back', `trigger: { segment: lapsed }\n${step}`),
      'vip-win-back': journey('vip-win-back', `trigger: { segment: lapsed_vip }\n${step}`),
      'vip-thanks': journey('vip-thanks', `trigger: { segment: vip }\nexit_when:\n  - segment: lapsed\n${step}`),
      welcome: journey('welcome', `trigger: { segment: everyone }\n${step}`),
    },
    customerHeader: 'id,email,phone,first_name,registered_at,timezone,consent_email,consent_sms,attributes.tier',
    customers: ['c01', 'c02', 'c03', 'c04', 'c05', 'c06', 'c07', 'c08', 'c09', 'c10', 'c11'].map(
      (id) => `${id},${id}@shop.test,,${id},2024-01-01T00:00:00Z,UTC,${id === 'c11' ? 'no' : 'yes'},,${id === 'c02' || id === 'c05' ? 'gold' : 'silver'}`,
    ),
  });
  // Last orders, counted from 2026-06-01: between [30d, 10mo] holds 2025-08-01 .. 2026-05-02,
  // between [10d, 6mo] holds 2025-12-01 .. 2026-05-22.
  await shop.orders(
    [
      'o01,c01,2026-05-25T10:00:00Z,delivered,,10', // 7 days: neither
      'o02,c02,2026-05-15T10:00:00Z,delivered,,10', // 17 days: joins
      'o03,c03,2026-05-20T10:00:00Z,delivered,,10', // 12 days: joins
      'o04,c04,2026-04-01T10:00:00Z,delivered,,10', // 2 months: both
      'o05,c05,2025-10-01T10:00:00Z,delivered,,10', // 8 months: leaves
      'o06,c06,2025-09-01T10:00:00Z,delivered,,10', // 9 months: leaves
      'o07,c07,2026-01-15T10:00:00Z,delivered,,10', // 4.5 months: both
      'o08,c08,2025-01-01T10:00:00Z,delivered,,10', // 17 months: neither
      'o10,c10,2025-11-15T10:00:00Z,delivered,,10', // 6.5 months: leaves
      'o11,c11,2026-05-15T10:00:00Z,delivered,,10', // 17 days, but no e-mail consent: neither
    ],
    '2026-05-31T00:00:00Z',
  );
  shop.db.close();
  const run = shop.cli(NOW, 'run', '--once', '--no-deliver');
  expect(run.status, run.stderr).toBe(0);
});
afterAll(() => shop.close());

const plan = () => {
  const r = shop.cli(NOW, 'plan', '--json');
  return { status: r.status, stderr: r.stderr, plan: JSON.parse(r.stdout) as { journeys: { journey: string; status: string; segments: unknown[] }[] } };
};
const byId = (p: ReturnType<typeof plan>['plan']) => Object.fromEntries(p.journeys.map((j) => [j.journey, j]));

describe('journey plan after a segment edit', () => {
  it('with no edit since the run: every journey unchanged, exit 0', () => {
    const r = plan();
    expect(r.status, r.stderr).toBe(0);
    expect(r.plan.journeys.map((j) => [j.journey, j.status, j.segments])).toEqual([
      ['vip-thanks', 'unchanged', []],
      ['vip-win-back', 'unchanged', []],
      ['welcome', 'unchanged', []],
      ['win-back', 'unchanged', []],
    ]);
  });

  it('a description-only edit is not a change', () => {
    writeFileSync(segmentsFile(), readFileSync(segmentsFile(), 'utf8').replace('Last order a while ago', 'Lapsed buyers'));
    expect(plan().status).toBe(0);
  });

  it('an edited rule changes every journey using the segment (exit 2), with who joins and leaves', () => {
    writeFileSync(segmentsFile(), SEGMENTS('[10d, 6mo]'));
    const r = plan();
    expect(r.status, r.stderr).toBe(2);
    const j = byId(r.plan);
    const rule = [{ path: 'all[0].last_order_at.between', before: '[30d, 10mo]', after: '[10d, 6mo]' }];
    expect(j['win-back']!.status).toBe('changed');
    expect(j['win-back']!.segments).toEqual([
      {
        segment: 'lapsed',
        usedAs: 'trigger',
        recordedVersion: 1,
        status: 'changed',
        rule,
        through: [],
        joining: { count: 2, sample: ['c02', 'c03'] },
        leaving: { count: 3, sample: ['c05', 'c06', 'c10'] },
        note: null,
      },
    ]);
    // used in exit_when: a change too
    expect(j['vip-thanks']!.status).toBe('changed');
    expect(j['vip-thanks']!.segments).toEqual([expect.objectContaining({ segment: 'lapsed', usedAs: 'condition', rule })]);
    // the trigger includes the edited segment: its own members change (gold: c02, c05)
    expect(j['vip-win-back']!.status).toBe('changed');
    expect(j['vip-win-back']!.segments).toEqual([
      expect.objectContaining({ segment: 'lapsed_vip', usedAs: 'trigger', rule: [], through: ['lapsed'], joining: { count: 1, sample: ['c02'] }, leaving: { count: 1, sample: ['c05'] } }),
      expect.objectContaining({ segment: 'lapsed', usedAs: 'inside:lapsed_vip', rule, joining: expect.objectContaining({ count: 2 }), leaving: expect.objectContaining({ count: 3 }) }),
    ]);
    // a journey whose segments did not change stays unchanged
    expect(j['welcome']).toMatchObject({ status: 'unchanged', segments: [] });

    const human = shop.cli(NOW, 'plan', '--sample', '2');
    expect(human.status, human.stderr).toBe(2);
    expect(human.stdout).toContain('~ segment lapsed changed: all[0].last_order_at.between [30d, 10mo] -> [10d, 6mo]\n        +2 join (c02, c03), -3 leave (c05, c06, ...)');
    expect(human.stdout).toContain('~ segment lapsed_vip changed through segment lapsed\n        +1 join (c02), -1 leave (c05)');
    expect(human.stdout).toMatch(/~ win-back \S+ — v1, its segments changed\n/);
    expect(human.stdout).toContain('3 changed, 0 removed, 1 unchanged');
  });

  it('a segment a journey starts or stops using through an edit is reported as new or removed', () => {
    // lapsed_vip was (lapsed as recorded: c04 c05 c06 c07 c10) and gold (c02 c05): c05; now everyone and gold: c02 c05
    writeFileSync(segmentsFile(), SEGMENTS('[10d, 6mo]', '{ segment: everyone }'));
    const r = plan();
    expect(r.status).toBe(2);
    expect(byId(r.plan)['vip-win-back']!.segments).toEqual([
      expect.objectContaining({ segment: 'lapsed_vip', status: 'changed', rule: [{ path: 'all[0].segment', before: 'lapsed', after: 'everyone' }], through: ['everyone', 'lapsed'], joining: { count: 1, sample: ['c02'] }, leaving: { count: 0, sample: [] } }),
      // everyone: c01..c10 have consent, c11 has not
      { segment: 'everyone', usedAs: 'inside:lapsed_vip', recordedVersion: null, status: 'new', members: 10 },
      { segment: 'lapsed', usedAs: 'inside:lapsed_vip', recordedVersion: 1, status: 'removed' },
    ]);
    expect(shop.cli(NOW, 'plan').stdout).toContain('+ segment everyone (inside lapsed_vip) now used: 10 customers');
  });

  it('a run records the new versions: the next plan is unchanged again (exit 0)', () => {
    const run = shop.cli(NOW, 'run', '--once', '--no-deliver');
    expect(run.status, run.stderr).toBe(0);
    const r = plan();
    expect(r.status, r.stderr).toBe(0);
    expect(r.plan.journeys.every((j) => j.status === 'unchanged' && j.segments.length === 0)).toBe(true);
  });
});
