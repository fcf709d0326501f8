// Issue 5: one tick that enters 100,000 customers and advances 100,000 due
// enrolments, writing their outbox rows, in under 10 s and under 300 MB.
//
// The store is built by bulk INSERT ... SELECT over a recursive CTE (seconds, where
// generating and importing a 100k-customer shop takes minutes), in a child process,
// so that this process's peak RSS is the tick's alone (plus opening the store and
// loading the project). 100,000 customers with e-mail consent; two journeys:
//   bench-welcome: a segment trigger with backfill over a segment holding all
//     100,000, so its first tick enters everyone; its first step is a 3-day wait.
//   bench-offer: 100,000 active enrolments inserted at its send step, due an hour
//     ago; the tick sends (outbox row with a per-enrolment coupon code) and moves
//     them on to a wait.
// BENCH_TICK_CUSTOMERS changes the size; BENCH_TICK_PROFILE=1 prints the time of
// each statement that took over 50 ms; BENCH_TICK_POLICIES=1 adds the example
// shop's default policies (quiet hours 21-08 in the customer's zone, at most one
// message per 24 h, deferred), so that a quarter of the sends (New York, 05:00)
// are deferred instead of sent.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tickWithLock } from '../dist/engine/runner.js';
import { openProject } from '../dist/project/open-project.js';
import { rebuildReachability } from '../dist/store/facts.js';
import { openStore } from '../dist/store/open.js';
import { profileStatements } from './profile-statements.js';

const N = Number(process.env.BENCH_TICK_CUSTOMERS ?? 100_000);
const NOW = Date.UTC(2026, 2, 2, 10, 0, 0);
const HOUR = 3_600_000;
const TARGET_SECONDS = 10;
const TARGET_MB = 300;
const line = (name, value) => console.log(`${name} ${value}`);

const POLICIES = Boolean(process.env.BENCH_TICK_POLICIES);
const CONFIG = `version: 1
store: { path: .journey/store.db }
timezone: Europe/Prague
${POLICIES ? `policies:
  quiet_hours: { from: "21:00", to: "08:00", timezone: customer }
  frequency_cap: { max: 1, per: 24h, on_cap: defer }
` : ''}channels:
  email: { provider: sendgrid }
providers:
  sendgrid: { type: sendgrid, api_key: "\${SENDGRID_API_KEY}", from: shop@shop.test }
templates:
  welcome: { channel: email, provider_template: d-welcome, subject: "Welcome, {{ customer.first_name | default: 'friend' }}" }
  offer: { channel: email, provider_template: d-offer, subject: "10% off, {{ customer.first_name | default: 'friend' }}" }
coupons:
  ten: { discount: 10%, prefix: TEN, valid_for: 30d }
`;
const SEGMENTS = `segments:
  everyone:
    rule: { registered_at: { exists: true } }
  nobody:
    rule: { registered_at: { within: 1d } }
`;
const WELCOME = `id: bench-welcome
trigger: { segment: everyone, check: "0 * * * *", backfill: true }
steps:
  - id: settle
    wait: 3d
  - id: hello
    send: { channel: email, template: welcome }
`;
const OFFER = `id: bench-offer
trigger: { segment: nobody, check: "0 * * * *" }
steps:
  - id: offer
    send: { channel: email, template: offer, coupon: ten }
  - id: later
    wait: 7d
`;

