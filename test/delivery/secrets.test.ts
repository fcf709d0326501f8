/**
 * No secret value may reach an error, an outcome or the console: not when a
 * provider echoes our credentials back in its error body, not on network errors,
 * not when a variable is missing, not when a webhook is refused.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { JourneyError } from '../../src/errors.js';
import type { Provider } from '../../src/delivery/message.js';
import { createProvider } from '../../src/delivery/providers/index.js';
import { createWebhookVerifier, WebhookError } from '../../src/delivery/webhooks/index.js';
import { ACCOUNT_SID, config, emailMessage, ENV, SECRETS, smsMessage } from './helpers/fixtures.js';
import { startServer, type FakeServer } from './helpers/server.js';

const SECRET_VALUES = Object.values(SECRETS);
/** Raw values, and the base64 forms they take in basic-auth headers. */
const FORBIDDEN = [
  ...SECRET_VALUES,
  Buffer.from(`api:${SECRETS.MAILGUN_API_KEY}`).toString('base64'),
  Buffer.from(`${ACCOUNT_SID}:${SECRETS.TWILIO_AUTH_TOKEN}`).toString('base64'),
  Buffer.from(SECRETS.POSTMARK_WEBHOOK_AUTH).toString('base64'),
];

function expectNoSecret(text: string): void {
  for (const secret of FORBIDDEN) expect(text).not.toContain(secret);
}

function describeAll(value: unknown): string {
  if (value instanceof Error) return [value.name, value.message, value.stack, JSON.stringify(value), describeAll((value as { cause?: unknown }).cause), String((value as JourneyError).hint ?? '')].join('\n');
  return JSON.stringify(value) ?? String(value);
}

let output = '';
beforeEach(() => {
  output = '';
  const capture = (chunk: unknown) => {
    output += String(chunk);
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void capture(args.join(' ')));
});
afterEach(() => {
  vi.restoreAllMocks();
  expectNoSecret(output);
});

