/**
 * `journey send-test` end to end: the built CLI against a real HTTP stand-in for
 * SendGrid and Twilio on 127.0.0.1. One message per send step and split variant,
 * to the test address, filled with the real customer's data; nobody enrolled.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { journeyAt } from '../helpers/spawn.js';
import { startServer, type FakeServer } from '../delivery/helpers/server.js';
import { BASE_CONFIG, Shop, journey } from './helpers/shop.js';

const NOW = '2026-03-02T12:00:00Z';

let shop: Shop | undefined;
let server: FakeServer | undefined;
afterEach(async () => {
  shop?.close();
  shop = undefined;
  await server?.close();
  server = undefined;
});

const cli = (dir: string, ...args: string[]) => journeyAt(dir, NOW, args, { env: { SENDGRID_API_KEY: 'SG.test', TWILIO_AUTH_TOKEN: 'tw-test', KLAVIYO_API_KEY: 'pk_test' } });

const J = journey('ab', `
trigger: { segment: everyone }
steps:
  - id: hello
    send: { channel: email, template: hello, coupon: ten }
  - id: pick
    split:
      variants:
        - name: a
          weight: 50
          then:
            - id: offer_a
              send: { channel: email, template: followup }
        - name: b
          weight: 50
          then: offer_b
  - id: nudge
    send: { channel: sms, template: nudge-sms }
  - id: done
    exit: { reason: tested }
  - id: offer_b
    send: { channel: email, template: third }
    next: nudge
`);

async function setUp(reply: (path: string) => { status: number; headers?: Record<string, string>; body?: object }): Promise<Shop> {
  server = await startServer((req) => reply(req.path));
  const s = await Shop.create({
    configText: BASE_CONFIG().replace(/\{ type: (sendgrid|twilio|klaviyo),/g, `{ type: $1, url: "${server.url}",`),
    journeys: { ab: J },
    customers: ['ann,ann@shop.test,+420601000001,Ann,2025-01-01T00:00:00Z,,yes,yes'],
  });
  s.db.close();
  return s;
}

const accept = (p: string) =>
  p === '/v3/mail/send' ? { status: 202, headers: { 'x-message-id': 'sg-1' } } : { status: 201, body: { sid: 'SM00000000000000000000000000000001', status: 'queued' } };

describe('journey send-test', () => {
  it('sends every send step and split variant, rendered for the customer, to the test addresses only; enrols nobody', async () => {
    shop = await setUp(accept);
    const r = await cli(shop.dir, 'send-test', 'ab', '--customer', 'ann', '--to', 'team@shop.test', '--to', '+420700000099');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('4 of 4 test messages of ab for customer ann accepted by the provider');
    expect(r.stdout).toContain('offer_a (pick/a)  email followup via sendgrid → team@shop.test (sg-1)');
    expect(r.stdout).toContain('offer_b (pick/b)  email third via sendgrid → team@shop.test (sg-1)');
    expect(r.stdout).toContain('nudge  sms nudge-sms via twilio → +420700000099');

    const mails = server!.requests.filter((q) => q.path === '/v3/mail/send').map((q) => q.json().personalizations[0]);
    expect(mails.map((p) => [p.to.map((t: { email: string }) => t.email), p.dynamic_template_data.customer.first_name, p.dynamic_template_data.step.id])).toEqual([
      [['team@shop.test'], 'Ann', 'hello'],
      [['team@shop.test'], 'Ann', 'offer_a'],
      [['team@shop.test'], 'Ann', 'offer_b'],
    ]);
    expect(mails[0].dynamic_template_data.coupon.code).toBe('TEST-TEN-SAMPLE');
    // the sample code expires when a code issued to the customer now would (valid_for: 30d): the team reads the customer's sentence, not a gap
    expect(mails[0].dynamic_template_data.coupon.expires_at).toBe('2026-04-01T12:00:00.000Z');
    const sms = server!.requests.filter((q) => /Messages\.json$/.test(q.path)).map((q) => q.form());
    expect(sms.map((f) => [f.To, f.Body])).toEqual([['+420700000099', 'Hi Ann']]);

    const inspect = await cli(shop.dir, 'inspect', 'ann', '--json');
    expect(JSON.parse(inspect.stdout).journeys).toEqual([]);
    // and it wrote no outbox row: the dispatcher will send nothing more
    const outbox = await cli(shop.dir, 'outbox', '--status', 'pending,sent,failed,dead', '--json');
    expect(outbox.status, outbox.stderr).toBe(0);
    expect(JSON.parse(outbox.stdout).rows).toEqual([]);
  });

  it('--step sends one step; a refused message or a channel without a --to address exits 1 and says so first', async () => {
    shop = await setUp((p) => (p === '/v3/mail/send' ? { status: 400, body: { errors: [{ message: 'The from address does not match a verified Sender Identity' }] } } : accept(p)));
    // a number as a person types it goes to the provider as +digits
    const one = await cli(shop.dir, 'send-test', 'ab', '--customer', 'ann', '--to', '+420 700 000 099', '--step', 'nudge', '--json');
    expect(one.status, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout).sends).toEqual([expect.objectContaining({ step: 'nudge', outcome: 'sent', to: '+420700000099' })]);
    expect(server!.requests.filter((q) => /Messages\.json$/.test(q.path)).map((q) => q.form().To)).toEqual(['+420700000099']);

    const refused = await cli(shop.dir, 'send-test', 'ab', '--customer', 'ann', '--to', 'team@shop.test', '--step', 'hello');
    expect(refused.status).toBe(1);
    expect(refused.stderr.split('\n')[0]).toContain('error: 1 not sent');
    expect(refused.stdout).toContain('failed  hello  email hello via sendgrid → team@shop.test: ');
    expect(refused.stdout).toContain('verified Sender Identity');

    const noPhone = await cli(shop.dir, 'send-test', 'ab', '--customer', 'ann', '--to', 'team@shop.test', '--step', 'nudge');
    expect(noPhone.status).toBe(1);
    expect(noPhone.stdout).toContain('not sent  nudge  sms nudge-sms via twilio: no --to address for sms');

    const nobody = await cli(shop.dir, 'send-test', 'ab', '--customer', 'nobody', '--to', 'team@shop.test');
    expect(nobody.status).toBe(1);
    expect(nobody.stderr).toContain("no customer 'nobody' in the store");
  });

  it('refuses a --to that is neither an e-mail address nor a phone number (exit 64) before sending anything', async () => {
    shop = await setUp(accept);
    const r = await cli(shop.dir, 'send-test', 'ab', '--customer', 'ann', '--to', 'team@shop.test', '--to', 'notanaddress');
    expect(r.status).toBe(64);
    expect(r.stderr).toContain("--to 'notanaddress' is neither an e-mail address nor a phone number");
    expect(r.stderr).toContain('--to +420700000001');
    expect(r.stdout).toBe('');
    expect(server!.requests).toEqual([]);
  });

  it('sends an address that is not a phone number to a channel addressed by an attribute (a push token), never by SMS', async () => {
    server = await startServer((req) => (req.path === '/push' ? { status: 200, body: { id: 'push-1' } } : accept(req.path)));
    shop = await Shop.create({
      configText: BASE_CONFIG()
        .replace(/\{ type: (sendgrid|twilio|klaviyo),/g, `{ type: $1, url: "${server.url}",`)
        .replace('  sms: { provider: twilio }\n', '  sms: { provider: twilio }\n  push: { provider: hook, address: attributes.push_token }\n')
        .replace('providers:\n', `providers:\n  hook: { type: webhook, url: "${server.url}/push" }\n`)
        .replace('templates:\n', `templates:\n  buzz: { channel: push, body: "Hi {{ customer.first_name | default: 'there' }}" }\n`),
      journeys: {
        pushy: journey('pushy', `
trigger: { segment: everyone }
steps:
  - id: nudge
    send: { channel: sms, template: nudge-sms }
  - id: buzz
    send: { channel: push, template: buzz }
`),
      },
      customers: ['ann,ann@shop.test,+420601000001,Ann,2025-01-01T00:00:00Z,,yes,yes'],
    });
    shop.db.close();
    const r = await cli(shop.dir, 'send-test', 'pushy', '--customer', 'ann', '--to', 'device-token-1', '--json');
    expect(r.status, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).sends).toEqual([
      expect.objectContaining({ step: 'nudge', outcome: 'not_sent', to: null, error: 'no --to address for sms (a phone number)' }),
      expect.objectContaining({ step: 'buzz', outcome: 'sent', to: 'device-token-1' }),
    ]);
    expect(server!.requests.map((q) => [q.path, q.json().to])).toEqual([['/push', 'device-token-1']]);

    // the phone number given first is the SMS step's, the token the push step's
    const both = await cli(shop.dir, 'send-test', 'pushy', '--customer', 'ann', '--to', '+420700000099', '--to', 'device-token-1');
    expect(both.status, both.stderr).toBe(0);
    expect(both.stdout).toContain('nudge  sms nudge-sms via twilio → +420700000099');
    expect(both.stdout).toContain('buzz  push buzz via hook → device-token-1');
  });
});
