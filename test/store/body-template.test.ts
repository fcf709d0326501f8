import { describe, expect, it } from 'vitest';
import { OutgoingBuilder } from '../../src/delivery/outgoing.js';
import { postmarkRequest, withTemplateBody } from '../../src/delivery/providers/postmark.js';
import { mailSendJson, mailSendTemplate } from '../../src/delivery/providers/sendgrid.js';
import type { Config } from '../../src/project/model.js';
import type { StoreDb } from '../../src/store/db.js';
import { openStore } from '../../src/store/open.js';
import { claimDue, type ClaimedRow, type MessageColumns } from '../../src/store/outbox.js';

// The claim renders SendGrid's template sends in SQL (store/body-template.ts); the
// JavaScript writer (sendgrid.ts mailSendJson) stays the definition. Every row here
// is rendered both ways: where SQL renders a body, it must be the same JSON; where
// SQL could print a value differently, it must leave the body to JavaScript.

const FROM = 'shop@shop.test';
const FROM_NAME = 'Example "Shop"';
const TEMPLATES = {
  thanks: { channel: 'email', providerTemplate: 'd-thanks', subject: 'Thank you, {{ first_name }}! Order {{order_no}}{{missing}}', body: null },
  nosubject: { channel: 'email', providerTemplate: 'd-plain', subject: null, body: null },
  dotted: { channel: 'email', providerTemplate: 'd-dotted', subject: '{{shop.name}} & {{coupon-code}}', body: null },
  filled: { channel: 'email', providerTemplate: null, subject: 'Hi {{first_name}}', body: 'Your code {{coupon}}' },
  numbered: { channel: 'email', providerTemplate: '4012', subject: 'Hi {{first_name}}', body: null },
} as const;
const config = { templates: TEMPLATES } as unknown as Config;

function bodies() {
  const out: Record<string, NonNullable<ReturnType<typeof mailSendTemplate>>> = {};
  for (const [name, t] of Object.entries(TEMPLATES)) {
    const body = mailSendTemplate(FROM, FROM_NAME, { id: t.providerTemplate, subject: t.subject, body: t.body });
    if (body) out[name] = body;
  }
  return out;
}

interface Row {
  template?: string;
  address?: string;
  journey?: string | null;
  step?: string | null;
  payload: string;
}

function claim(rows: Row[], templates = bodies()): { stored: StoreDb; claimed: ClaimedRow[] } {
  const stored = openStore(':memory:');
  rows.forEach((r, i) => {
    stored.run(
      `INSERT INTO outbox_messages (idempotency_key, enrolment_id, journey_id, step_id, customer_id, channel, provider, template, address, payload, created_at)
       VALUES (?, ?, ?, ?, ?, 'email', 'sendgrid', ?, ?, ?, 0)`,
      [`j:${i}:"key"\\${i}`, i, r.journey === undefined ? 'post-purchase' : r.journey, r.step === undefined ? 'thanks' : r.step, `c${i}`, r.template ?? 'thanks', r.address ?? `user${i}@example.test`, r.payload],
    );
  });
  return { stored, claimed: claimDue(stored, 'sendgrid', 1, 2, 1000, templates) };
}

/** The columns a row's message is built from, as stored (a rendered row is claimed without them). */
function columnsOf(stored: StoreDb, row: ClaimedRow): MessageColumns {
  return stored.get<MessageColumns>(`SELECT id, idempotency_key, journey_id, step_id, channel, template, address, payload FROM outbox_messages WHERE id = ?`, [row.id])!;
}

/** What the JavaScript path sends for a row, or why it cannot. */
function javascriptBody(row: MessageColumns): string {
  const message = new OutgoingBuilder(config).message(row);
  if (typeof message === 'string') return message;
  const body = mailSendJson(message, FROM, FROM_NAME);
  return typeof body === 'string' ? body : body.error;
}

const payload = (value: unknown) => JSON.stringify(value);

