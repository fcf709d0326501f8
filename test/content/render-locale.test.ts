/**
 * The money and local_date filters write in the template's language when its front
 * matter names one (an English e-mail reads "until January 22, 2026" to a Portuguese
 * customer, not "até 22 de janeiro"), in the customer's timezone; without it, in the
 * customer's locale. A tag that is not a language is a located error.
 */
import { describe, expect, it } from 'vitest';
import { compileTemplate, renderTemplate } from '../../src/content/render.js';
import { SAMPLE_CUSTOMERS, sampleVariables } from '../../src/content/samples.js';
import { parseTemplateFile } from '../../src/content/templates.js';
import type { Config } from '../../src/project/model.js';

const TEXT = (front: string) => `---
channel: email
subject: Until {{ until | local_date }}
${front}---
<p>{{ 1234.5 | money: "EUR" }} off until {{ until | local_date }}</p>
`;

function render(front: string, locale: string, timezone: string): { subject: string | null; text: string | null } {
  const parsed = parseTemplateFile('offer', 'liquid', 'templates/offer.liquid', TEXT(front));
  expect(parsed.diagnostics).toEqual([]);
  const source = parsed.template!;
  const t = compileTemplate('offer', { channel: 'email', providerTemplate: null, subject: null, body: null, source } as Config['templates'][string]);
  const base = sampleVariables({ currency: 'EUR', vars: {}, coupons: {}, links: null } as unknown as Config, SAMPLE_CUSTOMERS[0]!, null);
  const vars = { ...base, customer: { ...base.customer, locale, timezone }, until: '2026-01-22T23:30:00Z' };
  const m = renderTemplate(t, vars as typeof base);
  return { subject: m.subject, text: m.text };
}

describe('a template written in one language', () => {
  it('formats money and dates in its own locale, in the customer\'s timezone', () => {
    const m = render('locale: en\n', 'pt-BR', 'America/Sao_Paulo');
    expect(m.subject).toBe('Until January 22, 2026');
    expect(m.text).toBe('€1,234.50 off until January 22, 2026');
    // 23:30 UTC is already the next day in Tokyo
    expect(render('locale: en-GB\n', 'ja-JP', 'Asia/Tokyo').subject).toBe('Until 23 January 2026');
  });

  it('without a locale of its own, in the customer\'s', () => {
    const m = render('', 'pt-BR', 'America/Sao_Paulo');
    expect(m.subject).toBe('Until 22 de janeiro de 2026');
    expect(m.text).toMatch(/^€\s?1\.234,50 off until 22 de janeiro de 2026$/);
  });

  it('refuses a locale that is not a language tag, at its line and column', () => {
    const parsed = parseTemplateFile('offer', 'liquid', 'templates/offer.liquid', TEXT('locale: "english please"\n'));
    expect(parsed.diagnostics).toEqual([
      expect.objectContaining({ severity: 'error', file: 'templates/offer.liquid', line: 4, col: 10, message: "locale 'english please' is not a language tag" }),
    ]);
  });
});