function build(dir) {
  mkdirSync(path.join(dir, 'journeys'), { recursive: true });
  mkdirSync(path.join(dir, 'segments'), { recursive: true });
  writeFileSync(path.join(dir, 'journey.config.yaml'), CONFIG);
  writeFileSync(path.join(dir, 'segments', 'segments.yaml'), SEGMENTS);
  writeFileSync(path.join(dir, 'journeys', 'bench-welcome.yaml'), WELCOME);
  writeFileSync(path.join(dir, 'journeys', 'bench-offer.yaml'), OFFER);
  const db = openStore(path.join(dir, '.journey', 'store.db'));
  const t = performance.now();
  db.transaction(() => {
    db.run(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
       INSERT INTO customers (id, email, first_name, last_name, registered_at, timezone, country)
       SELECT printf('c%07d', i), printf('customer.%d@example.test', i), 'Jana', 'Nováková', ? - (i % 1000) * 86400000,
              CASE i % 4 WHEN 0 THEN 'Europe/Prague' WHEN 1 THEN 'America/New_York' WHEN 2 THEN 'Asia/Tokyo' ELSE NULL END, 'CZ'
       FROM n`,
      [N, NOW - 30 * 86_400_000],
    );
    db.run(`INSERT INTO customer_consents (customer_id, channel, granted, updated_at) SELECT id, 'email', 1, ? FROM customers`, [NOW - 30 * 86_400_000]);
    rebuildReachability(db);
    // bench-offer's enrolments: everyone at the send step, due an hour ago (version 1: the tick deploys it as 1)
    db.run(
      `INSERT INTO enrolments (journey_id, version, customer_id, entry_key, trigger_at, entered_at, status, step_id, step_started_at, due_at)
       SELECT 'bench-offer', 1, id, 'bench:1', ?, ?, 'active', 'offer', ?, ? FROM customers`,
      [NOW - 2 * HOUR, NOW - 2 * HOUR, NOW - 2 * HOUR, NOW - HOUR],
    );
  });
  db.close();
  console.log(`store.build_seconds ${((performance.now() - t) / 1000).toFixed(2)}`);
}

if (process.argv[2] === '--build') {
  build(process.argv[3]);
  process.exit(0);
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-tick-bench-'));
try {
  const built = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--build', dir], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`building the store failed (exit ${built.status})`);
  process.stdout.write(built.stdout);
  line('store.customers', N);
  line('store.method', 'bulk INSERT ... SELECT over a recursive CTE');
  line('project.policies', POLICIES ? 'quiet_hours + frequency_cap' : 'none');

  const project = openProject(dir);
  const db = openStore(path.join(dir, '.journey', 'store.db'));
  if (process.env.BENCH_TICK_PROFILE) profileStatements(db);
  const storeMb = db.get('SELECT page_count * page_size AS b FROM pragma_page_count(), pragma_page_size()').b / 1048576;
  const rssBeforeMb = process.memoryUsage().rss / 1048576;
  const before = db.get('SELECT (SELECT count(*) FROM outbox) AS outbox, (SELECT max(id) FROM step_log) AS log');
  const started = performance.now();
  const report = tickWithLock(db, project, new Date(NOW));
  const seconds = (performance.now() - started) / 1000;
  const rssMb = process.resourceUsage().maxRSS / 1024;
  const storeAfterMb = db.get('SELECT page_count * page_size AS b FROM pragma_page_count(), pragma_page_size()').b / 1048576;
  const welcome = report.journeys.find((j) => j.journey === 'bench-welcome');
  const offer = report.journeys.find((j) => j.journey === 'bench-offer');
  const outboxRows = db.get('SELECT count(*) AS n FROM outbox').n - before.outbox;
  // advanced: moved on from the send step (sent) or, with policies, deferred to a later time
  const advanced = db.get(`SELECT count(*) AS n FROM step_log WHERE id > ? AND outcome IN ('sent', 'deferred') AND step_id = 'offer'`, [before.log ?? 0]).n;
  const waiting = db.get(`SELECT count(*) AS n FROM enrolments WHERE journey_id = 'bench-welcome' AND status = 'active' AND step_id = 'settle' AND due_at > ?`, [NOW]).n;
  db.close();

  line('tick.entered', welcome.entered);
  line('tick.entered_waiting', waiting);
  line('tick.advanced', advanced);
  line('tick.queued', offer.queued);
  line('tick.deferred', offer.deferred);
  line('tick.outbox_rows', outboxRows);
  line('tick.rounds', report.rounds);
  line('tick.seconds', seconds.toFixed(2));
  line('tick.enrolments_per_s', Math.round((welcome.entered + advanced) / seconds));
  line('tick.peak_rss_mb', rssMb.toFixed(0));
  line('rss.before_tick_mb', rssBeforeMb.toFixed(0));
  line('store.mb_before', storeMb.toFixed(0));
  line('store.mb_after', storeAfterMb.toFixed(0));
  line('target.seconds', `${seconds < TARGET_SECONDS ? 'met' : 'MISSED'} (< ${TARGET_SECONDS} s)`);
  line('target.rss', `${rssMb < TARGET_MB ? 'met' : 'MISSED'} (< ${TARGET_MB} MB)`);
  if (welcome.entered !== N || advanced !== N || outboxRows !== (POLICIES ? offer.queued : N)) {
    console.log(`# expected ${N} entered, ${N} advanced, ${N} outbox rows`);
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