describe('SendGrid template bodies rendered by the claim', () => {
  it('renders the same request as the JavaScript writer for strings, integers, null and missing fields, in any characters', () => {
    const rows: Row[] = [
      { payload: payload({ first_name: 'Jana', order_no: 1042, order_total: 1290.5, products: [{ sku: 'A-1', qty: 2 }] }) },
      { payload: payload({ first_name: 'Žofie "Zo" \\ Nováková 😀', order_no: -7 }) },
      { payload: payload({ first_name: 'tab\there, newline\nthere, bell \u0007, nul-free', order_no: 0 }) },
      { payload: payload({ first_name: null, order_no: 9007199254740991 }) },
      { payload: payload({ first_name: '</script><b>&amp;</b>', subject: 'ours stays' }) },
      { payload: payload({}) },
      { payload: '{"first_name":"Jana"}\n\t ' },
      { template: 'nosubject', payload: '{ "first_name" : "spaced" , "order_no" : 3 }' },
      { payload: payload({ first_name: 'Jan' }), address: 'o\'brien+"tag"@example.test', journey: null, step: null },
      { payload: payload({ first_name: 'Eva' }), step: null },
      { template: 'nosubject', payload: payload({ first_name: 'Eva', nested: { a: [1, 2, { b: null }] }, flag: true, ratio: 0.1 }) },
      { template: 'dotted', payload: payload({ 'shop.name': 'Shop & Co', 'coupon-code': 'SECOND-7', shop: { name: 'not this' } }) },
    ];
    const { stored, claimed } = claim(rows);
    expect(claimed).toHaveLength(rows.length);
    for (const row of claimed) {
      expect(row.body, `row ${row.id} (${rows[row.id - 1]!.payload}) rendered`).not.toBeNull();
      expect(JSON.parse(row.body!)).toEqual(JSON.parse(javascriptBody(columnsOf(stored, row))));
    }
  });

  it('is exactly the JavaScript text for an ordinary row', () => {
    const { stored, claimed } = claim([{ payload: payload({ first_name: 'Jana', order_no: 1042, coupon: 'SECOND-1' }) }]);
    expect(claimed[0]!.body).toBe(javascriptBody(columnsOf(stored, claimed[0]!)));
  });

  it('leaves the body to JavaScript where SQL could print a value differently, or the payload is not a JSON object', () => {
    const rows: Row[] = [
      // String(true), String(0.1 + 0.2), String(1e21) and big integers are JavaScript's to print
      { payload: payload({ first_name: true }) },
      { payload: payload({ first_name: 'Jana', order_no: 0.30000000000000004 }) },
      { payload: payload({ first_name: 1e21 }) },
      { payload: '{"first_name":"Jana","order_no":9007199254740993}' },
      { payload: payload({ first_name: { nested: 1 } }) },
      { payload: payload({ first_name: ['a'] }) },
      // a payload with whitespace (the engine writes none) gets its subject in JavaScript
      { payload: '{ "first_name" : "spaced" , "order_no" : 3 }' },
      { payload: '{ \n }' },
      // not an object, not JSON: JavaScript says why it cannot be sent
      { payload: '["Jana"]' },
      { payload: '{"first_name": "Jana"' },
      { payload: 'null' },
      // no SendGrid template id: subject and content are filled in JavaScript
      { template: 'filled', payload: payload({ first_name: 'Jana', coupon: 'C1' }) },
      { template: 'not-in-config', payload: payload({ first_name: 'Jana' }) },
    ];
    const { claimed: all } = claim(rows);
    const claimed = all.map((r) => {
      if (r.body !== null) throw new Error(`row ${r.id} rendered: ${r.body}`);
      return r;
    });
    expect(JSON.parse(javascriptBody(claimed[6]!)).personalizations[0].dynamic_template_data).toEqual({ subject: expect.stringContaining('spaced'), first_name: 'spaced', order_no: 3 });
    expect(JSON.parse(javascriptBody(claimed[7]!)).personalizations[0].dynamic_template_data).toEqual({ subject: expect.any(String) });
    expect(javascriptBody(claimed[8]!)).toBe('the payload is not a JSON object');
    expect(javascriptBody(claimed[9]!)).toBe('the payload is not valid JSON');
    expect(javascriptBody(claimed[12]!)).toBe("template 'not-in-config' is not in journey.config.yaml");
  });

  it('claims rendered and unrendered rows together, in due order, the unrendered ones with the columns to build them from', () => {
    const rows: Row[] = [
      { payload: payload({ first_name: 'Jana' }) },
      { template: 'filled', payload: payload({ first_name: 'Eva', coupon: 'C1' }), address: 'eva@example.test', journey: 'winback', step: 'voucher' },
      { payload: payload({ first_name: 'Ola' }) },
      { payload: '[1]', address: 'ola@example.test' },
    ];
    const { stored, claimed } = claim(rows);
    expect(claimed.map((r) => [r.id, r.body === null])).toEqual([
      [1, false],
      [2, true],
      [3, false],
      [4, true],
    ]);
    for (const row of claimed) if (row.body === null) expect(row).toEqual({ ...columnsOf(stored, row), attempts: 0, lease: row.lease, body: null });
    expect(claimed[2]!.body).toBe(javascriptBody(columnsOf(stored, claimed[2]!)));
  });

  it('renders nothing when the provider gives no body templates', () => {
    const stored = openStore(':memory:');
    stored.run(
      `INSERT INTO outbox_messages (idempotency_key, customer_id, channel, provider, template, address, payload, created_at)
       VALUES ('k', 'c', 'email', 'sendgrid', 'thanks', 'a@example.test', '{"first_name":"Jana"}', 0)`,
    );
    expect(claimDue(stored, 'sendgrid', 1, 2, 10).map((r) => r.body)).toEqual([null]);
  });
});

