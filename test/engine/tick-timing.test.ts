/**
 * When triggers fire: max_age from the order's placement, `journey simulate`
 * replaying orders at their placement and each status change at its own time, the
 * entry defaults per trigger kind, and date triggers catching up a day without a tick.
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
const send = (template = 'hello') => `steps:
  - id: ${template}
    send: { channel: email, template: ${template} }
`;

describe('max_age on order_placed', () => {
  it('counts from placed_at, not from the status change the import recorded', async () => {
    shop = await Shop.create({
      journeys: { thanks: journey('thanks', `trigger: { event: order_placed, max_age: 1d }\n${send()}`) },
      customers: [C('c1'), C('c2')],
    });
    shop.tick(at(-HOUR));
    // o1 placed three days ago, first seen now (delivered an hour ago): too old to thank for.
    // o2 placed two hours ago: thanked.
    await shop.orders([`o1,c1,${at(-3 * DAY)},delivered,${at(-HOUR)},10`, `o2,c2,${at(-2 * HOUR)},processing,,10`], T0);
    shop.tick(at(HOUR));
    expect(shop.enrolments().map((e) => e.customer_id)).toEqual(['c2']);
  });
});

describe('journey simulate replays orders as they happened', () => {
  it('an order_placed journey sends at the placement, a delivery journey at the delivery; an order placed before --from is not placed again', async () => {
    shop = await Shop.create({
      journeys: {
        thanks: journey('thanks', `trigger: { event: order_placed }\n${send('hello')}`),
        delivered: journey('delivered', `trigger: { event: order_status_changed, status: delivered }\n${send('followup')}`),
      },
      customers: [C('c1'), C('c2')],
    });
    // The store already holds what the simulation will replay: both orders imported once
    // delivered. c1 placed o1 at 10:00 on Mar 2, delivered two days later; c2 placed o0
    // before --from, delivered during the simulation.
    await shop.orders(
      ['o1,c1,2026-03-02T10:00:00Z,delivered,2026-03-04T10:00:00Z,20', 'o0,c2,2026-03-01T08:00:00Z,delivered,2026-03-03T08:00:00Z,10'],
      '2026-03-04T11:00:00Z',
    );
    shop.db.close();
    const r = shop.cli('2026-03-02T00:00:00Z', 'simulate', '--from', '2026-03-02T00:00:00Z', '--to', '2026-03-05T00:00:00Z', '--step', '1h', '--json');
    expect(r.status, r.stderr).toBe(0);
    const timeline = JSON.parse(r.stdout).timeline.map((m: { at: string; customer_id: string; step_id: string }) => `${m.customer_id} ${m.step_id} @${m.at}`);
    expect(timeline).toEqual(['c1 hello @2026-03-02T10:00:00.000Z', 'c2 followup @2026-03-03T08:00:00.000Z', 'c1 followup @2026-03-04T10:00:00.000Z']);
  });
});

describe('entry defaults per trigger kind', () => {
  it('a per-order journey enters once per order: two orders by one customer enter twice', async () => {
    shop = await Shop.create({
      journeys: {
        thanks: journey('thanks', `trigger: { event: order_placed }\n${send()}`),
        delivered: journey('delivered', `trigger: { event: order_status_changed, status: delivered }\n${send('followup')}`),
      },
      customers: [C('c1')],
    });
    shop.tick(at(-HOUR));
    await shop.orders([`o1,c1,${T0},delivered,,10`], T0);
    shop.tick(at(HOUR));
    await shop.orders([`o2,c1,${at(2 * DAY)},delivered,,10`], at(2 * DAY));
    shop.tick(at(2 * DAY + HOUR));
    // and a re-imported order still enters once
    await shop.orders([`o2,c1,${at(2 * DAY)},delivered,,10`], at(3 * DAY));
    shop.tick(at(3 * DAY + HOUR));
    expect(shop.enrolments().map((e) => `${e.journey_id} ${e.order_id}`).sort()).toEqual(['delivered o1', 'delivered o2', 'thanks o1', 'thanks o2']);
  });

  it('an anniversary journey without entry limits fires in two consecutive years', async () => {
    shop = await Shop.create({
      journeys: { anniversary: journey('anniversary', `trigger: { date: registered_at, every: 1y, at: "10:00" }\n${send()}`) },
      customers: ['a,a@shop.test,,A,2025-03-03T08:00:00Z,UTC,yes,'],
    });
    shop.ticks('2026-03-03T00:00:00Z', '2026-03-04T00:00:00Z', HOUR);
    shop.ticks('2027-03-03T00:00:00Z', '2027-03-04T00:00:00Z', HOUR);
    expect(shop.sent()).toEqual(['a hello @2026-03-03T10:00:00.000Z', 'a hello @2027-03-03T10:00:00.000Z']);
  });
});

describe('date triggers catch up a day without a tick', () => {
  const birthdays = (trigger: string) =>
    Shop.create({
      journeys: { birthday: journey('birthday', `trigger: { date: attributes.birthday, every: 1y, at: "10:00"${trigger} }\n${send()}`) },
      customerHeader: 'id,email,phone,first_name,registered_at,timezone,consent_email,consent_sms,attributes.birthday',
      customers: [
        // Mar 3: the day with no tick
        'b,b@shop.test,,B,2025-01-01T00:00:00Z,Europe/Prague,yes,,1990-03-03',
        // Feb 20: more than a week before the runner came back
        'old,o@shop.test,,O,2025-01-01T00:00:00Z,Europe/Prague,yes,,1990-02-20',
      ],
    });

  it('a birthday on a day the runner was down enters at the next tick, once', async () => {
    shop = await birthdays('');
    shop.ticks('2026-02-19T00:00:00Z', '2026-02-19T06:00:00Z', HOUR);
    // down from Feb 19 06:00 to Mar 4 06:00 (Feb 20 is 12 days before: beyond the default 7d)
    shop.ticks('2026-03-04T06:00:00Z', '2026-03-06T00:00:00Z', HOUR);
    expect(shop.sent()).toEqual(['b hello @2026-03-04T06:00:00.000Z']);
    // the occurrence it stands for, so that it never enters twice
    expect(shop.enrolment('b')!.entry_key).toBe('date:2026-03-03');
  });

  it('catch_up: false: a day without a tick loses its dates', async () => {
    shop = await birthdays(', catch_up: false');
    shop.ticks('2026-03-02T00:00:00Z', '2026-03-02T06:00:00Z', HOUR);
    shop.ticks('2026-03-04T06:00:00Z', '2026-03-04T12:00:00Z', HOUR);
    expect(shop.sent()).toEqual([]);
  });

  it('the first run of a new journey does not enter the dates of the days before it', async () => {
    shop = await birthdays('');
    shop.ticks('2026-03-04T06:00:00Z', '2026-03-05T12:00:00Z', HOUR);
    expect(shop.sent()).toEqual([]);
  });
});

describe('items: all | any on order_status_changed', () => {
  it('all: every item that came with the order has the status (a canceled item keeps it out); any: one item does', async () => {
    shop = await Shop.create({
      journeys: {
        whole: journey('whole', `trigger: { event: order_status_changed, status: delivered, items: all }\n${send()}`),
        part: journey('part', `trigger: { event: order_status_changed, status: delivered, items: any }\n${send('followup')}`),
      },
      customers: [C('c1'), C('c2'), C('c3'), C('c4')],
    });
    shop.tick(at(-HOUR));
    await shop.orders(['o1,c1', 'o2,c2', 'o3,c3', 'o4,c4'].map((o) => `${o},${at(-2 * DAY)},shipped,,10`), at(-DAY));
    // c1: one item delivered, one canceled. c2: both delivered. c3: items without a status
    // of their own (they follow the order). c4: its only item canceled.
    await shop.importCsv(
      'order-items',
      'order_id,line,product_id,quantity,status',
      ['o1,1,p1,1,delivered', 'o1,2,p2,1,canceled', 'o2,1,p1,1,delivered', 'o2,2,p2,1,delivered', 'o3,1,p1,1,', 'o4,1,p1,1,canceled'],
      at(-HOUR),
    );
    await shop.orders(['o1,c1', 'o2,c2', 'o3,c3', 'o4,c4'].map((o) => `${o},${at(-2 * DAY)},delivered,,10`), T0);
    shop.tick(at(HOUR));
    expect(shop.enrolments('journey_id = ?', ['whole']).map((e) => e.customer_id)).toEqual(['c2', 'c3']);
    expect(shop.enrolments('journey_id = ?', ['part']).map((e) => e.customer_id)).toEqual(['c1', 'c2', 'c3']);
  });
});
