import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookVerifier } from '../../../src/delivery/webhooks/index.js';
import { config } from '../helpers/fixtures.js';
import { seenSet, startReceiver, type Receiver } from '../helpers/receiver.js';

const NOW = 1_767_225_600_000; // 2026-01-01T00:00:00Z
const keys = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const { privateKey, publicKey } = keys();
const ENV = { SENDGRID_WEBHOOK_KEY: publicKey.export({ format: 'der', type: 'spki' }).toString('base64') };

function signed(body: string, at = NOW, key: KeyObject = privateKey) {
  const timestamp = String(Math.floor(at / 1000));
  const signature = sign('sha256', Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), key).toString('base64');
  return { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp };
}

const t = Math.floor(NOW / 1000) - 30;
const EVENTS = [
  { email: 'jana@example.test', timestamp: t, event: 'processed', sg_event_id: 'ev-0', sg_message_id: 'W1xq3UKtQ3yJZs0cGQ4v5A.filterdrecv-1', journey_key: 'outbox-42' },
  { email: 'jana@example.test', timestamp: t, event: 'delivered', sg_event_id: 'ev-1', sg_message_id: 'W1xq3UKtQ3yJZs0cGQ4v5A.filterdrecv-1', journey_key: 'outbox-42', response: '250 OK' },
  { email: 'jana@example.test', timestamp: t + 5, event: 'open', sg_event_id: 'ev-2', sg_message_id: 'W1xq3UKtQ3yJZs0cGQ4v5A.filterdrecv-1', journey_key: 'outbox-42', useragent: 'Mozilla/5.0' },
  { email: 'jana@example.test', timestamp: t + 9, event: 'click', sg_event_id: 'ev-3', sg_message_id: 'W1xq3UKtQ3yJZs0cGQ4v5A.filterdrecv-1', journey_key: 'outbox-42', url: 'https://shop.test/p/1' },
  { email: 'petr@example.test', timestamp: t, event: 'bounce', type: 'bounce', sg_event_id: 'ev-4', sg_message_id: 'X2.filter', journey_key: 'outbox-43', reason: '550 5.1.1 no such user', bounce_classification: 'Invalid Address' },
  { email: 'eva@example.test', timestamp: t, event: 'bounce', type: 'blocked', sg_event_id: 'ev-5', sg_message_id: 'X3.filter', journey_key: 'outbox-44', reason: '421 try later' },
  { email: 'eva@example.test', timestamp: t, event: 'spamreport', sg_event_id: 'ev-6', sg_message_id: 'X3.filter', journey_key: 'outbox-44' },
  { email: 'eva@example.test', timestamp: t, event: 'group_unsubscribe', asm_group_id: 1, sg_event_id: 'ev-7', sg_message_id: 'X3.filter', journey_key: 'outbox-44' },
  { email: 'eva@example.test', timestamp: t, event: 'deferred', sg_event_id: 'ev-8', sg_message_id: 'X3.filter' },
  { email: 'eva@example.test', timestamp: t, event: 'some_future_event', sg_event_id: 'ev-9' },
];
const BODY = JSON.stringify(EVENTS);

