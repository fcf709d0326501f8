import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvider } from '../../src/delivery/providers/index.js';
import type { Provider } from '../../src/delivery/message.js';
import { config, emailMessage, ENV, SECRETS } from './helpers/fixtures.js';
import { providerBehaviour } from './helpers/provider-suite.js';
import { startServer, type FakeServer, type Recorded } from './helpers/server.js';

const MESSAGE_ID = 'b7bc2f4a-e38e-4336-af7d-e6c392c2f817';
const ok = (req: Recorded) => ({ status: 200, body: { To: req.json().To, SubmittedAt: '2026-01-10T10:00:00.0000000-05:00', MessageID: MESSAGE_ID, ErrorCode: 0, Message: 'OK' } });

const make = (url: string, extra: Record<string, unknown> = {}, timeoutMs?: number) =>
  createProvider(config('postmark', { server_token: '${POSTMARK_SERVER_TOKEN}', from: 'hello@shop.test', from_name: 'Example Shop', url, ...extra }), ENV, { timeoutMs });

providerBehaviour({
  label: 'postmark',
  make: (url, o) => make(url, o.concurrency ? { concurrency: o.concurrency } : {}, o.timeoutMs),
  message: emailMessage({ template: { id: 'thank-you', subject: null, body: null } }),
  path: /^\/email(\/withTemplate)?$/,
  success: ok,
  expectedId: MESSAGE_ID,
  errors: [
    { status: 422, body: { ErrorCode: 300, Message: "Invalid 'From' address: 'hello@shop'." }, kind: 'permanent', text: /Postmark 300: Invalid 'From' address/ },
    {
      status: 422,
      body: { ErrorCode: 406, Message: "You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: jana@example.test. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression." },
      kind: 'permanent',
      text: /Postmark 406: You tried to send to recipient\(s\) that have been marked as inactive/,
    },
    { status: 422, body: { ErrorCode: 1101, Message: "The 'TemplateAlias' associated with this request is not valid or was not found." }, kind: 'permanent', text: /Postmark 1101/ },
    {
      status: 401,
      body: { ErrorCode: 10, Message: 'The Server Token you provided in the X-Postmark-Server-Token request header was invalid. Please verify that you are using a valid token.' },
      kind: 'permanent',
      text: /Postmark 10: The Server Token you provided/,
    },
    { status: 400, body: 'Bad Request', kind: 'permanent', text: /Bad Request/ },
  ],
  tooMany: { ErrorCode: 429, Message: 'Rate limit exceeded.' },
});

describe('postmark: the request', () => {
  let server: FakeServer;
  let provider: Provider;
  beforeAll(async () => {
    server = await startServer(ok);
    provider = make(server.url, { message_stream: 'journeys' });
  });
  afterAll(async () => {
    await provider.close();
    await server.close();
  });

  it('sends a template by alias with its model, the key in Metadata, and the server token header', async () => {
    await provider.send(emailMessage({ template: { id: 'thank-you', subject: null, body: null } }));
    const req = server.requests.at(-1)!;
    expect(req.path).toBe('/email/withTemplate');
    expect(req.headers['x-postmark-server-token']).toBe(SECRETS.POSTMARK_SERVER_TOKEN);
    expect(req.headers.accept).toBe('application/json');
    expect(req.json()).toEqual({
      From: 'Example Shop <hello@shop.test>',
      To: 'jana@example.test',
      MessageStream: 'journeys',
      Metadata: { journey: 'post-purchase', journey_key: 'outbox-42-thank-you' },
      TemplateAlias: 'thank-you',
      TemplateModel: { first_name: 'Jana', order_total: 1290.5, vip: true, coupon: null },
    });
  });

  it('sends a numeric template id as TemplateId', async () => {
    await provider.send(emailMessage({ template: { id: '3614701', subject: null, body: null } }));
    expect(server.requests.at(-1)!.json()).toMatchObject({ TemplateId: 3614701 });
    expect(server.requests.at(-1)!.json()).not.toHaveProperty('TemplateAlias');
  });

  it('sends subject and body to /email without a template', async () => {
    await provider.send(emailMessage({ template: { id: null, subject: 'Hi {{first_name}}', body: 'Thanks for order {{order_total}}' } }));
    const req = server.requests.at(-1)!;
    expect(req.path).toBe('/email');
    expect(req.json()).toMatchObject({ Subject: 'Hi Jana', TextBody: 'Thanks for order 1290.5' });
  });

  it('records a 200 without a MessageID as sent under the key (sending again would send twice)', async () => {
    server.handle(() => ({ status: 200, body: { ErrorCode: 0, Message: 'OK' } }));
    expect(await provider.send(emailMessage())).toEqual({ kind: 'sent', providerMessageId: 'outbox-42-thank-you', status: 200 });
    server.handle(ok);
  });
});
