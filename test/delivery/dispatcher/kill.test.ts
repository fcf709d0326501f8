/**
 * The kill test: `journey outbox send` in a child process, killed with SIGKILL in
 * the middle of sending, several times, then run to the end. Nothing may be lost,
 * and a message sent again (it was in flight when the process died) must carry the
 * same idempotency key, so that the provider can tell. Runs the built CLI
 * (npm run build first).
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
const ROWS = 3000;

describe('dispatcher killed mid-flight', () => {
  let server: FakeServer;
  afterAll(() => server?.close());

  it('loses nothing across SIGKILLs, and repeats only carry the same key', async () => {
    // An idempotent provider: a repeated key is answered with the first id, and counted.
    const ids = new Map<string, string>();
    const requestsByKey = new Map<string, string[]>();
    let received = 0;
    let onRequest: () => void = () => {};
    server = await startServer(async (req) => {
      const key = keyOf(req)!;
      received++;
      onRequest();
      requestsByKey.set(key, [...(requestsByKey.get(key) ?? []), req.text]);
      await new Promise((r) => setTimeout(r, 2));
      if (!ids.has(key)) ids.set(key, `msg-${ids.size + 1}`);
      return { status: 202, headers: { 'x-message-id': ids.get(key)! } };
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
  welcome: { channel: email, provider_template: d-welcome, subject: "Hello {{first_name}}" }
`,
    );
    const db = storeAt(path.join(project, '.journey'));
    insertRows(db, ROWS, { provider: 'sg', journey: 'kill' });
    db.close();
    const args = [BIN, 'outbox', 'send', '--lease', '1s', '--wait', '10s', '--json'];
    const env = { ...process.env, ...ENV, NO_COLOR: '1' };

    const kills = 4;
    for (let k = 0; k < kills; k++) {
      const child = spawn(process.execPath, args, { cwd: project, env, stdio: 'ignore' });
      const target = received + 150 + Math.floor(Math.random() * 300);
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      await new Promise<void>((resolve) => {
        onRequest = () => {
          if (received >= target) {
            onRequest = () => {};
            child.kill('SIGKILL');
            resolve();
          }
        };
      });
      expect(await exited).toBe('SIGKILL');
    }
    // Not spawnSync: the provider answers from this process's event loop.
    const last = await run(args, project, env);
    expect(last.status, last.stderr).toBe(0);
    const report = JSON.parse(last.stdout);
    expect(report.reclaimed).toBeGreaterThan(0);

    const check = storeAt(path.join(project, '.journey'));
    const all = rows(check);
    check.close();
    // Nothing lost: every row sent, under the id the provider gave its key.
    expect(all.filter((r) => r.status !== 'sent')).toEqual([]);
    expect(ids.size).toBe(ROWS);
    for (const r of all) expect(r.provider_message_id).toBe(ids.get(r.idempotency_key));
    // A repeat is the same request under the same key (only rows in flight at a kill repeat).
    const repeated = [...requestsByKey].filter(([, bodies]) => bodies.length > 1);
    for (const [key, bodies] of repeated) {
      expect(new Set(bodies).size, key).toBe(1);
      expect(all.find((r) => r.idempotency_key === key)!.attempts).toBeGreaterThan(1);
    }
    // Each kill landed while a request was in the provider's hands: its row went again.
    expect(repeated.length).toBeGreaterThanOrEqual(kills);
    expect(repeated.length).toBeLessThanOrEqual(kills * 500);
    expect(received).toBe(ROWS + [...requestsByKey.values()].reduce((n, b) => n + b.length - 1, 0));
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
