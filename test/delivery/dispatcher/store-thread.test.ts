/**
 * The dispatcher with its outbox SQL on a store thread (storeThread: 'thread'). The
 * thread runs the compiled worker (dist/store/outbox-worker.js), so this test runs
 * the built dispatcher, as `journey` does.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { claimDue } from '../../../src/store/outbox.js';
import { config, ENV } from '../helpers/fixtures.js';
import { startServer, type FakeServer } from '../helpers/server.js';
import { insertRows, keyOf, Ledger, projectConfig, rows, storeAt } from './helpers.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
type DispatcherModule = typeof import('../../../src/delivery/dispatcher.js');
const built = async () => (await import(path.join(ROOT, 'dist/delivery/dispatcher.js'))) as DispatcherModule;

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('dispatcher on a store thread', () => {
  it('sends every row once, records every outcome and ends every lease, like the inline dispatcher', async () => {
    const ledger = new Ledger();
    let calls = 0;
    const s = await startServer((req) => {
      calls++;
      // every 7th request is refused for good, every 5th fails once
      const key = keyOf(req)!;
      const n = Number(key.split(':')[1]);
      if (n % 7 === 3) return { status: 400, body: { errors: [{ message: 'Invalid address' }] } };
      if (n % 5 === 1 && !ledger.accepted.has(`fail:${key}`)) {
        ledger.accepted.set(`fail:${key}`, 0);
        return { status: 503, body: 'busy' };
      }
      return { status: 202, headers: { 'x-message-id': `sg-${ledger.accept(key)}` } };
    });
    servers.push(s);
    const db = storeAt();
    insertRows(db, 1_200, { provider: 'sendgrid', template: 'welcome' });
    const now = Date.now();
    // a row of a dispatcher killed earlier, its lease run out: taken over by the thread
    expect(claimDue(db, 'sendgrid', now, now - 1, 2).map((r) => r.id)).toEqual([1, 2]);
    const { dispatch } = await built();
    const report = await dispatch(db, projectConfig([config('sendgrid', { api_key: '${SENDGRID_API_KEY}', from: 'shop@shop.test', url: s.url, concurrency: 8 })]), ENV, {
      storeThread: 'thread',
      claimBatch: 100,
      backoff: { baseMs: 1, maxMs: 5 },
      settleWithinMs: 1_000,
    });
    const all = Array.from({ length: 1_200 }, (_, i) => i);
    const refused = all.filter((i) => i % 7 === 3).length;
    const busyOnce = all.filter((i) => i % 5 === 1 && i % 7 !== 3).length;
    expect(report).toMatchObject({ sent: 1_200 - refused, failed: refused, retried: busyOnce, reclaimed: 2, dead: 0 });
    expect(ledger.duplicates).toEqual([]);
    const stored = rows(db);
    expect(stored.filter((r) => r.status === 'sent').length).toBe(1_200 - refused);
    expect(stored.filter((r) => r.status === 'failed').every((r) => /Invalid address/.test(r.last_error ?? ''))).toBe(true);
    expect(stored.filter((r) => r.status === 'pending')).toEqual([]);
    expect(db.get(`SELECT count(*) AS n FROM outbox_leases`)).toEqual({ n: 0 });
    expect(calls).toBe(1_200 + busyOnce);
    db.close();
  });
});
