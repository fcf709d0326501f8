import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { createWebhookVerifier, twilioSignature } from '../../../src/delivery/webhooks/index.js';
import { ACCOUNT_SID, config, ENV, SECRETS } from '../helpers/fixtures.js';
import { seenSet, startReceiver, type Receiver } from '../helpers/receiver.js';

const SID = 'SM0123456789abcdef0123456789abcdef';
const FORM = 'application/x-www-form-urlencoded';

/** Plays Twilio: form-encodes params and signs URL + sorted params with the auth token. */
function twilio(url: string, params: Record<string, string>, opts: { token?: string; idem?: string } = {}) {
  const body = new URLSearchParams(params).toString();
  const map = new Map(Object.entries(params).map(([k, v]) => [k, [v]]));
  const headers: Record<string, string> = { 'content-type': FORM, 'x-twilio-signature': twilioSignature(opts.token ?? SECRETS.TWILIO_AUTH_TOKEN, url, map) };
  if (opts.idem) headers['i-twilio-idempotency-token'] = opts.idem;
  return { body, headers };
}

const status = (s: string, extra: Record<string, string> = {}) => ({ AccountSid: ACCOUNT_SID, ApiVersion: '2010-04-01', From: '+420700000000', To: '+420777123456', MessageSid: SID, SmsSid: SID, MessageStatus: s, SmsStatus: s, ...extra });

