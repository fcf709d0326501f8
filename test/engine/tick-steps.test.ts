/**
 * Every step kind on the simulated clock: what a customer is sent, when, and why
 * (the step log).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DAY, HOUR, Shop, iso, journey, ms } from './helpers/shop.js';

let shop: Shop | undefined;
afterEach(() => {
  shop?.close();
  shop = undefined;
});

const T0 = '2026-03-02T12:00:00Z'; // a Monday
const at = (offsetMs: number, base = T0) => iso(ms(base) + offsetMs);
const HDR_TIER = 'id,email,phone,first_name,registered_at,timezone,consent_email,consent_sms,attributes.tier';

describe('send', () => {
  it('writes one outbox row per customer keyed journey:enrolment:step, to the lower-cased address, with a coupon code of their own', async () => {
    shop = await Shop.create({
      journeys: {
        welcome: journey('welcome', `
trigger: { segment: registered, backfill: true }
steps:
  - id: hello
    send: { channel: email, template: hello, coupon: ten, data: { campaign: spring } }
  - id: second
    send: { channel: email, template: followup, coupon: fixed }
`),
      },
      customers: [
        'c1,Ann@Shop.TEST,,Ann,2025-01-01T00:00:00Z,,yes,',
        'c2,bob@shop.test,,Bob,2025-01-01T00:00:00Z,,yes,',
        'c3,cid@shop.test,,Cid,2025-01-01T00:00:00Z,,no,', // no consent
        'c4,dan@shop.test,,Dan,2025-01-01T00:00:00Z,,yes,', // suppressed below
        'c5,,,Eve,2025-01-01T00:00:00Z,,yes,', // no address
      ],
    });
    await shop.suppress(['email,DAN@shop.test,hard_bounce'], '2026-01-02T00:00:00Z');
    const report = shop.tick(T0);
    expect(report.journeys[0]).toMatchObject({ journey: 'welcome', entered: 5, queued: 4 });

    const hello = shop.outbox("step_id = 'hello'");
    expect(hello.map((o) => [o.customer_id, o.idempotency_key, o.address, o.channel, o.provider, o.template])).toEqual([
      ['c1', `welcome:${shop.enrolment('c1')!.id}:hello`, 'ann@shop.test', 'email', 'sendgrid', 'hello'],
      ['c2', `welcome:${shop.enrolment('c2')!.id}:hello`, 'bob@shop.test', 'email', 'sendgrid', 'hello'],
    ]);
    const coupons = hello.map((o) => JSON.parse(o.payload).coupon.code as string);
    expect(coupons[0]).toMatch(/^TEN-/);
    expect(coupons[1]).toMatch(/^TEN-/);
    expect(coupons[0]).not.toBe(coupons[1]);
    expect(JSON.parse(hello[0]!.payload)).toMatchObject({ customer: { first_name: 'Ann' }, data: { campaign: 'spring' } });
    // a coupon with a fixed code is that code for everyone
    expect(shop.outbox("step_id = 'second'").map((o) => JSON.parse(o.payload).coupon.code)).toEqual(['WELCOME5', 'WELCOME5']);

    // consent, suppression and a missing address: skipped at send time, with the reason
    for (const c of ['c3', 'c4', 'c5']) {
      expect(shop.log(c)).toEqual([
        'hello entered: segment:2026-03-02T12:00:00.000Z',
        'hello skipped: not_reachable:email',
        'second skipped: not_reachable:email',
        'second completed: end',
      ]);
    }
    expect(shop.log('c1')).toEqual(['hello entered: segment:2026-03-02T12:00:00.000Z', 'hello sent: email hello', 'second sent: email followup', 'second completed: end']);
  });

  it('test_recipients replaces every address (the journey\'s, else the config\'s), one row per test address', async () => {
    shop = await Shop.create({
      config: 'test_recipients:\n  email: [config-team@shop.test]\n',
      journeys: {
        tested: journey('tested', `
trigger: { segment: everyone, backfill: true }
test_recipients:
  email: [team@shop.test, qa@shop.test]
steps:
  - id: hello
    send: { channel: email, template: hello }
`),
        configured: journey('configured', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: hello
    send: { channel: email, template: hello }
`),
      },
      customers: ['c1,ann@shop.test,,Ann,2025-01-01T00:00:00Z,,yes,'],
    });
    shop.tick(T0);
    const id = shop.enrolment('c1', 'tested')!.id;
    expect(shop.outbox("journey_id = 'tested'").map((o) => [o.idempotency_key, o.address, o.customer_id])).toEqual([
      [`tested:${id}:hello#1`, 'team@shop.test', 'c1'],
      [`tested:${id}:hello#2`, 'qa@shop.test', 'c1'],
    ]);
    expect(shop.outbox("journey_id = 'configured'").map((o) => o.address)).toEqual(['config-team@shop.test']);
  });
});

describe('wait', () => {
  it('a duration counts from the step, from entry, or from the trigger (a backdated delivery)', async () => {
    shop = await Shop.create({
      journeys: {
        durations: journey('durations', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: w1
    wait: 1d
  - id: first
    send: { channel: email, template: hello }
  - id: w2
    wait: { duration: 2d, from: entry }
  - id: second
    send: { channel: email, template: followup }
  - id: w3
    wait: { duration: 12h }
  - id: third
    send: { channel: email, template: third }
`),
        delivered: journey('delivered', `
trigger: { event: order_status_changed, status: delivered }
steps:
  - id: settle
    wait: { duration: 2d, from: trigger }
  - id: review
    send: { channel: email, template: hello }
`),
      },
      customers: ['c1,ann@shop.test,,Ann,2025-01-01T00:00:00Z,,yes,', 'c2,bob@shop.test,,Bob,2025-01-01T00:00:00Z,,yes,', 'old,old@shop.test,,Old,2025-01-01T00:00:00Z,,yes,'],
    });
    await shop.orders(['o0,old,2025-06-01T10:00:00Z,delivered,,5'], '2025-06-02T00:00:00Z'); // history before the journey runs
    shop.ticks(T0, at(4 * DAY), HOUR);
    // from the step: 1 day after entry; from entry: 2 days after entry (not 1 + 2); from the step again: 12h later
    expect(shop.sent('c1')).toEqual([
      `c1 first @${at(DAY)}`,
      `c1 second @${at(2 * DAY)}`,
      `c1 third @${at(2 * DAY + 12 * HOUR)}`,
    ]);
    // a delivery recorded a day late: the review goes out 2 days after the delivery itself, 1 day after entry
    const T1 = at(5 * DAY);
    await shop.orders([`o1,c2,2026-03-01T10:00:00Z,delivered,${at(-DAY, T1)},20`], T1!);
    shop.ticks(T1!, at(3 * DAY, T1), HOUR);
    expect(shop.enrolment('c2', 'delivered')!.entered_at).toBe(ms(T1!));
    expect(shop.sent('c2').filter((s) => s.includes('review'))).toEqual([`c2 review @${at(DAY, T1)}`]);
  });

  it('until a time of day on given weekdays, in the customer\'s timezone (Tokyo and New York at the same UTC instant)', async () => {
    shop = await Shop.create({
      journeys: {
        tuesday: journey('tuesday', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: until_tue
    wait: { until: "10:00", days: [tue] }
  - id: tue_msg
    send: { channel: email, template: hello }
  - id: until_evening
    wait: { until: "18:30" }
  - id: next_day_msg
    send: { channel: email, template: followup }
`),
      },
      customers: [
        'tokyo,t@shop.test,,Taro,2025-01-01T00:00:00Z,Asia/Tokyo,yes,',
        'ny,n@shop.test,,Nora,2025-01-01T00:00:00Z,America/New_York,yes,',
        'utc,u@shop.test,,Uma,2025-01-01T00:00:00Z,,yes,',
      ],
    });
    // Monday 12:00 UTC: 21:00 Monday in Tokyo, 07:00 Monday in New York (EST)
    shop.ticks(T0, '2026-03-05T00:00:00Z', HOUR / 2);
    // then until 18:30 the same local day (ticks every 30 minutes)
    expect(shop.sent('tokyo')).toEqual(['tokyo tue_msg @2026-03-03T01:00:00.000Z', 'tokyo next_day_msg @2026-03-03T09:30:00.000Z']);
    expect(shop.sent('ny')).toEqual(['ny tue_msg @2026-03-03T15:00:00.000Z', 'ny next_day_msg @2026-03-03T23:30:00.000Z']);
    // the project zone (UTC) for a customer without one
    expect(shop.sent('utc')).toEqual(['utc tue_msg @2026-03-03T10:00:00.000Z', 'utc next_day_msg @2026-03-03T18:30:00.000Z']);
  });
});

describe('wait_for', () => {
  const OPEN = journey('opens', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: hello
    send: { channel: email, template: hello }
  - id: wait_open
    wait_for: { event: email_opened, of: hello, timeout: 3d, on_event: thanks, on_timeout: reminder }
  - id: reminder
    send: { channel: sms, template: nudge-sms }
    next: done
  - id: thanks
    send: { channel: email, template: followup }
  - id: done
    exit: { reason: finished }
`);

  it('a message event of a given send ends the wait at the next tick; without it the timeout takes the other way', async () => {
    shop = await Shop.create({
      journeys: { opens: OPEN },
      customers: ['c1,ann@shop.test,+420111,Ann,2025-01-01T00:00:00Z,,yes,yes', 'c2,bob@shop.test,+420222,Bob,2025-01-01T00:00:00Z,,yes,yes'],
    });
    shop.tick(T0);
    const hello1 = shop.outbox("customer_id = 'c1' AND step_id = 'hello'")[0]!;
    // a delivered event is not an open
    shop.messageEvent(hello1.id, 'delivered', at(HOUR));
    shop.tick(at(2 * HOUR));
    expect(shop.enrolment('c1')!.step_id).toBe('wait_open');
    shop.messageEvent(hello1.id, 'opened', at(5 * HOUR));
    shop.ticks(at(6 * HOUR)!, at(4 * DAY)!, 6 * HOUR);
    expect(shop.sent('c1')).toEqual([`c1 hello @${T0.replace('Z', '.000Z')}`, `c1 thanks @${at(6 * HOUR)}`]);
    expect(shop.log('c1')).toContain('wait_open event: email_opened');
    expect(shop.enrolment('c1')).toMatchObject({ status: 'completed', exit_reason: 'finished' });
    // c2 never opens: the SMS at the timeout, 3 days after the wait began
    expect(shop.sent('c2')).toEqual([`c2 hello @${T0.replace('Z', '.000Z')}`, `c2 reminder @${at(3 * DAY)}`]);
    expect(shop.log('c2')).toContain('wait_open timeout: 3d');
    expect(shop.enrolment('c2')).toMatchObject({ status: 'completed', exit_reason: 'finished' });
  });

  it('an open of another step\'s message does not count', async () => {
    shop = await Shop.create({
      journeys: {
        two: journey('two', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: first
    send: { channel: email, template: hello }
  - id: second
    send: { channel: email, template: followup }
  - id: wait_open
    wait_for: { event: email_opened, of: second, timeout: 2d, on_timeout: gone }
  - id: opened
    exit: { reason: opened_second }
  - id: gone
    exit: { reason: timed_out }
`),
      },
      customers: ['c1,ann@shop.test,,Ann,2025-01-01T00:00:00Z,,yes,'],
    });
    shop.tick(T0);
    shop.messageEvent(shop.outbox("step_id = 'first'")[0]!.id, 'opened', at(HOUR));
    shop.ticks(at(2 * HOUR)!, at(3 * DAY)!, 6 * HOUR);
    expect(shop.enrolment('c1')).toMatchObject({ status: 'completed', exit_reason: 'timed_out' });
  });

  it('the race: an open or an order that happened before the wait step was reached still ends the wait', async () => {
    shop = await Shop.create({
      journeys: {
        race: journey('race', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: hello
    send: { channel: email, template: hello }
  - id: pause
    wait: 1d
  - id: wait_open
    wait_for: { event: email_opened, of: hello, timeout: 3d, on_timeout: no_open }
  - id: wait_order
    wait_for: { event: order_placed, timeout: 3d, on_timeout: no_order }
  - id: both
    exit: { reason: opened_and_bought }
  - id: no_open
    exit: { reason: no_open }
  - id: no_order
    exit: { reason: no_order }
`),
      },
      customers: ['c1,ann@shop.test,,Ann,2025-01-01T00:00:00Z,,yes,', 'c2,bob@shop.test,,Bob,2025-01-01T00:00:00Z,,yes,'],
    });
    shop.tick(T0);
    // during the 1-day pause, c1 opens the e-mail and places an order
    shop.messageEvent(shop.outbox("customer_id = 'c1'")[0]!.id, 'opened', at(2 * HOUR));
    await shop.orders([`o1,c1,${at(3 * HOUR)},processing,,30`], at(3 * HOUR)!);
    shop.ticks(at(6 * HOUR)!, at(8 * DAY)!, 6 * HOUR);
    expect(shop.enrolment('c1')).toMatchObject({ status: 'completed', exit_reason: 'opened_and_bought', exited_at: ms(at(DAY)!) });
    expect(shop.log('c1')).toEqual(expect.arrayContaining(['wait_open event: email_opened', 'wait_order event: order_placed']));
    expect(shop.enrolment('c2')).toMatchObject({ status: 'completed', exit_reason: 'no_open', exited_at: ms(at(4 * DAY)!) });
  });

  it('order_status_changed of the same order only (an order-triggered journey)', async () => {
    shop = await Shop.create({
      journeys: {
        shipping: journey('shipping', `
trigger: { event: order_placed }
steps:
  - id: wait_delivery
    wait_for: { event: order_status_changed, status: delivered, same_order: true, timeout: 10d, on_timeout: late }
  - id: review
    send: { channel: email, template: hello }
    next: done
  - id: late
    send: { channel: email, template: followup }
  - id: done
    exit: true
`),
      },
      customers: ['c1,ann@shop.test,,Ann,2025-01-01T00:00:00Z,,yes,', 'c2,bob@shop.test,,Bob,2025-01-01T00:00:00Z,,yes,'],
    });
    // c2's older order exists before the journey runs (history does not enter)
    await shop.orders(['o0,c2,2026-02-01T10:00:00Z,shipped,,10'], '2026-02-01T10:00:00Z');
    shop.tick(at(-HOUR));
    await shop.orders([`o1,c1,${T0},processing,,30`, `o2,c2,${T0},processing,,40`], T0);
    shop.tick(at(HOUR));
    expect(shop.enrolments().map((e) => [e.customer_id, e.order_id])).toEqual([
      ['c1', 'o1'],
      ['c2', 'o2'],
    ]);
    // c1's order is delivered; c2's OLD order is delivered, not the one that entered them
    await shop.orders([`o1,c1,${T0},delivered,${at(2 * DAY)},30`, `o0,c2,2026-02-01T10:00:00Z,delivered,${at(2 * DAY)},10`], at(2 * DAY)!);
    shop.ticks(at(2 * DAY + HOUR)!, at(12 * DAY)!, 12 * HOUR);
    expect(shop.sent('c1')).toEqual([`c1 review @${at(2 * DAY + HOUR)}`]);
    expect(shop.sent('c2')).toEqual([`c2 late @${at(10 * DAY + HOUR)}`]);
    expect(shop.enrolment('c1')).toMatchObject({ status: 'completed', exit_reason: 'exit_step' });
  });

  const CART = journey('cart', `
trigger: { event: cart_abandoned }
steps:
  - id: wait_checkout
    wait_for: { event: checked_out, match: { cart_id: trigger.cart_id }, timeout: 1d, on_event: bought, on_timeout: remind }
  - id: remind
    send: { channel: email, template: hello }
  - id: bought
    exit: { reason: checked_out }
`);

  it('a custom event matched to the trigger event\'s property: another cart does not end the wait, the same cart does', async () => {
    shop = await Shop.create({
      journeys: { cart: CART },
      customers: ['c1,ann@shop.test,,Ann,2025-01-01T00:00:00Z,,yes,', 'c2,bob@shop.test,,Bob,2025-01-01T00:00:00Z,,yes,'],
    });
    await shop.events([{ id: 'e0', customer_id: 'c2', type: 'page_viewed', occurred_at: '2026-01-01T00:00:00Z' }], '2026-01-01T00:00:00Z');
    shop.tick(at(-HOUR));
    await shop.events(
      [
        { id: 'e1', customer_id: 'c1', type: 'cart_abandoned', occurred_at: T0, properties: { cart_id: 'A' } },
        { id: 'e2', customer_id: 'c2', type: 'cart_abandoned', occurred_at: T0, properties: { cart_id: 'B' } },
      ],
      T0,
    );
    shop.tick(at(HOUR));
    expect(shop.enrolments().map((e) => e.customer_id)).toEqual(['c1', 'c2']);
    await shop.events([{ id: 'e3', customer_id: 'c1', type: 'checked_out', occurred_at: at(2 * HOUR)!, properties: { cart_id: 'OTHER' } }], at(2 * HOUR)!);
    shop.tick(at(3 * HOUR));
    expect(shop.enrolment('c1')!.status).toBe('active');
    await shop.events([{ id: 'e4', customer_id: 'c1', type: 'checked_out', occurred_at: at(4 * HOUR)!, properties: { cart_id: 'A' } }], at(4 * HOUR)!);
    shop.ticks(at(5 * HOUR)!, at(2 * DAY)!, 4 * HOUR);
    expect(shop.enrolment('c1')).toMatchObject({ status: 'completed', exit_reason: 'checked_out' });
    expect(shop.sent('c1')).toEqual([]);
    expect(shop.sent('c2')).toEqual([`c2 remind @${at(DAY + HOUR)}`]);
  });

  // DEFECT: wait_for counts custom events only from entered_at (the tick), not from the trigger event: a checkout between the abandonment and the tick is missed
  it('the race in an event-triggered journey: the same cart checked out after the abandonment but before the tick that entered the customer ends the wait', async () => {
    shop = await Shop.create({ journeys: { cart: CART }, customers: ['c1,ann@shop.test,,Ann,2025-01-01T00:00:00Z,,yes,'] });
    await shop.events([{ id: 'e0', customer_id: 'c1', type: 'page_viewed', occurred_at: '2026-01-01T00:00:00Z' }], '2026-01-01T00:00:00Z');
    shop.tick(at(-HOUR));
    await shop.events(
      [
        { id: 'e1', customer_id: 'c1', type: 'cart_abandoned', occurred_at: T0, properties: { cart_id: 'A' } },
        { id: 'e2', customer_id: 'c1', type: 'checked_out', occurred_at: at(30 * 60_000)!, properties: { cart_id: 'A' } },
      ],
      at(30 * 60_000)!,
    );
    shop.ticks(at(HOUR)!, at(2 * DAY)!, 4 * HOUR);
    expect(shop.sent('c1')).toEqual([]);
    expect(shop.enrolment('c1')).toMatchObject({ status: 'completed', exit_reason: 'checked_out' });
  });
});

describe('wait_for with a when guard', () => {
  // DEFECT: wait_for steps are looked at every tick and the step's when guard is re-evaluated each time, so a customer who no longer matches it is "skipped" out of the middle of the wait
  it('the guard is checked when the step is reached, not at every tick of the wait', async () => {
    shop = await Shop.create({
      journeys: {
        guarded: journey('guarded', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: hello
    send: { channel: email, template: hello }
  - id: wait_open
    when: { attributes.tier: gold }
    wait_for: { event: email_opened, of: hello, timeout: 3d, on_timeout: timed_out }
  - id: opened
    exit: { reason: opened }
  - id: timed_out
    exit: { reason: timed_out }
`),
      },
      customerHeader: HDR_TIER,
      customers: ['c1,a@shop.test,,A,2025-01-01T00:00:00Z,,yes,,gold'],
    });
    shop.tick(T0);
    expect(shop.enrolment('c1')!.step_id).toBe('wait_open');
    await shop.customers(['c1,a@shop.test,,A,2025-01-01T00:00:00Z,,yes,,silver'], at(HOUR)!, HDR_TIER);
    shop.tick(at(2 * HOUR));
    expect(shop.enrolment('c1')).toMatchObject({ status: 'active', step_id: 'wait_open' });
    shop.ticks(at(3 * HOUR)!, at(4 * DAY)!, 12 * HOUR);
    expect(shop.enrolment('c1')).toMatchObject({ status: 'completed', exit_reason: 'timed_out' });
  });
});

describe('branch', () => {
  it('takes the first case that holds, else the else; a nested list continues after the branch, a step id goes there', async () => {
    shop = await Shop.create({
      journeys: {
        route: journey('route', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: route
    branch:
      cases:
        - when: { attributes.tier: gold }
          then: gold_msg
        - when: { attributes.tier: { in: [silver, gold] } }
          then:
            - id: silver_msg
              send: { channel: email, template: followup }
            - id: silver_pause
              wait: 1h
      else:
        - id: plain_msg
          send: { channel: email, template: hello }
  - id: after
    send: { channel: email, template: third }
  - id: done
    exit: { reason: routed }
  - id: gold_msg
    send: { channel: email, template: hello }
    next: done
`),
      },
      customerHeader: HDR_TIER,
      customers: [
        'gold,g@shop.test,,G,2025-01-01T00:00:00Z,,yes,,gold',
        'silver,s@shop.test,,S,2025-01-01T00:00:00Z,,yes,,silver',
        'none,n@shop.test,,N,2025-01-01T00:00:00Z,,yes,,',
      ],
    });
    shop.ticks(T0, at(2 * HOUR)!, HOUR);
    expect(shop.outbox().map((o) => `${o.customer_id} ${o.step_id}`).sort()).toEqual(['gold gold_msg', 'none after', 'none plain_msg', 'silver after', 'silver silver_msg']);
    expect(shop.log('gold')).toEqual(['route entered: segment:2026-03-02T12:00:00.000Z', 'route branched: case 1', 'gold_msg sent: email hello', 'done completed: routed']);
    expect(shop.log('silver')).toEqual([
      'route entered: segment:2026-03-02T12:00:00.000Z',
      'route branched: case 2',
      'silver_msg sent: email followup',
      'silver_pause waiting',
      'silver_pause waited',
      'after sent: email third',
      'done completed: routed',
    ]);
    expect(shop.log('none')).toEqual(['route entered: segment:2026-03-02T12:00:00.000Z', 'route branched: else', 'plain_msg sent: email hello', 'after sent: email third', 'done completed: routed']);
  });

  it('a step\'s when guard skips it (recorded) and the journey goes on', async () => {
    shop = await Shop.create({
      journeys: {
        guard: journey('guard', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: gold_only
    when: { attributes.tier: gold }
    send: { channel: email, template: hello }
  - id: everyone_msg
    send: { channel: email, template: followup }
`),
      },
      customerHeader: HDR_TIER,
      customers: ['gold,g@shop.test,,G,2025-01-01T00:00:00Z,,yes,,gold', 'none,n@shop.test,,N,2025-01-01T00:00:00Z,,yes,,'],
    });
    shop.tick(T0);
    expect(shop.outbox().map((o) => `${o.customer_id} ${o.step_id}`)).toEqual(['gold gold_only', 'gold everyone_msg', 'none everyone_msg']);
    expect(shop.log('none')).toContain('gold_only skipped: when');
  });
});

describe('split', () => {
  const SPLIT = journey('ab', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: ab
    split:
      variants:
        - name: a
          weight: 30
          then:
            - id: send_a
              send: { channel: email, template: hello }
        - name: b
          weight: 70
          then: send_b
  - id: done
    exit: { reason: tested }
  - id: send_b
    send: { channel: email, template: followup }
    next: done
`);
  const people = Array.from({ length: 300 }, (_, i) => `p${String(i).padStart(3, '0')},p${i}@shop.test,,P,2025-01-01T00:00:00Z,,yes,`);

  it('splits by weight, records the variant on the enrolment, sends the variant\'s message, and is stable per customer across runs', async () => {
    shop = await Shop.create({ journeys: { ab: SPLIT }, customers: people });
    shop.tick(T0);
    const variants = new Map(shop.enrolments().map((e) => [e.customer_id, JSON.parse(e.variant!).ab as string]));
    expect(variants.size).toBe(300);
    const a = [...variants.values()].filter((v) => v === 'a').length;
    expect(a).toBeGreaterThan(60); // 30% of 300 = 90
    expect(a).toBeLessThan(120);
    for (const o of shop.outbox()) expect(o.step_id).toBe(variants.get(o.customer_id) === 'a' ? 'send_a' : 'send_b');
    expect(shop.log('p000')).toContain(`ab split: ${variants.get('p000')}`);

    // another store, the same customers: the same variants
    const other = await Shop.create({ journeys: { ab: SPLIT }, customers: [...people].reverse() });
    try {
      other.tick('2026-04-01T08:00:00Z');
      expect(new Map(other.enrolments().map((e) => [e.customer_id, JSON.parse(e.variant!).ab as string]))).toEqual(variants);
    } finally {
      other.close();
    }
  });
});

describe('update, sync, exit', () => {
  it('update sets and removes customer attributes; a later step sees them', async () => {
    shop = await Shop.create({
      journeys: {
        mark: journey('mark', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: mark
    update: { set: { welcomed: "yes", tier: null, score: 5 } }
  - id: check
    branch:
      cases:
        - when: { attributes.welcomed: "yes" }
          then: seen
  - id: unseen
    exit: { reason: not_marked }
  - id: seen
    exit: { reason: marked }
`),
      },
      customerHeader: HDR_TIER,
      customers: ['c1,a@shop.test,,A,2025-01-01T00:00:00Z,,yes,,gold'],
    });
    shop.tick(T0);
    expect(JSON.parse(shop.db.get<{ attributes: string }>("SELECT attributes FROM customers WHERE id = 'c1'")!.attributes)).toEqual({ welcomed: 'yes', score: 5 });
    expect(shop.log('c1')).toEqual(['mark entered: segment:2026-03-02T12:00:00.000Z', 'mark updated', 'check branched: case 1', 'seen completed: marked']);
  });

  it('sync writes an outbox row on channel sync for the provider; exit ends with its reason and nothing after it runs', async () => {
    shop = await Shop.create({
      journeys: {
        synced: journey('synced', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: push
    sync: { provider: klaviyo, profile: { journey_segment: loyal }, event: entered_flow, properties: { source: journey } }
  - id: leave
    exit: { reason: synced_only }
`),
        plain_exit: journey('plain_exit', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: bye
    exit: true
`),
      },
      customers: ['c1,a@shop.test,+420111,A,2025-01-01T00:00:00Z,,yes,'],
    });
    shop.tick(T0);
    const rows = shop.outbox();
    expect(rows).toHaveLength(1);
    const id = shop.enrolment('c1', 'synced')!.id;
    expect(rows[0]).toMatchObject({ channel: 'sync', provider: 'klaviyo', idempotency_key: `synced:${id}:push`, customer_id: 'c1' });
    expect(JSON.parse(rows[0]!.payload)).toMatchObject({ profile: { journey_segment: 'loyal' }, event: 'entered_flow', properties: { source: 'journey' }, customer_id: 'c1' });
    expect(shop.enrolment('c1', 'synced')).toMatchObject({ status: 'completed', exit_reason: 'synced_only' });
    expect(shop.log('c1', 'synced')).toEqual(['push entered: segment:2026-03-02T12:00:00.000Z', 'push synced', 'leave completed: synced_only']);
    expect(shop.enrolment('c1', 'plain_exit')).toMatchObject({ status: 'completed', exit_reason: 'exit_step' });
  });

  // DEFECT: the messages_received condition counts every outbox row, sync rows included (same root as the frequency cap), so a sync looks like a message the customer received
  it('a sync is not a message the customer received (messages_received)', async () => {
    shop = await Shop.create({
      journeys: {
        rest: journey('rest', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: push
    sync: { provider: klaviyo, event: entered_flow }
  - id: check
    branch:
      cases:
        - when: { messages_received: { within: 1d } }
          then: rested
  - id: fresh
    exit: { reason: no_recent_message }
  - id: rested
    exit: { reason: had_a_message }
`),
      },
      customers: ['c1,a@shop.test,,A,2025-01-01T00:00:00Z,,yes,'],
    });
    shop.tick(T0);
    expect(shop.enrolment('c1')).toMatchObject({ status: 'completed', exit_reason: 'no_recent_message' });
  });
});
