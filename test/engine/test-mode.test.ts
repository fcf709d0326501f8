/**
 * Test mode (test_recipients) reaches no customer: end to end through `journey run
 * --once` against a real HTTP stand-in for SendGrid, Twilio and Klaviyo on
 * 127.0.0.1, reading what it received; and in the engine, test enrolments use up
 * nothing of the live journeys (entry limits, frequency caps, coupons), the team
 * gets a sample, and switching test mode off lets the customers in for real.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { journeyAt } from '../helpers/spawn.js';
import { planProject } from '../../src/engine/plan.js';
import { storeDeliveryEvents } from '../../src/store/message-events.js';
import { startServer, type FakeServer, type Recorded } from '../delivery/helpers/server.js';
import { BASE_CONFIG, Shop, journey, type OutboxRow } from './helpers/shop.js';

const T0 = '2026-03-02T12:00:00Z';
const HOUR = 3_600_000;
const at = (t: string, plusMs: number) => new Date(Date.parse(t) + plusMs).toISOString();

let shop: Shop | undefined;
let server: FakeServer | undefined;
afterEach(async () => {
  shop?.close();
  shop = undefined;
  await server?.close();
  server = undefined;
});

/** The CLI in a child process, without blocking this process (the stand-in answers from here). */
const cli = (dir: string, now: string, ...args: string[]) => journeyAt(dir, now, args, { env: { SENDGRID_API_KEY: 'SG.test', TWILIO_AUTH_TOKEN: 'tw-test', KLAVIYO_API_KEY: 'pk_test' } });

/** A stand-in answering as SendGrid (202), Twilio (201) and Klaviyo (202) do. */
export async function standIn(): Promise<FakeServer> {
  let n = 0;
  return startServer((req) => {
    n++;
    if (req.path === '/v3/mail/send') return { status: 202, headers: { 'x-message-id': `sg-${n}` } };
    if (/\/Messages\.json$/.test(req.path)) return { status: 201, body: { sid: `SM${String(n).padStart(32, '0')}`, status: 'queued' } };
    if (req.path.startsWith('/api/')) return { status: 202, body: {} };
    return { status: 404 };
  });
}

