/**
 * `npm run demo` (examples/demo.js), run as a newcomer runs it, in a temp folder: the
 * demo shop keeps trading through the simulated month, so every journey of the
 * library enters customers and sends them messages, every journey with a goal
 * converts some, and each line of the simulation's summary adds up.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './helpers/shop.js';

const library = readdirSync(path.join(ROOT, 'journeys')).filter((f) => f.endsWith('.yaml')).sort();
const withGoal = library.filter((f) => /^goal:/m.test(readFileSync(path.join(ROOT, 'journeys', f), 'utf8'))).map((f) => f.replace(/\.yaml$/, ''));

let dir: string;
let demo: { status: number | null; stdout: string; stderr: string };

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'journey-demo-test-'));
  demo = spawnSync(process.execPath, [path.join(ROOT, 'examples/demo.js')], {
    encoding: 'utf8',
    env: { ...process.env, JOURNEY_DEMO_DIR: dir, NO_COLOR: '1', FORCE_COLOR: '0' },
    timeout: 280_000,
  });
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The summary table simulate prints: a row per journey, its cells by column name. */
function summary(stdout: string): Map<string, Record<string, string>> {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => /^journey\s+inside at start/.test(l));
  expect(at, 'the summary table').toBeGreaterThan(0);
  const columns = ['inside at start', 'entered', 'completed', 'exited', 'inside at end', 'messages', 'converted', 'revenue'];
  const rows = new Map<string, Record<string, string>>();
  for (const line of lines.slice(at + 1)) {
    const cells = line.trim().split(/\s+/);
    if (cells.length !== columns.length + 1 || !/^[\d,]+$/.test(cells[1]!)) break;
    rows.set(cells[0]!, Object.fromEntries(columns.map((c, i) => [c, cells[i + 1]!])));
  }
  return rows;
}

const n = (cell: string) => Number(cell.replace(/,/g, ''));

describe('npm run demo', () => {
  it('runs to the end', () => {
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/The local provider received [1-9][\d]* e-mails/);
  });

  it('shows every library journey entering customers and sending them messages, in figures that add up', () => {
    const rows = summary(demo.stdout);
    expect([...rows.keys()].sort()).toEqual(library.map((f) => f.replace(/\.yaml$/, '')));
    for (const [id, row] of rows) {
      expect(n(row['entered']!), `${id} entered`).toBeGreaterThan(0);
      expect(n(row['messages']!), `${id} messages`).toBeGreaterThan(0);
      expect(n(row['inside at start']!) + n(row['entered']!), `${id}: inside at start + entered = completed + exited + inside at end`).toBe(
        n(row['completed']!) + n(row['exited']!) + n(row['inside at end']!),
      );
    }
  });

  it('says which journey is in test mode: its conversions are not its doing', () => {
    expect(demo.stdout).toContain("win-back-30d is in test mode: its messages went to the test addresses, not its customers; what they bought is not the journey's doing");
    expect(demo.stdout.match(/is in test mode/g)).toHaveLength(1);
  });

  it('converts customers in every journey with a goal, and shows no conversions for those without', () => {
    const rows = summary(demo.stdout);
    expect(withGoal.length).toBeGreaterThanOrEqual(4);
    for (const [id, row] of rows) {
      if (withGoal.includes(id)) {
        expect(n(row['converted']!), `${id} converted`).toBeGreaterThan(0);
        expect(n(row['revenue']!), `${id} revenue`).toBeGreaterThan(0);
      } else {
        expect([row['converted'], row['revenue']], id).toEqual(['-', '-']);
      }
    }
  });
});
