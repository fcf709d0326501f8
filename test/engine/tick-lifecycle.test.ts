/**
 * Exits, goals, edits to a live journey, pausing, and idempotency of a tick.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DAY, HOUR, Shop, iso, journey, ms } from './helpers/shop.js';

let shop: Shop | undefined;
afterEach(() => {
  shop?.close();
  shop = undefined;
});

const T0 = '2026-03-02T10:00:00Z';
const at = (offsetMs: number, base = T0) => iso(ms(base) + offsetMs)!;
const cust = (id: string) => `${id},${id}@shop.test,,${id},2025-01-01T00:00:00Z,,yes,`;

describe('exit_when and goals', () => {
  const LONG = journey('long', `
trigger: { segment: everyone, backfill: true }
exit_when:
  - orders_since_entry: { gte: 1 }
goal:
  order_placed: { within: 30d }
steps:
  - id: hello
    send: { channel: email, template: hello }
  - id: long_wait
    wait: 14d
  - id: reminder
    send: { channel: email, template: followup }
`);

  it('takes effect at the next tick in the middle of a long wait; the goal records the order and its revenue', async () => {
    shop = await Shop.create({ journeys: { long: LONG }, customers: [cust('buyer'), cust('late'), cust('idle'), cust('canceled')] });
    shop.tick(T0);
    await shop.orders([`o1,buyer,${at(2 * DAY)},processing,,99.5`, `o2,canceled,${at(2 * DAY)},canceled,,50`], at(2 * DAY));
    shop.tick(at(2 * DAY + HOUR));
    expect(shop.enrolment('buyer')).toMatchObject({
      status: 'exited',
      exit_reason: 'exit_when',
      exited_at: ms(at(2 * DAY + HOUR)),
      converted_at: ms(at(2 * DAY)),
      conversion_order_id: 'o1',
      conversion_value: 99.5,
    });
    expect(shop.log('buyer')).toEqual(['hello entered: segment:2026-03-02T10:00:00.000Z', 'hello sent: email hello', 'long_wait waiting', 'long_wait exited: exit_when']);
    // a canceled order is not an order: still waiting
    expect(shop.enrolment('canceled')).toMatchObject({ status: 'active', step_id: 'long_wait', converted_at: null });
    shop.ticks(at(14 * DAY), at(15 * DAY), 12 * HOUR);
    expect(shop.sent('buyer')).toHaveLength(1);
    expect(shop.sent('idle')).toEqual([`idle hello @${at(0)}`, `idle reminder @${at(14 * DAY)}`]);
    expect(shop.enrolment('idle')).toMatchObject({ status: 'completed', exit_reason: 'end', converted_at: null });
    // an order after the journey ended but within the goal's window still converts; one after the window does not
    await shop.orders([`o3,idle,${at(20 * DAY)},processing,,40`, `o4,late,${at(31 * DAY)},processing,,70`], at(31 * DAY));
    shop.tick(at(31 * DAY + HOUR));
    expect(shop.enrolment('idle')).toMatchObject({ conversion_order_id: 'o3', conversion_value: 40 });
    expect(shop.enrolment('late')).toMatchObject({ status: 'completed', exit_reason: 'end', converted_at: null });
  });

  it('re-checked before every step: a step that makes the rule true stops the journey before the next step', async () => {
    shop = await Shop.create({
      journeys: {
        recheck: journey('recheck', `
trigger: { segment: everyone, backfill: true }
exit_when:
  - attributes.done: "yes"
steps:
  - id: mark
    update: { set: { done: "yes" } }
  - id: hello
    send: { channel: email, template: hello }
`),
      },
      customers: [cust('c1')],
    });
    shop.tick(T0);
    expect(shop.outbox()).toEqual([]);
    expect(shop.enrolment('c1')).toMatchObject({ status: 'exited', exit_reason: 'exit_when' });
    expect(shop.log('c1')).toEqual(['mark entered: segment:2026-03-02T10:00:00.000Z', 'mark updated', 'hello exited: exit_when']);
  });

  it('an unsubscribe (suppression) during a wait exits a journey whose exit_when says so', async () => {
    shop = await Shop.create({
      journeys: {
        unsub: journey('unsub', `
trigger: { segment: everyone, backfill: true }
exit_when:
  - suppressed: email
steps:
  - id: pause
    wait: 30d
  - id: hello
    send: { channel: email, template: hello }
`),
      },
      customers: [cust('c1'), cust('c2')],
    });
    shop.tick(T0);
    await shop.suppress(['email,c1@shop.test,unsubscribed'], at(DAY));
    shop.tick(at(DAY + HOUR));
    expect(shop.enrolments().map((e) => [e.customer_id, e.status, e.exit_reason])).toEqual([
      ['c1', 'exited', 'exit_when'],
      ['c2', 'active', null],
    ]);
  });
});

describe('edits to a live journey', () => {
  const V1 = journey('edit', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: hello
    send: { channel: email, template: hello }
  - id: wait_a
    wait: 7d
  - id: middle
    send: { channel: email, template: followup }
  - id: wait_b
    wait: 7d
  - id: last
    send: { channel: email, template: third }
`);

  it('a removed step with moved_to moves its customers there; the version is recorded', async () => {
    shop = await Shop.create({ journeys: { edit: V1 }, customers: [cust('c1'), cust('c2')] });
    shop.tick(T0);
    expect(shop.enrolments().map((e) => [e.step_id, e.version])).toEqual([
      ['wait_a', 1],
      ['wait_a', 1],
    ]);
    shop.writeJourney(
      'edit',
      V1.replace('  - id: wait_a\n    wait: 7d\n', '  - id: wait_short\n    wait: 1d\n').replace('steps:\n', 'removed_steps:\n  wait_a: { moved_to: wait_short }\nsteps:\n'),
    );
    shop.tick(at(HOUR));
    expect(shop.enrolments().map((e) => [e.step_id, e.status])).toEqual([
      ['wait_short', 'active'],
      ['wait_short', 'active'],
    ]);
    expect(shop.log('c1')).toContain('wait_a moved: step wait_a was removed');
    expect(shop.db.all('SELECT id, version FROM journeys')).toEqual([{ id: 'edit', version: 2 }]);
    shop.ticks(at(2 * HOUR), at(DAY + 2 * HOUR), HOUR);
    // the new wait counts from the move: a day after it
    expect(shop.sent('c1')).toEqual([`c1 hello @${at(0)}`, `c1 middle @${at(DAY + HOUR)}`]);
  });

  it('a removed step without moved_to exits its customers with step_removed; customers elsewhere stay', async () => {
    shop = await Shop.create({ journeys: { edit: V1 }, customers: [cust('c1'), cust('c2')] });
    shop.tick(T0);
    // a week later both wait at wait_b
    shop.ticks(at(7 * DAY), at(7 * DAY), HOUR);
    expect(shop.enrolments().map((e) => e.step_id)).toEqual(['wait_b', 'wait_b']);
    shop.writeJourney('edit', V1.replace('  - id: wait_b\n    wait: 7d\n', ''));
    shop.tick(at(7 * DAY + HOUR));
    expect(shop.enrolments().map((e) => [e.customer_id, e.status, e.exit_reason])).toEqual([
      ['c1', 'exited', 'step_removed'],
      ['c2', 'exited', 'step_removed'],
    ]);
    expect(shop.log('c1').at(-1)).toBe('wait_b exited: step_removed');
    expect(shop.sent('c1')).toHaveLength(2);
  });

  it('enabled: false neither enters nor advances; enabling it again resumes', async () => {
    shop = await Shop.create({ journeys: { edit: V1 }, customers: [cust('c1')] });
    shop.tick(T0);
    shop.writeJourney('edit', V1.replace('trigger:', 'enabled: false\ntrigger:'));
    await shop.customers([cust('c2')], at(HOUR));
    shop.ticks(at(2 * HOUR), at(10 * DAY), 12 * HOUR);
    expect(shop.enrolments().map((e) => [e.customer_id, e.step_id, e.status])).toEqual([['c1', 'wait_a', 'active']]);
    expect(shop.outbox()).toHaveLength(1);
    shop.writeJourney('edit', V1);
    shop.tick(at(10 * DAY + HOUR));
    expect(shop.sent('c1')).toEqual([`c1 hello @${at(0)}`, `c1 middle @${at(10 * DAY + HOUR)}`]);
    expect(shop.sent('c2')).toEqual([`c2 hello @${at(10 * DAY + HOUR)}`]);
  });

  it('a journey whose file is removed exits its customers with journey_removed', async () => {
    shop = await Shop.create({ journeys: { edit: V1, other: journey('other', 'trigger: { segment: vip }\nsteps:\n  - id: x\n    exit: true\n') }, customers: [cust('c1')] });
    shop.tick(T0);
    shop.writeJourney('edit', null);
    shop.tick(at(HOUR));
    expect(shop.enrolment('c1')).toMatchObject({ status: 'exited', exit_reason: 'journey_removed' });
  });
});

describe('idempotency', () => {
  it('running the same tick instant twice changes nothing the second time', async () => {
    shop = await Shop.create({
      journeys: {
        a: journey('a', `
trigger: { segment: everyone, backfill: true }
policies:
  quiet_hours: { from: "21:00", to: "08:00" }
  frequency_cap: { max: 2, per: 24h, on_cap: defer }
steps:
  - id: hello
    send: { channel: email, template: hello, coupon: ten }
  - id: wait_open
    wait_for: { event: email_opened, of: hello, timeout: 2d }
  - id: ab
    split:
      variants:
        - { name: x, weight: 50 }
        - { name: y, weight: 50 }
  - id: mark
    update: { set: { seen: "yes" } }
  - id: push
    sync: { provider: klaviyo, event: seen }
  - id: until_ten
    wait: { until: "10:00" }
  - id: bye
    send: { channel: email, template: followup }
`),
        b: journey('b', `
trigger: { event: order_status_changed, status: delivered }
steps:
  - id: thanks
    send: { channel: email, template: third }
`),
      },
      customers: [cust('c1'), cust('c2'), cust('c3'), cust('c4')],
    });
    await shop.orders(['o0,c4,2025-06-01T10:00:00Z,delivered,,5'], '2025-06-02T00:00:00Z');
    const instants = ['2026-03-02T20:00:00Z', '2026-03-02T22:00:00Z', '2026-03-03T08:00:00Z', '2026-03-03T12:00:00Z', '2026-03-04T09:00:00Z', '2026-03-05T10:00:00Z'];
    for (const [i, t] of instants.entries()) {
      if (i === 2) await shop.orders([`o1,c1,${t},delivered,,10`], t);
      if (i === 3) shop.messageEvent(shop.outbox("customer_id = 'c2'")[0]!.id, 'opened', t);
      shop.tick(t);
      const before = shop.state();
      const report = shop.tick(t);
      expect(shop.state(), `second tick at ${t}`).toEqual(before);
      expect(report.journeys.every((j) => j.entered + j.queued + j.exited + j.completed + j.deferred + j.skipped === 0)).toBe(true);
    }
    // and the tick did something
    expect(shop.outbox().length).toBeGreaterThan(6);
  });
});
