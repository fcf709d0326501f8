/**
 * Segments that name segments: a chain deeper than 32 is refused with one located error
 * that names the chain (a chain of 1,000 took 4.4 s to check), and segments that each
 * name the one below twice are checked in linear time (24 levels took 25 s).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_SEGMENT_NESTING } from '../../src/project/checks/segment-checks.js';
import { validatePaths } from '../../src/project/load-project.js';

const chain = (n: number) => `segments:\n${Array.from({ length: n }, (_, i) => `  s${i}:\n    rule: ${i === 0 ? '{ orders: { count: { gte: 1 } } }' : `{ segment: s${i - 1} }`}`).join('\n')}\n`;
const diamond = (n: number) =>
  `segments:\n  s0:\n    rule: { orders: { count: { gte: 1 } } }\n${Array.from({ length: n - 1 }, (_, k) => `  s${k + 1}:\n    rule: { any: [ { segment: s${k} }, { all: [ { segment: s${k} }, { email: { exists: true } } ] } ] }`).join('\n')}\n`;

function validate(segments: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-nesting-'));
  mkdirSync(path.join(dir, 'segments'));
  writeFileSync(path.join(dir, 'segments', 'chain.yaml'), segments);
  const started = performance.now();
  const result = validatePaths([path.join(dir, 'segments', 'chain.yaml')], dir);
  return { diagnostics: result.diagnostics.filter((d) => d.severity === 'error'), ms: performance.now() - started };
}

describe('segments within segments', () => {
  it(`a chain ${MAX_SEGMENT_NESTING} deep is valid`, () => {
    expect(validate(chain(MAX_SEGMENT_NESTING)).diagnostics).toEqual([]);
  });

  it('a chain of 1,000 is one error at the segment it starts from, naming the chain, in well under a second', () => {
    const { diagnostics, ms } = validate(chain(1_000));
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({
      code: 'segment-nesting',
      line: 2_001,
      message: `segment 's999' nests segments 1,000 deep (s999 → s998 → s997 → s996 → … → s1 → s0), more than ${MAX_SEGMENT_NESTING}`,
    });
    expect(ms).toBeLessThan(1_000);
  });

  it('segments that each name the one below twice, 24 levels, are checked in linear time', () => {
    const { diagnostics, ms } = validate(diamond(24));
    expect(diagnostics).toEqual([]);
    expect(ms).toBeLessThan(1_000);
  });

  it('a loop is still one error', () => {
    const { diagnostics } = validate('segments:\n  a:\n    rule: { segment: b }\n  b:\n    rule: { segment: a }\n');
    expect(diagnostics.map((d) => d.message)).toEqual(["segment 'a' includes itself: a → b → a"]);
  });
});
