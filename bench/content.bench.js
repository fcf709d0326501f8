// Message content at scale: one tick step sending to 100,000 customers of the
// 1,000,000-customer shop (bench/shop-1m.js, with its products and order items), twice:
//   plain:   a provider-side template, no coupon, no recommendations (the step without content)
//   content: a Liquid template rendered per message (name, coupon code and expiry,
//            four `related` recommendations with prices), a unique coupon code each,
//            the recommendations computed in SQL for all 100,000 at once.
// Each run inserts the 100,000 enrolments at the send step and ticks inside one
// transaction that is rolled back (as `journey plan` does), so the kept shop is never
// changed. Prints customers/s of each and the share of the content step's time that
// content costs. Target: under half.
// BENCH_CONTENT_CUSTOMERS changes how many are sent to; BENCH_CONTENT_ROUNDS runs the
// pair more times (the medians are printed, then each round's figures);
// BENCH_CONTENT_PROFILE=1 prints each
// statement over 50 ms; BENCH_CONTENT_SHOP=20000 uses a smaller shop (a quick try).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runTick } from '../dist/engine/tick.js';
import { openProject } from '../dist/project/open-project.js';
import { withRolledBack } from '../dist/store/rolled-back.js';
import { openStore } from '../dist/store/open.js';
import { profileStatements } from './profile-statements.js';
import { benchShop, SHOP_NOW } from './shop-1m.js';

const N = Number(process.env.BENCH_CONTENT_CUSTOMERS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_CONTENT_ROUNDS ?? 1);
const NOW = SHOP_NOW + 10 * 3_600_000;
const TARGET_SHARE = 0.5;
const line = (name, value) => console.log(`${name} ${value}`);

const CONFIG = `version: 1
timezone: Europe/Prague
currency: EUR
channels:
  email: { provider: sendgrid }
providers:
  sendgrid: { type: sendgrid, api_key: "\${SENDGRID_API_KEY}", from: shop@shop.test }
templates:
  plain: { channel: email, provider_template: d-plain, subject: "Hello" }
coupons:
  ten: { discount: 10%, prefix: TEN, valid_for: 30d }
vars: { brand: Bench Shop, shop_url: "https://shop.test" }
`;
const TEMPLATE = `---
channel: email
subject: "{{ customer.first_name | default: 'Hello' }}, {{ coupon.discount }} off your next order"
preheader: Picked for you
---
<html><body>
<p>Hello {{ customer.first_name | default: "there" }},</p>
<p>{{ coupon.discount }} off with <b>{{ coupon.code }}</b> until {{ coupon.expires_at | local_date }}.</p>
<table>{% for p in recommendations %}<tr><td><a href="{{ p.url | default: vars.shop_url }}">{{ p.title }}</a></td><td>{{ p.price | money }}</td></tr>{% endfor %}</table>
<p>{{ vars.brand }}</p>
</body></html>
`;
const SEGMENTS = `segments:
  nobody:
    rule: { registered_at: { within: 1d } }
`;
const journey = (id, send) => `id: ${id}
trigger: { segment: nobody, check: "0 * * * *" }
steps:
  - id: offer
    send: ${send}
  - id: later
    wait: 7d
`;

const { store } = await benchShop({ customers: Number(process.env.BENCH_CONTENT_SHOP ?? 1_000_000), items: true });
const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-content-bench-'));
try {
  mkdirSync(path.join(dir, 'journeys'));
  mkdirSync(path.join(dir, 'segments'));
  mkdirSync(path.join(dir, 'templates'));
  writeFileSync(path.join(dir, 'journey.config.yaml'), CONFIG);
  writeFileSync(path.join(dir, 'segments', 'segments.yaml'), SEGMENTS);
  writeFileSync(path.join(dir, 'templates', 'offer.liquid'), TEMPLATE);
  writeFileSync(path.join(dir, 'journeys', 'bench-plain.yaml'), journey('bench-plain', '{ channel: email, template: plain }'));
  writeFileSync(path.join(dir, 'journeys', 'bench-content.yaml'), journey('bench-content', '{ channel: email, template: offer, coupon: ten, recommendations: { strategy: related, count: 4 } }'));
  const project = openProject(dir);
  const only = (id) => ({ ...project, journeys: project.journeys.filter((j) => j.id === id) });
  const db = openStore(store);
  if (process.env.BENCH_CONTENT_PROFILE) profileStatements(db, { explain: process.env.BENCH_CONTENT_PROFILE === 'plan' });
  // customers reachable by e-mail who have ordered (related recommendations start from their latest order)
  const customers = db.get(
    `SELECT count(*) AS n FROM (SELECT r.customer_id FROM customer_reachability r WHERE r.channel = 'email' AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = r.customer_id) LIMIT ?)`,
    [N],
  ).n;
  line('content.customers', customers);

  const step = (journeyId) =>
    withRolledBack(db, (inner) => {
      inner.run(
        `INSERT INTO enrolments (journey_id, version, customer_id, entry_key, trigger_at, entered_at, status, step_id, step_started_at, due_at)
         SELECT ?, 1, r.customer_id, 'bench', ?, ?, 'active', 'offer', ?, ? FROM customer_reachability r
         WHERE r.channel = 'email' AND EXISTS (SELECT 1 FROM orders o WHERE o.customer_id = r.customer_id) LIMIT ?`,
        [journeyId, NOW - 7_200_000, NOW - 7_200_000, NOW - 7_200_000, NOW - 3_600_000, N],
      );
      const started = performance.now();
      const report = runTick(inner, only(journeyId), { now: new Date(NOW) });
      const seconds = (performance.now() - started) / 1000;
      const queued = report.journeys.find((j) => j.journey === journeyId)?.queued ?? 0;
      const check = inner.get(
        `SELECT count(*) AS n, count(content) AS rendered, count(DISTINCT json_extract(payload, '$.coupon.code')) AS codes,
                sum(json_array_length(payload, '$.recommendations') = 4) AS full FROM outbox_messages WHERE journey_id = ?`,
        [journeyId],
      );
      return { seconds, queued, ...check };
    });

  const plain = [];
  const content = [];
  for (let round = 0; round < ROUNDS; round++) {
    plain.push(step('bench-plain'));
    content.push(step('bench-content'));
  }
  db.close();
  const median = (runs) => runs.map((r) => r.seconds).sort((a, b) => a - b)[Math.floor(runs.length / 2)];
  const p = median(plain);
  const c = median(content);
  const last = content[content.length - 1];
  line('plain.seconds', p.toFixed(2));
  line('plain.customers_per_s', Math.round(customers / p));
  line('content.seconds', c.toFixed(2));
  line('content.customers_per_s', Math.round(customers / c));
  line('content.rendered', last.rendered);
  line('content.unique_codes', last.codes);
  line('content.with_4_recommendations', last.full);
  const share = (c - p) / c;
  line('content.share_of_step', share.toFixed(2));
  // each round's pair, so that the spread the machine's load puts on the medians shows
  if (ROUNDS > 1) plain.forEach((r, i) => line(`round.${i + 1}`, `plain ${r.seconds.toFixed(2)} content ${content[i].seconds.toFixed(2)} share ${((content[i].seconds - r.seconds) / content[i].seconds).toFixed(2)}`));
  line('target.content_share', `${share < TARGET_SHARE ? 'met' : 'MISSED'} (< ${TARGET_SHARE})`);
  if (plain.some((r) => r.queued !== customers) || content.some((r) => r.queued !== customers || r.rendered !== customers || r.codes !== customers)) {
    console.log(`# expected ${customers} messages queued each run, every content message rendered with a code of its own`);
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
