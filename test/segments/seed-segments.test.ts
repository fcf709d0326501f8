import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../src/project/load-project.js';
import type { Project } from '../../src/project/model.js';
import { compileSegment } from '../../src/segments/compile.js';
import { compileOptionsFor } from '../../src/segments/options.js';
import { countSegment, printerFor } from '../../src/segments/run.js';
import type { StoreDb } from '../../src/store/db.js';
import { importFile } from '../../src/store/import/import.js';
import { openStore } from '../../src/store/open.js';

// Every member below is explained in test/fixtures/segments/shop/customers.csv (note column).
const EXPECTED: Record<string, string[]> = {
  first_time_buyers: ['c01'],
  new_multi_buyers: ['c09', 'c12'],
  high_value: ['c10', 'c11', 'c12'],
  churning_high_value: ['c10'],
  lapsed_high_value: ['c11'],
  no_order_30d: ['c04', 'c13'],
  no_order_6mo: ['c13'],
  // c15-c17 last ordered on 2025-01-10 (22 months ago); c18 is suppressed
  no_order_12mo: ['c11', 'c15', 'c16', 'c17'],
  registration_anniversary: ['c15', 'c16'],
  registered_never_bought: ['c06'],
  suppressed_email: ['c03', 'c18'],
};

const root = path.resolve(__dirname, '../..');
const fixtures = path.join(root, 'test/fixtures/segments/shop');
const now = new Date('2026-11-25T12:00:00Z');

let dir: string;
let db: StoreDb;
let project: Project;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'journey-seed-segments-'));
  db = openStore(path.join(dir, 'store.db'));
  for (const [kind, file] of [
    ['customers', 'customers.csv'],
    ['orders', 'orders.csv'],
    ['suppressions', 'suppressions.csv'],
  ] as const) {
    await importFile(db, { kind, file: path.join(fixtures, file), now: now.getTime() });
  }
  const loaded = loadProject(path.join(root, 'examples/shop'));
  // (the providers' ${VAR}s are unset in tests: that warning is not what this is about)
  expect(loaded.diagnostics.filter((d) => d.code !== 'unset-env')).toEqual([]);
  project = loaded.project;
});

afterAll(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the example shop's segments, on a shop counted by hand", () => {
  it('covers every segment of the example project', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...project.segments.keys()].sort());
  });

  for (const [name, members] of Object.entries(EXPECTED)) {
    it(`${name}: ${members.join(', ')}`, () => {
      const opts = compileOptionsFor(project, now);
      const { sql, params } = printerFor('sqlite').print(compileSegment(name, opts));
      const ids = db.all<{ id: string }>(sql, params).map((r) => r.id).sort();
      expect(ids).toEqual(members);
      expect(countSegment(db, name, opts).count).toBe(members.length);
    });
  }

  it('moves with the clock: a day later, nobody has a registration anniversary', () => {
    const opts = compileOptionsFor(project, new Date('2026-11-26T12:00:00Z'));
    const { sql, params } = printerFor('sqlite').print(compileSegment('registration_anniversary', opts));
    // c16 is in Kiritimati (UTC+14): its 26 November ended at 10:00 UTC
    expect(db.all<{ id: string }>(sql, params)).toEqual([]);
  });
});
