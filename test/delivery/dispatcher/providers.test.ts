/**
 * Every provider path through the dispatcher, against real servers on 127.0.0.1:
 * the row becomes the provider's request (template, data, key), the answer becomes
 * the row's state (sent with the provider's id, failed with its error text, retried,
 * dead), and the provider's limits hold (concurrency, rate).
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../../src/delivery/dispatcher.js';
import type { ProviderConfig } from '../../../src/project/model.js';
import { claimDue, commitGroup } from '../../../src/store/outbox.js';
import { countByStatus } from '../../../src/store/outbox-operator.js';
import { tempDir } from '../../store/helpers.js';
import { ACCOUNT_SID, config, ENV, SECRETS } from '../helpers/fixtures.js';
import { requestValidator } from '../helpers/openapi.js';
import { startServer, type FakeServer, type Recorded, type Reply } from '../helpers/server.js';
import { insertRows, keyOf, Ledger, projectConfig, rows, statusCounts, storeAt } from './helpers.js';

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function server(handler: (req: Recorded) => Reply | Promise<Reply>): Promise<FakeServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

const validateSendgrid = requestValidator('sendgrid_mail_v3.json', '/v3/mail/send', 'post', 'application/json');

interface Case {
  type: ProviderConfig['type'];
  settings: (url: string) => Record<string, unknown>;
  template: string;
  channel: string;
  address: (i: number) => string;
  /** The provider's success answer for the ledger's id. */
  ok: (id: number, req: Recorded) => Reply;
  storedId: (id: number) => string;
  refusal: Reply;
  refusalText: RegExp;
  check?: (req: Recorded) => void;
}

const CASES: Case[] = [
  {
    type: 'sendgrid',
    settings: (url) => ({ api_key: '${SENDGRID_API_KEY}', from: 'shop@shop.test', url }),
    template: 'welcome',
    channel: 'email',
    address: (i) => `user${i}@example.test`,
    ok: (id) => ({ status: 202, headers: { 'x-message-id': `sg-${id}` } }),
    storedId: (id) => `sg-${id}`,
    refusal: { status: 400, body: { errors: [{ message: 'Does not contain a valid address.', field: 'personalizations.0.to.0.email' }] } },
    refusalText: /personalizations\.0\.to\.0\.email: Does not contain a valid address/,
    check: (req) => {
      expect(validateSendgrid(req.json())).toEqual([]);
      expect(req.json()).toMatchObject({ template_id: 'd-welcome', personalizations: [{ custom_args: { journey: 'j', step: 'send' } }] });
    },
  },
  {
    type: 'postmark',
    settings: (url) => ({ server_token: '${POSTMARK_SERVER_TOKEN}', from: 'shop@shop.test', url }),
    template: 'plain',
    channel: 'email',
    address: (i) => `user${i}@example.test`,
    ok: (id, req) => ({ status: 200, body: { To: req.json().To, SubmittedAt: new Date().toISOString(), MessageID: `pm-${id}`, ErrorCode: 0, Message: 'OK' } }),
    storedId: (id) => `pm-${id}`,
    refusal: { status: 422, body: { ErrorCode: 406, Message: 'You tried to send to a recipient that has been marked as inactive.' } },
    refusalText: /Postmark 406: You tried to send to a recipient that has been marked as inactive/,
    check: (req) => expect(req.json()).toMatchObject({ Subject: expect.stringMatching(/^Hi N\d+$/), TextBody: expect.stringMatching(/^Your code C\d+$/) }),
  },
  {
    type: 'mailgun',
    settings: (url) => ({ api_key: '${MAILGUN_API_KEY}', domain: 'mg.shop.test', from: 'shop@shop.test', url }),
    template: 'welcome',
    channel: 'email',
    address: (i) => `user${i}@example.test`,
    ok: (id) => ({ status: 200, body: { id: `<mg-${id}@mg.shop.test>`, message: 'Queued. Thank you.' } }),
    storedId: (id) => `mg-${id}@mg.shop.test`,
    refusal: { status: 400, body: { message: "'to' parameter is not a valid address. please check documentation" } },
    refusalText: /'to' parameter is not a valid address/,
    check: (req) => expect(req.form()).toMatchObject({ template: 'd-welcome', 'v:journey': 'j' }),
  },
  {
    type: 'twilio',
    settings: (url) => ({ account_sid: ACCOUNT_SID, auth_token: '${TWILIO_AUTH_TOKEN}', from: '+420700000000', url }),
    template: 'sms',
    channel: 'sms',
    address: (i) => `+42077700${String(i).padStart(4, '0')}`,
    ok: (id) => ({ status: 201, body: { sid: `SM${String(id).padStart(32, '0')}`, status: 'queued' } }),
    storedId: (id) => `SM${String(id).padStart(32, '0')}`,
    refusal: { status: 400, body: { code: 21211, message: "The 'To' number +420 is not a valid phone number.", status: 400 } },
    refusalText: /Twilio 21211: The 'To' number/,
    check: (req) => expect(req.form()).toMatchObject({ Body: expect.stringMatching(/^N\d+, code C\d+$/), StatusCallback: expect.stringMatching(/^https:\/\/hooks\.shop\.test\/webhooks\/twilio\?key=/) }),
  },
  {
    type: 'webhook',
    settings: (url) => ({ url: `${url}/gateway/send`, signing_secret: '${WEBHOOK_SIGNING_SECRET}' }),
    template: 'sms',
    channel: 'whatsapp',
    address: (i) => `whatsapp:+42077700${String(i).padStart(4, '0')}`,
    ok: (id) => ({ status: 201, body: { id: `wamid.${id}` } }),
    storedId: (id) => `wamid.${id}`,
    refusal: { status: 422, body: { error: 'recipient has no WhatsApp account' } },
    refusalText: /recipient has no WhatsApp account/,
    check: (req) => expect(req.json()).toMatchObject({ channel: 'whatsapp', template: { body: '{{first_name}}, code {{coupon}}' }, data: { first_name: expect.any(String) } }),
  },
];

