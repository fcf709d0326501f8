/**
 * The engine through the CLI, end to end: `journey run --once --no-deliver`,
 * `run --dry-run`, `inspect CUSTOMER` and `simulate`, against a temp project.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Shop, journey } from './helpers/shop.js';

let shop: Shop;

const J = journey('welcome', `
trigger: { segment: everyone, backfill: true }
exit_when:
  - orders_since_entry: { gte: 1 }
policies:
  quiet_hours: { from: "21:00", to: "08:00" }
steps:
  - id: hello
    send: { channel: email, template: hello, coupon: ten }
  - id: wait_open
    wait_for: { event: email_opened, of: hello, timeout: 2d, on_event: done }
  - id: nudge
    when: { reachable: sms }
    send: { channel: sms, template: nudge-sms }
  - id: done
    exit: { reason: finished }
`);

beforeAll(async () => {
  shop = await Shop.create({
    journeys: { welcome: J },
    customers: [
      'ann,ann@shop.test,+420601,Ann,2025-01-01T00:00:00Z,Europe/Prague,yes,yes',
      'bob,bob@shop.test,,Bob,2025-01-01T00:00:00Z,Asia/Tokyo,yes,',
    ],
  });
  // the CLI opens the store itself
  shop.db.close();
});
afterAll(() => shop.close());

const json = (r: { stdout: string; stderr: string; status: number | null }) => {
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

describe('journey run / inspect / simulate', () => {
  it('simulate prints who gets what and when, on a copy: the store is not touched', () => {
    const r = json(shop.cli('2026-03-02T12:00:00Z', 'simulate', '--from', '2026-03-02T12:00:00Z', '--to', '2026-03-05T12:00:00Z', '--step', '1h', '--json'));
    expect(r.ticks).toBe(73);
    expect(r.timeline.map((m: { at: string; customer_id: string; step_id: string }) => `${m.customer_id} ${m.step_id} @${m.at}`)).toEqual([
      // 12:00 UTC is 13:00 in Prague, 21:00 in Tokyo (quiet until 08:00 = 23:00 UTC)
      'ann hello @2026-03-02T12:00:00.000Z',
      'bob hello @2026-03-02T23:00:00.000Z',
      'ann nudge @2026-03-04T12:00:00.000Z',
    ]);
    expect(r.journeys).toEqual([expect.objectContaining({ journey_id: 'welcome', entered: 2, inside_at_end: 0, completed: 2, completions: { finished: 2 }, exits: {} })]);
    const human = shop.cli('2026-03-02T12:00:00Z', 'simulate', '--from', '2026-03-02T12:00:00Z', '--to', '2026-03-05T12:00:00Z', '--step', '1h');
    expect(human.status).toBe(0);
    // addresses are masked unless --show-pii
    expect(human.stdout).toContain('2026-03-02T12:00:00Z  welcome/hello  email hello → ann (a**@shop.test)');
    expect(human.stdout).not.toContain('ann@shop.test');
    const shown = shop.cli('2026-03-02T12:00:00Z', '--show-pii', 'simulate', '--from', '2026-03-02T12:00:00Z', '--to', '2026-03-02T13:00:00Z', '--step', '1h');
    expect(shown.stdout).toContain('email hello → ann (ann@shop.test)');
    // inside at start, entered, completed, exited, inside at end, messages, converted, revenue (no goal: -)
    expect(human.stdout).toMatch(/^welcome\s+0\s+2\s+2\s+0\s+0\s+3\s+-\s+-$/m);
    expect(human.stdout).toContain('welcome  completed: finished 2');
    // nothing was written to the real store
    const inspect = json(shop.cli('2026-03-02T12:00:00Z', 'inspect', 'ann', '--json'));
    expect(inspect.journeys).toEqual([]);
  });

  it('run --once --no-deliver ticks once: outbox rows pending, the report as JSON; the same --now again does nothing', () => {
    const first = json(shop.cli('2026-03-02T12:00:00Z', 'run', '--once', '--no-deliver', '--json'));
    expect(first.tick.journeys).toEqual([expect.objectContaining({ journey: 'welcome', version: 1, entered: 2, queued: 1, deferred: 1 })]);
    expect(first.delivery).toBeNull();
    const again = json(shop.cli('2026-03-02T12:00:00Z', 'run', '--once', '--no-deliver', '--json'));
    expect(again.tick.journeys).toEqual([expect.objectContaining({ entered: 0, queued: 0, deferred: 0, skipped: 0, exited: 0, completed: 0 })]);
    const human = shop.cli('2026-03-02T23:00:00Z', 'run', '--once', '--no-deliver');
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toContain('welcome v1  0 entered, 1 queued, 0 skipped, 0 deferred');
    expect(human.stdout).toContain('delivery: not run (--no-deliver)');
  });

  it('inspect shows where a customer is, since when, and why each step was taken', () => {
    const r = shop.cli('2026-03-03T00:00:00Z', 'inspect', 'bob');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('welcome v1 entered 2026-03-02T12:00:00Z: at wait_open since 2026-03-02T23:00:00Z');
    expect(r.stdout).toMatch(/2026-03-02T12:00:00Z\s+hello\s+deferred: quiet_hours/);
    // the run was --no-deliver: the step queued the message, and no provider has it yet
    expect(r.stdout).toMatch(/2026-03-02T23:00:00Z\s+hello\s+queued \(pending\): email hello/);
    expect(r.stdout).not.toMatch(/hello\s+sent/);
    const j = json(shop.cli('2026-03-03T00:00:00Z', 'inspect', 'ann', '--json'));
    expect(j.journeys[0].enrolment).toMatchObject({ journey_id: 'welcome', status: 'active', step_id: 'wait_open' });
    expect(j.journeys[0].log.map((l: { outcome: string; delivery: string | null }) => [l.outcome, l.delivery])).toEqual([
      ['entered', null],
      ['sent', 'pending'],
    ]);
    const missing = shop.cli('2026-03-03T00:00:00Z', 'inspect', 'nobody');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("no customer 'nobody'");
  });

  it('run --dry-run shows what a tick would do and writes nothing', () => {
    const r = json(shop.cli('2026-03-04T12:00:00Z', 'run', '--dry-run', '--json'));
    expect(r.tick.journeys).toEqual([expect.objectContaining({ journey: 'welcome', queued: 1 })]);
    const j = json(shop.cli('2026-03-04T12:00:00Z', 'inspect', 'ann', '--json'));
    expect(j.journeys[0].enrolment.step_id).toBe('wait_open');
  });

  it('a second runner on the same store is refused while the first holds the lock', async () => {
    const { openStore } = await import('../../src/store/open.js');
    const db = openStore(`${shop.dir}/.journey/store.db`);
    try {
      db.run('INSERT INTO runner_lock (name, owner, acquired_at, expires_at) VALUES (?, ?, ?, ?)', ['tick', 'other-host:42', Date.now(), Date.now() + 60_000]);
    } finally {
      db.close();
    }
    const r = shop.cli('2026-03-04T12:00:00Z', 'run', '--once', '--no-deliver');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('another runner is ticking this store (other-host:42)');
  });
});
