#!/usr/bin/env node
// `npm run demo`: the example shop from scratch, with the CLI as a user runs it.
// Everything it writes stays under examples/shop/.journey/ (git ignores it).
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shop = path.join(root, 'examples/shop');
const work = path.join(shop, '.journey');
// the demo shop's "today": its data ends there, and segments and plans are computed then
const now = '2026-01-01T10:00:00Z';

function journey(...args) {
  console.log(`\n$ journey ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [path.join(root, 'bin/journey.js'), '-C', shop, '--now', now, ...args], { stdio: 'inherit' });
  // plan exits 2 when journeys are new or changed: that is its answer, not a failure
  if (r.status !== 0 && !(args[0] === 'plan' && r.status === 2)) process.exit(r.status ?? 1);
}

rmSync(work, { recursive: true, force: true });
journey('validate');
journey('demo-data', '--customers', '5000', '--seed', '1', '--out', path.relative(process.cwd(), path.join(work, 'data')));
for (const kind of ['customers', 'products', 'orders', 'order-items', 'events', 'suppressions']) {
  journey('import', kind, path.relative(process.cwd(), path.join(work, 'data', `${kind.replace('-', '_')}.csv`)));
}
journey('segment', 'first_time_buyers', '--sample', '3');
journey('segment', 'no_order_30d');
journey('plan');
console.log('\nThe engine that enrols these customers and sends their messages (journey run) is not built yet.');
