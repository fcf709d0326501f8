/**
 * Batch sending through the dispatcher, against real servers on 127.0.0.1: many
 * messages per request where the provider takes them (SendGrid personalizations,
 * Postmark /email/batchWithTemplates; not Mailgun, below), each with its own key and
 * its own outcome, and rate limits that count messages as well as requests.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dispatch } from '../../../src/delivery/dispatcher.js';
import { config, ENV } from '../helpers/fixtures.js';
import { requestValidator } from '../helpers/openapi.js';
import { startServer, type FakeServer, type Recorded, type Reply } from '../helpers/server.js';
import { insertRows, projectConfig, rows, storeAt } from './helpers.js';

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function server(handler: (req: Recorded) => Reply | Promise<Reply>): Promise<FakeServer> {
  const s = await startServer(handler);
  servers.push(s);
  return s;
}

const validateSendgrid = requestValidator('sendgrid_mail_v3.json', '/v3/mail/send', 'post', 'application/json');

describe('batch sending', () => {
  it('SendGrid: one request per batch, a personalization per message with its own key and data', async () => {
    let n = 0;
    const s = await server(() => ({ status: 202, headers: { 'x-message-id': `batch-${++n}` } }));
    const db = storeAt();
    insertRows(db, 250, { provider: 'sg' });
    const cfg = projectConfig([config('sendgrid', { api_key: '${SENDGRID_API_KEY}', from: 'shop@shop.test', url: s.url, batch_size: 100, concurrency: 2 }, 'sg')]);
    const report = await dispatch(db, cfg, ENV);
    expect(report).toMatchObject({ sent: 250, requests: 3 });
    expect(s.requests.map((r) => r.json().personalizations.length).sort((a, b) => a - b)).toEqual([50, 100, 100]);
    for (const req of s.requests) expect(validateSendgrid(req.json())).toEqual([]);
    const first = s.requests.map((r) => r.json()).find((b) => b.personalizations.some((p: { custom_args: { journey_key: string } }) => p.custom_args.journey_key === 'j:7:sg'));
    expect(first.template_id).toBe('d-welcome');
    expect(first.personalizations.find((p: { custom_args: { journey_key: string } }) => p.custom_args.journey_key === 'j:7:sg')).toEqual({
      to: [{ email: 'user7@example.test' }],
      custom_args: { journey: 'j', step: 'send', journey_key: 'j:7:sg' },
      dynamic_template_data: { subject: 'Hello N7', first_name: 'N7', coupon: 'C7' },
    });
    const ids = new Set(rows(db).map((r) => r.provider_message_id));
    expect(rows(db).every((r) => r.status === 'sent')).toBe(true);
    expect(ids.size).toBe(3);
    db.close();
  });

  it('SendGrid: with list_unsubscribe each personalization of a batch carries its own recipient\'s List-Unsubscribe', async () => {
    const s = await server(() => ({ status: 202, headers: { 'x-message-id': 'batch' } }));
    const db = storeAt();
    const link = (i: number) => `https://shop.test/unsubscribe?c=c${i}&t=sig${i}`;
    insertRows(db, 3, { provider: 'sg', payload: (i) => ({ first_name: `N${i}`, unsubscribe_url: link(i) }) });
    const base = projectConfig([config('sendgrid', { api_key: '${SENDGRID_API_KEY}', from: 'shop@shop.test', url: s.url, batch_size: 10 }, 'sg')]);
    const cfg = { ...base, links: { unsubscribe: 'https://shop.test/unsubscribe', preferences: null, secret: '${JOURNEY_LINK_SECRET}', listUnsubscribe: 'one-click' as const } };
    expect(await dispatch(db, cfg, ENV)).toMatchObject({ sent: 3, requests: 1 });
    const body = s.requests[0]!.json();
    expect(validateSendgrid(body)).toEqual([]);
    expect(body.personalizations.map((p: { to: { email: string }[]; headers: unknown }) => [p.to[0]!.email, p.headers])).toEqual(
      [0, 1, 2].map((i) => [`user${i}@example.test`, { 'List-Unsubscribe': `<${link(i)}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }]),
    );
    db.close();
  });

  it('SendGrid: a batch refused for one bad address goes again message by message, so only that one fails', async () => {
    const s = await server((req) => {
      const ps = req.json().personalizations as { to: { email: string }[] }[];
      if (ps.some((p) => p.to[0]!.email === 'user3@example.test')) return { status: 400, body: { errors: [{ message: 'Does not contain a valid address.', field: 'personalizations.3.to.0.email' }] } };
      return { status: 202, headers: { 'x-message-id': `ok-${ps.length}` } };
    });
    const db = storeAt();
    insertRows(db, 5, { provider: 'sg' });
    const cfg = projectConfig([config('sendgrid', { api_key: '${SENDGRID_API_KEY}', from: 'shop@shop.test', url: s.url, batch_size: 5, concurrency: 1 }, 'sg')]);
    const report = await dispatch(db, cfg, ENV);
    expect(report).toMatchObject({ sent: 4, failed: 1, requests: 6 });
    expect(rows(db).map((r) => r.status)).toEqual(['sent', 'sent', 'sent', 'failed', 'sent']);
    db.close();
  });

  it('a batch in doubt is asked about message by message, and what the provider lacks goes again in one batch', async () => {
    // The first request times out after the provider took half of it (as a real one might, mid-way).
    const accepted = new Map<string, string>();
    let posts = 0;
    const s = await server((req) => {
      if (req.method === 'GET') {
        const key = /journey_key'\]="(.*)"/.exec(new URL(req.path, 'http://x').searchParams.get('query') ?? '')?.[1] ?? '';
        return { status: 200, body: { messages: accepted.has(key) ? [{ msg_id: `${accepted.get(key)}.f1` }] : [] } };
      }
      posts++;
      const keys = (req.json().personalizations as { custom_args: { journey_key: string } }[]).map((p) => p.custom_args.journey_key);
      if (posts === 1) {
        for (const k of keys.slice(0, 5)) accepted.set(k, 'first');
        return { action: 'hang' };
      }
      for (const k of keys) accepted.set(k, `again-${posts}`);
      return { status: 202, headers: { 'x-message-id': `again-${posts}` } };
    });
    const db = storeAt();
    insertRows(db, 10, { provider: 'sg' });
    const cfg = projectConfig([config('sendgrid', { api_key: '${SENDGRID_API_KEY}', from: 'shop@shop.test', url: s.url, batch_size: 10, timeout: 0.3, reconcile_after: 0 }, 'sg')]);
    const report = await dispatch(db, cfg, ENV, { settleWithinMs: 2_000 });
    expect(report).toMatchObject({ sent: 10, reconciled: 5, resent: 5, inDoubt: 0 });
    const postsMade = s.requests.filter((r) => r.method === 'POST').map((r) => r.json().personalizations.length);
    expect(postsMade).toEqual([10, 5]);
    expect(s.requests.filter((r) => r.method === 'GET')).toHaveLength(10);
    expect(rows(db).map((r) => r.provider_message_id)).toEqual([...Array(5).fill('first'), ...Array(5).fill('again-2')]);
    db.close();
  });

  it('Postmark: batchWithTemplates answers per message, and a refused one fails alone with its error', async () => {
    const s = await server((req) => {
      const messages = req.json().Messages as { To: string; TemplateAlias: string; Metadata: { journey_key: string } }[];
      return {
        status: 200,
        body: messages.map((m, i) =>
          m.To === 'user2@example.test'
            ? { ErrorCode: 406, Message: "You tried to send to a recipient that has been marked as inactive.", To: m.To }
            : { ErrorCode: 0, Message: 'OK', MessageID: `pm-${i}-${m.Metadata.journey_key}`, To: m.To },
        ),
      };
    });
    const db = storeAt();
    insertRows(db, 4, { provider: 'pm' });
    const cfg = projectConfig([config('postmark', { server_token: '${POSTMARK_SERVER_TOKEN}', from: 'shop@shop.test', url: s.url, batch_size: 10 }, 'pm')]);
    const report = await dispatch(db, cfg, ENV);
    expect(report).toMatchObject({ sent: 3, failed: 1, requests: 1 });
    expect(s.requests.map((r) => r.path)).toEqual(['/email/batchWithTemplates']);
    expect(s.requests[0]!.json().Messages[1]).toMatchObject({ To: 'user1@example.test', TemplateAlias: 'd-welcome', TemplateModel: { first_name: 'N1' }, Metadata: { journey_key: 'j:1:pm' } });
    expect(rows(db).map((r) => [r.status, r.provider_message_id ?? r.last_error])).toEqual([
      ['sent', 'pm-0-j:0:pm'],
      ['sent', 'pm-1-j:1:pm'],
      ['failed', expect.stringMatching(/^Postmark 406: You tried to send to a recipient that has been marked as inactive\. \(in a batch of 4, message 3\)$/)],
      ['sent', 'pm-3-j:3:pm'],
    ]);
    db.close();
  });

  it('Mailgun: one request a message whatever batch_size, each with its own variables as t:variables', async () => {
    // Mailgun's batches personalise through recipient-variables, which a stored template reads
    // under recipient. only: the template a single message fills could not fill a batch
    let n = 0;
    const s = await server(() => ({ status: 200, body: { id: `<m-${++n}@mg.shop.test>`, message: 'Queued. Thank you.' } }));
    const db = storeAt();
    insertRows(db, 3, { provider: 'mg' });
    const cfg = projectConfig([config('mailgun', { api_key: '${MAILGUN_API_KEY}', domain: 'mg.shop.test', from: 'shop@shop.test', url: s.url, batch_size: 10, concurrency: 1 }, 'mg')]);
    const report = await dispatch(db, cfg, ENV);
    expect(report).toMatchObject({ sent: 3, requests: 3 });
    const forms = s.requests.map((r) => r.form());
    expect(forms.map((f) => [f.to, f['v:journey_key'], f['t:variables'], f['recipient-variables'], f['h:X-Mailgun-Variables']])).toEqual(
      [0, 1, 2].map((i) => [`user${i}@example.test`, `j:${i}:mg`, JSON.stringify({ first_name: `N${i}`, coupon: `C${i}` }), undefined, undefined]),
    );
    expect(new Set(rows(db).map((r) => r.provider_message_id)).size).toBe(3);
    db.close();
  });

  it('a message rate limit counts every message of a batch', async () => {
    const s = await server(() => ({ status: 202, headers: { 'x-message-id': 'x' } }));
    const db = storeAt();
    insertRows(db, 60, { provider: 'sg' });
    const cfg = projectConfig([config('sendgrid', { api_key: '${SENDGRID_API_KEY}', from: 'shop@shop.test', url: s.url, batch_size: 20, message_rate_limit: 40, concurrency: 4 }, 'sg')]);
    const started = Date.now();
    const report = await dispatch(db, cfg, ENV);
    expect(report).toMatchObject({ sent: 60, requests: 3 });
    // 60 messages at 40/s with a burst of 40: at least (60 - 40) / 40 s, though only 3 requests
    expect(Date.now() - started).toBeGreaterThanOrEqual(450);
    db.close();
  });
});
