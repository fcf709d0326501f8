/**
 * The webhook receiver on a real port: signed, badly signed, replayed, malformed,
 * oversized and misrouted requests; events stored once, matched to their outbox
 * row, turned into customer events, and suppressions with reachability.
 */
import { createHmac, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { startWebhookServer, type RequestRecord, type WebhookServer } from '../../../src/delivery/serve.js';
import { twilioSignature } from '../../../src/delivery/webhooks/index.js';
import type { StoreDb } from '../../../src/store/db.js';
import { ACCOUNT_SID, config, ENV, SECRETS } from '../helpers/fixtures.js';
import { insertRows, projectConfig, storeAt } from './helpers.js';

const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const env = { ...ENV, SENDGRID_WEBHOOK_KEY: publicKey.export({ format: 'der', type: 'spki' }).toString('base64') };
const PROVIDERS = [
  config('sendgrid', { api_key: '${SENDGRID_API_KEY}', from: 'a@shop.test', signing_secret: '${SENDGRID_WEBHOOK_KEY}' }, 'sg'),
  config('mailgun', { api_key: '${MAILGUN_API_KEY}', domain: 'mg.shop.test', from: 'a@shop.test', signing_secret: '${MAILGUN_SIGNING_KEY}' }, 'mg'),
  config('postmark', { server_token: '${POSTMARK_SERVER_TOKEN}', from: 'a@shop.test', signing_secret: '${POSTMARK_WEBHOOK_AUTH}' }, 'pm'),
  config('twilio', { account_sid: ACCOUNT_SID, auth_token: '${TWILIO_AUTH_TOKEN}', from: '+420700000000' }, 'tw'),
  config('postmark', { server_token: '${POSTMARK_SERVER_TOKEN}', from: 'a@shop.test' }, 'pm-nohooks'),
];
const PUBLIC = 'https://hooks.shop.test';

function sendgridSigned(events: object[], at = Date.now()) {
  const body = JSON.stringify(events);
  const timestamp = String(Math.floor(at / 1000));
  const signature = sign('sha256', Buffer.concat([Buffer.from(timestamp), Buffer.from(body)]), privateKey).toString('base64');
  return { body, headers: { 'content-type': 'application/json', 'x-twilio-email-event-webhook-signature': signature, 'x-twilio-email-event-webhook-timestamp': timestamp } };
}

function mailgunSigned(eventData: object, key = SECRETS.MAILGUN_SIGNING_KEY) {
  const timestamp = String(Math.floor(Date.now() / 1000));
  const token = randomBytes(25).toString('hex');
  const signature = createHmac('sha256', key).update(timestamp + token).digest('hex');
  return { body: JSON.stringify({ signature: { timestamp, token, signature }, 'event-data': eventData }), headers: { 'content-type': 'application/json' } };
}

describe('journey serve: delivery webhooks', () => {
  let db: StoreDb;
  let server: WebhookServer;
  let records: RequestRecord[];
  const post = async (path: string, body: string | Buffer, headers: Record<string, string>) => {
    const res = await request(server.url + path, { method: 'POST', body, headers });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };
  const count = (sql: string, params: unknown[] = []) => db.get<{ n: number }>(sql, params as never)!.n;

  beforeEach(async () => {
    db = storeAt();
    insertRows(db, 3, { provider: 'sg' });
    insertRows(db, 1, { provider: 'tw', channel: 'sms', template: 'sms', address: () => '+420777123456' }, 10);
    db.run(`UPDATE outbox_delivery SET status = 'sent', provider_message_id = 'sgid-' || id`);
    // Twilio without our callback URL: its callbacks name the message by SID only.
    db.run(`UPDATE outbox_delivery SET provider_message_id = 'SM-own', events_by_id = 1 WHERE provider = 'tw'`);
    // Consent, so that reachability has something to lose.
    db.run(`INSERT INTO customer_consents (customer_id, channel, granted, updated_at) SELECT id, 'email', 1, 0 FROM customers`);
    db.exec(`DELETE FROM customer_reachability; INSERT INTO customer_reachability (channel, customer_id) SELECT 'email', customer_id FROM customer_consents`);
    records = [];
    server = await startWebhookServer(db, projectConfig(PROVIDERS), env, { publicUrl: PUBLIC, maxBodyBytes: 64 * 1024, onRequest: (r) => records.push(r) });
  });
  afterEach(async () => {
    await server.close();
    db.close();
  });

  it('routes the providers with webhook secrets and answers /health', async () => {
    expect(server.routes.map((r) => r.provider).sort()).toEqual(['mg', 'pm', 'sg', 'tw']);
    expect(server.disabled).toEqual([{ provider: 'pm-nohooks', reason: expect.stringContaining('no signing_secret') }]);
    const health = await request(`${server.url}/health`);
    expect(health.statusCode).toBe(200);
    expect(await health.body.json()).toEqual({ ok: true });
  });

  it('stores a signed SendGrid batch: message events, customer events, a suppression, reachability', async () => {
    const t = Math.floor(Date.now() / 1000);
    const events = [
      { email: 'user0@example.test', timestamp: t, event: 'delivered', sg_event_id: 'e1', sg_message_id: 'sgid-1.filter', journey_key: 'j:0:sg' },
      { email: 'user0@example.test', timestamp: t + 1, event: 'open', sg_event_id: 'e2', sg_message_id: 'sgid-1.filter', journey_key: 'j:0:sg' },
      { email: 'user0@example.test', timestamp: t + 2, event: 'click', sg_event_id: 'e3', sg_message_id: 'sgid-1.filter', journey_key: 'j:0:sg', url: 'https://shop.test/p/1' },
      { email: 'USER1@example.test', timestamp: t, event: 'bounce', type: 'bounce', sg_event_id: 'e4', sg_message_id: 'sgid-2.filter', journey_key: 'j:1:sg', reason: '550 no such user' },
      { email: 'nobody@example.test', timestamp: t, event: 'delivered', sg_event_id: 'e5', sg_message_id: 'unknown.filter' },
      // No key: SendGrid copies our key onto every event of a message we sent, so this
      // one is another sender's mail, whatever its id (journey's SendGrid ids are not indexed).
      { email: 'user2@example.test', timestamp: t, event: 'delivered', sg_event_id: 'e6', sg_message_id: 'sgid-3.filter' },
    ];
    const { body, headers } = sendgridSigned(events);
    const res = await post('/webhooks/sg', body, headers);
    expect(res).toEqual({ status: 200, body: { ok: true, stored: 6, duplicates: 0 } });
    expect(db.all(`SELECT event_id, outbox_id, kind, hard FROM message_events ORDER BY id`)).toEqual([
      { event_id: 'sg:e1', outbox_id: 1, kind: 'delivered', hard: null },
      { event_id: 'sg:e2', outbox_id: 1, kind: 'opened', hard: null },
      { event_id: 'sg:e3', outbox_id: 1, kind: 'clicked', hard: null },
      { event_id: 'sg:e4', outbox_id: 2, kind: 'bounced', hard: 1 },
      { event_id: 'sg:e5', outbox_id: null, kind: 'delivered', hard: null },
      { event_id: 'sg:e6', outbox_id: null, kind: 'delivered', hard: null },
    ]);
    const customerEvents = db.all<{ customer_id: string; type: string; properties: string }>(`SELECT customer_id, type, properties FROM events ORDER BY seq`);
    expect(customerEvents.map((e) => [e.customer_id, e.type])).toEqual([
      ['c0', 'email_delivered'],
      ['c0', 'email_opened'],
      ['c0', 'email_clicked'],
      ['c1', 'email_bounced'],
      // (not a journey's message, but the customer's mail all the same)
      ['c2', 'email_delivered'],
    ]);
    expect(JSON.parse(customerEvents[2]!.properties)).toMatchObject({ outbox_id: 1, journey: 'j', step: 'send', url: 'https://shop.test/p/1' });
    expect(db.all(`SELECT channel, address FROM suppressions`)).toEqual([{ channel: 'email', address: 'user1@example.test' }]);
    expect(db.all(`SELECT customer_id FROM customer_reachability ORDER BY 1`)).toEqual([{ customer_id: 'c0' }, { customer_id: 'c10' }, { customer_id: 'c2' }]);
    expect(records.at(-1)).toMatchObject({ kind: 'stored', provider: 'sg', events: 6, stored: { stored: 6, unmatched: 2, suppressed: 1, customerEvents: 5 } });
  });

  it('stores an event once when the provider sends it again, and refuses a replayed request', async () => {
    const t = Math.floor(Date.now() / 1000);
    const events = [{ email: 'user0@example.test', timestamp: t, event: 'open', sg_event_id: 'again-1', journey_key: 'j:0:sg' }];
    const first = sendgridSigned(events);
    expect((await post('/webhooks/sg', first.body, first.headers)).status).toBe(200);
    // SendGrid's retry: the same events, signed anew.
    const retry = sendgridSigned(events, Date.now() + 1000);
    expect(await post('/webhooks/sg', retry.body, retry.headers)).toEqual({ status: 200, body: { ok: true, stored: 0, duplicates: 1 } });
    // The very same request again (captured and replayed).
    expect(await post('/webhooks/sg', first.body, first.headers)).toEqual({ status: 401, body: { error: 'replayed' } });
    expect(count(`SELECT count(*) AS n FROM message_events`)).toBe(1);
    expect(count(`SELECT count(*) AS n FROM events`)).toBe(1);
  });

  it('accepts the honest retry of a request whose storing failed', async () => {
    const t = Math.floor(Date.now() / 1000);
    const { body, headers } = sendgridSigned([{ email: 'user0@example.test', timestamp: t, event: 'delivered', sg_event_id: 'x1', journey_key: 'j:0:sg' }]);
    db.exec(`CREATE TEMP TRIGGER break_store BEFORE INSERT ON message_events BEGIN SELECT RAISE(ABORT, 'disk on fire'); END`);
    expect((await post('/webhooks/sg', body, headers)).status).toBe(500);
    expect(count(`SELECT count(*) AS n FROM webhook_requests`)).toBe(0);
    db.exec(`DROP TRIGGER break_store`);
    expect((await post('/webhooks/sg', body, headers)).status).toBe(200);
    expect(count(`SELECT count(*) AS n FROM message_events`)).toBe(1);
  });

  it('refuses badly signed, stale, malformed, oversized and misrouted requests, storing nothing', async () => {
    const t = Math.floor(Date.now() / 1000);
    const good = sendgridSigned([{ email: 'user0@example.test', timestamp: t, event: 'open', sg_event_id: 'f1', journey_key: 'j:0:sg' }]);
    const tampered = good.body.replace('open', 'click');
    expect(await post('/webhooks/sg', tampered, good.headers)).toEqual({ status: 401, body: { error: 'bad_signature' } });
    const { privateKey: other } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const forged = Buffer.from(sign('sha256', Buffer.concat([Buffer.from(good.headers['x-twilio-email-event-webhook-timestamp']), Buffer.from(good.body)]), other)).toString('base64');
    expect((await post('/webhooks/sg', good.body, { ...good.headers, 'x-twilio-email-event-webhook-signature': forged })).status).toBe(401);
    const stale = sendgridSigned([{ event: 'open', sg_event_id: 'f2' }], Date.now() - 3600_000);
    expect(await post('/webhooks/sg', stale.body, stale.headers)).toEqual({ status: 401, body: { error: 'stale' } });
    const notArray = sendgridSigned({ event: 'open' } as unknown as object[]);
    expect(await post('/webhooks/sg', notArray.body, notArray.headers)).toEqual({ status: 400, body: { error: 'malformed', message: expect.stringContaining('array') } });
    const notJson = await post('/webhooks/mg', '{not json', { 'content-type': 'application/json' });
    expect(notJson).toEqual({ status: 400, body: { error: 'malformed', message: expect.stringMatching(/not valid JSON/i) } });
    const wrongKey = mailgunSigned({ event: 'delivered', id: 'm1' }, 'not-the-key');
    expect((await post('/webhooks/mg', wrongKey.body, wrongKey.headers)).status).toBe(401);
    expect((await post('/webhooks/pm', JSON.stringify({ RecordType: 'Open' }), { 'content-type': 'application/json', authorization: 'Basic d3Jvbmc6d3Jvbmc=' })).status).toBe(401);
    expect((await post('/webhooks/sg', Buffer.alloc(65 * 1024, 'x'), good.headers)).status).toBe(413);
    expect((await post('/webhooks/nope', good.body, good.headers)).status).toBe(404);
    expect((await post('/webhooks/pm-nohooks', good.body, good.headers)).status).toBe(404);
    expect((await request(`${server.url}/webhooks/sg`)).statusCode).toBe(405);
    expect(count(`SELECT count(*) AS n FROM message_events`)).toBe(0);
    // Logged without secrets.
    const log = JSON.stringify(records);
    for (const secret of Object.values(SECRETS)) expect(log).not.toContain(secret);
    expect(records.filter((r) => r.kind === 'refused').map((r) => (r as { status: number }).status)).toEqual([401, 401, 401, 400, 400, 401, 401, 413, 404, 404, 405]);
  });

  it('Mailgun, Postmark and Twilio: verified, stored, and unsubscribes and spam reports suppress', async () => {
    const mg = mailgunSigned({ event: 'complained', id: 'mg-1', timestamp: Date.now() / 1000, recipient: 'user2@example.test', 'user-variables': { journey_key: 'j:2:sg' } });
    expect((await post('/webhooks/mg', mg.body, mg.headers)).status).toBe(200);
    const pm = JSON.stringify({ RecordType: 'SubscriptionChange', ID: 1, MessageID: 'x', Recipient: 'User0@Example.test', SuppressSending: true, SuppressionReason: 'ManualSuppression', ChangedAt: new Date().toISOString(), Metadata: { journey_key: 'j:0:sg' } });
    expect((await post('/webhooks/pm', pm, { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(SECRETS.POSTMARK_WEBHOOK_AUTH).toString('base64')}` })).status).toBe(200);
    const path = '/webhooks/tw?key=j:10:tw';
    const params = { MessageSid: 'SM1', MessageStatus: 'delivered', To: '+420777123456', AccountSid: ACCOUNT_SID };
    const sig = twilioSignature(SECRETS.TWILIO_AUTH_TOKEN, PUBLIC + path, new Map(Object.entries(params).map(([k, v]) => [k, [v]])));
    expect((await post(path, new URLSearchParams(params).toString(), { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': sig })).status).toBe(200);
    // A callback without our key (a messaging service's own URL) finds its message by SID.
    const bySid = { MessageSid: 'SM-own', MessageStatus: 'delivered', To: '+420777123456', AccountSid: ACCOUNT_SID };
    const bySidSig = twilioSignature(SECRETS.TWILIO_AUTH_TOKEN, PUBLIC + '/webhooks/tw', new Map(Object.entries(bySid).map(([k, v]) => [k, [v]])));
    expect((await post('/webhooks/tw', new URLSearchParams(bySid).toString(), { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': bySidSig })).status).toBe(200);
    // Signed for another URL: refused.
    const elsewhere = twilioSignature(SECRETS.TWILIO_AUTH_TOKEN, 'https://evil.test' + path, new Map(Object.entries(params).map(([k, v]) => [k, [v]])));
    expect((await post(path, new URLSearchParams(params).toString(), { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': elsewhere })).status).toBe(401);
    expect(db.all(`SELECT customer_id, type FROM events ORDER BY seq`)).toEqual([
      { customer_id: 'c2', type: 'email_spam_report' },
      { customer_id: 'c0', type: 'email_unsubscribed' },
      { customer_id: 'c10', type: 'sms_delivered' },
      { customer_id: 'c10', type: 'sms_delivered' },
    ]);
    expect(db.all(`SELECT event_id, outbox_id FROM message_events WHERE provider = 'tw' ORDER BY id`)).toEqual([
      { event_id: 'tw:SM1:delivered', outbox_id: 4 },
      { event_id: 'tw:SM-own:delivered', outbox_id: 4 },
    ]);
    // those two carried keys of SendGrid's messages: an event of another provider is not that message's
    expect(db.all(`SELECT provider, outbox_id FROM message_events WHERE provider IN ('mg', 'pm') ORDER BY id`)).toEqual([
      { provider: 'mg', outbox_id: null },
      { provider: 'pm', outbox_id: null },
    ]);
    // a Postmark message's own event is its message's
    insertRows(db, 1, { provider: 'pm' }, 20);
    const delivered = JSON.stringify({ RecordType: 'Delivery', ID: 2, MessageID: 'pm-20', Recipient: 'user20@example.test', DeliveredAt: new Date().toISOString(), Metadata: { journey_key: 'j:20:pm' } });
    expect((await post('/webhooks/pm', delivered, { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(SECRETS.POSTMARK_WEBHOOK_AUTH).toString('base64')}` })).status).toBe(200);
    expect(db.get(`SELECT m.idempotency_key FROM message_events e JOIN outbox_messages m ON m.id = e.outbox_id WHERE e.provider = 'pm' AND e.kind = 'delivered'`)).toEqual({ idempotency_key: 'j:20:pm' });
    expect(db.all(`SELECT channel, address, reason FROM suppressions ORDER BY address`)).toEqual([
      { channel: 'email', address: 'user0@example.test', reason: 'unsubscribed (pm)' },
      { channel: 'email', address: 'user2@example.test', reason: 'spam report (mg)' },
    ]);
    expect(db.all(`SELECT customer_id FROM customer_reachability ORDER BY 1`)).toEqual([{ customer_id: 'c1' }, { customer_id: 'c10' }]);
  });
});
