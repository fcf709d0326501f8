/**
 * `items: all|any` when an item's status changes after its order's (issue 25): an
 * order-items import that changes an item's status is a trigger position of its own,
 * read only by journeys whose trigger names `items`. Real store, real importer, ticks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DAY, HOUR, Shop, iso, journey, ms } from './helpers/shop.js';

let shop: Shop | undefined;
afterEach(() => {
  shop?.close();
  shop = undefined;
});

const T0 = '2026-03-02T12:00:00Z';
const at = (offsetMs: number) => iso(ms(T0) + offsetMs)!;
const C = (id: string) => `${id},${id}@shop.test,,${id.toUpperCase()},2025-01-01T00:00:00Z,,yes,`;
const send = (template = 'hello') => `steps:
  - id: ${template}
    send: { channel: email, template: ${template} }
`;
const ITEMS = 'order_id,line,product_id,quantity,status';
const items = (rows: string[], when: string) => shop!.importCsv('order-items', ITEMS, rows, when);
const entered = (journeyId: string) => shop!.enrolments('journey_id = ?', [journeyId]).map((e) => `${e.customer_id} ${e.order_id} @${iso(e.trigger_at)}`);

describe('items: all, an item reaching the status after its order', () => {
  it('enters at the tick after the last item is delivered, exactly once; a canceled item keeps the order out for good', async () => {
    shop = await Shop.create({
      journeys: { whole: journey('whole', `trigger: { event: order_status_changed, status: delivered, items: all }\n${send()}`) },
      customers: [C('c1'), C('c2')],
    });
    shop.tick(at(-3 * HOUR));
    await shop.orders([`o1,c1,${at(-2 * DAY)},shipped,,10`, `o2,c2,${at(-2 * DAY)},shipped,,10`], at(-2 * HOUR));
    await items(['o1,1,p1,1,delivered', 'o1,2,p2,1,shipped', 'o2,1,p1,1,delivered', 'o2,2,p2,1,shipped'], at(-2 * HOUR));
    // both orders delivered while their second item is still on its way: nobody yet
    await shop.orders([`o1,c1,${at(-2 * DAY)},delivered,,10`, `o2,c2,${at(-2 * DAY)},delivered,,10`], T0);
    shop.tick(at(HOUR));
    expect(entered('whole')).toEqual([]);

    // o1's last item arrives; o2's is canceled
    await items(['o1,2,p2,1,delivered', 'o2,2,p2,1,canceled'], at(DAY));
    shop.tick(at(DAY + HOUR));
    expect(entered('whole')).toEqual([`c1 o1 @${at(DAY)}`]);
    expect(shop.sent()).toEqual([`c1 hello @${at(DAY + HOUR)}`]);

    // later ticks, and the same file again, change nothing
    await items(['o1,2,p2,1,delivered', 'o2,2,p2,1,canceled'], at(2 * DAY));
    shop.ticks(at(2 * DAY), at(5 * DAY), 12 * HOUR);
    expect(entered('whole')).toEqual([`c1 o1 @${at(DAY)}`]);
  });

  it('an order enters once: its own row and an item row in one tick, and an item row in a later tick', async () => {
    shop = await Shop.create({
      journeys: { part: journey('part', `trigger: { event: order_status_changed, status: delivered, items: any }\n${send()}`) },
      customers: [C('c1')],
    });
    shop.tick(at(-3 * HOUR));
    await shop.orders([`o1,c1,${at(-2 * DAY)},shipped,,10`], at(-2 * HOUR));
    await items(['o1,1,p1,1,shipped', 'o1,2,p2,1,shipped'], at(-2 * HOUR));
    await shop.orders([`o1,c1,${at(-2 * DAY)},delivered,,10`], T0);
    await items(['o1,1,p1,1,delivered'], at(10 * 60_000));
    shop.tick(at(HOUR));
    await items(['o1,2,p2,1,delivered'], at(DAY));
    shop.ticks(at(DAY + HOUR), at(3 * DAY), 12 * HOUR);
    expect(shop.enrolments().map((e) => `${e.customer_id} ${e.order_id} ${e.entry_key}`)).toEqual(['c1 o1 order:o1']);
    expect(shop.sent()).toEqual([`c1 hello @${at(HOUR)}`]);
  });
});

describe('items: any', () => {
  it('enters when one item is delivered though the order itself never changes status; all waits for the rest', async () => {
    shop = await Shop.create({
      journeys: {
        part: journey('part', `trigger: { event: order_status_changed, status: delivered, items: any }\n${send()}`),
        whole: journey('whole', `trigger: { event: order_status_changed, status: delivered, items: all }\n${send('followup')}`),
      },
      customers: [C('c1')],
    });
    shop.tick(at(-3 * HOUR));
    // items without a status of their own follow the order (shipped)
    await shop.orders([`o1,c1,${at(-2 * DAY)},shipped,,10`], at(-2 * HOUR));
    await items(['o1,1,p1,1,', 'o1,2,p2,1,'], at(-2 * HOUR));
    shop.tick(at(-HOUR));
    await items(['o1,1,p1,1,delivered'], T0);
    shop.tick(at(HOUR));
    expect(entered('part')).toEqual([`c1 o1 @${at(0)}`]);
    // item 2 still follows its order, which is shipped
    expect(entered('whole')).toEqual([]);
    await items(['o1,2,p2,1,delivered'], at(DAY));
    shop.tick(at(DAY + HOUR));
    expect(entered('whole')).toEqual([`c1 o1 @${at(DAY)}`]);
    expect(entered('part')).toEqual([`c1 o1 @${at(0)}`]);
  });
});

describe('re-importing an items file', () => {
  it('appends no status change and enters nobody again, even where each change is a cause of its own (max_per_order)', async () => {
    shop = await Shop.create({
      journeys: { part: journey('part', `trigger: { event: order_status_changed, status: delivered, items: any }\n${send()}\nentry: { max_per_order: 5 }\n`) },
      customers: [C('c1')],
    });
    shop.tick(at(-3 * HOUR));
    await shop.orders([`o1,c1,${at(-2 * DAY)},shipped,,10`], at(-2 * HOUR));
    await items(['o1,1,p1,1,shipped', 'o1,2,p2,1,shipped'], at(-2 * HOUR));
    await items(['o1,1,p1,1,delivered', 'o1,2,p2,1,shipped'], T0);
    shop.tick(at(HOUR));
    expect(entered('part')).toEqual([`c1 o1 @${at(0)}`]);
    const history = () => shop!.db.all('SELECT order_id, item_line, previous_status, status FROM order_status_history ORDER BY id');
    const before = history();
    await items(['o1,1,p1,1,delivered', 'o1,2,p2,1,shipped'], at(DAY));
    shop.ticks(at(DAY + HOUR), at(3 * DAY), 12 * HOUR);
    expect(history()).toEqual(before);
    expect(entered('part')).toEqual([`c1 o1 @${at(0)}`]);
  });
});

describe('an item status is not the order status', () => {
  it('a status trigger without items, order_placed and a wait_for on the order ignore item changes', async () => {
    shop = await Shop.create({
      journeys: {
        part: journey('part', `trigger: { event: order_status_changed, status: delivered, items: any }\n${send()}`),
        plain: journey('plain', `trigger: { event: order_status_changed, status: delivered }\n${send()}`),
        placed: journey('placed', `trigger: { event: order_placed }\n${send()}`),
        shipping: journey('shipping', `
trigger: { event: order_placed }
steps:
  - id: wait_delivery
    wait_for: { event: order_status_changed, status: delivered, same_order: true, timeout: 3d, on_timeout: late }
  - id: review
    send: { channel: email, template: hello }
    next: done
  - id: late
    send: { channel: email, template: followup }
  - id: done
    exit: true
`),
      },
      customers: [C('c1'), C('c2')],
    });
    // o1 was placed before the journeys ran; o2 after, and enters the order_placed journeys
    await shop.orders([`o1,c1,${at(-2 * DAY)},shipped,,10`], at(-4 * HOUR));
    await items(['o1,1,p1,1,', 'o1,2,p2,1,'], at(-4 * HOUR));
    shop.tick(at(-3 * HOUR));
    await shop.orders([`o2,c2,${at(-2 * HOUR)},processing,,10`], at(-2 * HOUR));
    await items(['o2,1,p1,1,'], at(-2 * HOUR));
    shop.tick(at(-HOUR));
    // an item of each order delivered (it followed its order until now: no previous status of its own)
    await items(['o1,1,p1,1,delivered', 'o2,1,p1,1,delivered'], T0);
    shop.ticks(at(HOUR), at(4 * DAY), 6 * HOUR);
    expect(entered('part').sort()).toEqual([`c1 o1 @${at(0)}`, `c2 o2 @${at(0)}`]);
    expect(entered('plain')).toEqual([]);
    expect(entered('placed')).toEqual([`c2 o2 @${at(-2 * HOUR)}`]);
    // the order was never delivered: the wait times out
    expect(shop.log('c2', 'shipping')).toEqual(['wait_delivery entered: order:o2', 'wait_delivery timeout: 3d', 'late sent: email followup', 'done completed: exit_step']);
  });
});

describe('journey simulate replays item status changes', () => {
  it('an items: all journey enters when the last item was delivered, not when the order was; one without items at the order\'s own change', async () => {
    shop = await Shop.create({
      journeys: {
        whole: journey('whole', `trigger: { event: order_status_changed, status: delivered, items: all }\n${send()}`),
        plain: journey('plain', `trigger: { event: order_status_changed, status: delivered }\n${send('followup')}`),
      },
      customers: [C('c1')],
    });
    // the store already holds what the simulation replays: o1 placed Mar 1, delivered
    // Mar 2 10:00 with item 2 still shipped, item 2 delivered Mar 3 15:00
    await shop.orders(['o1,c1,2026-03-01T09:00:00Z,shipped,2026-03-01T12:00:00Z,10'], '2026-03-01T12:00:00Z');
    await shop.importCsv('order-items', 'order_id,line,product_id,quantity,status', ['o1,1,p1,1,shipped', 'o1,2,p2,1,shipped'], '2026-03-01T12:00:00Z');
    await shop.orders(['o1,c1,2026-03-01T09:00:00Z,delivered,2026-03-02T10:00:00Z,10'], '2026-03-02T10:00:00Z');
    await shop.importCsv('order-items', 'order_id,line,product_id,quantity,status,status_changed_at', ['o1,1,p1,1,delivered,2026-03-02T10:00:00Z'], '2026-03-02T10:00:00Z');
    await shop.importCsv('order-items', 'order_id,line,product_id,quantity,status,status_changed_at', ['o1,2,p2,1,delivered,2026-03-03T15:00:00Z'], '2026-03-03T16:00:00Z');
    shop.db.close();
    const r = shop.cli('2026-03-02T00:00:00Z', 'simulate', '--from', '2026-03-02T00:00:00Z', '--to', '2026-03-05T00:00:00Z', '--step', '1h', '--json');
    expect(r.status, r.stderr).toBe(0);
    const timeline = JSON.parse(r.stdout).timeline.map((m: { at: string; customer_id: string; step_id: string }) => `${m.customer_id} ${m.step_id} @${m.at}`);
    expect(timeline).toEqual(['c1 followup @2026-03-02T10:00:00.000Z', 'c1 hello @2026-03-03T15:00:00.000Z']);
  });
});