describe('Twilio status callbacks and incoming messages', () => {
  let receiver: Receiver;
  const path = '/webhooks/twilio?key=outbox-77';
  const url = () => receiver.url + path;
  beforeAll(async () => {
    const seen = seenSet();
    receiver = await startReceiver(createWebhookVerifier(config('twilio', { account_sid: ACCOUNT_SID, auth_token: '${TWILIO_AUTH_TOKEN}', from: '+420700000000' }, 'tw'), ENV, { seen: seen.seen, now: () => 1_767_225_600_000 }));
  });
  afterAll(() => receiver.close());

  it('accepts correctly signed callbacks, takes the key from the URL and maps statuses', async () => {
    const cases: Array<[Record<string, string>, Record<string, unknown>]> = [
      [status('delivered'), { kind: 'delivered', address: '+420777123456' }],
      [status('read'), { kind: 'opened' }],
      [status('undelivered', { ErrorCode: '30005' }), { kind: 'bounced', hard: true, reason: 'Twilio 30005' }],
      [status('undelivered', { ErrorCode: '30003' }), { kind: 'bounced', hard: false }],
      [status('failed', { ErrorCode: '21610' }), { kind: 'unsubscribed' }],
      [status('failed', { ErrorCode: '30008' }), { kind: 'failed', hard: false }],
    ];
    for (const [i, [params, expected]] of cases.entries()) {
      const { body, headers } = twilio(url(), params, { idem: `case-${i}` });
      const res = await receiver.post(path, body, headers);
      expect(res.status).toBe(200);
      expect(res.events).toHaveLength(1);
      expect(res.events[0]).toMatchObject({ provider: 'tw', idempotencyKey: 'outbox-77', providerMessageId: SID, eventId: `${SID}:${params.MessageStatus}`, occurredAt: 1_767_225_600_000, ...expected });
    }
  });

  it('maps incoming messages to replies, and STOP to unsubscribed', async () => {
    const inbound = (text: string, sid: string, extra: Record<string, string> = {}) => ({ MessageSid: sid, SmsStatus: 'received', From: '+420777123456', To: '+420700000000', Body: text, ...extra });
    let r = twilio(receiver.url + '/webhooks/twilio', inbound('Thanks!', 'SMaaaa'));
    expect((await receiver.post('/webhooks/twilio', r.body, r.headers)).events[0]).toMatchObject({ kind: 'replied', address: '+420777123456', reason: 'Thanks!' });
    r = twilio(receiver.url + '/webhooks/twilio', inbound(' stop ', 'SMbbbb'));
    expect((await receiver.post('/webhooks/twilio', r.body, r.headers)).events[0]).toMatchObject({ kind: 'unsubscribed', address: '+420777123456' });
    r = twilio(receiver.url + '/webhooks/twilio', inbound('Prosím odhlásit', 'SMcccc', { OptOutType: 'STOP' }));
    expect((await receiver.post('/webhooks/twilio', r.body, r.headers)).events[0]).toMatchObject({ kind: 'unsubscribed' });
  });

  it('ignores intermediate statuses', async () => {
    for (const s of ['queued', 'sending', 'sent', 'accepted']) {
      const { body, headers } = twilio(url(), status(s));
      expect(await receiver.post(path, body, headers)).toMatchObject({ status: 200, events: [] });
    }
  });

  it('refuses a repeated idempotency token (replay)', async () => {
    const { body, headers } = twilio(url(), status('delivered', { ErrorCode: '' }), { idem: 'idem-token-1' });
    expect((await receiver.post(path, body, headers)).status).toBe(200);
    expect(await receiver.post(path, body, headers)).toMatchObject({ status: 401, reason: 'replayed' });
  });

  it('has no timestamp to be stale: an old callback replayed later is caught by its token', async () => {
    // Twilio's requests carry no time at all, signed or not; what protects against
    // an old captured request is the token check, however late it comes back.
    const { body, headers } = twilio(url(), status('read', { ErrorCode: '' }), { idem: 'idem-token-from-yesterday' });
    expect((await receiver.post(path, body, headers)).status).toBe(200);
    expect(await receiver.post(path, body, headers)).toMatchObject({ status: 401, reason: 'replayed' });
  });

  it('refuses a wrong token, a changed parameter, another URL and a missing signature', async () => {
    const params = status('delivered', { Price: '-0.05' });
    const wrong = twilio(url(), params, { token: 'not-the-token' });
    expect(await receiver.post(path, wrong.body, wrong.headers)).toMatchObject({ status: 401, reason: 'bad_signature' });
    const good = twilio(url(), params);
    expect(await receiver.post(path, good.body.replace('delivered', 'undelivered'), good.headers)).toMatchObject({ status: 401 });
    // Signed for another key in the URL: the key cannot be swapped.
    const other = twilio(receiver.url + '/webhooks/twilio?key=outbox-99', params);
    expect(await receiver.post(path, other.body, other.headers)).toMatchObject({ status: 401 });
    expect(await receiver.post(path, good.body, { 'content-type': FORM })).toMatchObject({ status: 401 });
  });

  it('verifies over decoded parameters, so the form encoding may differ', async () => {
    const params = status('delivered', { Body: 'a b+c', ErrorCode: '' });
    const { headers } = twilio(url(), params);
    const encodedDifferently = Object.entries(params).reverse().map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    expect((await receiver.post(path, encodedDifferently, { ...headers, 'i-twilio-idempotency-token': 'enc-1' })).status).toBe(200);
  });

  it('accepts a JSON callback bound by bodySHA256, and refuses re-serialised JSON', async () => {
    const json = JSON.stringify(status('delivered'));
    const hash = createHash('sha256').update(json).digest('hex');
    const jpath = `/webhooks/twilio?key=outbox-77&bodySHA256=${hash}`;
    const headers = { 'content-type': 'application/json', 'x-twilio-signature': twilioSignature(SECRETS.TWILIO_AUTH_TOKEN, receiver.url + jpath, new Map()), 'i-twilio-idempotency-token': 'json-1' };
    expect(await receiver.post(jpath, JSON.stringify(JSON.parse(json), null, 1), headers)).toMatchObject({ status: 401, reason: 'bad_signature' });
    // The JSON body itself carries no form parameters: it is refused as malformed once verified.
    expect(await receiver.post(jpath, json, headers)).toMatchObject({ status: 400, reason: 'malformed' });
  });

  it('answers 400 to callbacks without MessageSid or status, and to unsigned JSON', async () => {
    const { body, headers } = twilio(url(), { AccountSid: ACCOUNT_SID, To: '+420777123456' });
    expect(await receiver.post(path, body, headers)).toMatchObject({ status: 400, reason: 'malformed' });
    expect(await receiver.post(path, '{}', { 'content-type': 'application/json', 'x-twilio-signature': 'x' })).toMatchObject({ status: 400 });
  });
});
