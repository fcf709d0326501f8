// Issue 4: `journey plan` of the example project on 1M customers / 5M orders in under
// 5 s and 300 MB. Runs the CLI as a user does, in a child process, against the
// benchmark shop's store, and reads the child's peak memory from /proc.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchShop, SHOP_NOW } from './shop-1m.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { store } = await benchShop();
const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-bench-plan-'));
try {
  for (const part of ['segments', 'templates']) cpSync(path.join(root, 'examples/shop', part), path.join(dir, part), { recursive: true });
  const config = readFileSync(path.join(root, 'examples/shop/journey.config.yaml'), 'utf8')
    .replace('journeys: ../../journeys', `journeys: ${path.join(root, 'journeys')}`)
    .replace('path: .journey/store.db', `path: ${store}`);
  writeFileSync(path.join(dir, 'journey.config.yaml'), config);
  const now = new Date(SHOP_NOW + 12 * 3_600_000).toISOString();
  const runs = [];
  let last;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    last = await run([path.join(root, 'bin/journey.js'), '-C', dir, '--now', now, 'plan', '--json']);
    runs.push({ seconds: (performance.now() - t0) / 1000, rssMb: last.peakKb / 1024 });
  }
  if (last.code !== 2 && last.code !== 0) throw new Error(`plan failed (${last.code}): ${last.stderr}`);
  const plan = JSON.parse(last.stdout);
  const best = runs.reduce((a, b) => (a.seconds < b.seconds ? a : b));
  const peak = Math.max(...runs.map((r) => r.rssMb));
  console.log(`plan.journeys ${plan.journeys.length}`);
  console.log(`plan.entering ${plan.journeys.reduce((n, j) => n + j.entering.count, 0)}`);
  console.log(`plan.seconds.best ${best.seconds.toFixed(2)} (target < 5: ${best.seconds < 5 ? 'met' : 'MISSED'})`);
  console.log(`plan.peak_rss_mb ${peak.toFixed(0)} (target < 300: ${peak < 300 ? 'met' : 'MISSED'})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** Runs a node script, sampling the child's peak resident memory (VmHWM) from /proc. */
function run(args) {
  return new Promise((resolve) => {
    // the example shop signs its unsubscribe links with this secret, as npm run demo sets it
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, JOURNEY_LINK_SECRET: process.env.JOURNEY_LINK_SECRET ?? 'bench' } });
    let stdout = '';
    let stderr = '';
    let peakKb = 0;
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch {
        // the child has exited
      }
    };
    const timer = setInterval(sample, 20);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ code, stdout, stderr, peakKb });
    });
  });
}
