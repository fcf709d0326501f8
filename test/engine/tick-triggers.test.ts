/**
 * Triggers and entry limits on the simulated clock: who enters, when, and who never
 * does.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DAY, HOUR, Shop, iso, journey, ms } from './helpers/shop.js';

let shop: Shop | undefined;
afterEach(() => {
  shop?.close();
  shop = undefined;
});

const T0 = '2026-03-02T12:00:00Z';
const at = (offsetMs: number, base = T0) => iso(ms(base) + offsetMs)!;
const C = (id: string, extra = ',,yes,') => `${id},${id}@shop.test,,${id.toUpperCase()},2025-01-01T00:00:00Z${extra}`;
const entered = (s: Shop, journeyId?: string) => s.enrolments(journeyId ? 'journey_id = ?' : 'true', journeyId ? [journeyId] : []).map((e) => e.customer_id);
const ONE_SEND = `steps:
  - id: hello
    send: { channel: email, template: hello }
`;

describe('segment triggers', () => {
  it('without backfill, the first run only records the members; newcomers enter at later checks', async () => {
    shop = await Shop.create({
      journeys: { buyers: journey('buyers', `trigger: { segment: buyers }\n${ONE_SEND}`) },
      customers: [C('c1'), C('c2'), C('c3')],
    });
    await shop.orders(['o1,c1,2026-02-01T10:00:00Z,delivered,,10'], '2026-02-01T10:00:00Z');
    shop.tick(T0);
    expect(entered(shop)).toEqual([]);
    await shop.orders([`o2,c2,${at(HOUR)},processing,,10`], at(HOUR));
    shop.tick(at(2 * HOUR));
    expect(entered(shop)).toEqual(['c2']);
    expect(shop.sent()).toEqual([`c2 hello @${at(2 * HOUR)}`]);
    shop.tick(at(3 * HOUR));
    expect(entered(shop)).toEqual(['c2']);
  });

  it('with backfill, everyone in the segment enters on the first run', async () => {
    shop = await Shop.create({
      journeys: { buyers: journey('buyers', `trigger: { segment: buyers, backfill: true }\n${ONE_SEND}`) },
      customers: [C('c1'), C('c2'), C('c3')],
    });
    await shop.orders(['o1,c1,2026-02-01T10:00:00Z,delivered,,10', 'o2,c2,2026-02-03T10:00:00Z,delivered,,10'], '2026-02-04T10:00:00Z');
    shop.tick(T0);
    expect(entered(shop)).toEqual(['c1', 'c2']);
    shop.tick(at(HOUR));
    expect(entered(shop)).toEqual(['c1', 'c2']);
  });

  it('membership is recomputed only at the check cron: a newcomer at 10:30 enters at the next 09:00', async () => {
    shop = await Shop.create({
      journeys: { daily: journey('daily', `trigger: { segment: buyers, check: "0 9 * * *" }\n${ONE_SEND}`) },
      customers: [C('c1'), C('c2')],
    });
    shop.tick('2026-03-02T09:00:00Z');
    await shop.orders(['o1,c1,2026-03-02T10:30:00Z,processing,,10'], '2026-03-02T10:30:00Z');
    shop.ticks('2026-03-02T11:00:00Z', '2026-03-03T08:00:00Z', HOUR);
    expect(entered(shop)).toEqual([]);
    shop.ticks('2026-03-03T09:00:00Z', '2026-03-03T12:00:00Z', HOUR);
    expect(shop.sent()).toEqual(['c1 hello @2026-03-03T09:00:00.000Z']);
  });

  it('max_per_tick: the rest enter at the next ticks, none lost', async () => {
    shop = await Shop.create({
      journeys: { capped: journey('capped', `trigger: { segment: everyone, backfill: true }\nentry: { max_per_tick: 2 }\n${ONE_SEND}`) },
      customers: ['c1', 'c2', 'c3', 'c4', 'c5'].map((c) => C(c)),
    });
    const counts = [0, 1, 2, 3].map((i) => shop!.tick(at(i * HOUR)).journeys[0]!.entered);
    expect(counts).toEqual([2, 2, 1, 0]);
    expect(entered(shop).sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
    expect(shop.outbox()).toHaveLength(5);
  });
});

describe('order triggers', () => {
  /** A store whose status history is not empty when the journey first runs. */
  async function orderShop(j: string, customers = ['c1', 'c2', 'c3', 'old'], history: string[] = []): Promise<Shop> {
    const s = await Shop.create({ journeys: { j }, customers: customers.map((c) => C(c)) });
    await s.orders(['o0,old,2025-06-01T10:00:00Z,delivered,,5', ...history], '2026-02-01T00:00:00Z');
    s.tick(at(-HOUR));
    return s;
  }

  it('order_status_changed to delivered, nth: 1 (the first order only); history before the first run does not enter', async () => {
    shop = await orderShop(journey('j', `trigger: { event: order_status_changed, status: delivered, nth: 1 }\nentry: { max_per_customer: 5 }\n${ONE_SEND}`), undefined, [
      'o2,c2,2026-01-01T10:00:00Z,delivered,,10',
    ]);
    // c1: first order delivered. c2: its second order delivered. c3: first order only shipped.
    await shop.orders(['o1,c1,2026-02-20T10:00:00Z,shipped,,10', 'o3,c2,2026-02-20T10:00:00Z,shipped,,10', 'o4,c3,2026-02-20T10:00:00Z,shipped,,10'], T0);
    shop.tick(at(HOUR));
    expect(entered(shop)).toEqual([]);
    await shop.orders(['o1,c1,2026-02-20T10:00:00Z,delivered,,10', 'o3,c2,2026-02-20T10:00:00Z,delivered,,10'], at(2 * HOUR));
    shop.tick(at(3 * HOUR));
    expect(shop.enrolments().map((e) => [e.customer_id, e.order_id, e.entry_key, iso(e.trigger_at)])).toEqual([['c1', 'o1', 'order:o1', at(2 * HOUR)]]);
    expect(entered(shop)).not.toContain('old');
  });

  it('max_age: a delivery imported late with a change time older than max_age does not enter; a recent one does', async () => {
    shop = await orderShop(journey('j', `trigger: { event: order_status_changed, status: delivered, max_age: 14d }\n${ONE_SEND}`));
    await shop.orders([`o1,c1,2026-01-20T10:00:00Z,delivered,${at(-20 * DAY)},10`, `o2,c2,2026-02-20T10:00:00Z,delivered,${at(-2 * DAY)},10`], T0);
    shop.tick(at(HOUR));
    expect(entered(shop)).toEqual(['c2']);
    expect(shop.enrolment('c2')!.trigger_at).toBe(ms(at(-2 * DAY)));
  });

  it('max_per_order 1 (default): an order delivered, refunded and delivered again enters once', async () => {
    shop = await orderShop(journey('j', `trigger: { event: order_status_changed, status: delivered }\nentry: { max_per_customer: 10 }\n${ONE_SEND}`));
    await shop.orders(['o1,c1,2026-02-20T10:00:00Z,delivered,,10'], T0);
    shop.tick(at(HOUR));
    await shop.orders(['o1,c1,2026-02-20T10:00:00Z,refunded,,10'], at(2 * HOUR));
    shop.tick(at(3 * HOUR));
    await shop.orders(['o1,c1,2026-02-20T10:00:00Z,delivered,,10'], at(4 * HOUR));
    shop.tick(at(5 * HOUR));
    expect(entered(shop)).toEqual(['c1']);
    expect(shop.outbox()).toHaveLength(1);
  });

  // DEFECT: entry_key is order:<id> and unique per (journey, customer, entry_key), so one order can never cause a second entry: max_per_order > 1 is ignored
  it('max_per_order 2: the same order may enter twice (shipped, then delivered)', async () => {
    shop = await orderShop(journey('j', `trigger: { event: order_status_changed, status: [shipped, delivered] }\nentry: { max_per_order: 2, max_per_customer: 10 }\n${ONE_SEND}`));
    await shop.orders(['o1,c1,2026-02-20T10:00:00Z,shipped,,10'], T0);
    shop.tick(at(HOUR));
    await shop.orders(['o1,c1,2026-02-20T10:00:00Z,delivered,,10'], at(2 * HOUR));
    shop.tick(at(3 * HOUR));
    expect(shop.sent('c1')).toEqual([`c1 hello @${at(HOUR)}`, `c1 hello @${at(3 * HOUR)}`]);
  });

  it('order_placed enters on a new order; nth: 2 only on the customer\'s second', async () => {
    shop = await Shop.create({
      journeys: {
        placed: journey('placed', `trigger: { event: order_placed }\nentry: { max_per_customer: 5 }\n${ONE_SEND}`),
        second: journey('second', `trigger: { event: order_placed, nth: 2 }\n${ONE_SEND}`),
      },
      customers: ['c1', 'c2', 'old'].map((c) => C(c)),
    });
    await shop.orders(['o0,old,2025-06-01T10:00:00Z,delivered,,5', 'o1,c1,2026-01-01T10:00:00Z,delivered,,5'], '2025-06-02T00:00:00Z');
    shop.tick(at(-HOUR));
    await shop.orders([`o2,c1,${T0},processing,,20`, `o3,c2,${T0},processing,,20`], T0);
    shop.tick(at(HOUR));
    expect(shop.enrolments('journey_id = ?', ['placed']).map((e) => [e.customer_id, e.order_id])).toEqual([
      ['c1', 'o2'],
      ['c2', 'o3'],
    ]);
    expect(shop.enrolments('journey_id = ?', ['second']).map((e) => [e.customer_id, e.order_id])).toEqual([['c1', 'o2']]);
    // a status change of a known order is not a new order
    await shop.orders([`o3,c2,${T0},shipped,,20`], at(2 * HOUR));
    shop.tick(at(3 * HOUR));
    expect(shop.enrolments('journey_id = ?', ['placed'])).toHaveLength(2);
  });

  // DEFECT: an event trigger whose first run finds no status change/event keeps cursor 0, so the next tick is treated as a first run again and starts after the newest row: the first events are lost
  it('on a store with no order history yet, the first delivery after the journey started enters', async () => {
    shop = await Shop.create({
      journeys: { j: journey('j', `trigger: { event: order_status_changed, status: delivered }\n${ONE_SEND}`) },
      customers: [C('c1')],
    });
    shop.tick(T0);
    await shop.orders(['o1,c1,2026-02-20T10:00:00Z,delivered,,10'], at(HOUR));
    shop.tick(at(2 * HOUR));
    expect(entered(shop)).toEqual(['c1']);
  });

  // DEFECT: with max_per_tick an order trigger enters by trigger_at but moves its cursor to the highest history id of those entered: an earlier-numbered change with a later time is skipped for good
  it('max_per_tick on an order trigger: a backdated change entering first does not make the others be lost', async () => {
    shop = await orderShop(journey('j', `trigger: { event: order_status_changed, status: delivered }\nentry: { max_per_tick: 1 }\n${ONE_SEND}`));
    // c1's delivery is recorded first (lower history id) but happened later than c2's backdated one
    await shop.orders([`o1,c1,2026-02-20T10:00:00Z,delivered,${at(-HOUR)},10`], T0);
    await shop.orders([`o2,c2,2026-02-20T10:00:00Z,delivered,${at(-5 * HOUR)},10`], T0);
    shop.ticks(at(HOUR), at(4 * HOUR), HOUR);
    expect(entered(shop).sort()).toEqual(['c1', 'c2']);
  });

  it('max_per_tick on an order trigger in time order: 2, 2, 1, none lost', async () => {
    shop = await orderShop(journey('j', `trigger: { event: order_status_changed, status: delivered }\nentry: { max_per_tick: 2 }\n${ONE_SEND}`), ['c1', 'c2', 'c3', 'c4', 'c5', 'old']);
    await shop.orders(
      ['c1', 'c2', 'c3', 'c4', 'c5'].map((c, i) => `o${i + 1},${c},2026-02-20T10:00:00Z,delivered,${at(-10 * HOUR + i * HOUR)},10`),
      T0,
    );
    const counts = [1, 2, 3, 4].map((h) => shop!.tick(at(h * HOUR)).journeys[0]!.entered);
    expect(counts).toEqual([2, 2, 1, 0]);
    expect(entered(shop).sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
  });
});

