/**
 * The fault test: a provider that, on a random 30% of requests, answers 429 with
 * Retry-After, answers 500, resets the connection, or takes the message and never
 * answers (a timeout after accepting). SendGrid is asked about a message in doubt
 * (its Email Activity query); the webhook receiver deduplicates by Idempotency-Key.
 * After the run every message has been accepted exactly once by the provider's
 * ledger (a second acceptance of a key would be a customer getting it twice), the
 * refused ones are failed with the provider's text, and nothing is left behind.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { dispatch, type DispatchNotice } from '../../../src/delivery/dispatcher.js';
import { config, ENV } from '../helpers/fixtures.js';
import { startServer, type FakeServer, type Reply } from '../helpers/server.js';
import { insertRows, keyOf, Ledger, projectConfig, rows, storeAt } from './helpers.js';

/** A seeded generator, so that a failing run can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('dispatcher under faults', () => {
  let server: FakeServer;
  afterAll(() => server?.close());

  it('delivers every message exactly once through 429s, 500s, resets and timeouts, and records refusals', async () => {
    const seed = Number(process.env.FAULT_SEED ?? 20260110);
    const random = mulberry32(seed);
    const ledger = new Ledger();
    const faults = { '429': 0, '500': 0, reset: 0, hang: 0, ok: 0, refused: 0 };
    const refused = new Set(['j:7:sg', 'j:77:sg', 'j:1003:hook']);
    let replayed = 0;
    server = await startServer((req): Reply => {
      if (req.method === 'GET') {
        const key = /journey_key'\]="(.*)"/.exec(new URL(req.path, 'http://x').searchParams.get('query') ?? '')?.[1] ?? '';
        const id = ledger.accepted.get(key);
        return { status: 200, body: { messages: id === undefined ? [] : [{ msg_id: `sg-${id}.filter01`, status: 'processed' }] } };
      }
      const key = keyOf(req);
      if (!key) return { status: 400, body: { error: 'no key' } };
      const r = random();
      if (r < 0.075) {
        faults['429']++;
        return { status: 429, headers: { 'retry-after': '1' }, body: { errors: [{ message: 'too many requests' }] } };
      }
      if (r < 0.15) {
        faults['500']++;
        return { status: 500, body: { errors: [{ message: 'internal error' }] } };
      }
      if (r < 0.225) {
        faults.reset++;
        return { action: 'reset' };
      }
      if (r < 0.3) {
        faults.hang++;
        if (!refused.has(key) && !ledger.accepted.has(key)) ledger.accept(key);
        return { action: 'hang' };
      }
      if (refused.has(key)) {
        faults.refused++;
        return { status: 400, body: { errors: [{ message: 'The to address is invalid', field: 'personalizations.0.to' }], error: 'unknown recipient' } };
      }
      faults.ok++;
      if (req.path === '/push' && ledger.accepted.has(key)) {
        // the webhook receiver recognises the key and answers as it did the first time
        replayed++;
        return { status: 200, body: { id: `hook-${ledger.accepted.get(key)}` } };
      }
      const id = ledger.accept(key);
      return req.path.includes('/mail/send') ? { status: 202, headers: { 'x-message-id': `sg-${id}` } } : { status: 200, body: { id: `hook-${id}` } };
    });

    const db = storeAt();
    insertRows(db, 400, { provider: 'sg' });
    insertRows(db, 100, { provider: 'hook', channel: 'push', template: 'sms', address: (i) => `device-${i}` }, 1000);
    const cfg = projectConfig([
      config('sendgrid', { api_key: '${SENDGRID_API_KEY}', from: 'shop@shop.test', url: server.url, concurrency: 16, reconcile_after: 0 }, 'sg'),
      config('webhook', { url: `${server.url}/push`, signing_secret: '${WEBHOOK_SIGNING_SECRET}', concurrency: 4 }, 'hook'),
    ]);
    const notices: DispatchNotice[] = [];
    const report = await dispatch(db, cfg, ENV, {
      providerOptions: { timeoutMs: 250 },
      backoff: { baseMs: 20, maxMs: 200 },
      breaker: { threshold: 6, coolDownMs: 100 },
      maxAttempts: 30,
      settleWithinMs: 5_000,
      random,
      onNotice: (n) => notices.push(n),
    });

    const all = rows(db);
    const failed = all.filter((r) => r.status === 'failed');
    const sent = all.filter((r) => r.status === 'sent');
    // Every message accounted for: sent or refused, nothing pending, in flight or dead.
    expect(failed.map((r) => r.idempotency_key).sort()).toEqual([...refused].sort());
    for (const r of failed) expect(r.last_error).toMatch(/HTTP 400: .*(The to address is invalid|unknown recipient)/);
    expect(sent).toHaveLength(497);
    // Exactly once: each sent key accepted once, no key accepted twice.
    expect(ledger.duplicates).toEqual([]);
    expect(ledger.accepted.size).toBe(497);
    for (const r of sent) {
      const id = ledger.accepted.get(r.idempotency_key);
      expect(id, r.idempotency_key).toBeDefined();
      expect(r.provider_message_id).toBe(r.idempotency_key.endsWith(':sg') ? `sg-${id}` : `hook-${id}`);
    }
    expect(report).toMatchObject({ sent: 497, failed: 3, dead: 0 });
    // The faults did happen, and were retried.
    expect(faults['429'] + faults['500'] + faults.reset + faults.hang).toBeGreaterThan(100);
    expect(Math.min(faults['429'], faults['500'], faults.reset, faults.hang)).toBeGreaterThan(10);
    // SendGrid's messages in doubt were asked about, never posted again blindly
    expect(report.reconciled).toBeGreaterThan(0);
    expect(report.inDoubt).toBe(0);
    expect(report.retried + report.providers.sg!.inDoubt).toBeGreaterThanOrEqual(faults['429'] + faults['500'] - 5);
    // Every request carried a key of a row, and a key's requests were the same message.
    const bodies = new Map<string, string>();
    for (const req of server.requests) {
      if (req.method === 'GET') continue;
      const key = keyOf(req)!;
      expect(all.some((r) => r.idempotency_key === key)).toBe(true);
      const body = req.text.replace(/"t=\d+,v1=[0-9a-f]+"/, '');
      if (bodies.has(key)) expect(body).toBe(bodies.get(key));
      else bodies.set(key, body);
    }
    db.close();
  });
});
