/**
 * Every message of every journey in journeys/, rendered with the example shop's
 * templates for the fixture customers (no orders and no first name, a name in another
 * script, other locales and currencies), compared with the expected files in
 * test/content/expected/ (review a change there as you would a change of copy). No
 * message may print a value as nothing: a customer would read the gap.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderCounting, smsSegments, TemplateSet } from '../../src/content/render.js';
import { SAMPLE_CUSTOMERS, sampleVariables } from '../../src/content/samples.js';
import { loadProject } from '../../src/project/load-project.js';
import { sendContexts } from '../../src/project/checks/template-checks.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const { project, diagnostics } = loadProject(path.join(ROOT, 'examples/shop'), ROOT);
const templates = new TemplateSet(project.config);

describe('the journey library with the example shop', () => {
  it('loads without errors', () => {
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });

  for (const journey of project.journeys) {
    for (const at of sendContexts(journey)) {
      it(`${journey.id} / ${at.step.id} (${at.step.template})`, async () => {
        const t = templates.get(at.step.template)!;
        let out = '';
        for (const customer of SAMPLE_CUSTOMERS) {
          const { message, emptyOutputs } = renderCounting(t, sampleVariables(project.config, customer, at), { subject: at.step.subject });
          expect(emptyOutputs, `${customer.id}: a value printed as nothing`).toBe(0);
          out += `==== ${customer.id}\n`;
          if (message.subject !== null) out += `subject: ${message.subject}\npreheader: ${message.preheader}\n---- text\n${message.text}\n`;
          if (message.body !== null) {
            const s = smsSegments(message.body);
            out += `sms (${s.encoding}, ${s.segments} part${s.segments === 1 ? '' : 's'}): ${message.body}\n`;
          }
          for (const field of [message.subject, message.text, message.body]) if (field !== null) expect(field).not.toMatch(/\s[,.:!]|  /);
        }
        await expect(out).toMatchFileSnapshot(`expected/${journey.id}.${at.step.id}.txt`);
      });
    }
  }
});
