/**
 * Every name a user writes is looked up among what the project defines, never on
 * Object.prototype: `coupon: constructor` validated ("11 files valid") and then crashed
 * the tick. `constructor` (the one prototype name the name pattern lets through), in
 * each place a name goes, is an error.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { validatePaths } from '../../src/project/load-project.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const context = path.join(repo, 'test/fixtures/validate/project');

/** The journey in a copy of the corpus' small valid project, validated with it. */
function validate(journey: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-proto-'));
  for (const part of ['journey.config.yaml', 'segments', 'journeys']) cpSync(path.join(context, part), path.join(dir, part), { recursive: true });
  writeFileSync(path.join(dir, 'journeys/proto.yaml'), journey);
  return validatePaths([dir], dir).diagnostics.filter((d) => d.file.endsWith('proto.yaml'));
}

const step = (send: string) => `id: proto\ntrigger: { segment: first_time_buyers }\nsteps:\n  - id: hello\n    send: ${send}\n`;

describe('prototype names', () => {
  it.each([
    ['coupon', step('{ channel: email, template: welcome, coupon: constructor }'), 'unknown-coupon'],
    ['template', step('{ channel: email, template: constructor }'), 'unknown-template'],
    ['channel', step('{ channel: constructor, template: welcome }'), 'unknown-channel'],
    ['provider', step('{ channel: email, template: welcome, provider: constructor }'), 'unknown-provider'],
    ['segment', 'id: proto\ntrigger: { segment: constructor }\nsteps:\n  - id: hello\n    send: { channel: email, template: welcome }\n', 'unknown-segment'],
  ])('%s: a prototype name is unknown', (_, text, code) => {
    expect(validate(text).map((d) => d.code)).toContain(code);
  });
});