describe('custom event triggers', () => {
  async function eventShop(j: string): Promise<Shop> {
    const s = await Shop.create({ journeys: { j }, customers: ['c1', 'c2', 'c3'].map((c) => C(c)) });
    await s.events([{ id: 'e0', customer_id: 'c3', type: 'page_viewed', occurred_at: '2026-01-01T00:00:00Z' }], '2026-01-01T00:00:00Z');
    s.tick(at(-HOUR));
    return s;
  }

  it('a custom event type with where: only matching events enter, with the event as the entry key', async () => {
    shop = await eventShop(journey('j', `trigger: { event: wishlist_added, where: { category: shoes } }\n${ONE_SEND}`));
    await shop.events(
      [
        { id: 'w1', customer_id: 'c1', type: 'wishlist_added', occurred_at: T0, properties: { category: 'shoes' } },
        { id: 'w2', customer_id: 'c2', type: 'wishlist_added', occurred_at: T0, properties: { category: 'hats' } },
        { id: 'w3', customer_id: 'c3', type: 'page_viewed', occurred_at: T0, properties: { category: 'shoes' } },
      ],
      T0,
    );
    shop.tick(at(HOUR));
    expect(shop.enrolments().map((e) => [e.customer_id, e.entry_key])).toEqual([['c1', 'event:w1']]);
  });

  it('max_per_customer: 2 enters twice, never a third time', async () => {
    shop = await eventShop(journey('j', `trigger: { event: visited }\nentry: { max_per_customer: 2 }\n${ONE_SEND}`));
    for (let d = 0; d < 3; d++) {
      await shop.events([{ id: `v${d}`, customer_id: 'c1', type: 'visited', occurred_at: at(d * DAY) }], at(d * DAY));
      shop.tick(at(d * DAY + HOUR));
    }
    expect(shop.sent('c1')).toEqual([`c1 hello @${at(HOUR)}`, `c1 hello @${at(DAY + HOUR)}`]);
  });

  it('reentry_after: 7d enters again only 7 days after the previous entry, and never while still inside', async () => {
    shop = await eventShop(
      journey('j', `trigger: { event: visited }
entry: { reentry_after: 7d }
steps:
  - id: hello
    send: { channel: email, template: hello }
  - id: long
    when: { attributes.slow: "yes" }
    wait: 20d
`),
    );
    await shop.customers(['c2,c2@shop.test,,C2,2025-01-01T00:00:00Z,,yes,,yes'], T0, 'id,email,phone,first_name,registered_at,timezone,consent_email,consent_sms,attributes.slow');
    for (const d of [0, 3, 8, 16]) {
      await shop.events(
        [
          { id: `v${d}`, customer_id: 'c1', type: 'visited', occurred_at: at(d * DAY) },
          { id: `x${d}`, customer_id: 'c2', type: 'visited', occurred_at: at(d * DAY) },
        ],
        at(d * DAY),
      );
      shop.tick(at(d * DAY + HOUR));
    }
    // c1: day 0, not day 3 (too soon), day 8, day 16
    expect(shop.sent('c1').map((s) => s.split('@')[1])).toEqual([at(HOUR), at(8 * DAY + HOUR), at(16 * DAY + HOUR)]);
    // c2 waits 20 days inside the journey: no new entry while inside
    expect(shop.sent('c2').map((s) => s.split('@')[1])).toEqual([at(HOUR)]);
  });
});

