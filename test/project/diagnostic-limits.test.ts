/**
 * A file that says one wrong thing thousands of times gets the first few and a count,
 * quickly: 20,000 unknown keys took 17 s and printed 150 KB.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAX_PER_KIND } from '../../src/project/cap-diagnostics.js';
import { validatePaths } from '../../src/project/load-project.js';
import { formatDiagnostics } from '../../src/cli/format/diagnostics.js';

describe('diagnostics of one kind', () => {
  it('20,000 unknown keys: the first 20, then "... and 19,980 more", in seconds', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-many-keys-'));
    mkdirSync(path.join(dir, 'journeys'));
    const file = path.join(dir, 'journeys', 'big.yaml');
    const junk = Array.from({ length: 20_000 }, (_, i) => `junk_${i}: 1`).join('\n');
    writeFileSync(file, `id: big\nname: Big\ntrigger:\n  event: order_placed\nsteps:\n  - id: w\n    wait: 1d\n${junk}\n`);
    const started = performance.now();
    const { diagnostics } = validatePaths([file], dir);
    expect(performance.now() - started).toBeLessThan(10_000);
    const unknown = diagnostics.filter((d) => d.code === 'unknown-key');
    expect(unknown).toHaveLength(MAX_PER_KIND + 1);
    expect(unknown[0]!.message).toBe("unknown key 'junk_0'");
    expect(unknown[MAX_PER_KIND]!.message).toBe('... and 19,980 more unknown-key errors in this file');
    expect(unknown[MAX_PER_KIND]!.line).toBe(unknown[MAX_PER_KIND - 1]!.line);
  });

  it('the summary counts every error, the capped ones too: 20,000, not the 21 lines listed', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-many-keys-sum-'));
    const file = path.join(dir, 'big.yaml');
    writeFileSync(file, `id: big\nname: Big\ntrigger:\n  event: order_placed\nsteps:\n  - id: w\n    wait: 1d\n${Array.from({ length: 20_000 }, (_, i) => `junk_${i}: 1`).join('\n')}\n`);
    const { diagnostics } = validatePaths([file], dir);
    const report = { diagnostics, files: [file], notes: [], failed: true };
    expect(formatDiagnostics(report, 'human')).toContain('✖ 20,000 errors, 0 warnings in 1 file');
    expect(JSON.parse(formatDiagnostics(report, 'json'))).toMatchObject({ errors: 20_000, warnings: 0 });
  });

  it('a key set twice is still a duplicate-key error at the second', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-dup-key-'));
    const file = path.join(dir, 'dup.yaml');
    writeFileSync(file, 'id: a\nname: x\nid: b\n');
    const dup = validatePaths([file], dir).diagnostics.find((d) => d.code === 'duplicate-key');
    expect(dup).toMatchObject({ line: 3, col: 1 });
  });
});
