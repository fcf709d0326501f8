/**
 * Hostile or broken YAML gets a located error, never a stack trace: aliases that expand
 * without end, an alias with no anchor, values nested past any sensible depth, a file
 * far larger than a journey.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validatePaths } from '../../src/project/load-project.js';
import { tooDeepAt, YAML_LIMITS } from '../../src/project/yaml-source.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-yaml-limits-'));
function check(name: string, text: string) {
  writeFileSync(path.join(dir, name), text);
  return validatePaths([name], dir).diagnostics.map((d) => `${d.line}:${d.col} ${d.code}: ${d.message}`);
}

const nestedNot = (n: number) => `id: deep\ntrigger: { segment: x }\nsteps:\n  - id: s\n    when: ${'{ not: '.repeat(n)}{ reachable: email }${' }'.repeat(n)}\n    exit: { reason: x }\n`;

describe('YAML limits', () => {
  it('aliases of aliases that expand past the limit are an error at the first alias', () => {
    const text = ['id: fan', 'a: &a [x, x, x]', 'b: &b [*a, *a, *a]', 'c: &c [*b, *b, *b]', 'd: &d [*c, *c, *c]', 'e: [*d, *d, *d]', ''].join('\n');
    expect(check('fan.yaml', text)).toEqual([`3:8 yaml-alias: aliases here expand to more than ${YAML_LIMITS.aliasExpansion} values`]);
  });

  it('an alias with no anchor before it is an error where it stands', () => {
    expect(check('alias.yaml', 'id: *a\n')).toEqual(['1:5 yaml-alias: the alias *a names no anchor set before it']);
  });

  it('a when of 750 nested nots is an error at the level that passes the limit, and so is one of 5,000', () => {
    for (const n of [750, 5000]) {
      const [d] = check(`deep-${n}.yaml`, nestedNot(n));
      expect(d).toMatch(/^5:\d+ too-deep: values nest more than 64 levels deep here$/);
    }
  });

  it('nesting within the limit validates as usual', () => {
    // 20 nots: the schema accepts them; the only complaint is the unknown segment
    expect(check('twenty.yaml', nestedNot(20)).every((d) => !d.includes('too-deep'))).toBe(true);
  });

  it('a file over the size limit is an error on its first line', () => {
    expect(check('big.yaml', `id: big\n# ${'x'.repeat(YAML_LIMITS.fileBytes)}\n`)).toEqual(['1:1 file-too-large: the file is larger than 1 MB']);
  });

  it('counts block levels by indentation, list items included, and ignores brackets in quotes and comments', () => {
    expect(tooDeepAt('a:\n  b:\n    - c: 1\n', 3)).toBeNull();
    expect(tooDeepAt('a:\n  b:\n    - c:\n        d: 1\n', 3)).not.toBeNull();
    expect(tooDeepAt(`a: "[[[[[[[["\nb: 1 # {{{{{{{{\nc: don't [x]\n`, 3)).toBeNull();
  });
});
