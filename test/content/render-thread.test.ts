/**
 * The render threads (src/content/render-thread.ts): a step's messages rendered in
 * threads of their own, a part at a time while the tick reads the next part, with
 * their recommendations computed on a connection of its own in another thread
 * (src/store/recommend-thread.ts), are the messages the tick renders in its own
 * thread from its own connection, each on its own row, failures with the same
 * reasons. It runs the built files (dist/): the threads run dist/content/render-worker.js
 * and dist/store/recommend-worker.js.
 */
import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error the built module has no types of its own
import { fillContent, startRecommendations } from '../../dist/engine/content-step.js';
// @ts-expect-error the built module has no types of its own
import { renderThreads } from '../../dist/content/render-thread.js';
import type { Step } from '../../src/project/model.js';
import { Shop, journey } from '../engine/helpers/shop.js';

const NOW = '2026-03-02T12:00:00Z';
const J = journey('thanks', `
trigger: { event: order_placed }
steps:
  - id: thank_you
    send: { channel: email, template: thanks, coupon: ten, recommendations: { strategy: related, count: 2 } }
  - id: later
    wait: 7d
`);
// strict: dan, who has no tier, cannot be rendered (a failed message; samples never reach that branch)
const TEMPLATE = `---
channel: email
subject: "Thank you, {{ customer.first_name | default: 'friend' }}"
preheader: A code for your next order
---
<html><body><p>Hello {{ customer.first_name | default: "there" }}{% if customer.email == "dan@shop.test" %}, {{ customer.attributes.tier }} member{% endif %},</p>
<p>{{ coupon.discount }} off with <b>{{ coupon.code }}</b> until {{ coupon.expires_at | local_date }}.</p>
<ul>{% for p in recommendations %}<li><a href="{{ p.url }}">{{ p.title }}</a> {{ p.price | money }}</li>{% endfor %}</ul></body></html>
`;
const PEOPLE = ['ann', 'bob', 'cyd', 'dan', 'eve', 'fay', 'gus'];

let shop: Shop | undefined;
afterEach(() => {
  shop?.close();
  shop = undefined;
});

async function setUp(): Promise<Shop> {
  const s = await Shop.create({
    journeys: { thanks: J },
    templateFiles: { 'thanks.liquid': TEMPLATE },
    customerHeader: 'id,email,first_name,registered_at,consent_email',
    customers: PEOPLE.map((p) => `${p},${p}@shop.test,${p === 'cyd' ? '' : p.toUpperCase()},2025-01-01T00:00:00Z,yes`),
  });
  const day = 86_400_000;
  const now = Date.parse(NOW);
  ['A', 'B', 'C', 'D', 'E'].forEach((id, i) =>
    s.db.run(`INSERT INTO products (id, title, category, price, currency, url, created_at, attributes) VALUES (?, ?, 'kitchen', ?, 'EUR', ?, ?, '{}')`, [id, `Product ${id} <&>`, 10 + i * 2.25, `https://shop.test/${id}`, now - 100 * day]),
  );
  // everyone's order holds three or four of the products: each one's related products differ
  s.tick(now - 3 * 3_600_000);
  const placed = new Date(now - 2 * 3_600_000).toISOString();
  await s.orders(PEOPLE.map((p, i) => `o${i},${p},${placed},processing,,25`), placed);
  const items = PEOPLE.flatMap((_, i) => ['A', 'B', 'C', 'D', 'E'].filter((_, k) => (k + i) % 3 !== 0).map((pid, line) => `o${i},${line + 1},${pid},1`));
  await s.importCsv('order-items', 'order_id,line,product_id,quantity', items, placed);
  return s;
}

const rows = (s: Shop) =>
  s.db.all<{ id: number; customer_id: string; payload: string; content: string | null; status: string; last_error: string | null }>(
    `SELECT o.id, o.customer_id, o.payload, o.content, d.status, d.last_error FROM outbox_messages o JOIN outbox_delivery d ON d.id = o.id ORDER BY o.id`,
  );

/** The rows as they were before the content was filled in (a failed row keeps the payload it was written with). */
const unfill = (s: Shop) => {
  s.db.run(`UPDATE outbox_messages SET payload = '{}', content = NULL WHERE content IS NOT NULL`);
  s.db.run(`UPDATE outbox_delivery SET status = 'pending', last_error = NULL`);
};

