/**
 * journey run --once as cron runs it (the built CLI): its exit code and its first
 * line on stderr say whether delivery could run and whether this run's messages
 * went out, and its words keep "queued" (written to the outbox by the tick) apart
 * from "sent" (accepted by the provider, on 127.0.0.1 here).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../delivery/helpers/fixtures.js';
import { journeyAt } from '../helpers/spawn.js';
import { startServer, type FakeServer } from '../delivery/helpers/server.js';
import { BASE_CONFIG, ROOT, Shop, journey } from '../engine/helpers/shop.js';

let server: FakeServer;
let shop: Shop;

const J = journey('welcome', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: hello
    send: { channel: email, template: hello }
`);

/** Async: the provider answers from this process's event loop. */
function run(now: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base = { ...process.env, NO_COLOR: '1' };
  delete base.SENDGRID_API_KEY;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/journey.js'), '-C', shop.dir, '--now', now, 'run', '--once', ...args], { env: { ...base, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const statuses = () => Object.fromEntries(shop.db.all<{ status: string; n: number }>('SELECT status, count(*) AS n FROM outbox GROUP BY status').map((r) => [r.status, r.n]));

beforeAll(async () => {
  // the provider refuses one recipient for good (a 4xx: the row fails), accepts the rest
  server = await startServer((req) => (req.text.includes('bad@shop.test') ? { status: 400, body: { errors: [{ message: 'Invalid recipient' }] } } : { status: 202, headers: { 'x-message-id': 'm' } }));
  shop = await Shop.create({
    configText: BASE_CONFIG().replace('from: shop@shop.test }', `from: shop@shop.test, url: "${server.url}" }`),
    journeys: { welcome: J },
    customers: ['ann,ann@shop.test,,Ann,2025-01-01T00:00:00Z,,yes,', 'bob,bob@shop.test,,Bob,2025-01-01T00:00:00Z,,yes,', 'bad,bad@shop.test,,Bad,2025-01-01T00:00:00Z,,yes,'],
  });
});
afterAll(async () => {
  shop.close();
  await server.close();
});

describe('journey run --once: exit codes and words an operator can trust', () => {
  it('delivery that cannot start (a secret unset) exits 1 and says so first; the tick line says queued, nothing is called sent', async () => {
    const r = await run('2026-03-02T12:00:00Z', {});
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(
      "error: delivery could not run for sendgrid: environment variable SENDGRID_API_KEY is not set (provider 'sendgrid', setting api_key); 3 messages stay pending in the outbox",
    );
    expect(r.stdout).toContain('welcome v1  3 entered, 3 queued, 0 skipped, 0 deferred');
    expect(r.stdout).toContain('delivery: 0 sent');
    expect(server.requests).toHaveLength(0);
    expect(statuses()).toEqual({ pending: 3 });
  });

  it('a run whose messages fail exits 3 and says how many; --json names queued (the tick) and sent (the provider)', async () => {
    const r = await run('2026-03-02T12:05:00Z', ENV, '--json');
    expect(r.code).toBe(3);
    expect(r.stderr.split('\n')[0]).toBe("error: 1 message failed in this run's delivery (journey outbox --status failed,dead)");
    const out = JSON.parse(r.stdout);
    expect(out.tick.journeys).toEqual([expect.objectContaining({ journey: 'welcome', queued: 0 })]);
    expect(out.delivery).toMatchObject({ sent: 2, failed: 1, dead: 0, problems: [] });
    expect(out.outcome).toEqual({ exitCode: 3, problem: "1 message failed in this run's delivery (journey outbox --status failed,dead)", pending: 0 });
    expect(statuses()).toEqual({ sent: 2, failed: 1 });
  });

  it('a run that delivers what it has exits 0 with nothing on stderr, even with an older failure in the outbox', async () => {
    const r = await run('2026-03-02T12:10:00Z', ENV);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('delivery: 0 sent, 0 to retry, 0 failed, 0 dead');
  });
});

describe('journey run --once against a provider that stops answering', () => {
  it('exits 3 and says first that the provider stopped answering; the delivery line counts what waits, adding up to what was due', async () => {
    const down = await startServer(() => ({ status: 503, body: { errors: [{ message: 'Service Unavailable' }] } }));
    const people = Array.from({ length: 40 }, (_, i) => `p${i},p${i}@shop.test,,P${i},2025-01-01T00:00:00Z,,yes,`);
    const other = await Shop.create({ configText: BASE_CONFIG().replace('from: shop@shop.test }', `from: shop@shop.test, url: "${down.url}" }`), journeys: { welcome: J }, customers: people });
    try {
      const r = await journeyAt(other.dir, '2026-03-02T12:00:00Z', ['run', '--once'], { env: ENV });
      expect(r.status, r.stderr).toBe(3);
      // how many were tried before the circuit opened depends on how many requests were in flight (and on a
      // loaded machine a connection may be reset after the request went out: that message is in doubt)
      const line = /delivery: 0 sent, (\d+) to retry, 0 failed, 0 dead(?:, (\d+) deferred)?(?:, (\d+) in doubt)?\n/.exec(r.stdout);
      expect(line, r.stdout).not.toBeNull();
      const [retried, deferred, inDoubt] = line!.slice(1).map((x) => Number(x ?? 0));
      expect(retried! + deferred! + inDoubt!).toBe(people.length);
      expect(r.stderr.split('\n')[0]).toMatch(new RegExp(`^error: sendgrid stopped answering \\(circuit open\\): ${people.length} messages wait for it(, \\d+ of them in doubt .*)?$`));
      // and the message it stopped with follows, as a notice
      expect(r.stderr).toContain('circuit open sendgrid until 2026-03-02T12:00:30.000Z: HTTP 503: Service Unavailable');

      // outbox send --wait a minute later, every message due again (past the retries and the first circuit's cool-down),
      // the circuit opening again at each round: each message is counted once, and the verdict is the store's
      const again = await journeyAt(other.dir, '2026-03-02T12:01:00Z', ['outbox', 'send', '--wait', '4s', '--circuit-cool-down', '1s', '--retry-base', '1s', '--json'], { env: ENV });
      expect(again.status, again.stderr).toBe(3);
      const report = JSON.parse(again.stdout);
      expect(report.providers.sendgrid.deferred).toBeLessThanOrEqual(people.length);
      expect(report.providers.sendgrid.pending).toBe(people.length);
      expect(again.stderr.split('\n')[0]).toMatch(new RegExp(`^error: sendgrid stopped answering \\(circuit open\\): ${people.length} messages wait for it(, \\d+ of them in doubt .*)?$`));
    } finally {
      other.close();
      await down.close();
    }
  });
});

describe('journey run --once --json when the run cannot start', () => {
  it('still prints its outcome on stdout (tick and delivery null), the error on stderr, exit 1', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-run-json-'));
    writeFileSync(path.join(dir, 'journey.config.yaml'), 'version: 1\ncurency: EUR\n');
    try {
      const r = await journeyAt(dir, '2026-03-02T12:00:00Z', ['run', '--once', '--json']);
      expect(r.status).toBe(1);
      expect(JSON.parse(r.stdout)).toEqual({ tick: null, delivery: null, outcome: { exitCode: 1, problem: 'the project has 1 error(s)', pending: null } });
      expect(r.stderr.split('\n')[0]).toBe('error: the project has 1 error(s)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
