// 100,000 SendGrid-shaped outbox rows from the outbox to accepted through SendGrid's
// batch mode (batch_size 1000: a personalization per message, each with its own
// key) against a stand-in in a child process that parses every request and counts
// the messages it accepts. Prints messages/s, requests, the dispatcher's CPU per
// message and the group commit's waits. Target: >= 50,000 messages/s.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dispatch } from '../dist/delivery/dispatcher.js';
import { openStore } from '../dist/store/open.js';

const N = Number(process.env.DISPATCH_BENCH_ROWS ?? 100_000);
const BATCH = Number(process.env.DISPATCH_BENCH_BATCH ?? 1000);
const CONCURRENCY = Number(process.env.DISPATCH_BENCH_CONCURRENCY ?? 4);
const ROUNDS = Number(process.env.DISPATCH_BENCH_ROUNDS ?? 3);
const line = (name, value) => console.log(`${name} ${value}`);

// The stand-in: reads each Mail Send request, counts its personalizations (messages)
// by key, answers 202 with an X-Message-Id as SendGrid does.
const SERVER = `
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
let requests = 0, messages = 0;
const keys = new Set();
let repeats = 0;
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    requests++;
    for (const p of body.personalizations) {
      messages++;
      const key = p.custom_args.journey_key;
      if (keys.has(key)) repeats++;
      keys.add(key);
    }
    res.writeHead(202, { 'x-message-id': randomBytes(16).toString('base64url') });
    res.end();
  });
});
process.on('message', (m) => {
  if (m === 'counts') process.send({ requests, messages, repeats, keys: keys.size });
  if (m === 'reset') { requests = 0; messages = 0; repeats = 0; keys.clear(); process.send('reset'); }
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
`;

const child = spawn(process.execPath, ['--input-type=module', '--eval', SERVER], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const port = await new Promise((resolve) => child.once('message', resolve));
const ask = (m) => new Promise((resolve) => { child.once('message', resolve); child.send(m); });
const url = `http://127.0.0.1:${port}`;

const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-dispatch-batch-bench-'));
const db = openStore(path.join(dir, 'store.db'));
const config = {
  file: null, storePath: null, timezone: 'UTC', journeysDir: 'journeys', segmentsDir: 'segments',
  policies: { quietHours: null, sendWindow: null, frequencyCap: null }, testRecipients: null,
  channels: { email: { provider: 'sendgrid', address: null } },
  providers: { sendgrid: { name: 'sendgrid', type: 'sendgrid', settings: { api_key: '${SENDGRID_API_KEY}', from: 'hello@shop.test', from_name: 'Example Shop', url, concurrency: CONCURRENCY, batch_size: BATCH } } },
  templates: { thanks: { channel: 'email', providerTemplate: 'd-0001thankyou', subject: 'Thank you', body: null } },
  coupons: {},
};
const env = { SENDGRID_API_KEY: 'SG.bench-key-not-a-secret' };

db.transaction(() => {
  for (let i = 0; i < N; i++) {
    const payload = JSON.stringify({ first_name: `Jana${i}`, order_total: 1290.5, coupon: `SECOND-${i.toString(36).toUpperCase()}`, shop_url: 'https://shop.test' });
    db.run(
      `INSERT INTO outbox_messages (idempotency_key, enrolment_id, journey_id, step_id, customer_id, channel, provider, template, address, payload, created_at)
       VALUES (?, ?, 'post-purchase', 'thanks', ?, 'email', 'sendgrid', 'thanks', ?, ?, 0)`,
      [`post-purchase:${i}:thanks`, i, `c${i}`, `customer${i}@example.test`, payload],
    );
  }
});
line('rows inserted', N);

function resetOutbox() {
  db.run(`UPDATE outbox_delivery SET status = 'pending', attempts = 0, next_attempt_at = 0, lease_id = NULL, provider_message_id = NULL, sent_at = NULL, last_error = NULL, in_doubt_since = NULL`);
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rates = [];
const cpus = [];
let everyRoundOk = true;
let last = null;
// an untimed warm-up round first (JIT, connections)
for (let round = 0; round <= ROUNDS; round++) {
  resetOutbox();
  await ask('reset');
  const cpu = process.cpuUsage();
  const t = performance.now();
  const report = await dispatch(db, config, env);
  const ms = performance.now() - t;
  const used = process.cpuUsage(cpu);
  const counts = await ask('counts');
  const accepted = db.get(`SELECT count(*) AS n FROM outbox_delivery WHERE status = 'sent'`).n;
  const ok = accepted === N && counts.messages === N && counts.keys === N && counts.repeats === 0;
  if (round === 0) continue;
  if (!ok) everyRoundOk = false;
  rates.push((accepted / ms) * 1000);
  cpus.push((used.user + used.system) / N);
  last = { report, counts };
  line(`round ${round} messages/s / requests / CPU us per message`, `${Math.round(rates.at(-1))} / ${counts.requests} / ${cpus.at(-1).toFixed(2)}`);
}
const rate = median(rates);
line('messages accepted per round', N);
line('messages/s (median)', Math.round(rate));
line('requests per round (batches of up to ' + BATCH + ')', last.counts.requests);
line("dispatcher's CPU us/message, this process (median)", median(cpus).toFixed(2));
line('group commit: outcome waited ms (median / worst group), last round', `${last.report.commits?.outcomeMs.p50} / ${last.report.commits?.outcomeMs.max}`);
line('group commit: attempt written before its request, ms (median / worst group), last round', `${last.report.commits?.attemptMs.p50} / ${last.report.commits?.attemptMs.max}`);
line('every message accepted exactly once, every round', everyRoundOk ? 'yes' : 'NO');
line('target messages/s >= 50000', rate >= 50_000 ? 'yes' : 'NO');
line('rss MB', Math.round(process.memoryUsage().rss / 1048576));

db.close();
child.kill();
rmSync(dir, { recursive: true, force: true });
if (!everyRoundOk) process.exitCode = 1;