describe('Postmark template bodies rendered by the claim', () => {
  const from = '"Example, Shop" <shop@shop.test>';
  const templates = () => {
    const out: Record<string, NonNullable<ReturnType<typeof withTemplateBody>>> = {};
    for (const [name, t] of Object.entries(TEMPLATES)) {
      const body = withTemplateBody({ id: t.providerTemplate, subject: t.subject, body: t.body }, from, 'broadcast');
      if (body) out[name] = body;
    }
    return out;
  };

  it('renders the same /email/withTemplate request as postmarkRequest, for an alias and a numeric TemplateId', () => {
    const rows: Row[] = [
      { payload: payload({ first_name: 'Jana', order_no: 1042, flag: true, ratio: 0.1, products: [{ sku: 'A-1' }] }) },
      { template: 'numbered', payload: payload({ first_name: 'Žofie "Zo" \\ 😀' }), journey: null },
      { template: 'dotted', payload: '{ "spaced" : [1, 2.5e3, null] }', step: null },
    ];
    const { stored, claimed } = claim(rows, templates());
    const builder = new OutgoingBuilder(config);
    for (const row of claimed) {
      const message = builder.message(columnsOf(stored, row));
      if (typeof message === 'string') throw new Error(message);
      const request = postmarkRequest(message, from, 'broadcast');
      if (typeof request === 'string') throw new Error(request);
      expect(request.path).toBe('/email/withTemplate');
      expect(row.body).not.toBeNull();
      expect(JSON.parse(row.body!)).toEqual(request.body);
    }
    expect(JSON.parse(claimed[1]!.body!)).toMatchObject({ TemplateId: 4012, Metadata: { step: 'thanks' } });
  });

  it('leaves a template without a Postmark id, and a payload that is not an object, to JavaScript', () => {
    const { claimed } = claim([{ template: 'filled', payload: payload({ first_name: 'Jana' }) }, { payload: '[1]' }], templates());
    expect(claimed.map((r) => r.body)).toEqual([null, null]);
  });
});