describe('date triggers', () => {
  it('the registration anniversary at 10:00 in the customer\'s timezone, every year', async () => {
    shop = await Shop.create({
      journeys: {
        anniversary: journey('anniversary', `trigger: { date: registered_at, every: 1y, at: "10:00" }\nentry: { reentry_after: 11mo }\n${ONE_SEND}`),
      },
      customers: [
        // 2025-03-03 14:00 in Tokyo
        'tokyo,t@shop.test,,T,2025-03-03T05:00:00Z,Asia/Tokyo,yes,',
        // 2025-03-02 22:00 in New York
        'ny,n@shop.test,,N,2025-03-03T03:00:00Z,America/New_York,yes,',
        'other,o@shop.test,,O,2025-05-03T03:00:00Z,America/New_York,yes,',
      ],
    });
    shop.ticks('2026-03-01T00:00:00Z', '2026-03-04T23:00:00Z', HOUR);
    expect(shop.sent()).toEqual(['ny hello @2026-03-02T15:00:00.000Z', 'tokyo hello @2026-03-03T01:00:00.000Z']);
    shop.ticks('2027-03-01T00:00:00Z', '2027-03-04T23:00:00Z', HOUR);
    expect(shop.sent().slice(2)).toEqual(['ny hello @2027-03-02T15:00:00.000Z', 'tokyo hello @2027-03-03T01:00:00.000Z']);
  });

  it('after: 14d enters once, 14 days after registration at the given time in the customer\'s zone', async () => {
    shop = await Shop.create({
      journeys: { fortnight: journey('fortnight', `trigger: { date: registered_at, after: 14d, at: "10:00" }\n${ONE_SEND}`) },
      customers: ['p,p@shop.test,,P,2026-02-16T12:00:00Z,Europe/Prague,yes,', 'q,q@shop.test,,Q,2026-02-17T12:00:00Z,Europe/Prague,yes,'],
    });
    shop.ticks('2026-03-01T00:00:00Z', '2026-03-05T00:00:00Z', HOUR);
    expect(shop.sent()).toEqual(['p hello @2026-03-02T09:00:00.000Z', 'q hello @2026-03-03T09:00:00.000Z']);
  });

  it('after: 1mo enters once, a calendar month after registration (the last day of a shorter month), never again', async () => {
    shop = await Shop.create({
      journeys: { month: journey('month', `trigger: { date: registered_at, after: 1mo, at: "10:00" }\n${ONE_SEND}`) },
      customers: [
        // 2026-01-31 in Prague: February has no 31st, so its last day (10:00 Prague is 09:00Z: the 12:00Z tick)
        'end,e@shop.test,,E,2026-01-31T12:00:00Z,Europe/Prague,yes,',
        // 2026-01-15 23:30 in New York is already the 16th in UTC: its own local date counts
        'ny,n@shop.test,,N,2026-01-16T04:30:00Z,America/New_York,yes,',
        // registered the day before 'end': Feb 28 too (its month is over), not twice
        'thirty,t@shop.test,,T,2026-01-30T12:00:00Z,Europe/Prague,yes,',
      ],
    });
    shop.ticks('2026-02-10T00:00:00Z', '2026-04-05T00:00:00Z', 6 * HOUR);
    expect(shop.sent()).toEqual(['ny hello @2026-02-15T18:00:00.000Z', 'end hello @2026-02-28T12:00:00.000Z', 'thirty hello @2026-02-28T12:00:00.000Z']);
  });

  it('after: 1y on a date attribute enters on its first anniversary only', async () => {
    shop = await Shop.create({
      journeys: { first: journey('first', `trigger: { date: attributes.first_order_on, after: 1y, at: "10:00" }\n${ONE_SEND}`) },
      customerHeader: 'id,email,phone,first_name,registered_at,timezone,consent_email,consent_sms,attributes.first_order_on',
      customers: ['a,a@shop.test,,A,2024-01-01T00:00:00Z,Europe/Prague,yes,,2025-03-03', 'old,o@shop.test,,O,2024-01-01T00:00:00Z,Europe/Prague,yes,,2024-03-03'],
    });
    shop.ticks('2026-03-02T00:00:00Z', '2026-03-04T00:00:00Z', HOUR);
    expect(shop.sent()).toEqual(['a hello @2026-03-03T09:00:00.000Z']);
  });

  // DEFECT: entry.ts returns 'none' for date triggers on attributes ("not built yet"), though the issue and schema promise "the anniversary of registration or a date attribute"
  it('a date attribute (birthday), every year at 10:00 in the customer\'s zone', async () => {
    shop = await Shop.create({
      journeys: { birthday: journey('birthday', `trigger: { date: attributes.birthday, every: 1y, at: "10:00" }\nentry: { reentry_after: 11mo }\n${ONE_SEND}`) },
      customerHeader: 'id,email,phone,first_name,registered_at,timezone,consent_email,consent_sms,attributes.birthday',
      customers: ['b,b@shop.test,,B,2025-01-01T00:00:00Z,Europe/Prague,yes,,1990-03-03'],
    });
    shop.ticks('2026-03-02T00:00:00Z', '2026-03-04T00:00:00Z', HOUR);
    expect(shop.sent()).toEqual(['b hello @2026-03-03T09:00:00.000Z']);
  });
});
