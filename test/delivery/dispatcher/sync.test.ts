/**
 * A journey's sync step writes an outbox row on the 'sync' channel; the dispatcher
 * turns it into the provider's profile and event calls (Klaviyo here), under the
 * row's key, and records the outcome like any message.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../../src/delivery/dispatcher.js';
import { ENV } from '../helpers/fixtures.js';
import { startServer, type FakeServer } from '../helpers/server.js';
import { insertRows, projectConfig, rows, storeAt } from './helpers.js';

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('sync rows', () => {
  it('go to Klaviyo as a profile import and an event keyed by the row', async () => {
    const server = await startServer(() => ({ status: 202, body: {} }));
    servers.push(server);
    const db = storeAt();
    insertRows(db, 2, {
      provider: 'klaviyo',
      channel: 'sync',
      template: '',
      payload: (i) => ({ customer_id: `c${i}`, email: `user${i}@example.test`, profile: { journey_segment: 'new_multi_buyers' }, event: 'entered_flow', properties: { step: 'mark' } }),
    });
    const config = projectConfig([{ name: 'klaviyo', type: 'klaviyo', settings: { api_key: '${KLAVIYO_API_KEY}', url: server.url } }]);
    const report = await dispatch(db, config, ENV);
    expect(report.sent).toBe(2);
    const paths = server.requests.map((r) => r.path).sort();
    expect(paths).toEqual(['/api/events', '/api/events', '/api/profile-import', '/api/profile-import']);
    const event = server.requests.find((r) => r.path === '/api/events')!.json();
    expect(event.data.attributes.unique_id).toMatch(/^j:[01]:klaviyo$/);
    expect(event.data.attributes.metric.data.attributes.name).toBe('entered_flow');
    expect(rows(db).every((r) => r.status === 'sent')).toBe(true);
    db.close();
  });

  it('to a provider that cannot sync fail for good, with the reason', async () => {
    const server = await startServer(() => ({ status: 202, headers: { 'x-message-id': 'x' } }));
    servers.push(server);
    const db = storeAt();
    insertRows(db, 1, { provider: 'sendgrid', channel: 'sync', template: '', payload: () => ({ customer_id: 'c0', profile: { a: 1 } }) });
    const config = projectConfig([{ name: 'sendgrid', type: 'sendgrid', settings: { api_key: '${SENDGRID_API_KEY}', from: 'shop@shop.test', url: server.url } }]);
    const report = await dispatch(db, config, ENV);
    expect(report.failed).toBe(1);
    expect(rows(db)[0]).toMatchObject({ status: 'failed', last_error: expect.stringMatching(/cannot sync/) });
    expect(server.requests).toHaveLength(0);
    db.close();
  });
});
