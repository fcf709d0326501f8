import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookVerifier } from '../../../src/delivery/webhooks/index.js';
import { config, ENV, SECRETS } from '../helpers/fixtures.js';
import { seenSet, startReceiver, type Receiver } from '../helpers/receiver.js';

const NOW = Date.parse('2026-01-10T10:00:00Z');
const AUTH = { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(SECRETS.POSTMARK_WEBHOOK_AUTH).toString('base64')}` };
const common = { MessageID: '883953f4-6105-42a2-a16a-77a8eac79483', Metadata: { journey_key: 'outbox-42', journey: 'post-purchase' }, MessageStream: 'outbound', Tag: '' };

const RECORDS: Array<[Record<string, unknown>, Record<string, unknown>]> = [
  [{ RecordType: 'Delivery', ServerID: 23, Recipient: 'jana@example.test', DeliveredAt: '2026-01-10T09:59:00Z', Details: 'Test delivery webhook details', ...common }, { kind: 'delivered', address: 'jana@example.test', occurredAt: Date.parse('2026-01-10T09:59:00Z') }],
  [{ RecordType: 'Bounce', ID: 4323372036854775807, Type: 'HardBounce', TypeCode: 1, Name: 'Hard bounce', Email: 'petr@example.test', BouncedAt: '2026-01-10T09:58:00Z', Description: 'The server was unable to deliver your message (ex: unknown user, mailbox not found).', Inactive: true, CanActivate: true, ...common }, { kind: 'bounced', hard: true, address: 'petr@example.test' }],
  [{ RecordType: 'Bounce', ID: 42, Type: 'SoftBounce', TypeCode: 4096, Email: 'eva@example.test', BouncedAt: '2026-01-10T09:58:00Z', Description: 'Mailbox full', Inactive: false, ...common }, { kind: 'bounced', hard: false, reason: 'Mailbox full' }],
  [{ RecordType: 'SpamComplaint', ID: 43, Type: 'SpamComplaint', TypeCode: 512, Email: 'eva@example.test', BouncedAt: '2026-01-10T09:57:00Z', ...common }, { kind: 'spam_report', address: 'eva@example.test' }],
  [{ RecordType: 'Open', FirstOpen: true, Recipient: 'jana@example.test', ReceivedAt: '2026-01-10T09:59:30Z', Platform: 'WebMail', ...common }, { kind: 'opened' }],
  [{ RecordType: 'Click', ClickLocation: 'HTML', Recipient: 'jana@example.test', OriginalLink: 'https://shop.test/p/1', ReceivedAt: '2026-01-10T09:59:40Z', ...common }, { kind: 'clicked', url: 'https://shop.test/p/1' }],
  [{ RecordType: 'SubscriptionChange', Recipient: 'jana@example.test', ChangedAt: '2026-01-10T09:59:50Z', SuppressSending: true, SuppressionReason: 'ManualSuppression', Origin: 'Recipient', ...common }, { kind: 'unsubscribed', address: 'jana@example.test' }],
];

describe('Postmark webhooks', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    const seen = seenSet();
    receiver = await startReceiver(createWebhookVerifier(config('postmark', { server_token: '${POSTMARK_SERVER_TOKEN}', from: 'a@b.test', signing_secret: '${POSTMARK_WEBHOOK_AUTH}' }, 'pm'), ENV, { seen: seen.seen, now: () => NOW, maxEventAgeMs: 12 * 3600_000 }));
  });
  afterAll(() => receiver.close());

  it('accepts requests with the right basic-auth credentials and maps each record type', async () => {
    for (const [record, expected] of RECORDS) {
      const res = await receiver.post('/webhooks/pm', JSON.stringify(record), AUTH);
      expect(res.status).toBe(200);
      expect(res.events).toHaveLength(1);
      expect(res.events[0]).toMatchObject({ provider: 'pm', idempotencyKey: 'outbox-42', providerMessageId: common.MessageID, ...expected });
    }
  });

  it('ignores record types and subscription changes that are not news', async () => {
    const inbound = { RecordType: 'Inbound', From: 'x@y.test' };
    const reactivated = { ...RECORDS[6]![0], SuppressSending: false, ChangedAt: '2026-01-10T09:59:51Z' };
    expect(await receiver.post('/webhooks/pm', JSON.stringify(inbound), AUTH)).toMatchObject({ status: 200, events: [] });
    expect(await receiver.post('/webhooks/pm', JSON.stringify(reactivated), AUTH)).toMatchObject({ status: 200, events: [] });
  });

  it('refuses wrong, missing and malformed credentials', async () => {
    const body = JSON.stringify(RECORDS[0]![0]);
    const wrong = { ...AUTH, authorization: `Basic ${Buffer.from('postmark-hook:guess').toString('base64')}` };
    expect(await receiver.post('/webhooks/pm', body, wrong)).toMatchObject({ status: 401, reason: 'bad_signature' });
    expect(await receiver.post('/webhooks/pm', body, { 'content-type': 'application/json' })).toMatchObject({ status: 401 });
    expect(await receiver.post('/webhooks/pm', body, { ...AUTH, authorization: `Bearer ${SECRETS.POSTMARK_WEBHOOK_AUTH}` })).toMatchObject({ status: 401 });
  });

  it('refuses the identical request twice (replay)', async () => {
    const body = JSON.stringify({ ...RECORDS[4]![0], ReceivedAt: '2026-01-10T09:59:31Z' });
    expect((await receiver.post('/webhooks/pm', body, AUTH)).status).toBe(200);
    expect(await receiver.post('/webhooks/pm', body, AUTH)).toMatchObject({ status: 401, reason: 'replayed' });
  });

  it('refuses events older than maxEventAgeMs (stale), since the request itself has no signed time', async () => {
    const old = { ...RECORDS[0]![0], DeliveredAt: '2026-01-08T10:00:00Z' };
    expect(await receiver.post('/webhooks/pm', JSON.stringify(old), AUTH)).toMatchObject({ status: 401, reason: 'stale' });
  });

  it('answers 400 to malformed bodies', async () => {
    for (const body of ['not json', '[]', '{"Recipient":"x"}', '{"RecordType":5}']) {
      expect(await receiver.post('/webhooks/pm', body, AUTH)).toMatchObject({ status: 400, reason: 'malformed' });
    }
  });
});
