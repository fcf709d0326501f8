/**
 * A Twilio Content template (an approved WhatsApp or SMS template, HX...) end to end:
 * the template file names its variables (`provider_variables`, each Liquid), `journey
 * validate` renders them for the sample customers, and `journey run --once` sends each
 * customer their own values as ContentVariables, a flat map of text, to a real HTTP
 * stand-in for Twilio on 127.0.0.1. Before, the request carried our whole nested
 * variables object, which Twilio's Content API does not take.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { journeyAt } from '../helpers/spawn.js';
import { startServer, type FakeServer } from './helpers/server.js';
import { BASE_CONFIG, Shop, journey } from '../engine/helpers/shop.js';

const NOW = '2026-03-02T12:00:00Z';
const SID = 'HX0123456789abcdef0123456789abcdef';

let shop: Shop | undefined;
let server: FakeServer | undefined;
afterEach(async () => {
  shop?.close();
  shop = undefined;
  await server?.close();
  server = undefined;
});

const cli = (dir: string, ...args: string[]) => journeyAt(dir, NOW, args, { env: { SENDGRID_API_KEY: 'SG.test', TWILIO_AUTH_TOKEN: 'tw-test', KLAVIYO_API_KEY: 'pk_test' } });

const J = journey('wa', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: offer
    send: { channel: sms, template: offer-wa, coupon: ten }
`);

const TEMPLATE = (variables: string) => `---
channel: sms
provider_template: ${SID}
provider_variables:
${variables}
---
`;

async function setUp(variables: string): Promise<Shop> {
  server = await startServer(() => ({ status: 201, body: { sid: 'SM00000000000000000000000000000001', status: 'queued' } }));
  const s = await Shop.create({
    configText: BASE_CONFIG().replace(/\{ type: (sendgrid|twilio|klaviyo),/g, `{ type: $1, url: "${server.url}",`),
    journeys: { wa: J },
    templateFiles: { 'offer-wa.liquid': TEMPLATE(variables) },
    customers: ['ann,ann@shop.test,+420601000001,Ann,2025-01-01T00:00:00Z,,yes,yes', 'bob,bob@shop.test,+420601000002,,2025-01-01T00:00:00Z,,yes,yes'],
  });
  s.db.close();
  return s;
}

describe('Twilio Content templates', () => {
  it("send each customer's own variables as ContentVariables, a flat map of text", async () => {
    shop = await setUp(`  "1": "{{ customer.first_name | default: 'there' }}"\n  "2": "{{ coupon.code }}"\n  discount: "{{ coupon.discount }}"`);
    const validated = await cli(shop.dir, 'validate');
    expect(validated.status, validated.stdout + validated.stderr).toBe(0);
    // preview shows the variables and the request as the tick would make them
    const preview = await cli(shop.dir, 'preview', 'wa', 'offer', '--customer', 'ann');
    expect(preview.status, preview.stderr).toBe(0);
    expect(preview.stdout).toContain("content     rendered by the provider's own template from its provider_variables:");
    expect(preview.stdout).toMatch(/^ {4}1 = Ann$/m);
    expect(preview.stdout).toMatch(/ContentVariables=%7B%221%22%3A%22Ann%22/);
    const run = await cli(shop.dir, 'run', '--once');
    expect(run.status, run.stderr).toBe(0);

    const forms = server!.requests.filter((q) => /Messages\.json$/.test(q.path)).map((q) => q.form());
    expect(forms.map((f) => f.To).sort()).toEqual(['+420601000001', '+420601000002']);
    const db = openStore(path.join(shop.dir, '.journey/store.db'));
    const codes = new Map(db.all<{ customer_id: string; code: string }>('SELECT customer_id, code FROM coupon_codes').map((r) => [r.customer_id, r.code]));
    db.close();
    expect(codes.size).toBe(2);
    for (const f of forms) {
      expect(f.ContentSid).toBe(SID);
      expect(f.Body).toBeUndefined();
      const customer = f.To === '+420601000001' ? 'ann' : 'bob';
      expect(JSON.parse(f.ContentVariables as string)).toEqual({ '1': customer === 'ann' ? 'Ann' : 'there', '2': codes.get(customer), discount: '10%' });
    }
  });

  it('validate: an unknown variable is an error at the template file:line:col; provider_variables on a SendGrid channel or without provider_template are errors', async () => {
    shop = await setUp(`  "1": "{{ customer.first_name | default: 'there' }}"`);
    writeFileSync(path.join(shop.dir, 'templates/offer-wa.liquid'), TEMPLATE(`  "1": "{{ customer.first_name | default: 'there' }}"\n  "2": "{{ coupon.cod }}"`));
    const unknown = await cli(shop.dir, 'validate');
    expect(unknown.status).toBe(1);
    expect(unknown.stdout + unknown.stderr).toMatch(/templates\/offer-wa\.liquid:6:\d+.*unknown variable.*cod/);

    writeFileSync(path.join(shop.dir, 'templates/offer-wa.liquid'), TEMPLATE(`  "1": "{{ customer.first_name | default: 'there' }}"`).replace('channel: sms', 'channel: email\nsubject: Hi'));
    const onSendgrid = await cli(shop.dir, 'validate');
    expect(onSendgrid.status).toBe(1);
    expect(onSendgrid.stdout + onSendgrid.stderr).toContain("'provider_variables' are for Twilio Content templates; channel 'email' sends through sendgrid");

    writeFileSync(path.join(shop.dir, 'templates/offer-wa.liquid'), TEMPLATE(`  "1": "{{ customer.first_name }}"`).replace(`provider_template: ${SID}\n`, ''));
    const alone = await cli(shop.dir, 'validate');
    expect(alone.status).toBe(1);
    expect(alone.stdout + alone.stderr).toMatch(/offer-wa\.liquid:\d+:\d+.*'provider_variables' go with 'provider_template'/);

    // a send that names another provider for the template
    writeFileSync(path.join(shop.dir, 'templates/offer-wa.liquid'), TEMPLATE(`  "1": "{{ customer.first_name | default: 'there' }}"`));
    const journeyFile = path.join(shop.dir, 'journeys/wa.yaml');
    const original = readFileSync(journeyFile, 'utf8');
    writeFileSync(journeyFile, original.replace('template: offer-wa,', 'template: offer-wa, provider: sendgrid,'));
    const overridden = await cli(shop.dir, 'validate');
    expect(overridden.status).toBe(1);
    expect(overridden.stdout + overridden.stderr).toMatch(/wa\.yaml:\d+:\d+.*template 'offer-wa' has provider_variables, for a Twilio Content template; this send goes through sendgrid/);
    writeFileSync(journeyFile, original);

    writeFileSync(path.join(shop.dir, 'templates/offer-wa.liquid'), TEMPLATE(`  "first name": "{{ customer.first_name }}"`));
    const badName = await cli(shop.dir, 'validate');
    expect(badName.status).toBe(1);
    expect(badName.stdout + badName.stderr).toContain("provider variable 'first name' is not a Twilio variable name");
  });

  it('a value longer than Twilio takes (1,600 characters) fails validate for the sample customers, saying which variable', async () => {
    shop = await setUp(`  "1": "{{ customer.first_name | default: 'there' }}"`);
    writeFileSync(path.join(shop.dir, 'templates/offer-wa.liquid'), TEMPLATE(`  "1": "{% for i in (1..200) %}{{ customer.first_name | default: 'there' }}-long{% endfor %}"`));
    const r = await cli(shop.dir, 'validate');
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/provider variable '1' renders to \d+ characters: Twilio takes at most 1600/);
  });
});
