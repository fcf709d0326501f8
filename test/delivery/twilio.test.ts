import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvider } from '../../src/delivery/providers/index.js';
import type { Provider } from '../../src/delivery/message.js';
import { ACCOUNT_SID, config, ENV, SECRETS, SERVICE_SID, smsMessage } from './helpers/fixtures.js';
import type { OutgoingMessage } from '../../src/delivery/message.js';
import { requestValidator } from './helpers/openapi.js';
import { providerBehaviour } from './helpers/provider-suite.js';
import { startServer, type FakeServer, type Recorded } from './helpers/server.js';

const PATH = `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`;
const validateCreate = requestValidator('twilio_api_v2010.json', '/2010-04-01/Accounts/{AccountSid}/Messages.json', 'post', 'application/x-www-form-urlencoded');
const validate = (req: Recorded) => {
  if (req.path !== PATH) return [`unexpected path ${req.path}`];
  if (req.headers['content-type'] !== 'application/x-www-form-urlencoded') return [`content-type ${req.headers['content-type']}`];
  return validateCreate(req.form());
};

const SID = 'SM0123456789abcdef0123456789abcdef';
const created = (req: Recorded) => ({
  status: 201,
  body: { account_sid: ACCOUNT_SID, api_version: '2010-04-01', body: req.form().Body, sid: SID, status: 'queued', to: req.form().To, from: req.form().From ?? null, error_code: null, error_message: null },
});

const make = (url: string, extra: Record<string, unknown> = {}, opts: { timeoutMs?: number; statusCallbackUrl?: string } = {}) =>
  createProvider(config('twilio', { account_sid: ACCOUNT_SID, auth_token: '${TWILIO_AUTH_TOKEN}', from: '+420700000000', url, ...extra }), ENV, opts);

providerBehaviour({
  label: 'twilio',
  make: (url, o) => make(url, o.concurrency ? { concurrency: o.concurrency } : {}, { timeoutMs: o.timeoutMs, statusCallbackUrl: 'https://hooks.shop.test/twilio/status' }),
  message: smsMessage(),
  path: new RegExp(`^${PATH.replace(/\./g, '\\.')}$`),
  success: created,
  expectedId: SID,
  validate,
  errors: [
    {
      status: 400,
      body: { code: 21211, message: "The 'To' number +4201 is not a valid phone number.", more_info: 'https://www.twilio.com/docs/errors/21211', status: 400 },
      kind: 'permanent',
      text: /Twilio 21211: The 'To' number \+4201 is not a valid phone number/,
    },
    {
      status: 401,
      body: { code: 20003, detail: 'Your AccountSid or AuthToken was incorrect.', message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 },
      kind: 'permanent',
      text: /Twilio 20003: Authenticate/,
    },
    {
      status: 404,
      body: { code: 20404, message: 'The requested resource was not found', more_info: 'https://www.twilio.com/docs/errors/20404', status: 404 },
      kind: 'permanent',
      text: /20404/,
    },
  ],
  tooMany: { code: 20429, message: 'Too Many Requests', more_info: 'https://www.twilio.com/docs/errors/20429', status: 429 },
});

describe('twilio: the request', () => {
  let server: FakeServer;
  const providers: Provider[] = [];
  beforeAll(async () => {
    server = await startServer(created);
  });
  afterAll(async () => {
    await Promise.all(providers.map((p) => p.close()));
    await server.close();
  });
  const provider = (extra: Record<string, unknown> = {}, opts = {}) => {
    const p = make(server.url, extra, opts);
    providers.push(p);
    return p;
  };

  it('posts To, From and the filled Body form-encoded with basic auth SID:token', async () => {
    const outcome = await provider().send(smsMessage());
    expect(outcome).toEqual({ kind: 'sent', providerMessageId: SID, status: 201 });
    const req = server.requests.at(-1)!;
    expect(validate(req)).toEqual([]);
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from(`${ACCOUNT_SID}:${SECRETS.TWILIO_AUTH_TOKEN}`).toString('base64')}`);
    expect(req.form()).toEqual({ To: '+420777123456', From: '+420700000000', Body: 'Jana, your code SECOND-AB12 ends soon' });
  });

  it('carries the idempotency key in the StatusCallback URL', async () => {
    await provider({}, { statusCallbackUrl: 'https://hooks.shop.test/webhooks/twilio?src=x' }).send(smsMessage());
    const req = server.requests.at(-1)!;
    expect(validate(req)).toEqual([]);
    const callback = new URL(req.form().StatusCallback as string);
    expect(callback.searchParams.get('key')).toBe('outbox-77-offer-sms');
    expect(callback.searchParams.get('src')).toBe('x');
  });

  it('sends through a messaging service, and a Content template with its rendered variables (a flat map of text), never our nested data', async () => {
    const content = { subject: null, preheader: null, html: null, text: null, body: null, variables: { '1': 'Jana', coupon: 'SECOND-AB12' } };
    const data = { customer: { first_name: 'Jana' }, coupon: { code: 'SECOND-AB12' } } as unknown as OutgoingMessage['data'];
    const template = { id: 'HX0123456789abcdef0123456789abcdef', subject: null, body: null };
    await provider({ from: undefined, messaging_service_sid: SERVICE_SID }).send(smsMessage({ template, data, content }));
    const req = server.requests.at(-1)!;
    expect(validate(req)).toEqual([]);
    expect(req.form()).toEqual({
      To: '+420777123456',
      MessagingServiceSid: SERVICE_SID,
      ContentSid: 'HX0123456789abcdef0123456789abcdef',
      ContentVariables: JSON.stringify({ '1': 'Jana', coupon: 'SECOND-AB12' }),
    });
    // a Content template without variables gets none
    await provider({ from: undefined, messaging_service_sid: SERVICE_SID }).send(smsMessage({ template, data }));
    expect(server.requests.at(-1)!.form()).not.toHaveProperty('ContentVariables');
  });

  it('refuses a message without a sender or a body before calling Twilio', async () => {
    const before = server.requests.length;
    expect(await provider({ from: undefined }).send(smsMessage())).toMatchObject({ kind: 'permanent', error: expect.stringMatching(/from/) });
    expect(await provider().send(smsMessage({ template: { id: null, subject: null, body: null } }))).toMatchObject({ kind: 'permanent' });
    expect(server.requests.length).toBe(before);
  });

  it('the schema check catches a wrong field name and a bad value', () => {
    expect(validateCreate({ To: '+420777123456', From: '+420700000000', Body: 'hi' })).toEqual([]);
    expect(validateCreate({ To: '+420777123456', From: '+420700000000', Text: 'hi' }).join()).toMatch(/Text/);
    expect(validateCreate({ to: '+420777123456', Body: 'hi' }).join()).toMatch(/To/);
    expect(validateCreate({ To: '+420777123456', MessagingServiceSid: 'MG1', Body: 'hi' }).join()).toMatch(/MessagingServiceSid/);
  });
});
