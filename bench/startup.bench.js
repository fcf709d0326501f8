// Issue 25: start-up. `journey --version` under 150 ms and `journey validate` of the
// example shop (a config, two segment files and eight journeys) under 400 ms, each
// timed as a user runs it (a fresh process) beside a bare `node -e ''` in the same
// rounds, so that the machine's speed at that minute shows in the figures.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin/journey.js');
const ROUNDS = Number(process.env.STARTUP_BENCH_ROUNDS ?? 15);

const commands = {
  node: { args: ['-e', ''], target: null },
  version: { args: [bin, '--version'], target: 0.15 },
  validate: { args: [bin, '-C', path.join(root, 'examples/shop'), 'validate', '--format', 'json'], target: 0.4 },
};

const times = Object.fromEntries(Object.keys(commands).map((k) => [k, []]));
let files = 0;
for (let round = 0; round < ROUNDS + 1; round++) {
  for (const [name, c] of Object.entries(commands)) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, c.args, { encoding: 'utf8' });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}: ${r.stderr}`);
    if (name === 'validate') files = JSON.parse(r.stdout).files;
    if (round > 0) times[name].push(s); // the first round warms the file cache
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs) => `${Math.min(...xs).toFixed(3)}-${Math.max(...xs).toFixed(3)}`;
console.log(`startup.rounds ${ROUNDS}`);
console.log(`startup.validate.files ${files}`);
for (const [name, c] of Object.entries(commands)) {
  const m = median(times[name]);
  const verdict = c.target === null ? '' : ` target ${c.target} ${m < c.target ? 'met' : 'MISSED'}`;
  console.log(`startup.${name}.seconds.median ${m.toFixed(3)} (range ${spread(times[name])})${verdict}`);
}
