/**
 * Every test run gets a temporary directory of its own, removed when the run ends:
 * the tests make stores, projects and exports under os.tmpdir() (their workers and the
 * CLI processes they start inherit TMPDIR), and a day of runs had left 4.7 GB of them
 * in /tmp. JOURNEY_KEEP_TEST_TMP=1 keeps it, to look into a failure.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(path.join(os.tmpdir(), 'journey-tests-'));
  process.env.TMPDIR = root;
  return () => {
    if (process.env.JOURNEY_KEEP_TEST_TMP) console.log(`test files kept in ${root}`);
    else rmSync(root, { recursive: true, force: true });
  };
}
