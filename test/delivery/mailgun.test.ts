import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvider } from '../../src/delivery/providers/index.js';
import { mailgunBaseUrl } from '../../src/delivery/providers/mailgun.js';
import type { Provider } from '../../src/delivery/message.js';
import { config, emailMessage, ENV, SECRETS } from './helpers/fixtures.js';
import { providerBehaviour } from './helpers/provider-suite.js';
import { startServer, type FakeServer } from './helpers/server.js';

const ID = '<20260110101010.1.ABCDEF@mg.shop.test>';
const queued = () => ({ status: 200, body: { id: ID, message: 'Queued. Thank you.' } });

const make = (url: string, extra: Record<string, unknown> = {}, timeoutMs?: number) =>
  createProvider(config('mailgun', { api_key: '${MAILGUN_API_KEY}', domain: 'mg.shop.test', from: 'hello@shop.test', ...(url ? { url } : {}), ...extra }), ENV, { timeoutMs });

providerBehaviour({
  label: 'mailgun',
  make: (url, o) => make(url, o.concurrency ? { concurrency: o.concurrency } : {}, o.timeoutMs),
  message: emailMessage({ template: { id: 'thank-you', subject: 'Thank you', body: null } }),
  path: /^\/v3\/mg\.shop\.test\/messages$/,
  success: queued,
  expectedId: '20260110101010.1.ABCDEF@mg.shop.test',
  errors: [
    { status: 400, body: { message: "'to' parameter is not a valid address. please check documentation" }, kind: 'permanent', text: /'to' parameter is not a valid address/ },
    { status: 401, body: 'Forbidden', headers: { 'content-type': 'text/plain' }, kind: 'permanent', text: /Forbidden/ },
    { status: 404, body: { message: 'Domain not found: mg.shop.test' }, kind: 'permanent', text: /Domain not found/ },
  ],
  tooMany: { message: 'Too many requests' },
});

describe('mailgun: the request', () => {
  let server: FakeServer;
  let provider: Provider;
  beforeAll(async () => {
    server = await startServer(queued);
    provider = make(server.url);
  });
  afterAll(async () => {
    await provider.close();
    await server.close();
  });

  it('posts a template form with its variables as t:variables (never in a header the customer can read), the key as v:journey_key, and basic auth api:KEY', async () => {
    await provider.send(emailMessage({ template: { id: 'thank-you', subject: 'Thanks {{first_name}}', body: null } }));
    const req = server.requests.at(-1)!;
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req.headers.authorization).toBe(`Basic ${Buffer.from(`api:${SECRETS.MAILGUN_API_KEY}`).toString('base64')}`);
    expect(req.form()).toEqual({
      from: 'hello@shop.test',
      to: 'jana@example.test',
      template: 'thank-you',
      // t:variables, which Mailgun documents for templates; X-Mailgun-Variables would be copied into the delivered message's headers
      't:variables': JSON.stringify({ first_name: 'Jana', order_total: 1290.5, vip: true, coupon: null }),
      subject: 'Thanks Jana',
      'v:journey': 'post-purchase',
      'v:journey_key': 'outbox-42-thank-you',
    });
  });

  it('posts html without a template', async () => {
    await provider.send(emailMessage({ template: { id: null, subject: 'Hi', body: '<b>{{first_name}}</b>' } }));
    expect(server.requests.at(-1)!.form()).toMatchObject({ subject: 'Hi', html: '<b>Jana</b>' });
  });

  it('goes to the EU API when region is eu, and to the url setting when given', () => {
    expect(mailgunBaseUrl('eu', null)).toBe('https://api.eu.mailgun.net');
    expect(mailgunBaseUrl('us', null)).toBe('https://api.mailgun.net');
    expect(mailgunBaseUrl(null, null)).toBe('https://api.mailgun.net');
    expect(mailgunBaseUrl('eu', 'http://127.0.0.1:1')).toBe('http://127.0.0.1:1');
  });
});
