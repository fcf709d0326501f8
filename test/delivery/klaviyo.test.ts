import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProvider } from '../../src/delivery/providers/index.js';
import type { Provider, SyncRequest } from '../../src/delivery/message.js';
import { config, emailMessage, ENV, SECRETS } from './helpers/fixtures.js';
import { providerBehaviour } from './helpers/provider-suite.js';
import { startServer, type FakeServer, type Recorded, type Reply } from './helpers/server.js';

const PROFILE_ID = '01GDDKASAP8TKDDA2GRZDSVP4H';
const klaviyo = (req: Recorded): Reply =>
  req.path === '/api/profile-import'
    ? { status: 201, body: { data: { type: 'profile', id: PROFILE_ID, attributes: req.json().data.attributes } } }
    : { status: 202 };

const make = (url: string, extra: Record<string, unknown> = {}, timeoutMs?: number) =>
  createProvider(config('klaviyo', { api_key: '${KLAVIYO_API_KEY}', url, ...extra }), ENV, { timeoutMs });

const jsonApiError = (status: number, code: string, title: string, detail: string, pointer: string) => ({
  errors: [{ id: '7a4b1e5c-2d3f-4e6a-9b8c-0d1e2f3a4b5c', status, code, title, detail, source: { pointer }, meta: {} }],
});

providerBehaviour({
  label: 'klaviyo',
  make: (url, o) => make(url, o.concurrency ? { concurrency: o.concurrency } : {}, o.timeoutMs),
  message: emailMessage(),
  path: /^\/api\/(events|profile-import)$/,
  success: klaviyo,
  expectedId: 'outbox-42-thank-you',
  errors: [
    { status: 400, body: jsonApiError(400, 'invalid', 'Invalid input.', "'email' is not a valid email address.", '/data/attributes/profile/data/attributes/email'), kind: 'permanent', text: /invalid: 'email' is not a valid email address\. \(\/data\/attributes\/profile/ },
    { status: 401, body: jsonApiError(401, 'not_authenticated', 'Authentication credentials were not provided.', 'Missing or invalid private key.', '/data/'), kind: 'permanent', text: /not_authenticated: Missing or invalid private key/ },
    { status: 403, body: jsonApiError(403, 'permission_denied', 'You do not have permission to perform this action.', 'This API key is missing required scopes.', '/data/'), kind: 'permanent', text: /permission_denied/ },
  ],
  tooMany: jsonApiError(429, 'throttled', 'Request was throttled.', 'Request was throttled. Expected available in 7 seconds.', '/data/'),
});

describe('klaviyo: sync', () => {
  let server: FakeServer;
  let provider: Provider;
  beforeAll(async () => {
    server = await startServer(klaviyo);
    provider = make(server.url);
  });
  afterAll(async () => {
    await provider.close();
    await server.close();
  });

  const request: SyncRequest = {
    idempotencyKey: 'sync-42-multi-buyer',
    customer: { id: 'cust-42', email: 'jana@example.test', phone: '+420777123456' },
    profile: { multi_buyer: true, orders: 3 },
    event: { name: 'Became Multi Buyer', properties: { orders: 3 } },
  };

  it('imports the profile, then creates the event with the key as unique_id, with the pinned revision', async () => {
    const before = server.requests.length;
    const outcome = await provider.sync!(request);
    expect(outcome).toEqual({ kind: 'sent', providerMessageId: 'sync-42-multi-buyer', status: 202 });
    const [profile, event] = server.requests.slice(before);
    for (const req of [profile!, event!]) {
      expect(req.headers.authorization).toBe(`Klaviyo-API-Key ${SECRETS.KLAVIYO_API_KEY}`);
      expect(req.headers.revision).toBe('2024-10-15');
      expect(req.headers.accept).toBe('application/vnd.api+json');
      expect(req.headers['content-type']).toBe('application/vnd.api+json');
    }
    expect(profile!.path).toBe('/api/profile-import');
    expect(profile!.json()).toEqual({
      data: { type: 'profile', attributes: { external_id: 'cust-42', email: 'jana@example.test', phone_number: '+420777123456', properties: { multi_buyer: true, orders: 3 } } },
    });
    expect(event!.path).toBe('/api/events');
    expect(event!.json()).toEqual({
      data: {
        type: 'event',
        attributes: {
          properties: { orders: 3 },
          unique_id: 'sync-42-multi-buyer',
          metric: { data: { type: 'metric', attributes: { name: 'Became Multi Buyer' } } },
          profile: { data: { type: 'profile', attributes: { external_id: 'cust-42', email: 'jana@example.test', phone_number: '+420777123456' } } },
        },
      },
    });
  });

  it('returns the profile id for a profile-only sync', async () => {
    expect(await provider.sync!({ ...request, event: undefined })).toEqual({ kind: 'sent', providerMessageId: PROFILE_ID, status: 201 });
  });

  it('stops after a failed profile import, so the retry repeats both idempotent halves', async () => {
    server.handle((req) => (req.path === '/api/profile-import' ? { status: 503, body: 'unavailable' } : { status: 202 }));
    const before = server.requests.length;
    expect(await provider.sync!(request)).toMatchObject({ kind: 'retry', status: 503 });
    expect(server.requests.length - before).toBe(1);
    server.handle(klaviyo);
  });

  it('refuses an empty sync without calling Klaviyo', async () => {
    const before = server.requests.length;
    expect(await provider.sync!({ idempotencyKey: 'x', customer: { id: 'c', email: null, phone: null } })).toMatchObject({ kind: 'permanent' });
    expect(server.requests.length).toBe(before);
  });
});
