/**
 * `journey simulate` on a store with history: what real runs did before --from
 * (entries, messages sent, journeys ended) is not the simulation's, and its report
 * covers only the simulated period. Customers already inside at --from carry on
 * and are counted when they finish.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ms, Shop, journey } from './helpers/shop.js';

let shop: Shop;

const WELCOME = journey('welcome', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: hello
    send: { channel: email, template: hello }
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
    journeys: { welcome: WELCOME },
    customers: [
      'ann,ann@shop.test,+420601,Ann,2025-01-01T00:00:00Z,Europe/Prague,yes,yes',
      'bob,bob@shop.test,,Bob,2025-01-01T00:00:00Z,Europe/Prague,yes,',
      'eve,eve@shop.test,,Eve,2025-01-01T00:00:00Z,Europe/Prague,yes,',
    ],
  });
  // The real runs before the simulation: everyone enters on Mar 1 and gets hello,
  // delivered at once; eve opens it and is done the next day.
  shop.tick('2026-03-01T12:00:00Z');
  // (as the dispatcher records a provider's answer)
  shop.db.run(`UPDATE outbox_delivery SET status = 'sent', sent_at = ?, attempts = 1, provider_message_id = 'sg-' || id WHERE status = 'pending'`, [ms('2026-03-01T12:00:01Z')]);
  const eveHello = shop.outbox("customer_id = 'eve'")[0]!;
  shop.messageEvent(eveHello.id, 'opened', '2026-03-01T18:00:00Z');
  shop.tick('2026-03-02T06:00:00Z');
  // carl registers during the simulated period
  await shop.customers(['carl,carl@shop.test,+420602,Carl,2026-03-04T09:00:00Z,Europe/Prague,yes,yes'], '2026-03-04T09:00:00Z');
  shop.db.close();
});
afterAll(() => shop.close());

describe('journey simulate on a store with history', () => {
  it('reports only what happens from --from on', () => {
    // from the instant of the last real tick (which ended eve's enrolment)
    const r = shop.cli('2026-03-02T06:00:00Z', 'simulate', '--from', '2026-03-02T06:00:00Z', '--to', '2026-03-08T12:00:00Z', '--step', '1h', '--json');
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    // ann and bob time out of their wait on Mar 3 (ann gets the SMS nudge); carl enters on Mar 4.
    // Nobody's hello of Mar 1 is in the timeline.
    expect(result.timeline.map((m: { at: string; customer_id: string; step_id: string }) => `${m.customer_id} ${m.step_id} @${m.at}`)).toEqual([
      'ann nudge @2026-03-03T12:00:00.000Z',
      'carl hello @2026-03-04T09:00:00.000Z',
      'carl nudge @2026-03-06T09:00:00.000Z',
    ]);
    // inside at the start: ann and bob (eve finished before it); entered: carl alone;
    // completed: ann, bob and carl in the period; and the figures add up
    expect(result.journeys).toEqual([
      {
        journey_id: 'welcome', inside_at_start: 2, entered: 1, completed: 3, exited: 0, inside_at_end: 0,
        completions: { finished: 3 }, exits: {}, goal: null, converted: 0, revenue: 0, sent: 3, messages: { hello: 1, nudge: 2 }, test_mode: false,
      },
    ]);
  });

  it('says how many were inside at the start and at the end, in figures that add up', () => {
    const r = shop.cli('2026-03-02T06:00:00Z', 'simulate', '--from', '2026-03-02T06:00:00Z', '--to', '2026-03-03T00:00:00Z', '--step', '1h');
    expect(r.status, r.stderr).toBe(0);
    // nobody has finished by Mar 3 00:00 (the waits end at noon) and carl registers on Mar 4
    const header = r.stdout.split('\n').findIndex((l) => l.startsWith('journey '));
    expect(r.stdout.split('\n')[header]).toMatch(/^journey\s+inside at start\s+entered\s+completed\s+exited\s+inside at end\s+messages\s+converted\s+revenue$/);
    expect(r.stdout.split('\n')[header + 1]!.split(/\s+/)).toEqual(['welcome', '2', '0', '0', '0', '2', '0', '-', '-']);
  });
});