describe('secrets stay out of errors and output', () => {
  let server: FakeServer;
  let providers: Array<[string, Provider, () => Promise<unknown>]>;
  beforeAll(async () => {
    server = await startServer(() => ({ status: 500 }));
    const url = server.url;
    const make = (type: Parameters<typeof config>[0], settings: Record<string, unknown>) => createProvider(config(type, { url, ...settings }), ENV, { timeoutMs: 300 });
    const sg = make('sendgrid', { api_key: '${SENDGRID_API_KEY}', from: 'a@shop.test' });
    const pm = make('postmark', { server_token: '${POSTMARK_SERVER_TOKEN}', from: 'a@shop.test' });
    const mg = make('mailgun', { api_key: '${MAILGUN_API_KEY}', domain: 'mg.shop.test', from: 'a@shop.test' });
    const tw = make('twilio', { account_sid: ACCOUNT_SID, auth_token: '${TWILIO_AUTH_TOKEN}', from: '+420700000000' });
    const kl = make('klaviyo', { api_key: '${KLAVIYO_API_KEY}' });
    const wh = createProvider(config('webhook', { url: `${url}/hook`, signing_secret: '${WEBHOOK_SIGNING_SECRET}', headers: { Authorization: 'Bearer ${WEBHOOK_TOKEN}' } }), ENV, { timeoutMs: 300 });
    providers = [
      ['sendgrid', sg, () => sg.send(emailMessage())],
      ['postmark', pm, () => pm.send(emailMessage())],
      ['mailgun', mg, () => mg.send(emailMessage())],
      ['twilio', tw, () => tw.send(smsMessage())],
      ['klaviyo', kl, () => kl.sync!({ idempotencyKey: 'k', customer: { id: 'c', email: 'a@b.test', phone: null }, profile: { a: 1 }, event: { name: 'E', properties: {} } })],
      ['webhook', wh, () => wh.send(smsMessage())],
    ];
  });
  afterAll(async () => {
    await Promise.all(providers.map(([, p]) => p.close()));
    await server.close();
  });

  for (const status of [400, 401, 422, 429, 500]) {
    it(`a provider that echoes our credentials in a ${status} body does not leak them`, async () => {
      server.handle((req) => {
        // The worst case: every header and the whole request, in JSON and in plain text.
        const echo = `${JSON.stringify(req.headers)} ${req.text}`;
        const body = { errors: [{ message: echo, detail: echo, field: null }], message: echo, Message: echo, ErrorCode: 10, code: 20003, error: echo };
        return { status, body };
      });
      for (const [name, , run] of providers) {
        const outcome = await run();
        expect(outcome, name).toMatchObject({ kind: status === 429 || status === 500 ? 'retry' : 'permanent' });
        expectNoSecret(describeAll(outcome));
      }
    });
  }

  it('plain-text echoes and network failures do not leak them either', async () => {
    server.handle((req) => ({ status: 403, body: `denied for ${String(req.headers.authorization)} ${String(req.headers['x-postmark-server-token'])}` }));
    for (const [, , run] of providers) expectNoSecret(describeAll(await run()));
    server.handle(() => ({ action: 'reset' }));
    for (const [, , run] of providers) expectNoSecret(describeAll(await run()));
  });

  it('a missing variable names the variable and the provider, never a value', () => {
    const env = { ...ENV };
    delete env.TWILIO_AUTH_TOKEN;
    let error: unknown;
    try {
      createProvider(config('twilio', { account_sid: ACCOUNT_SID, auth_token: '${TWILIO_AUTH_TOKEN}', from: '+420700000000' }, 'sms-gateway'), env);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(JourneyError);
    expect((error as Error).message).toMatch(/TWILIO_AUTH_TOKEN/);
    expect((error as Error).message).toMatch(/sms-gateway/);
    expectNoSecret(describeAll(error));
  });

  it('every provider type fails on a missing variable with a JourneyError', () => {
    const cases: Array<[Parameters<typeof config>[0], Record<string, unknown>]> = [
      ['sendgrid', { api_key: '${MISSING_A}', from: 'a@b.test' }],
      ['postmark', { server_token: '${MISSING_A}', from: 'a@b.test' }],
      ['mailgun', { api_key: '${MISSING_A}', domain: 'd', from: 'a@b.test' }],
      ['klaviyo', { api_key: '${MISSING_A}' }],
      ['webhook', { url: 'http://127.0.0.1:1/', signing_secret: '${MISSING_A}' }],
    ];
    for (const [type, settings] of cases) {
      expect(() => createProvider(config(type, settings, `p-${type}`), ENV), type).toThrow(new RegExp(`MISSING_A is not set \\(provider 'p-${type}'`));
    }
  });

  it('refused webhooks say why without the secret', () => {
    const pm = createWebhookVerifier(config('postmark', { signing_secret: '${POSTMARK_WEBHOOK_AUTH}' }), ENV, { seen: () => false });
    const tw = createWebhookVerifier(config('twilio', { account_sid: ACCOUNT_SID, auth_token: '${TWILIO_AUTH_TOKEN}' }), ENV, { seen: () => false });
    const mg = createWebhookVerifier(config('mailgun', { signing_secret: '${MAILGUN_SIGNING_KEY}' }), ENV, { seen: () => false });
    const attempts = [
      () => pm.verify({ rawBody: Buffer.from('{}'), headers: { authorization: 'Basic d3Jvbmc6d3Jvbmc=' }, url: 'http://x/' }),
      () => tw.verify({ rawBody: Buffer.from('MessageSid=SM1&MessageStatus=delivered'), headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'AAAA' }, url: 'http://x/' }),
      () => mg.verify({ rawBody: Buffer.from(JSON.stringify({ signature: { timestamp: '1', token: 't', signature: 'ff' }, 'event-data': { event: 'delivered' } })), headers: {}, url: 'http://x/' }),
    ];
    for (const attempt of attempts) {
      let error: unknown;
      try {
        attempt();
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(WebhookError);
      expect((error as WebhookError).status).toBe(401);
      expectNoSecret(describeAll(error));
    }
  });
});
