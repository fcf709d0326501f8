/**
 * What validate says of a template, as a user meets it. Customer attributes: a name
 * some customers lack is asked about with `| default:` or `{% if %}`, which validate
 * accepts and the send renders; printed bare, validate calls it the gap a customer
 * without it would read. A misspelt variable stays an error under `| default:` too.
 * A recommended product's price written with `| money` alone is a warning: it would
 * print in the message's currency, not the product's.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { journeyAt } from '../helpers/spawn.js';
import { Shop, journey } from '../engine/helpers/shop.js';

const T0 = '2026-03-02T12:00:00Z';
let shop: Shop | undefined;
afterEach(() => {
  shop?.close();
  shop = undefined;
});

const HELLO = journey('hello', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: mail
    send: { channel: email, template: welcome }
`);
const template = (line: string) => `---
channel: email
subject: Hello
---
<p>${line}</p>
`;

async function project(line: string): Promise<Shop> {
  // the helper validates the project (errors throw), so the template under test is written after it
  const s = await Shop.create({
    journeys: { hello: HELLO },
    templateFiles: { 'welcome.liquid': template('Hi') },
    customerHeader: 'id,email,first_name,registered_at,consent_email,attributes.tier,attributes.vip',
    customers: ['ann,ann@shop.test,Ann,2025-01-01T00:00:00Z,yes,gold,true', 'bob,bob@shop.test,Bob,2025-01-01T00:00:00Z,yes,,'],
  });
  writeFileSync(path.join(s.dir, 'templates', 'welcome.liquid'), template(line));
  return s;
}

const preview = async (s: Shop, customer: string) => {
  const r = await journeyAt(s.dir, T0, ['preview', 'hello', 'mail', '--customer', customer, '--json']);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout).content.text as string;
};

describe('customer attributes in templates', () => {
  it('asked about with | default: or {% if %}: valid, and each customer reads their own or the default', async () => {
    shop = await project('{% if customer.attributes.vip %}VIP {% endif %}{{ customer.attributes.tier | default: "member" }}');
    const v = await journeyAt(shop.dir, T0, ['validate']);
    expect(v.status, v.stdout + v.stderr).toBe(0);
    expect(await preview(shop, 'ann')).toBe('VIP gold');
    expect(await preview(shop, 'bob')).toBe('member');
  });

  it('printed bare: validate says a customer without it would read a gap (exit 1), not that the variable is unknown', async () => {
    shop = await project('Your tier: {{ customer.attributes.tier }}');
    const v = await journeyAt(shop.dir, T0, ['validate']);
    expect(v.status).toBe(1);
    // and where: the place of the output in the template file
    expect(v.stdout + v.stderr).toMatch(/journeys\/hello\.yaml:\d+:\d+ error template 'welcome' prints a value as nothing for the sample customer '[^']+' at this step: \S*templates\/welcome\.liquid:5:15 \[template-empty-output\]/);
    expect(v.stdout + v.stderr).not.toContain('unknown variable');
  });

  it('a misspelt variable is still an error under | default:', async () => {
    shop = await project('{{ customer.frist_name | default: "there" }}');
    const v = await journeyAt(shop.dir, T0, ['validate']);
    expect(v.status).toBe(1);
    expect(v.stdout + v.stderr).toContain('templates/welcome.liquid:5:7 error unknown variable: customer.frist_name');
  });
});

describe('unknown variables', () => {
  it('are all reported in one run, each where it is written, not only the first', async () => {
    shop = await project('{{ journey.nam }} and {{ customer.frist_name | default: "x" }}, {% if customer.first_name %}{{ step.idd }}{% endif %}');
    const v = await journeyAt(shop.dir, T0, ['validate']);
    expect(v.status).toBe(1);
    const out = v.stdout + v.stderr;
    expect(out).toContain('templates/welcome.liquid:5:7 error unknown variable: journey.nam');
    expect(out).toContain('templates/welcome.liquid:5:29 error unknown variable: customer.frist_name');
    expect(out).toContain('templates/welcome.liquid:5:99 error unknown variable: step.idd');
    expect(out.match(/unknown variable/g)).toHaveLength(3);
  });
});

describe('a recommended price written in the wrong currency', () => {
  it('| money without the product currency is a warning at the place; with it, none', async () => {
    shop = await project('{% for p in recommendations %}{{ p.title }}: {{ p.price | money }}{% endfor %}');
    const v = await journeyAt(shop.dir, T0, ['validate']);
    expect(v.stdout + v.stderr).toMatch(/templates\/welcome\.liquid:5:49 warning p\.price is in the product's currency, and \| money alone writes the message's/);
    expect(v.stdout + v.stderr).toContain('hint: write {{ p.price | money: p.currency }}');
    writeFileSync(path.join(shop.dir, 'templates', 'welcome.liquid'), template('{% for p in recommendations %}{{ p.title }}: {{ p.price | money: p.currency }}{% endfor %}'));
    const fixed = await journeyAt(shop.dir, T0, ['validate']);
    expect(fixed.stdout + fixed.stderr).not.toContain('template-money-currency');
  });
});