// a machine of one core renders in the tick's thread: there is no render thread to test
describe.skipIf(availableParallelism() < 2)('the render threads', () => {
  it('renders every message as the tick does in its own thread, on its own row, a failure with the same reason', async () => {
    shop = await setUp();
    // the tick from the sources renders in its own thread (no built worker beside them)
    const report = shop.tick(NOW);
    expect(report.journeys.find((j) => j.journey === 'thanks')?.queued).toBe(PEOPLE.length);
    const inline = rows(shop);
    expect(inline.filter((r) => r.status === 'failed').map((r) => [r.customer_id, r.last_error])).toEqual([
      ['dan', 'template thanks: unknown variable: customer.attributes.tier (templates/thanks.liquid:6:113)'],
    ]);
    expect(inline.filter((r) => r.content !== null).length).toBe(PEOPLE.length - 1);

    const thread = renderThreads();
    expect(thread).not.toBeNull();
    const before = thread.answered;
    unfill(shop);
    const step = shop.project.journeys[0]!.steps[0] as Extract<Step, { kind: 'send' }>;
    const set = { sql: `SELECT id FROM enrolments WHERE journey_id = 'thanks'`, params: [] };
    // two messages a part: four parts, rendered in the thread while the next is read
    const failed = fillContent(shop.db, shop.project, shop.project.journeys[0], step, set, Date.parse(NOW), { thread: true, part: 2 });
    expect(failed).toBe(1);
    expect(thread.answered - before).toBe(4);
    expect(rows(shop)).toEqual(inline);

    // the recommendations started ahead (as a large step starts them before its coupons and outbox rows), then taken by the fill
    unfill(shop);
    const started = startRecommendations(shop.db, shop.project, step, set, Number.MAX_SAFE_INTEGER, Date.parse(NOW));
    expect(started).not.toBeNull();
    while (!started.ready()) await new Promise((r) => setTimeout(r, 10));
    expect(fillContent(shop.db, shop.project, shop.project.journeys[0], step, set, Date.parse(NOW), { thread: true, part: 2, recommendations: started })).toBe(1);
    expect(rows(shop)).toEqual(inline);
    // the fill took the answer started ahead (it did not compute its own beside it)
    expect(started.ready()).toBe(false);
  });

  it('reads at most readAhead parts ahead while the recommendations are still being computed, then renders them all', async () => {
    shop = await setUp();
    shop.tick(NOW);
    const inline = rows(shop);
    unfill(shop);
    const step = shop.project.journeys[0]!.steps[0] as Extract<Step, { kind: 'send' }>;
    const set = { sql: `SELECT id FROM enrolments WHERE journey_id = 'thanks'`, params: [] };
    const started = startRecommendations(shop.db, shop.project, step, set, Number.MAX_SAFE_INTEGER, Date.parse(NOW));
    while (!started.ready()) await new Promise((r) => setTimeout(r, 10));
    // recommendations that are never ready until taken: without a limit the fill reads every part first
    let reads = 0;
    let readBeforeTake = -1;
    const all = shop.db.all.bind(shop.db);
    shop.db.all = (sql: string, params?: unknown[]) => {
      if (sql.includes('tick_messages')) reads++;
      return all(sql, params);
    };
    const slow = { ready: () => false, take: () => ((readBeforeTake = reads), started.take()) };
    expect(fillContent(shop.db, shop.project, shop.project.journeys[0], step, set, Date.parse(NOW), { thread: true, part: 1, readAhead: 2, recommendations: slow })).toBe(1);
    expect(readBeforeTake).toBe(2);
    expect(reads).toBe(PEOPLE.length);
    expect(rows(shop)).toEqual(inline);
  });

  it('a template the project lacks fails every message with the same reason in the thread', async () => {
    shop = await setUp();
    shop.tick(NOW);
    const step = { ...(shop.project.journeys[0]!.steps[0] as Extract<Step, { kind: 'send' }>), template: 'gone' };
    const set = { sql: `SELECT id FROM enrolments WHERE journey_id = 'thanks'`, params: [] };
    const fill = (thread: boolean) => {
      unfill(shop!);
      const n = fillContent(shop!.db, shop!.project, shop!.project.journeys[0], step, set, Date.parse(NOW), { thread, part: 3 });
      return { n, rows: rows(shop!) };
    };
    const own = fill(false);
    expect(own.n).toBe(PEOPLE.length);
    expect(own.rows.map((r) => r.last_error)).toEqual(PEOPLE.map(() => "template 'gone' is not in the project"));
    expect(fill(true)).toEqual(own);
  });
});
