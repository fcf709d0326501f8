/**
 * Several `journey outbox send` processes on one store at once (a cron overlap, a
 * second runner): their claims never overlap, so no key reaches the provider twice,
 * and between them they send every row. Runs the built CLI (npm run build first).
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../store/helpers.js';
import { ENV } from '../helpers/fixtures.js';
import { startServer, type FakeServer } from '../helpers/server.js';
import { insertRows, keyOf, rows, storeAt } from './helpers.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/journey.js');
const ROWS = 4000;
const PROCESSES = 3;

describe('dispatchers side by side', () => {
  let server: FakeServer;
  afterAll(() => server?.close());

  it('send every row exactly once between them', async () => {
    const requests = new Map<string, number>();
    server = await startServer(async (req) => {
      const key = keyOf(req)!;
      requests.set(key, (requests.get(key) ?? 0) + 1);
      // slow enough that the processes' claims interleave
      await new Promise((r) => setTimeout(r, 1));
      return { status: 202, headers: { 'x-message-id': `id-${key}` } };
    });
    const project = tempDir();
    writeFileSync(
      path.join(project, 'journey.config.yaml'),
      `version: 1
channels:
  email: { provider: sg }
providers:
  sg: { type: sendgrid, api_key: "\${SENDGRID_API_KEY}", from: shop@shop.test, url: "${server.url}", concurrency: 8 }
templates:
  welcome: { channel: email, provider_template: d-welcome }
`,
    );
    const db = storeAt(path.join(project, '.journey'));
    insertRows(db, ROWS, { provider: 'sg', journey: 'side' });
    db.close();

    const env = { ...process.env, ...ENV, NO_COLOR: '1' };
    const results = await Promise.all(Array.from({ length: PROCESSES }, () => run([BIN, 'outbox', 'send', '--json'], project, env)));

    for (const r of results) expect(r.status, r.stderr).toBe(0);
    const reports = results.map((r) => JSON.parse(r.stdout) as { sent: number; failed: number; dead: number });
    // each process did a share of the work, and the shares add up
    expect(reports.map((r) => r.sent).reduce((a, b) => a + b, 0)).toBe(ROWS);
    expect(reports.filter((r) => r.sent > 0).length).toBeGreaterThan(1);
    expect([...requests.values()].filter((n) => n > 1)).toEqual([]);
    expect(requests.size).toBe(ROWS);

    const check = storeAt(path.join(project, '.journey'));
    const all = rows(check);
    expect(all.filter((r) => r.status !== 'sent' || r.attempts !== 1)).toEqual([]);
    for (const r of all) expect(r.provider_message_id).toBe(`id-${r.idempotency_key}`);
    expect(check.get(`SELECT count(*) AS n FROM outbox_leases`)).toEqual({ n: 0 });
    check.close();
  });
});

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
