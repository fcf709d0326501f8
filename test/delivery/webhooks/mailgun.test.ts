import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookVerifier } from '../../../src/delivery/webhooks/index.js';
import { config, ENV, SECRETS } from '../helpers/fixtures.js';
import { seenSet, startReceiver, type Receiver } from '../helpers/receiver.js';

const NOW = 1_767_225_600_000;

function payload(eventData: Record<string, unknown>, opts: { at?: number; key?: string; token?: string } = {}) {
  const timestamp = String(Math.floor((opts.at ?? NOW) / 1000));
  const token = opts.token ?? randomBytes(25).toString('hex');
  const signature = createHmac('sha256', opts.key ?? SECRETS.MAILGUN_SIGNING_KEY).update(timestamp + token).digest('hex');
  return JSON.stringify({ signature: { timestamp, token, signature }, 'event-data': eventData });
}

const base = (event: string, extra: Record<string, unknown> = {}) => ({
  event,
  id: `ev-${event}`,
  timestamp: NOW / 1000 - 12.345,
  recipient: 'jana@example.test',
  message: { headers: { 'message-id': '20260110101010.1.ABCDEF@mg.shop.test', to: 'jana@example.test' } },
  'user-variables': { journey_key: 'outbox-42' },
  ...extra,
});

const JSON_HEADERS = { 'content-type': 'application/json' };

describe('Mailgun webhooks', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    const seen = seenSet();
    receiver = await startReceiver(createWebhookVerifier(config('mailgun', { api_key: '${MAILGUN_API_KEY}', domain: 'mg.shop.test', from: 'a@b.test', signing_secret: '${MAILGUN_SIGNING_KEY}' }, 'mg'), ENV, { seen: seen.seen, now: () => NOW }));
  });
  afterAll(() => receiver.close());

  it('accepts correctly signed events and maps them', async () => {
    const cases: Array<[Record<string, unknown>, Record<string, unknown>]> = [
      [base('delivered'), { kind: 'delivered' }],
      [base('opened'), { kind: 'opened' }],
      [base('clicked', { url: 'https://shop.test/p/1' }), { kind: 'clicked', url: 'https://shop.test/p/1' }],
      [base('failed', { severity: 'permanent', reason: 'bounce', 'delivery-status': { code: 550, description: 'No such mailbox' } }), { kind: 'bounced', hard: true, reason: 'No such mailbox' }],
      [base('failed', { severity: 'temporary', 'delivery-status': { code: 452, message: 'Mailbox full' } }), { kind: 'bounced', hard: false, reason: 'Mailbox full' }],
      [base('complained'), { kind: 'spam_report' }],
      [base('unsubscribed'), { kind: 'unsubscribed' }],
    ];
    for (const [data, expected] of cases) {
      const res = await receiver.post('/webhooks/mg', payload(data), JSON_HEADERS);
      expect(res.status).toBe(200);
      expect(res.events).toHaveLength(1);
      expect(res.events[0]).toMatchObject({
        provider: 'mg',
        eventId: data.id,
        idempotencyKey: 'outbox-42',
        providerMessageId: '20260110101010.1.ABCDEF@mg.shop.test',
        occurredAt: NOW - 12_345,
        address: 'jana@example.test',
        ...expected,
      });
    }
  });

  it('ignores event types it does not know', async () => {
    expect(await receiver.post('/webhooks/mg', payload(base('accepted')), JSON_HEADERS)).toMatchObject({ status: 200, events: [] });
    expect(await receiver.post('/webhooks/mg', payload(base('stored')), JSON_HEADERS)).toMatchObject({ status: 200, events: [] });
  });

  it('refuses a reused token (replay)', async () => {
    const body = payload(base('delivered'), { token: 'fixed-token-abc' });
    expect((await receiver.post('/webhooks/mg', body, JSON_HEADERS)).status).toBe(200);
    expect(await receiver.post('/webhooks/mg', body, JSON_HEADERS)).toMatchObject({ status: 401, reason: 'replayed' });
  });

  it('refuses a signature made with another key, or changed', async () => {
    expect(await receiver.post('/webhooks/mg', payload(base('delivered'), { key: 'wrong-key' }), JSON_HEADERS)).toMatchObject({ status: 401, reason: 'bad_signature' });
    const good = JSON.parse(payload(base('delivered')));
    good.signature.token = `${good.signature.token}x`;
    expect(await receiver.post('/webhooks/mg', JSON.stringify(good), JSON_HEADERS)).toMatchObject({ status: 401, reason: 'bad_signature' });
    delete good.signature.signature;
    expect(await receiver.post('/webhooks/mg', JSON.stringify(good), JSON_HEADERS)).toMatchObject({ status: 401, reason: 'bad_signature' });
  });

  it('refuses a correctly signed request older than 5 minutes (stale)', async () => {
    expect(await receiver.post('/webhooks/mg', payload(base('delivered'), { at: NOW - 301_000 }), JSON_HEADERS)).toMatchObject({ status: 401, reason: 'stale' });
  });

  it('answers 400 to malformed bodies', async () => {
    for (const body of ['not json', '[]', '{"signature":{}}', JSON.stringify({ 'event-data': base('delivered') })]) {
      expect(await receiver.post('/webhooks/mg', body, JSON_HEADERS)).toMatchObject({ status: 400, reason: 'malformed' });
    }
    expect(await receiver.post('/webhooks/mg', payload({ id: 'no-event' }), JSON_HEADERS)).toMatchObject({ status: 400, reason: 'malformed' });
  });
});
