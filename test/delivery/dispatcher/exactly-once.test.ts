/**
 * The exactly-once kill test: `journey outbox send` in a child process, killed with
 * SIGKILL at random moments (while claiming, mid-request, mid-batch, while
 * committing) at least 50 times, against a stand-in that counts every request and
 * every message it accepts without deduplicating by key, and that injects faults on
 * 30% of the send requests (429 with Retry-After, 500, a reset connection, a timeout
 * after accepting). Then a last run to the end. Every message must have been
 * accepted exactly once, none lost, none left in doubt, for SendGrid batched,
 * Postmark batched, Twilio and the webhook provider. Runs the built CLI.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../store/helpers.js';
import { ACCOUNT_SID, ENV } from '../helpers/fixtures.js';
import { startStandIn, type StandIn } from '../helpers/stand-in.js';
import { insertRows, rows, storeAt } from './helpers.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/journey.js');
const KILLS = Number(process.env.KILL_TEST_KILLS ?? 50);
const PER_PROVIDER = { sg: 600, pm: 600, tw: 250, hook: 250 };

describe('exactly once across SIGKILLs and faults', () => {
  let standIn: StandIn;
  afterAll(() => standIn?.close());

  it('accepts every message exactly once, loses none and leaves none in doubt', async () => {
    standIn = await startStandIn({ faultRate: 0.3, delayMs: 3 });
    const url = standIn.url;
    const project = tempDir();
    // timeout 1 s, leases of 3 s: a killed dispatcher's rows are taken over 3 s on;
    // reconcile_after 0: the stand-in's lookups are up to date at once
    const common = `url: "${url}", concurrency: 4, timeout: 1, reconcile_after: 0`;
    writeFileSync(
      path.join(project, 'journey.config.yaml'),
      `version: 1
channels:
  email: { provider: sg }
  sms: { provider: tw }
  push: { provider: hook, address: attributes.device }
providers:
  sg: { type: sendgrid, api_key: "\${SENDGRID_API_KEY}", from: shop@shop.test, batch_size: 20, ${common} }
  pm: { type: postmark, server_token: "\${POSTMARK_SERVER_TOKEN}", from: shop@shop.test, batch_size: 20, ${common} }
  tw: { type: twilio, account_sid: ${ACCOUNT_SID}, auth_token: "\${TWILIO_AUTH_TOKEN}", from: "+15005550006", status_callback_url: "https://hooks.shop.test/webhooks/tw", ${common} }
  hook: { type: webhook, url: "${url}/push", concurrency: 4, timeout: 1 }
templates:
  welcome: { channel: email, provider_template: d-welcome, subject: "Hello {{ customer.first_name }}" }
  sms: { channel: sms, body: "{{ customer.first_name }}, code {{ coupon.code }}" }
`,
    );
    // Every kill must find a dispatcher at work: when the runs before have left little
    // due, the next one gets a fresh share (a run with nothing to do exits unkilled).
    let total = 0;
    let shares = 0;
    const addWork = (fraction: number) => {
      const db = storeAt(path.join(project, '.journey'));
      try {
        const from = shares++ * 100_000;
        const add = (n: number, spec: Parameters<typeof insertRows>[2], offset: number) => {
          const count = Math.round(n * fraction);
          insertRows(db, count, spec, from + offset);
          total += count;
        };
        add(PER_PROVIDER.sg, { provider: 'sg', journey: 'k' }, 0);
        add(PER_PROVIDER.pm, { provider: 'pm', journey: 'k' }, 10_000);
        add(PER_PROVIDER.tw, { provider: 'tw', journey: 'k', channel: 'sms', template: 'sms', address: (i) => `+420${String(700000000 + i)}` }, 20_000);
        add(PER_PROVIDER.hook, { provider: 'hook', journey: 'k', channel: 'push', template: 'sms', address: (i) => `device-${i}` }, 30_000);
      } finally {
        db.close();
      }
    };
    const due = () => {
      const db = storeAt(path.join(project, '.journey'));
      try {
        return db.get<{ n: number }>(`SELECT count(*) AS n FROM outbox_delivery WHERE status = 'pending'`)!.n;
      } finally {
        db.close();
      }
    };
    addWork(1);
    // Quick retries and cool-downs: a 30% fault rate keeps the circuits busy, and the
    // kills pile attempts on the rows in flight (an attempt in doubt counts).
    const args = [BIN, 'outbox', 'send', '--lease', '3s', '--wait', '30s', '--retry-base', '100ms', '--circuit-cool-down', '500ms', '--max-attempts', '100', '--json'];
    const env = { ...process.env, ...ENV, NO_COLOR: '1' };

    const t0 = Date.now();
    // a project that does not validate would make every run exit at once, unkilled
    const valid = spawnSync(process.execPath, [BIN, 'validate'], { cwd: project, env, encoding: 'utf8' });
    expect(valid.status, valid.stdout).toBe(0);
    let killed = 0;
    let midRequest = 0;
    for (let k = 0; k < KILLS; k++) {
      if (due() < 100) addWork(0.25);
      const child = spawn(process.execPath, args, { cwd: project, env, stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      // Half the kills on a timer (whatever the dispatcher is doing: starting, claiming,
      // committing, waiting), half as the stand-in receives the Nth request of this run.
      if (k % 2 === 0) await killAfter(child, 150 + Math.random() * 600);
      else {
        const target = standIn.counts.requests + 1 + Math.floor(Math.random() * 40);
        await Promise.race([
          new Promise<void>((resolve) => {
            standIn.onRequest = () => {
              if (standIn.counts.requests >= target) {
                standIn.onRequest = () => {};
                midRequest++;
                child.kill('SIGKILL');
                resolve();
              }
            };
          }),
          killAfter(child, 3_000),
        ]);
        standIn.onRequest = () => {};
      }
      if ((await exited) === 'SIGKILL') killed++;
    }
    expect(killed).toBeGreaterThanOrEqual(KILLS - 2);
    expect(midRequest).toBeGreaterThan(KILLS / 4);

    const killsMs = Date.now() - t0;
    // The last run goes to the end (not spawnSync: the stand-in answers from this process's event loop).
    standIn.onRequest = () => {};
    const last = await run(args, project, env);
    expect(last.status, last.stderr).toBe(0);
    const report = JSON.parse(last.stdout);
    if (process.env.KILL_TEST_DEBUG) console.log(JSON.stringify(report), last.stderr);
    expect(report).toMatchObject({ inDoubt: 0, held: 0 });

    const check = storeAt(path.join(project, '.journey'));
    const all = rows(check);
    const doubt = check.get<{ n: number }>(`SELECT count(*) AS n FROM outbox_delivery WHERE in_doubt_since IS NOT NULL`)!.n;
    check.close();
    // None lost, none in doubt: every message accepted, under the id the stand-in gave its key.
    expect(all.filter((r) => r.status !== 'sent').map((r) => [r.idempotency_key, r.status, r.last_error])).toEqual([]);
    expect(doubt).toBe(0);
    expect(all).toHaveLength(total);
    for (const r of all) expect(r.provider_message_id, r.idempotency_key).toBe(standIn.idOf.get(r.idempotency_key)?.split('.')[0]);
    // Exactly once: no key accepted twice by a provider that does not deduplicate.
    const twice = [...standIn.acceptedTimes].filter(([, n]) => n > 1);
    expect(twice).toEqual([]);
    expect(standIn.acceptedTimes.size).toBe(total);
    expect(standIn.counts.messages).toBe(total);
    // The faults did happen, the timeouts after accepting among them.
    const f = standIn.counts.faults;
    expect(Math.min(f['429'], f['500'], f.reset, f.timeout_after_accept)).toBeGreaterThan(5);
    expect(standIn.counts.lookups).toBeGreaterThan(0);
    console.log(
      `kill test: ${killed} SIGKILLs (${midRequest} on a request), ${standIn.counts.requests} send requests, ${standIn.counts.lookups} lookups, ` +
        `${standIn.counts.messages} messages accepted for ${total} keys, faults ${JSON.stringify(f)}, webhook repeats recognised by key ${standIn.replayed}; ` +
        `kills ${killsMs} ms, last run ${Date.now() - t0 - killsMs} ms`,
    );
    // Alone it takes about a minute; beside the rest of the suite on two cores each of its
    // hundred process starts is slower, and a clean CI clone took over three minutes.
  }, 600_000);
});

function killAfter(child: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) =>
    setTimeout(() => {
      child.kill('SIGKILL');
      resolve();
    }, ms),
  );
}

function run(args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}
