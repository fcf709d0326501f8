// Issue 2: validating a folder of 500 journeys takes under 2 s.
// Builds a project with the example shop's config and segments and 500 journeys
// (the seed journeys under new ids), then times `journey validate` end to end as a
// user runs it: a fresh process, start-up included.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-bench-validate-'));
try {
  // the example shop's segments and message templates, as its config names them
  for (const part of ['segments', 'templates']) cpSync(path.join(root, 'examples/shop', part), path.join(dir, part), { recursive: true });
  const config = readFileSync(path.join(root, 'examples/shop/journey.config.yaml'), 'utf8').replace('journeys: ../../journeys', 'journeys: journeys');
  writeFileSync(path.join(dir, 'journey.config.yaml'), config);
  mkdirSync(path.join(dir, 'journeys'));
  const seeds = readdirSync(path.join(root, 'journeys')).filter((f) => f.endsWith('.yaml'));
  const COUNT = 500;
  for (let i = 0; i < COUNT; i++) {
    const seed = seeds[i % seeds.length];
    const text = readFileSync(path.join(root, 'journeys', seed), 'utf8').replace(/^id: (.*)$/m, `id: $1-${i}`);
    writeFileSync(path.join(dir, 'journeys', `${i}-${seed}`), text);
  }
  const runs = [];
  let result;
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    // the example shop signs its unsubscribe links with this secret, as npm run demo sets it
    result = spawnSync(process.execPath, [path.join(root, 'bin/journey.js'), 'validate', '--format', 'json'], { cwd: dir, encoding: 'utf8', env: { ...process.env, JOURNEY_LINK_SECRET: process.env.JOURNEY_LINK_SECRET ?? 'bench' } });
    runs.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const report = JSON.parse(result.stdout);
  if (result.status !== 0 || report.files !== COUNT + 3) {
    console.error(result.stdout.slice(0, 2000), result.stderr);
    throw new Error(`validate did not pass cleanly on the generated project (exit ${result.status})`);
  }
  runs.sort((a, b) => a - b);
  console.log(`validate.journeys ${COUNT}`);
  console.log(`validate.files ${report.files}`);
  console.log(`validate.seconds.median ${runs[2].toFixed(3)}`);
  console.log(`validate.seconds.best ${runs[0].toFixed(3)}`);
  console.log(`validate.target_seconds 2 ${runs[2] < 2 ? 'met' : 'MISSED'}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