describe.each(CASES)('dispatcher → $type', (c) => {
  it('sends every due row once, stores the provider id, and fails a refusal with the provider text', async () => {
    const ledger = new Ledger();
    const refuse = new Set(['j:3:' + c.type]);
    const s = await server((req) => {
      const key = keyOf(req);
      if (!key) return { status: 400, body: { error: 'no key' } };
      c.check?.(req);
      if (refuse.has(key)) return c.refusal;
      return c.ok(ledger.accept(key), req);
    });
    const db = storeAt();
    insertRows(db, 20, { provider: c.type, template: c.template, channel: c.channel, address: c.address });
    const report = await dispatch(db, projectConfig([config(c.type, c.settings(s.url))]), ENV, { webhookBaseUrl: 'https://hooks.shop.test' });
    expect(report).toMatchObject({ sent: 19, failed: 1, retried: 0, dead: 0 });
    expect(ledger.accepted.size).toBe(19);
    expect(ledger.duplicates).toEqual([]);
    const all = rows(db);
    for (const r of all) {
      if (r.idempotency_key === `j:3:${c.type}`) {
        expect(r).toMatchObject({ status: 'failed', attempts: 1, provider_message_id: null });
        expect(r.last_error).toMatch(c.refusalText);
      } else {
        expect(r).toMatchObject({ status: 'sent', attempts: 1, provider_message_id: c.storedId(ledger.accepted.get(r.idempotency_key)!) });
      }
    }
    // Nothing secret reaches the store.
    const dump = JSON.stringify(db.all('SELECT * FROM outbox'));
    for (const secret of Object.values(SECRETS)) expect(dump).not.toContain(secret);
    db.close();
  });
});