/** The base config with every provider pointed at the stand-in. */
export const configAt = (url: string, extra = ''): string => BASE_CONFIG(extra).replace(/\{ type: (sendgrid|twilio|klaviyo),/g, `{ type: $1, url: "${url}",`);

/** Whom a request is addressed to, read from its body as each provider takes it. */
function recipients(req: Recorded): string[] {
  if (req.path === '/v3/mail/send') return req.json().personalizations.flatMap((p: { to: { email: string }[] }) => p.to.map((t) => t.email));
  if (/\/Messages\.json$/.test(req.path)) return [String(req.form().To)];
  const attributes = req.json().data.attributes;
  const identity = req.path === '/api/profile-import/' || req.path === '/api/profile-import' ? attributes : attributes.profile.data.attributes;
  return [identity.email, identity.phone_number, identity.external_id].filter((v: unknown) => v !== undefined);
}

const CUSTOMERS = [
  'ann,ann@shop.test,+420601000001,Ann,2025-01-01T00:00:00Z,,yes,yes',
  'bob,bob@shop.test,+420601000002,Bob,2025-01-01T00:00:00Z,,yes,yes',
  'cid,cid@shop.test,+420601000003,Cid,2025-01-01T00:00:00Z,,yes,yes',
];

const MULTI_CHANNEL = (id: string, own = '') =>
  journey(id, `
trigger: { segment: everyone, backfill: true }
${own}steps:
  - id: mail
    send: { channel: email, template: hello, coupon: ten }
  - id: text
    send: { channel: sms, template: nudge-sms }
  - id: push
    sync: { provider: klaviyo, profile: { vip_journey: true }, event: Entered VIP }
`);

describe('test mode end to end (journey run --once, a stand-in provider on 127.0.0.1)', () => {
  it('sends only to the team: an SMS step without test numbers and a sync without a test profile send nothing, a sync with one goes to it only', async () => {
    server = await standIn();
    shop = await Shop.create({
      configText: configAt(server.url, 'test_recipients:\n  email: [team@shop.test]\n  sample: 2\n'),
      journeys: {
        // the project's test mode: e-mail only
        configured: MULTI_CHANNEL('configured'),
        // its own: e-mail, and a test profile for Klaviyo
        own: MULTI_CHANNEL('own', 'test_recipients:\n  email: [qa@shop.test]\n  sync: { klaviyo: qa-profile@shop.test }\n'),
      },
      customers: CUSTOMERS,
    });
    shop.db.close();

    const r = await cli(shop.dir, T0, 'run', '--once', '--json');
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);

    // what the stand-in received: only the test addresses, nothing to a customer
    const to = server.requests.flatMap(recipients);
    expect(to.length).toBeGreaterThan(0);
    expect(new Set(to)).toEqual(new Set(['team@shop.test', 'qa@shop.test', 'qa-profile@shop.test']));
    for (const req of server.requests.filter((q) => q.path.startsWith('/api/'))) {
      for (const c of CUSTOMERS) for (const field of c.split(',').slice(0, 3)) expect(req.text).not.toContain(`"${field}"`);
    }
    expect(server.requests.filter((q) => /Messages\.json$/.test(q.path))).toEqual([]);
    // 3 customers entered each journey: the project's sample is 2, the journey's own test mode has the default (5)
    const mails = server.requests.filter((q) => q.path === '/v3/mail/send').map((q) => q.json());
    const copies = (address: string) => mails.filter((m) => m.personalizations[0].to[0].email === address).map((m) => m.personalizations[0].dynamic_template_data.customer.first_name).sort();
    // rendered for the real customers, with a coupon code that is not a real one
    expect(copies('team@shop.test')).toEqual(['Ann', 'Bob']);
    expect(copies('qa@shop.test')).toEqual(['Ann', 'Bob', 'Cid']);
    for (const m of mails) expect(m.personalizations[0].dynamic_template_data.coupon.code).toMatch(/^TEST-TEN/);
    expect(server.requests.filter((q) => q.path.startsWith('/api/profile-import'))).toHaveLength(3);

    // the tick report and the step log say why each one was not sent
    const byJourney = Object.fromEntries(report.tick.journeys.map((j: { journey: string }) => [j.journey, j]));
    expect(byJourney.configured.testMode).toEqual({ sent: 2, skipped: { 'test_mode:sample_reached': 1, 'test_mode:no_recipient:sms': 3, 'test_mode:no_sync_target:klaviyo': 3 } });
    expect(byJourney.own.testMode).toEqual({ sent: 6, skipped: { 'test_mode:no_recipient:sms': 3 } });
    expect(report.delivery).toMatchObject({ sent: 8, failed: 0, dead: 0 });
    const inspect = await cli(shop.dir, T0, 'inspect', 'cid', '--json');
    const logs = JSON.parse(inspect.stdout).journeys.map((j: { enrolment: { journey_id: string }; log: { step_id: string; outcome: string; detail: string }[] }) => [
      j.enrolment.journey_id,
      j.log.map((l) => `${l.step_id} ${l.outcome}: ${l.detail}`),
    ]);
    expect(Object.fromEntries(logs).configured).toEqual([
      'mail entered: test:segment:2026-03-02T12:00:00.000Z',
      'mail skipped: test_mode:sample_reached',
      'text skipped: test_mode:no_recipient:sms',
      'push skipped: test_mode:no_sync_target:klaviyo',
      'push completed: end',
    ]);
  });

  it('journey validate warns about a journey in test mode with a channel or sync that has no test target', async () => {
    shop = await Shop.create({ config: 'test_recipients:\n  email: [team@shop.test]\n', journeys: { configured: MULTI_CHANNEL('configured') } });
    shop.db.close();
    const r = await cli(shop.dir, T0, 'validate', '--format', 'json');
    expect(r.status, r.stderr).toBe(0);
    const warnings = JSON.parse(r.stdout).diagnostics.filter((d: { code: string }) => d.code === 'test-mode-untargeted');
    expect(warnings.map((d: { file: string; line: number; message: string }) => `${path.basename(d.file)}:${d.line} ${d.message}`)).toEqual([
      "configured.yaml:7 the journey is in test mode and test_recipients in journey.config.yaml has no 'sms' addresses: step 'text' sends nothing",
      "configured.yaml:9 the journey is in test mode and test_recipients in journey.config.yaml names no test profile for 'klaviyo': step 'push' syncs nothing",
    ]);
    const strict = await cli(shop.dir, T0, 'validate', '--strict');
    expect(strict.status).toBe(1);
  });
});

