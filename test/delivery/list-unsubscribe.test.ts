/**
 * links.list_unsubscribe: each e-mail carries its customer's signed unsubscribe link in
 * its List-Unsubscribe header (and List-Unsubscribe-Post for one-click, RFC 8058), so
 * that the inbox shows its own unsubscribe button. End to end: `journey run --once`
 * against a SendGrid stand-in on 127.0.0.1, reading the request bodies it received
 * (checked against SendGrid's OpenAPI description); the other e-mail providers' bodies
 * from their modules.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createProvider } from '../../src/delivery/providers/index.js';
import { config, emailMessage, ENV } from './helpers/fixtures.js';
import { journeyAt } from '../helpers/spawn.js';
import { BASE_CONFIG, Shop, journey } from '../engine/helpers/shop.js';
import { requestValidator } from './helpers/openapi.js';
import { startServer, type FakeServer } from './helpers/server.js';

const T0 = '2026-03-02T12:00:00Z';
const SECRET = 'test-link-secret'; // vitest.config.ts gives the tests' processes JOURNEY_LINK_SECRET
const signed = (id: string) => `https://shop.test/unsubscribe?c=${id}&t=${createHmac('sha256', SECRET).update(id).digest('hex')}`;
const validateSendgrid = requestValidator('sendgrid_mail_v3.json', '/v3/mail/send', 'post', 'application/json');

let shop: Shop | undefined;
let server: FakeServer | undefined;
afterEach(async () => {
  shop?.close();
  shop = undefined;
  await server?.close();
  server = undefined;
});

const HELLO = journey('hello', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: mail
    send: { channel: email, template: welcome }
  - id: text
    send: { channel: sms, template: nudge-sms }
`);
const WELCOME = `---
channel: email
subject: "Welcome, {{ customer.first_name | default: 'friend' }}"
---
<p>Hello {{ customer.first_name | default: 'there' }}</p><p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>
`;
const CUSTOMERS = ['ann,ann@shop.test,+420601000001,Ann,2025-01-01T00:00:00Z,,yes,yes', 'bob,bob@shop.test,+420601000002,Bob,2025-01-01T00:00:00Z,,yes,yes'];

async function sent(listUnsubscribe: string | null): Promise<{ status: number | null; stderr: string; mails: { to: string; headers: unknown; body: unknown }[]; texts: number }> {
  // a stand-in answering as SendGrid (202) and Twilio (201) do
  let n = 0;
  server = await startServer((req) => {
    n++;
    if (req.path === '/v3/mail/send') return { status: 202, headers: { 'x-message-id': `sg-${n}` } };
    if (req.path.endsWith('/Messages.json')) return { status: 201, body: { sid: `SM${String(n).padStart(32, '0')}`, status: 'queued' } };
    return { status: 404 };
  });
  const links = `links: { unsubscribe: "https://shop.test/unsubscribe", secret: "\${JOURNEY_LINK_SECRET}"${listUnsubscribe ? `, list_unsubscribe: ${listUnsubscribe}` : ''} }\n`;
  shop = await Shop.create({ configText: BASE_CONFIG(links).replace(/\{ type: (sendgrid|twilio),/g, `{ type: $1, url: "${server.url}",`), journeys: { hello: HELLO }, templateFiles: { 'welcome.liquid': WELCOME }, customers: CUSTOMERS });
  shop.db.close();
  const r = await journeyAt(shop.dir, T0, ['run', '--once'], { env: { SENDGRID_API_KEY: 'SG.test', TWILIO_AUTH_TOKEN: 'tw-test' } });
  const mails = server.requests
    .filter((q) => q.path === '/v3/mail/send')
    .map((q) => ({ to: q.json().personalizations[0].to[0].email as string, headers: q.json().personalizations[0].headers, body: q.json() }))
    .sort((a, b) => a.to.localeCompare(b.to));
  return { status: r.status, stderr: r.stderr, mails, texts: server.requests.filter((q) => q.path.endsWith('/Messages.json')).length };
}

describe('List-Unsubscribe', () => {
  it('one-click: every e-mail carries its own customer\'s signed link and List-Unsubscribe-Post, in a body SendGrid\'s description accepts; the SMS carries none', async () => {
    const r = await sent('one-click');
    expect(r.status, r.stderr).toBe(0);
    expect(r.mails.map((m) => [m.to, m.headers])).toEqual([
      ['ann@shop.test', { 'List-Unsubscribe': `<${signed('ann')}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }],
      ['bob@shop.test', { 'List-Unsubscribe': `<${signed('bob')}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }],
    ]);
    for (const m of r.mails) expect(validateSendgrid(m.body)).toEqual([]);
    expect(r.texts).toBe(2);
  });

  it('link: the header alone; without the setting, no header', async () => {
    expect((await sent('link')).mails.map((m) => m.headers)).toEqual([{ 'List-Unsubscribe': `<${signed('ann')}>` }, { 'List-Unsubscribe': `<${signed('bob')}>` }]);
    shop!.close();
    shop = undefined;
    await server!.close();
    expect((await sent(null)).mails.map((m) => m.headers)).toEqual([undefined, undefined]);
  });

  it('validate: list_unsubscribe needs the unsubscribe page, and takes one-click or link', async () => {
    const cases = [
      ['links: { secret: "${JOURNEY_LINK_SECRET}", list_unsubscribe: one-click }', /journey\.config\.yaml:3:\d+ error list_unsubscribe needs the unsubscribe page the header links to/],
      ['links: { unsubscribe: "https://shop.test/u", secret: "${JOURNEY_LINK_SECRET}", list_unsubscribe: always }', /journey\.config\.yaml:3:\d+ error 'always' is not one of: one-click, link/],
    ] as const;
    for (const [links, message] of cases) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-list-unsubscribe-'));
      writeFileSync(path.join(dir, 'journey.config.yaml'), `version: 1\ntimezone: UTC\n${links}\n`);
      const v = await journeyAt(dir, T0, ['validate']);
      expect(v.status).toBe(1);
      expect(v.stdout + v.stderr).toMatch(message);
    }
  });

  it('Postmark, Mailgun and a webhook put the headers where each takes headers', async () => {
    const headers = { 'List-Unsubscribe': `<${signed('ann')}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
    const message = emailMessage({ to: 'ann@shop.test', template: { id: null, subject: null, body: null }, content: { subject: 'Welcome, Ann', preheader: null, html: '<p>Hello Ann</p>', text: 'Hello Ann', body: null }, headers });
    const postmark = createProvider(config('postmark', { server_token: '${POSTMARK_SERVER_TOKEN}', from: 'shop@shop.test' }), ENV);
    const mailgun = createProvider(config('mailgun', { api_key: '${MAILGUN_API_KEY}', domain: 'mg.shop.test', from: 'shop@shop.test' }), ENV);
    const webhook = createProvider(config('webhook', { url: 'https://hooks.shop.test/mail', signing_secret: '${WEBHOOK_SIGNING_SECRET}' }), ENV);
    const body = (p: typeof postmark) => {
      const r = p.request!(message);
      if ('error' in r) throw new Error(r.error);
      return r.body;
    };
    expect(JSON.parse(body(postmark)).Headers).toEqual([
      { Name: 'List-Unsubscribe', Value: headers['List-Unsubscribe'] },
      { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
    ]);
    const form = new URLSearchParams(body(mailgun));
    expect([form.get('h:List-Unsubscribe'), form.get('h:List-Unsubscribe-Post')]).toEqual([headers['List-Unsubscribe'], 'List-Unsubscribe=One-Click']);
    expect(JSON.parse(body(webhook)).headers).toEqual(headers);
    await Promise.all([postmark.close(), mailgun.close(), webhook.close()]);
  });
});
