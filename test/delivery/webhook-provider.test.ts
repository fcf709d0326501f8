import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvider } from '../../src/delivery/providers/index.js';
import type { Provider } from '../../src/delivery/message.js';
import { config, ENV, SECRETS, smsMessage } from './helpers/fixtures.js';
import { providerBehaviour } from './helpers/provider-suite.js';
import { startServer, type FakeServer } from './helpers/server.js';

const NOW = 1_767_000_000_000;
const make = (url: string, extra: Record<string, unknown> = {}, timeoutMs?: number) =>
  createProvider(
    config('webhook', { url: `${url}/gateway/whatsapp?tenant=shop1`, signing_secret: '${WEBHOOK_SIGNING_SECRET}', headers: { Authorization: 'Bearer ${WEBHOOK_TOKEN}', 'X-Shop': 'example' }, ...extra }),
    ENV,
    { timeoutMs, now: () => NOW },
  );

providerBehaviour({
  label: 'webhook',
  make: (url, o) => make(url, o.concurrency ? { concurrency: o.concurrency } : {}, o.timeoutMs),
  message: smsMessage({ channel: 'whatsapp' }),
  path: /^\/gateway\/whatsapp\?tenant=shop1$/,
  success: () => ({ status: 201, body: { id: 'wamid.HBgM' } }),
  expectedId: 'wamid.HBgM',
  errors: [
    { status: 400, body: { error: 'unknown channel whatsapp2' }, kind: 'permanent', text: /unknown channel whatsapp2/ },
    { status: 401, body: 'invalid token', kind: 'permanent', text: /invalid token/ },
    { status: 422, body: { error: { message: 'recipient has not opted in' } }, kind: 'permanent', text: /recipient has not opted in/ },
    { status: 408, body: 'Request Timeout', kind: 'retry', text: /Request Timeout/ },
  ],
  tooMany: { error: 'slow down' },
});

describe('webhook: the request', () => {
  let server: FakeServer;
  let provider: Provider;
  beforeAll(async () => {
    server = await startServer(() => ({ status: 202 }));
    provider = make(server.url);
  });
  afterAll(async () => {
    await provider.close();
    await server.close();
  });

  it('posts the message as JSON with the key, the configured headers and a verifiable signature', async () => {
    const outcome = await provider.send(smsMessage({ channel: 'whatsapp' }));
    // No id in the answer: the key is the id.
    expect(outcome).toEqual({ kind: 'sent', providerMessageId: 'outbox-77-offer-sms', status: 202 });
    const req = server.requests.at(-1)!;
    expect(req.headers['idempotency-key']).toBe('outbox-77-offer-sms');
    expect(req.headers.authorization).toBe(`Bearer ${SECRETS.WEBHOOK_TOKEN}`);
    expect(req.headers['x-shop']).toBe('example');
    expect(req.json()).toEqual({
      idempotency_key: 'outbox-77-offer-sms',
      channel: 'whatsapp',
      to: '+420777123456',
      template: { id: null, subject: null, body: '{{first_name}}, your code {{coupon}} ends soon' },
      data: { first_name: 'Jana', coupon: 'SECOND-AB12' },
    });
    const t = Math.floor(NOW / 1000);
    const expected = createHmac('sha256', SECRETS.WEBHOOK_SIGNING_SECRET).update(`${t}.${req.text}`).digest('hex');
    expect(req.headers['x-journey-signature']).toBe(`t=${t},v1=${expected}`);
  });

  it('posts a sync request', async () => {
    const outcome = await provider.sync!({ idempotencyKey: 'sync-1', customer: { id: 'c1', email: 'jana@example.test', phone: null }, profile: { vip: true } });
    expect(outcome.kind).toBe('sent');
    expect(server.requests.at(-1)!.json()).toEqual({ idempotency_key: 'sync-1', type: 'sync', customer: { id: 'c1', email: 'jana@example.test', phone: null }, profile: { vip: true } });
  });

  it('fails at creation when a header references an unset variable', () => {
    expect(() => createProvider(config('webhook', { url: 'http://127.0.0.1:1/x', headers: { 'X-Key': '${NOT_SET_ANYWHERE}' } }, 'gateway'), {}, {})).toThrow(
      /NOT_SET_ANYWHERE is not set \(provider 'gateway', setting headers.X-Key\)/,
    );
  });
});
