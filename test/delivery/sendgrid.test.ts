import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvider } from '../../src/delivery/providers/index.js';
import type { OutgoingMessage, Provider } from '../../src/delivery/message.js';
import { config, emailMessage, ENV, SECRETS } from './helpers/fixtures.js';
import { requestValidator } from './helpers/openapi.js';
import { providerBehaviour } from './helpers/provider-suite.js';
import { startServer, type FakeServer, type Recorded } from './helpers/server.js';

const validateMailSend = requestValidator('sendgrid_mail_v3.json', '/v3/mail/send', 'post', 'application/json');
const validate = (req: Recorded) => (req.path === '/v3/mail/send' ? validateMailSend(req.json()) : [`unexpected path ${req.path}`]);

const make = (url: string, extra: Record<string, unknown> = {}, timeoutMs?: number) =>
  createProvider(config('sendgrid', { api_key: '${SENDGRID_API_KEY}', from: 'hello@shop.test', from_name: 'Example Shop', url, ...extra }), ENV, { timeoutMs });

const accepted = () => ({ status: 202, headers: { 'x-message-id': 'W1xq3UKtQ3yJZs0cGQ4v5A' } });

providerBehaviour({
  label: 'sendgrid',
  make: (url, o) => make(url, o.concurrency ? { concurrency: o.concurrency } : {}, o.timeoutMs),
  message: emailMessage(),
  path: /^\/v3\/mail\/send$/,
  success: accepted,
  expectedId: 'W1xq3UKtQ3yJZs0cGQ4v5A',
  validate,
  errors: [
    {
      status: 400,
      body: { errors: [{ message: 'The from email does not contain a valid address.', field: 'from.email', help: 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.from' }] },
      kind: 'permanent',
      text: /from\.email: The from email does not contain a valid address/,
    },
    {
      status: 401,
      body: { errors: [{ message: 'The provided authorization grant is invalid, expired, or revoked', field: null, help: null }] },
      kind: 'permanent',
      text: /authorization grant is invalid/,
    },
    { status: 403, body: { errors: [{ message: 'access forbidden', field: null }] }, kind: 'permanent', text: /access forbidden/ },
    { status: 413, body: { errors: [{ message: 'The JSON payload you have included in your request is too large.', field: null }] }, kind: 'permanent', text: /too large/ },
  ],
  tooMany: { errors: [{ field: null, message: 'too many requests' }] },
});

describe('sendgrid: the request', () => {
  let server: FakeServer;
  let provider: Provider;
  beforeAll(async () => {
    server = await startServer(accepted);
    provider = make(server.url);
  });
  afterAll(async () => {
    await provider.close();
    await server.close();
  });

  it('sends a dynamic template with its data, the key as a custom arg, and a Bearer key', async () => {
    await provider.send(emailMessage());
    const req = server.requests.at(-1)!;
    expect(req.method).toBe('POST');
    expect(req.headers.authorization).toBe(`Bearer ${SECRETS.SENDGRID_API_KEY}`);
    expect(validate(req)).toEqual([]);
    expect(req.json()).toEqual({
      personalizations: [
        {
          to: [{ email: 'jana@example.test' }],
          custom_args: { journey: 'post-purchase', journey_key: 'outbox-42-thank-you' },
          dynamic_template_data: { first_name: 'Jana', order_total: 1290.5, vip: true, coupon: null, subject: 'Thank you, Jana' },
        },
      ],
      from: { email: 'hello@shop.test', name: 'Example Shop' },
      template_id: 'd-0001thankyou',
    });
  });

  it("builds the template data from the outbox payload's own JSON text, as the dispatcher passes it", async () => {
    const cases: { dataJson: string; data: OutgoingMessage['data']; subject: string | null; expected: unknown }[] = [
      // the payload's text as stored, spacing and all; our subject is appended
      { dataJson: '{ "first_name": "Jana", "note": "a } in text" } ', data: { first_name: 'Jana', note: 'a } in text' }, subject: 'Hi {{first_name}}', expected: { first_name: 'Jana', note: 'a } in text', subject: 'Hi Jana' } },
      // nothing to personalise with: the subject is the only field
      { dataJson: '{}', data: {}, subject: 'Hello{{first_name}}', expected: { subject: 'Hello' } },
      // the payload's own subject wins
      { dataJson: '{"subject":"Mine"}', data: { subject: 'Mine' }, subject: 'Ours', expected: { subject: 'Mine' } },
      // no subject of ours: the text goes as it is
      { dataJson: '{"a":1}', data: { a: 1 }, subject: null, expected: { a: 1 } },
    ];
    for (const c of cases) {
      await provider.send(emailMessage({ data: c.data, dataJson: c.dataJson, template: { id: 'd-1', subject: c.subject, body: null }, tags: { journey: 'j', journey_key: 'forged' } }));
      const req = server.requests.at(-1)!;
      expect(validate(req)).toEqual([]);
      const personalization = (req.json() as { personalizations: Record<string, unknown>[] }).personalizations[0]!;
      expect(personalization.dynamic_template_data).toEqual(c.expected);
      // a tag cannot stand in for the idempotency key
      expect(personalization.custom_args).toEqual({ journey: 'j', journey_key: 'outbox-42-thank-you' });
    }
  });

  it('keeps each message its own key when messages of one step share their tags object', async () => {
    // the dispatcher hands every message of a step the same frozen tags; the tags' text is made once per object
    const tags = Object.freeze({ journey: 'post-purchase', step: 'thanks' });
    const argsOf = (req: Recorded) => (req.json() as { personalizations: { custom_args: unknown }[] }).personalizations[0]!.custom_args;
    await provider.send(emailMessage({ idempotencyKey: 'post-purchase:1:thanks', tags }));
    expect(argsOf(server.requests.at(-1)!)).toEqual({ journey: 'post-purchase', step: 'thanks', journey_key: 'post-purchase:1:thanks' });
    await provider.send(emailMessage({ idempotencyKey: 'post-purchase:2:thanks', tags }));
    expect(argsOf(server.requests.at(-1)!)).toEqual({ journey: 'post-purchase', step: 'thanks', journey_key: 'post-purchase:2:thanks' });
    // another step's tags are its own
    await provider.send(emailMessage({ idempotencyKey: 'win-back:1:voucher', tags: { journey: 'win-back', step: 'voucher' } }));
    expect(argsOf(server.requests.at(-1)!)).toEqual({ journey: 'win-back', step: 'voucher', journey_key: 'win-back:1:voucher' });
  });

  it('sends subject and content when there is no provider template', async () => {
    const outcome = await provider.send(emailMessage({ template: { id: null, subject: 'Hi {{first_name}}', body: '<p>Your order of {{order_total}} CZK</p>' } }));
    expect(outcome.kind).toBe('sent');
    const req = server.requests.at(-1)!;
    expect(validate(req)).toEqual([]);
    expect(req.json()).toMatchObject({ subject: 'Hi Jana', content: [{ type: 'text/html', value: '<p>Your order of 1290.5 CZK</p>' }] });
  });

  it('refuses a message with neither a template nor a body without calling SendGrid', async () => {
    const before = server.requests.length;
    const outcome = await provider.send(emailMessage({ template: { id: null, subject: 'x', body: null } }));
    expect(outcome).toEqual({ kind: 'permanent', error: expect.stringMatching(/template id/) });
    expect(server.requests.length).toBe(before);
  });

  it('the schema check catches a wrong field name', () => {
    const body = { personalizations: [{ to: [{ email: 'a@b.test' }] }], from: { email: 'a@b.test' }, template_id: 'd-1' };
    expect(validateMailSend(body)).toEqual([]);
    expect(validateMailSend({ ...body, templateId: 'd-1' }).join()).toMatch(/templateId/);
    expect(validateMailSend({ ...body, personalizations: [{ to: [{ email: 'a@b.test' }], customArgs: {} }] }).join()).toMatch(/customArgs/);
    expect(validateMailSend({ personalizations: body.personalizations }).join()).toMatch(/from/);
  });
});