describe('dispatcher: provider ids indexed for delivery events', () => {
  // Each indexed id is a random write to the index; only messages whose events may
  // come back without our key need it (Twilio callbacks sent to a messaging
  // service's own URL name the SID only).
  it.each([
    ['sendgrid', 'https://hooks.shop.test', 0],
    ['twilio', 'https://hooks.shop.test', 0],
    ['twilio', undefined, 1],
  ] as const)('%s with webhook base URL %s: events_by_id %i', async (type, webhookBaseUrl, expected) => {
    const c = CASES.find((x) => x.type === type)!;
    const ledger = new Ledger();
    const s = await server((req) => c.ok(ledger.accept(keyOf(req)!), req));
    const db = storeAt();
    insertRows(db, 3, { provider: c.type, template: c.template, channel: c.channel, address: c.address });
    await dispatch(db, projectConfig([config(c.type, c.settings(s.url))]), ENV, webhookBaseUrl ? { webhookBaseUrl } : {});
    expect(db.all(`SELECT status, events_by_id FROM outbox_delivery`)).toEqual(Array.from({ length: 3 }, () => ({ status: 'sent', events_by_id: expected })));
    db.close();
  });
});

describe('dispatcher: retries, dead rows, limits', () => {
  const sendgrid = (url: string, extra: Record<string, unknown> = {}) => config('sendgrid', { api_key: '${SENDGRID_API_KEY}', from: 'shop@shop.test', url, ...extra });

  it('retries 500s and a Retry-After 429 with backoff, and a row is dead after max attempts', async () => {
    const tries = new Map<string, number>();
    const s = await server((req) => {
      const key = keyOf(req)!;
      const n = (tries.get(key) ?? 0) + 1;
      tries.set(key, n);
      if (key === 'j:0:sendgrid') return { status: 503, body: 'down for maintenance' };
      if (key === 'j:1:sendgrid' && n === 1) return { status: 429, headers: { 'retry-after': '1' }, body: { errors: [{ message: 'too many requests' }] } };
      if (n === 1) return { status: 500, body: { errors: [{ message: 'internal' }] } };
      return { status: 202, headers: { 'x-message-id': `ok-${key}` } };
    });
    const db = storeAt();
    insertRows(db, 3, { provider: 'sendgrid' });
    const started = Date.now();
    const report = await dispatch(db, projectConfig([sendgrid(s.url)]), ENV, { maxAttempts: 3, backoff: { baseMs: 50, maxMs: 200 }, settleWithinMs: 5_000, breaker: { threshold: 100 } });
    expect(report).toMatchObject({ sent: 2, dead: 1 });
    const byKey = Object.fromEntries(rows(db).map((r) => [r.idempotency_key, r]));
    expect(byKey['j:0:sendgrid']).toMatchObject({ status: 'dead', attempts: 3 });
    expect(byKey['j:0:sendgrid']!.last_error).toMatch(/HTTP 503: down for maintenance \(gave up after 3 attempts\)/);
    expect(byKey['j:1:sendgrid']).toMatchObject({ status: 'sent', attempts: 2 });
    expect(byKey['j:2:sendgrid']).toMatchObject({ status: 'sent', attempts: 2 });
    // The 429's Retry-After (1 s) was honoured, not the 50 ms backoff.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    db.close();
  });

  it('never sends a timed-out request again blindly: asks the provider, records it as accepted if it has it, resends it if not', async () => {
    // The provider takes j:0 and never answers; j:1 it never gets (the answer and the request are lost alike).
    const accepted = new Map<string, string>();
    let posts = 0;
    const s = await server((req) => {
      if (req.method === 'GET') {
        const key = /journey_key'\]="(.*)"/.exec(new URL(req.path, 'http://x').searchParams.get('query') ?? '')?.[1] ?? '';
        return { status: 200, body: { messages: accepted.has(key) ? [{ msg_id: `${accepted.get(key)}.filter01`, status: 'delivered' }] : [] } };
      }
      posts++;
      const key = keyOf(req)!;
      if (posts <= 2) {
        if (key === 'j:0:sendgrid') accepted.set(key, 'first');
        return { action: 'hang' };
      }
      accepted.set(key, `again-${posts}`);
      return { status: 202, headers: { 'x-message-id': `again-${posts}` } };
    });
    const db = storeAt();
    insertRows(db, 2, { provider: 'sendgrid' });
    const cfg = projectConfig([sendgrid(s.url, { concurrency: 2, reconcile_after: 0 })]);
    const report = await dispatch(db, cfg, ENV, { providerOptions: { timeoutMs: 200 }, backoff: { baseMs: 10, maxMs: 10 }, settleWithinMs: 2_000 });
    expect(report).toMatchObject({ sent: 2, reconciled: 1, resent: 1, inDoubt: 0 });
    expect(rows(db).map((r) => [r.idempotency_key, r.status, r.provider_message_id])).toEqual([
      ['j:0:sendgrid', 'sent', 'first'],
      ['j:1:sendgrid', 'sent', 'again-3'],
    ]);
    // three posts: the two that timed out and the one resend; j:0 went once
    expect(s.requests.filter((r) => r.method === 'POST').map(keyOf)).toEqual(expect.arrayContaining(['j:0:sendgrid', 'j:1:sendgrid', 'j:1:sendgrid']));
    expect(s.requests.filter((r) => r.method === 'POST')).toHaveLength(3);
    expect(s.requests.filter((r) => r.method === 'GET').map((r) => decodeURIComponent(r.path))).toEqual(
      expect.arrayContaining([`/v3/messages?limit=10&query=unique_args['journey_key']="j:0:sendgrid"`, `/v3/messages?limit=10&query=unique_args['journey_key']="j:1:sendgrid"`]),
    );
    db.close();
  });

  it('holds a message in doubt where the provider cannot be asked, for journey outbox resolve', async () => {
    const s = await server(() => ({ action: 'hang' }));
    const db = storeAt();
    insertRows(db, 1, { provider: 'sendgrid' });
    const report = await dispatch(db, projectConfig([sendgrid(s.url, { in_doubt: 'hold' })]), ENV, { providerOptions: { timeoutMs: 200 }, settleWithinMs: 2_000 });
    expect(report).toMatchObject({ sent: 0, inDoubt: 1, held: 1 });
    expect(countByStatus(db)).toMatchObject({ in_doubt: 1 });
    expect(s.requests).toHaveLength(1);
    // a second run sends nothing
    await dispatch(db, projectConfig([sendgrid(s.url, { in_doubt: 'hold' })]), ENV, { providerOptions: { timeoutMs: 200 } });
    expect(s.requests).toHaveLength(1);
    db.close();
  });

  it('keeps to the provider concurrency and rate limit', async () => {
    let inFlight = 0;
    let peak = 0;
    const s = await server(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      return { status: 202, headers: { 'x-message-id': 'x' } };
    });
    const db = storeAt();
    insertRows(db, 60, { provider: 'sendgrid' });
    await dispatch(db, projectConfig([sendgrid(s.url, { concurrency: 4 })]), ENV);
    expect(peak).toBe(4);
    expect(new Set(s.requests.map((r) => r.remotePort)).size).toBeLessThanOrEqual(4);

    const paced = await server(() => ({ status: 202, headers: { 'x-message-id': 'x' } }));
    insertRows(db, 30, { provider: 'slow' }, 100);
    const started = Date.now();
    await dispatch(db, projectConfig([config('sendgrid', { api_key: '${SENDGRID_API_KEY}', from: 'a@shop.test', url: paced.url, rate_limit: 20, concurrency: 8 }, 'slow')]), ENV);
    const times = paced.requests.length;
    expect(times).toBe(30);
    // 30 requests at 20/s with a burst of 10: at least (30 - 10) / 20 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    db.close();
  });

  it("pauses when the provider's rate-limit headers say the allowance is used up, instead of running into 429s", async () => {
    // 5 requests per 600 ms window, counted from the window's first request, as SendGrid and Klaviyo count
    const ALLOWANCE = 5;
    const WINDOW_MS = 600;
    let windowStart = 0;
    let used = 0;
    let refused = 0;
    const s = await server(() => {
      const now = Date.now();
      if (now - windowStart >= WINDOW_MS) {
        windowStart = now;
        used = 0;
      }
      const resetIn = ((windowStart + WINDOW_MS - now) / 1000).toFixed(3);
      if (used >= ALLOWANCE) {
        refused++;
        return { status: 429, headers: { 'ratelimit-remaining': '0', 'ratelimit-reset': resetIn }, body: { errors: [{ message: 'too many requests' }] } };
      }
      used++;
      return { status: 202, headers: { 'x-message-id': 'x', 'ratelimit-limit': String(ALLOWANCE), 'ratelimit-remaining': String(ALLOWANCE - used), 'ratelimit-reset': resetIn } };
    });
    const db = storeAt();
    insertRows(db, 15, { provider: 'sendgrid' });
    const notices: string[] = [];
    const started = Date.now();
    const report = await dispatch(db, projectConfig([sendgrid(s.url, { concurrency: 1 })]), ENV, { onNotice: (n) => notices.push(n.kind) });
    expect(report).toMatchObject({ sent: 15, retried: 0 });
    expect(refused).toBe(0);
    // three windows: the 6th and the 11th request each waited for a reset
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * WINDOW_MS - 50);
    // every 5th answer said the allowance was used up
    expect(notices.filter((k) => k === 'rate_limited')).toHaveLength(3);
    db.close();
  });

  it('opens the circuit when the provider is down: rows go back without an attempt counted, and a probe closes it', async () => {
    let down = true;
    const s = await server(() => (down ? { action: 'reset' } : { status: 202, headers: { 'x-message-id': 'up' } }));
    const db = storeAt();
    // (the webhook provider: a reset may come after the request arrived, and it resends under the same key)
    insertRows(db, 50, { provider: 'hook', channel: 'push', template: 'sms', address: (i) => `device-${i}` });
    const hook = config('webhook', { url: `${s.url}/push`, concurrency: 1 }, 'hook');
    const notices: string[] = [];
    const opts = { breaker: { threshold: 3, coolDownMs: 300 }, backoff: { baseMs: 1, maxMs: 1 }, onNotice: (n: { kind: string }) => notices.push(n.kind) };
    const first = await dispatch(db, projectConfig([hook]), ENV, opts);
    expect(first).toMatchObject({ sent: 0, retried: 3, deferred: 47 });
    expect(notices).toContain('circuit_open');
    const attempts = rows(db).map((r) => r.attempts);
    expect(attempts.filter((a) => a === 1)).toHaveLength(3);
    expect(attempts.filter((a) => a === 0)).toHaveLength(47);
    expect(s.requests).toHaveLength(3);
    down = false;
    const second = await dispatch(db, projectConfig([hook]), ENV, { ...opts, settleWithinMs: 1_000 });
    expect(second.sent).toBe(50);
    expect(statusCounts(db)).toEqual({ sent: 50 });
    db.close();
  });

  it('a probe that is a batch refused as a whole closes the circuit and sends its messages one by one (it waited for itself for ever)', async () => {
    let n = 0;
    const s = await server((req) => {
      if (++n === 1) return { status: 500, body: { errors: [{ message: 'down' }] } };
      const ps = req.json().personalizations as { to: { email: string }[] }[];
      if (ps.some((p) => p.to[0]!.email === 'user3@example.test')) return { status: 400, body: { errors: [{ message: 'Does not contain a valid address.', field: 'personalizations.0.to.0.email' }] } };
      return { status: 202, headers: { 'x-message-id': `ok-${n}` } };
    });
    const db = storeAt();
    insertRows(db, 5, { provider: 'sendgrid' });
    const cfg = projectConfig([config('sendgrid', { api_key: '${SENDGRID_API_KEY}', from: 'a@shop.test', url: s.url, batch_size: 5, concurrency: 1 })]);
    const notices: string[] = [];
    // the first answer (500) opens the circuit; after the cool-down the probe is the batch of five again
    const report = await dispatch(db, cfg, ENV, { breaker: { threshold: 1, coolDownMs: 100 }, backoff: { baseMs: 1, maxMs: 1 }, settleWithinMs: 2_000, onNotice: (x: { kind: string }) => notices.push(x.kind) });
    expect(notices).toEqual(expect.arrayContaining(['circuit_open', 'circuit_closed']));
    expect(report).toMatchObject({ sent: 4, failed: 1 });
    expect(s.requests.map((r) => r.json().personalizations.length)).toEqual([5, 5, 1, 1, 1, 1, 1]);
    db.close();
  }, 15_000);

  it('fails rows it cannot build, of unknown providers, and leaves rows of a provider without its secret alone', async () => {
    const s = await server(() => ({ status: 202, headers: { 'x-message-id': 'x' } }));
    const db = storeAt();
    insertRows(db, 1, { provider: 'sendgrid', template: 'no-such-template' });
    insertRows(db, 1, { provider: 'sendgrid', payload: () => [1, 2] }, 1);
    insertRows(db, 1, { provider: 'gone' }, 2);
    insertRows(db, 2, { provider: 'nokey' }, 3);
    const cfg = projectConfig([sendgrid(s.url), config('sendgrid', { api_key: '${MISSING_KEY}', from: 'a@shop.test', url: s.url }, 'nokey')]);
    const report = await dispatch(db, cfg, ENV);
    expect(report.failed).toBe(3);
    expect(report.problems).toEqual([{ provider: 'nokey', error: expect.stringContaining('MISSING_KEY is not set') }]);
    expect(rows(db).map((r) => [r.status, r.last_error])).toEqual([
      ['failed', "template 'no-such-template' is not in journey.config.yaml"],
      ['failed', 'the payload is not a JSON object'],
      ['failed', "provider 'gone' is not in journey.config.yaml"],
      ['pending', null],
      ['pending', null],
    ]);
    expect(s.requests).toHaveLength(0);
    db.close();
  });

  it('takes over rows a killed dispatcher left once their lease ran out: the unattempted go as they were, the attempted are asked about first', async () => {
    const s = await server((req) =>
      req.method === 'GET'
        ? { status: 200, body: { messages: decodeURIComponent(req.path).includes('"j:2:sendgrid"') ? [{ msg_id: 'took-it.filter01' }] : [] } }
        : { status: 202, headers: { 'x-message-id': 'again' } },
    );
    const db = storeAt();
    insertRows(db, 3, { provider: 'sendgrid' });
    const now = Date.now();
    // dispatchers that claimed rows and were killed: one lease has run out, one has not;
    // the third had written the attempt of row 3 (its request was on the way) when it died
    expect(claimDue(db, 'sendgrid', now, now - 1, 1).map((r) => r.id)).toEqual([1]);
    expect(claimDue(db, 'sendgrid', now, now + 60_000, 1).map((r) => r.id)).toEqual([2]);
    const third = claimDue(db, 'sendgrid', now - 10_000, now - 1, 1);
    commitGroup(db, [{ lease: third[0]!.lease, at: now - 5_000, ids: [3] }], [], []);
    const report = await dispatch(db, projectConfig([sendgrid(s.url, { reconcile_after: 0 })]), ENV);
    expect(report).toMatchObject({ reclaimed: 2, sent: 2, reconciled: 1, resent: 0 });
    expect(rows(db).map((r) => [r.status, r.attempts, r.provider_message_id])).toEqual([
      ['sent', 1, 'again'],
      ['pending', 0, null],
      ['sent', 2, 'took-it'],
    ]);
    expect(countByStatus(db)).toMatchObject({ accepted: 2, queued: 1 });
    // row 1 posted once; row 3 asked about, never posted again
    expect(s.requests.map((r) => [r.method, r.method === 'POST' ? keyOf(r) : null])).toEqual([
      ['GET', null],
      ['POST', 'j:0:sendgrid'],
    ]);
    db.close();
  });

  it('console and file providers deliver through the same path', async () => {
    const dir = tempDir();
    const db = storeAt(dir);
    insertRows(db, 3, { provider: 'file' });
    insertRows(db, 2, { provider: 'console' }, 10);
    const lines: string[] = [];
    const stdout = { write: (s: string) => lines.push(s) } as unknown as NodeJS.WritableStream;
    const report = await dispatch(db, projectConfig([config('file', { path: 'out/messages.jsonl' }), config('console', {})]), ENV, { providerOptions: { baseDir: dir, stdout } });
    expect(report.sent).toBe(5);
    const written = readFileSync(`${dir}/out/messages.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(written.map((w) => w.idempotencyKey).sort()).toEqual(['j:0:file', 'j:1:file', 'j:2:file']);
    expect(lines.join('')).toContain('(key j:10:console)');
    expect(rows(db).every((r) => r.status === 'sent' && r.provider_message_id)).toBe(true);
    db.close();
  });
});
