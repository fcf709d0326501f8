/**
 * journey outbox / outbox retry / outbox send / serve as a user runs them (the
 * built CLI, npm run build first), against a provider on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../store/helpers.js';
import { ENV, SECRETS } from '../delivery/helpers/fixtures.js';
import { startServer, type FakeServer } from '../delivery/helpers/server.js';
import { insertRows, keyOf, storeAt } from '../delivery/dispatcher/helpers.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/journey.js');

/** Async: the provider answers from this process's event loop. */
function journey(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, ...env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('journey outbox (CLI)', () => {
  let server: FakeServer;
  let project: string;
  beforeAll(async () => {
    server = await startServer((req) => (keyOf(req) === 'j:2:sg' ? { status: 400, body: { errors: [{ message: 'Invalid recipient', field: 'personalizations.0.to.0.email' }] } } : { status: 202, headers: { 'x-message-id': `id-${keyOf(req)}`, ...(keyOf(req) === 'j:3:sg' ? { 'ratelimit-remaining': '0', 'ratelimit-reset': '0.05' } : {}) } }));
    project = tempDir();
    writeFileSync(
      path.join(project, 'journey.config.yaml'),
      `version: 1
channels:
  email: { provider: sg }
providers:
  sg: { type: sendgrid, api_key: "\${SENDGRID_API_KEY}", from: shop@shop.test, url: "${server.url}", signing_secret: "\${SG_HOOK_KEY}" }
templates:
  welcome: { channel: email, provider_template: d-welcome, subject: "Hello {{ customer.first_name }}" }
`,
    );
    const db = storeAt(path.join(project, '.journey'));
    insertRows(db, 4, { provider: 'sg', address: (i) => `customer.number${i}@example.test` });
    db.close();
  });
  afterAll(() => server.close());

  it('lists, sends, lists failures with the provider text, and retries', async () => {
    const before = await journey(project, ['outbox']);
    expect(before.code).toBe(0);
    expect(before.stdout).toMatch(/^queued 4 {2}attempting 0 {2}in_doubt 0 {2}accepted 0 {2}failed 0 {2}dead 0\n/);
    expect(before.stdout).toContain('cu**************@example.test');
    expect(before.stdout).not.toContain('customer.number1@example.test');

    const missing = await journey(project, ['outbox', 'send']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.split('\n')[0]).toBe('error: delivery could not run for sg: environment variable SENDGRID_API_KEY is not set (provider \'sg\', setting api_key); 4 messages stay pending in the outbox');
    expect(missing.stdout).toContain('environment variable SENDGRID_API_KEY is not set');

    // a provider refused one: the command did not get every message out, and says so first (exit 3, as run --once)
    const sent = await journey(project, ['outbox', 'send', '--json'], ENV);
    expect(sent.code).toBe(3);
    expect(sent.stderr.split('\n')[0]).toBe("error: 1 message failed in this run's delivery (journey outbox --status failed,dead)");
    expect(JSON.parse(sent.stdout)).toMatchObject({ sent: 3, failed: 1, providers: { sg: { sent: 3, failed: 1 } }, outcome: { exitCode: 3 } });
    expect(sent.stdout + sent.stderr).not.toContain(SECRETS.SENDGRID_API_KEY);
    // the last answer used up the rate limit: said on stderr, --json's stdout stays one object
    expect(sent.stderr).toMatch(/^rate limit used up sg: waiting until \d{4}-\d\d-\d\dT/m);

    const failed = await journey(project, ['outbox', '--status', 'failed', '--json']);
    const listing = JSON.parse(failed.stdout);
    expect(listing.counts).toMatchObject({ accepted: 3, failed: 1 });
    expect(listing.rows).toEqual([expect.objectContaining({ id: 3, idempotency_key: 'j:2:sg', attempts: 1, last_error: 'HTTP 400: personalizations.0.to.0.email: Invalid recipient' })]);

    const human = await journey(project, ['outbox']);
    expect(human.stdout).toMatch(/3 +failed +j:2:sg +email +cu\*+@example\.test +welcome +1 +HTTP 400: personalizations\.0\.to\.0\.email: Invalid recipient/);

    const none = await journey(project, ['outbox', 'retry', '--id', '1', '99']);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('skipped id 1: it is accepted');
    expect(none.stdout).toContain('skipped id 99: no such message');
    const retried = await journey(project, ['outbox', 'retry', '--json']);
    expect(JSON.parse(retried.stdout)).toEqual({ requeued: [3], skipped: [] });
    expect(JSON.parse((await journey(project, ['outbox', '--json'])).stdout).counts).toMatchObject({ queued: 1, failed: 0 });
  });

  it('refuses bad flags with a clear message and exit code 64 (usage)', async () => {
    for (const [args, text] of [
      [['outbox', '--status', 'lost'], "--status 'lost' is not an outbox status"],
      [['outbox', '--limit', '0'], '--limit 0 is out of range: 1 to'],
      [['outbox', 'retry', '--id', 'x'], "--id 'x' is not a whole number"],
      [['outbox', 'send', '--wait', 'soon'], "--wait 'soon' is not a duration"],
      [['serve', '--port', '99999'], '--port 99999 is out of range: 0 to 65,535'],
      [['serve', '--public-url', 'ftp://x'], "--public-url 'ftp://x' is not an http(s) URL"],
    ] as const) {
      const r = await journey(project, [...args]);
      expect(r.code, args.join(' ')).toBe(64);
      expect(r.stderr).toContain(text);
    }
  });

  it('holds a message whose request timed out, lists it in doubt, exits 3, and settles it with journey outbox resolve', async () => {
    const hung = await startServer(() => ({ action: 'hang' }));
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'journey.config.yaml'),
      `version: 1
channels:
  email: { provider: sg }
providers:
  sg: { type: sendgrid, api_key: "\${SENDGRID_API_KEY}", from: shop@shop.test, url: "${hung.url}", timeout: 0.3, in_doubt: hold }
templates:
  welcome: { channel: email, provider_template: d-welcome }
`,
    );
    const db = storeAt(path.join(dir, '.journey'));
    insertRows(db, 2, { provider: 'sg' });
    db.close();
    const sent = await journey(dir, ['outbox', 'send'], ENV);
    expect(sent.code).toBe(3);
    expect(sent.stderr.split('\n')[0]).toMatch(/^error: 2 messages held in doubt: the provider may have accepted them/);
    expect(sent.stdout).toMatch(/in doubt 2: their request may have reached the provider; none is sent again blindly; 2 held: settle them with journey outbox resolve/);
    expect(hung.requests).toHaveLength(2);
    const listed = await journey(dir, ['outbox', '--status', 'in_doubt']);
    expect(listed.stdout).toMatch(/^queued 0 {2}attempting 0 {2}in_doubt 2 {2}accepted 0/);
    expect(listed.stdout).toMatch(/1 +in_doubt \(held\) since \d{4}-\d\d-\d\dT\d\d:\d\dZ +j:0:sg/);
    // retry is for failed messages: one in doubt is named so, with how to settle it
    const retried = await journey(dir, ['outbox', 'retry', '--id', '2']);
    expect(retried.code).toBe(1);
    expect(retried.stdout).toContain('skipped id 2: it is in doubt: the provider may have it (journey outbox resolve --id 2 --accepted or --resend)');
    // a second send does not touch them
    expect((await journey(dir, ['outbox', 'send'], ENV)).code).toBe(3);
    expect(hung.requests).toHaveLength(2);

    const accepted = await journey(dir, ['outbox', 'resolve', '--id', '1', '--accepted', '--message-id', 'sg-seen-in-activity']);
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain('recorded as accepted: 1 message');
    const again = await journey(dir, ['outbox', 'resolve', '--id', '1', '--resend']);
    expect(again.code).toBe(1);
    expect(again.stdout).toContain('skipped id 1: it is accepted, not in doubt');
    expect(JSON.parse((await journey(dir, ['outbox', 'resolve', '--all-held', '--resend', '--json'])).stdout)).toEqual({ resolved: [2], skipped: [] });
    const counts = JSON.parse((await journey(dir, ['outbox', '--json'])).stdout).counts;
    expect(counts).toMatchObject({ accepted: 1, queued: 1, in_doubt: 0 });
    const bad = await journey(dir, ['outbox', 'resolve', '--id', '2']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('resolve needs exactly one of --accepted and --resend');
    await hung.close();
  });

  it('journey serve listens, answers /health, refuses a forged webhook, and stops on SIGTERM', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const env = { ...process.env, ...ENV, SG_HOOK_KEY: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'), NO_COLOR: '1' };
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--json'], { cwd: project, env });
    let out = '';
    const started = new Promise<{ url: string; routes: unknown[] }>((resolve) =>
      child.stdout.on('data', (c) => {
        out += c;
        const first = out.split('\n')[0]!;
        if (out.includes('\n')) resolve(JSON.parse(first));
      }),
    );
    const info = await started;
    expect(info.routes).toEqual([{ provider: 'sg', type: 'sendgrid' }]);
    expect((await request(`${info.url}/health`)).statusCode).toBe(200);
    const forged = await request(`${info.url}/webhooks/sg`, { method: 'POST', body: '[]', headers: { 'x-twilio-email-event-webhook-signature': 'AAAA', 'x-twilio-email-event-webhook-timestamp': String(Math.floor(Date.now() / 1000)) } });
    expect(forged.statusCode).toBe(401);
    await forged.body.text();
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.kind)).toEqual(['listening', 'refused', 'stopped']);
    expect(lines[1]).toMatchObject({ provider: 'sg', status: 401, reason: 'bad_signature' });
  });
});
