/**
 * MJML templates (templates/NAME.mjml.liquid), as a user works with them: validate
 * compiles them and points at the line of the file where MJML or Liquid is wrong,
 * and `journey preview` shows the responsive HTML the customer would get, filled,
 * with the front matter's preheader first in its body.
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
const mjml = (front: string, body: string) => `---
channel: email
subject: "Welcome, {{ customer.first_name | default: 'friend' }}"
${front}---
<mjml>
  <mj-head>${body.includes('<mj-preview') ? body.slice(body.indexOf('<mj-preview'), body.indexOf('</mj-preview>') + 13) : ''}</mj-head>
  <mj-body>
    <mj-section>
      <mj-column>
        ${body.replace(/<mj-preview>.*<\/mj-preview>/, '')}
      </mj-column>
    </mj-section>
  </mj-body>
</mjml>
`;

async function project(template: string): Promise<Shop> {
  // the helper validates the project (errors throw), so a broken template is written after it
  const s = await Shop.create({ journeys: { hello: HELLO }, templateFiles: { 'welcome.mjml.liquid': mjml('', '<mj-text>Hi</mj-text>') }, customers: ['ann,ann@shop.test,+420601000001,Ann,2025-01-01T00:00:00Z,,yes,yes'] });
  writeFileSync(path.join(s.dir, 'templates', 'welcome.mjml.liquid'), template);
  return s;
}

describe('MJML templates', () => {
  it('preview: responsive HTML filled for the customer, the preheader first in its body, the text part from it', async () => {
    shop = await project(mjml('preheader: "{{ customer.first_name | default: \'You\' }}, a gift inside"\n', '<mj-text>Hello {{ customer.first_name | default: "there" }}</mj-text>\n        <mj-button href="https://shop.test">Shop now</mj-button>'));
    const v = await journeyAt(shop.dir, T0, ['validate']);
    expect(v.status, v.stdout + v.stderr).toBe(0);
    const r = await journeyAt(shop.dir, T0, ['preview', 'hello', 'mail', '--customer', 'ann', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const { content } = JSON.parse(r.stdout);
    expect(content.subject).toBe('Welcome, Ann');
    expect(content.html).toMatch(/^<!doctype html>/i);
    expect(content.html).toContain('@media only screen and (min-width:480px)');
    expect(content.html).toMatch(/<body[^>]*><div style="display:none[^"]*" aria-hidden="true">Ann, a gift inside\u034f/);
    expect(content.html.match(/Ann, a gift inside/g)).toHaveLength(1);
    expect(content.text).toBe('Hello Ann\n\nShop now (https://shop.test)');
  });

  it('validate: MJML that does not compile is an error at its line of the template file', async () => {
    shop = await project(mjml('', '<mj-text>Hello</mj-text>\n        <mj-txet>typo</mj-txet>'));
    const v = await journeyAt(shop.dir, T0, ['validate']);
    expect(v.status).toBe(1);
    expect(v.stdout + v.stderr).toMatch(/templates\/welcome\.mjml\.liquid:11:1 error MJML: Element mj-txet doesn't exist or is not registered/);
  });

  it('validate: a preheader in the front matter and an <mj-preview> too is a warning at the mj-preview', async () => {
    shop = await project(mjml('preheader: A gift inside\n', '<mj-preview>Another preview</mj-preview><mj-text>Hello</mj-text>'));
    const v = await journeyAt(shop.dir, T0, ['validate']);
    expect(v.stdout + v.stderr).toMatch(/templates\/welcome\.mjml\.liquid:7:\d+ warning the front matter has a preheader and the MJML an <mj-preview>: inboxes would show both/);
  });
});