describe('SendGrid signed event webhook', () => {
  let receiver: Receiver;
  let seen: ReturnType<typeof seenSet>;
  beforeAll(async () => {
    seen = seenSet();
    const verifier = createWebhookVerifier(config('sendgrid', { api_key: '${X}', from: 'a@b.test', signing_secret: '${SENDGRID_WEBHOOK_KEY}' }, 'sg'), ENV, { seen: (id) => seen.seen(id), now: () => NOW });
    receiver = await startReceiver(verifier);
  });
  afterAll(() => receiver.close());

  it('accepts a correctly signed batch and maps its events', async () => {
    const res = await receiver.post('/webhooks/sg', BODY, signed(BODY));
    expect(res.status).toBe(200);
    expect(res.events.map((e) => [e.kind, e.hard, e.eventId])).toEqual([
      ['delivered', undefined, 'ev-1'],
      ['opened', undefined, 'ev-2'],
      ['clicked', undefined, 'ev-3'],
      ['bounced', true, 'ev-4'],
      ['bounced', false, 'ev-5'],
      ['spam_report', undefined, 'ev-6'],
      ['unsubscribed', undefined, 'ev-7'],
    ]);
    expect(res.events[2]).toMatchObject({
      provider: 'sg',
      idempotencyKey: 'outbox-42',
      providerMessageId: 'W1xq3UKtQ3yJZs0cGQ4v5A',
      occurredAt: (t + 9) * 1000,
      address: 'jana@example.test',
      url: 'https://shop.test/p/1',
    });
    expect(res.events[3]!.reason).toBe('550 5.1.1 no such user');
  });

  it('refuses the same request again (replay)', async () => {
    const body = JSON.stringify([EVENTS[1]]);
    const headers = signed(body);
    expect((await receiver.post('/webhooks/sg', body, headers)).status).toBe(200);
    const again = await receiver.post('/webhooks/sg', body, headers);
    expect(again).toMatchObject({ status: 401, reason: 'replayed' });
  });

  it('refuses a signature made with another key', async () => {
    const other = keys().privateKey;
    expect(await receiver.post('/webhooks/sg', BODY, signed(BODY, NOW, other))).toMatchObject({ status: 401, reason: 'bad_signature' });
  });

  it('refuses a changed body, and re-serialised JSON with different whitespace', async () => {
    const headers = signed(BODY);
    const tampered = BODY.replace('"bounce"', '"delivered"');
    expect(await receiver.post('/webhooks/sg', tampered, headers)).toMatchObject({ status: 401, reason: 'bad_signature' });
    const pretty = JSON.stringify(JSON.parse(BODY), null, 2);
    expect(JSON.parse(pretty)).toEqual(JSON.parse(BODY));
    expect(await receiver.post('/webhooks/sg', pretty, headers)).toMatchObject({ status: 401, reason: 'bad_signature' });
  });

  it('refuses a changed timestamp, missing headers and garbage signatures', async () => {
    const headers = signed(BODY);
    expect(await receiver.post('/webhooks/sg', BODY, { ...headers, 'x-twilio-email-event-webhook-timestamp': String(Number(headers['x-twilio-email-event-webhook-timestamp']) + 1) })).toMatchObject({ status: 401 });
    expect(await receiver.post('/webhooks/sg', BODY, { 'content-type': 'application/json' })).toMatchObject({ status: 401, reason: 'bad_signature' });
    expect(await receiver.post('/webhooks/sg', BODY, { ...headers, 'x-twilio-email-event-webhook-signature': 'not base64 at all!' })).toMatchObject({ status: 401 });
  });

  it('refuses a correctly signed request older than 5 minutes (stale)', async () => {
    const body = JSON.stringify([EVENTS[2]]);
    expect(await receiver.post('/webhooks/sg', body, signed(body, NOW - 6 * 60_000))).toMatchObject({ status: 401, reason: 'stale' });
    expect(await receiver.post('/webhooks/sg', body, signed(body, NOW + 6 * 60_000))).toMatchObject({ status: 401, reason: 'stale' });
    expect((await receiver.post('/webhooks/sg', body, signed(body, NOW - 4 * 60_000))).status).toBe(200);
  });

  it('answers 400 to a correctly signed body that is not an event array', async () => {
    for (const body of ['{"event":"delivered"}', '[{"email":"x"}]', '[1,2]', 'not json']) {
      expect(await receiver.post('/webhooks/sg', body, signed(body))).toMatchObject({ status: 400, reason: 'malformed' });
    }
  });

  it('takes the age limit from the options, and a PEM key', () => {
    const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const verifier = createWebhookVerifier(config('sendgrid', { signing_secret: '${K}' }), { K: pem }, { seen: () => false, now: () => NOW, maxAgeMs: 10_000 });
    const body = '[]';
    expect(verifier.verify({ rawBody: Buffer.from(body), headers: signed(body, NOW - 5000), url: 'http://x/' })).toEqual([]);
    expect(() => verifier.verify({ rawBody: Buffer.from(body), headers: signed(body, NOW - 20_000), url: 'http://x/' })).toThrow(/timestamp/);
  });

  it('fails at creation on a key that is not a public key, without printing it', () => {
    expect(() => createWebhookVerifier(config('sendgrid', { signing_secret: '${K}' }, 'sg'), { K: 'definitely-not-a-key-SECRETISH' }, { seen: () => false })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('SECRETISH') }),
    );
  });
});