describe('test enrolments use up nothing of the live journeys', () => {
  const TESTED = (testMode: boolean) =>
    journey('tested', `
trigger: { segment: everyone, backfill: true }
entry: { max_per_customer: 1 }
${testMode ? 'test_recipients:\n  email: [team@shop.test]\n  sample: 2\n' : ''}steps:
  - id: hello
    send: { channel: email, template: hello, coupon: ten }
`);
  const LIVE = journey('live', `
trigger: { segment: everyone, backfill: true }
policies:
  frequency_cap: { max: 1, per: 24h, on_cap: defer }
steps:
  - id: hello
    send: { channel: email, template: followup }
`);

  it('no entry limit, frequency cap or coupon of live sends; the team gets the sample; switched off, plan says who enters for real and they do', async () => {
    shop = await Shop.create({ journeys: { tested: TESTED(true) }, customers: [...CUSTOMERS, 'dee,dee@shop.test,,Dee,2025-01-01T00:00:00Z,,yes,'] });
    const first = shop.tick(T0);
    expect(first.journeys[0]).toMatchObject({ entered: 4, queued: 2, skipped: 2, testMode: { sent: 2, skipped: { 'test_mode:sample_reached': 2 } } });
    const copies = shop.outbox("journey_id = 'tested'");
    expect(copies.map((o) => o.address)).toEqual(['team@shop.test', 'team@shop.test']);
    for (const o of copies) expect(JSON.parse(o.payload).coupon.code).toMatch(/^TEST-TEN-/);
    expect(shop.enrolments().map((e) => [e.customer_id, (e as unknown as { test: number }).test])).toEqual([
      ['ann', 1],
      ['bob', 1],
      ['cid', 1],
      ['dee', 1],
    ]);

    // a live journey an hour later: the team's copies used up no customer's cap
    shop.writeJourney('live', LIVE);
    const live = shop.tick(at(T0, HOUR)).journeys.find((j) => j.journey === 'live')!;
    expect(live).toMatchObject({ entered: 4, queued: 4, deferred: 0 });
    expect(live.testMode).toBeUndefined();
    expect(shop.outbox("journey_id = 'live'").map((o) => o.address)).toEqual(['ann@shop.test', 'bob@shop.test', 'cid@shop.test', 'dee@shop.test']);

    // test mode off: plan says they now enter for real, max_per_customer: 1 notwithstanding
    shop.writeJourney('tested', TESTED(false));
    const plan = planProject(shop.project, { now: new Date(at(T0, 2 * HOUR)), storePath: path.join(shop.dir, '.journey/store.db'), only: ['tested'], sample: 10 });
    expect(plan.journeys[0]!.entering).toMatchObject({ count: 4, test: false, afterTest: 4 });
    expect(plan.journeys[0]!.testMode).toBeNull();
    const real = shop.tick(at(T0, 2 * HOUR)).journeys.find((j) => j.journey === 'tested')!;
    expect(real).toMatchObject({ entered: 4, queued: 4 });
    const sent: OutboxRow[] = shop.outbox("journey_id = 'tested' AND test = 0");
    expect(sent.map((o) => o.address)).toEqual(['ann@shop.test', 'bob@shop.test', 'cid@shop.test', 'dee@shop.test']);
    // real codes, one per enrolment, none of them a test one
    const codes = sent.map((o) => JSON.parse(o.payload).coupon.code as string);
    expect(new Set(codes).size).toBe(4);
    for (const c of codes) expect(c).toMatch(/^TEN-/);
    // and once in for real, max_per_customer holds again
    expect(shop.tick(at(T0, 3 * HOUR)).journeys.find((j) => j.journey === 'tested')!.entered).toBe(0);
  });

  it('changes no real customer: an update step leaves their attributes, a copy\'s links are not signed for them, and the team\'s opens and clicks are not their events', async () => {
    const tagged = journey('tagged', `
trigger: { segment: everyone, backfill: true }
test_recipients:
  email: [team@shop.test]
steps:
  - id: tag
    update: { set: { vip: true } }
  - id: hello
    send: { channel: email, template: hello }
`);
    shop = await Shop.create({
      config: 'links: { unsubscribe: "https://shop.test/unsubscribe", secret: "${JOURNEY_LINK_SECRET}" }\n',
      journeys: { tagged },
      customers: CUSTOMERS.slice(0, 1),
    });
    const report = shop.tick(T0).journeys[0]!;
    expect(report.steps.find((s) => s.step === 'tag')).toMatchObject({ skipped: 1, skips: [{ reason: 'test_mode:update_not_applied', count: 1 }] });
    expect(shop.db.get(`SELECT attributes FROM customers WHERE id = 'ann'`)).toEqual({ attributes: '{}' });

    const [copy] = shop.outbox("journey_id = 'tagged'");
    expect(copy!.address).toBe('team@shop.test');
    // the shop's unsubscribe page would not accept it: a click by the team unsubscribes nobody
    expect(JSON.parse(copy!.payload).unsubscribe_url).toBe('https://shop.test/unsubscribe?c=ann&t=test');

    const events = ['opened', 'clicked'].map((kind, i) => ({ provider: 'sendgrid', kind, eventId: `ev-${i}`, idempotencyKey: copy!.idempotency_key, occurredAt: Date.parse(T0) + HOUR, address: 'team@shop.test', raw: {} }));
    const stored = shop.db.transaction(() => storeDeliveryEvents(shop!.db, 'sendgrid', events as Parameters<typeof storeDeliveryEvents>[2], Date.parse(T0) + HOUR));
    expect(stored).toMatchObject({ stored: 2, customerEvents: 0 });
    expect(shop.db.all(`SELECT type FROM events WHERE customer_id = 'ann'`)).toEqual([]);
  });

  it('a test enrolment still inside when test mode is switched off never reaches its customer', async () => {
    const waits = (testMode: boolean) =>
      journey('waits', `
trigger: { segment: everyone, backfill: true }
${testMode ? 'test_recipients:\n  email: [team@shop.test]\n' : ''}steps:
  - id: pause
    wait: 1d
  - id: hello
    send: { channel: email, template: hello }
`);
    shop = await Shop.create({ journeys: { waits: waits(true) }, customers: CUSTOMERS.slice(0, 1) });
    shop.tick(T0);
    shop.writeJourney('waits', waits(false));
    // the live entry of ann happens at once; her test enrolment comes to the send a day later
    shop.tick(at(T0, 25 * HOUR));
    const testEnrolment = shop.enrolments('test = 1')[0]!;
    expect(shop.outbox('enrolment_id = ?', [testEnrolment.id])).toEqual([]);
    expect(shop.db.all('SELECT outcome, detail FROM step_log WHERE enrolment_id = ? AND step_id = ?', [testEnrolment.id, 'hello'])).toContainEqual({ outcome: 'skipped', detail: 'test_mode:off' });
  });
});
