#!/usr/bin/env node
// `npm run demo`: the example shop from scratch, with the CLI as a user runs it, its
// messages delivered to a local stand-in for SendGrid, Twilio and Klaviyo. Everything
// it writes stays under examples/shop/.journey/ (git ignores it), or under
// $JOURNEY_DEMO_DIR when set (the demo's test runs it in a temp folder).
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalProvider } from './local-provider.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const shop = path.join(root, 'examples/shop');
const work = process.env.JOURNEY_DEMO_DIR ? path.resolve(process.env.JOURNEY_DEMO_DIR) : path.join(shop, '.journey');
const project = path.join(work, 'project');
// the demo shop's "today": its data ends there, and segments and plans are computed then
const now = '2026-01-01T10:00:00Z';

// JOURNEY_DEMO_BODIES=FILE keeps every request the local provider received, one JSON line each
const provider = await startLocalProvider({ bodies: process.env.JOURNEY_DEMO_BODIES });
// dummy secrets: the local provider does not check them
const env = { ...process.env, SENDGRID_API_KEY: 'demo', TWILIO_AUTH_TOKEN: 'demo', KLAVIYO_API_KEY: 'demo', JOURNEY_LINK_SECRET: 'demo' };

function journey(...args) {
  console.log(`\n$ journey ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/journey.js'), '-C', project, ...args], { stdio: 'inherit', env });
    child.on('exit', (code) => {
      // plan exits 2 when journeys are new or changed: that is its answer, not a failure
      if (code !== 0 && !(args.includes('plan') && code === 2)) process.exit(code ?? 1);
      resolve();
    });
  });
}

try {
  // from scratch: only the demo's own two folders go (the work folder may be the user's)
  for (const dir of [project, path.join(work, 'data')]) rmSync(dir, { recursive: true, force: true });
  // the example project as it is, with its providers pointed at the local stand-in
  mkdirSync(project, { recursive: true });
  cpSync(path.join(shop, 'segments'), path.join(project, 'segments'), { recursive: true });
  cpSync(path.join(root, 'journeys'), path.join(project, 'journeys'), { recursive: true });
  cpSync(path.join(shop, 'templates'), path.join(project, 'templates'), { recursive: true });
  const config = readFileSync(path.join(shop, 'journey.config.yaml'), 'utf8')
    .replace('journeys: ../../journeys', 'journeys: journeys')
    .replace(/^(\s+)type: (sendgrid|twilio|klaviyo)$/gm, `$1type: $2\n$1url: ${provider.url}`);
  writeFileSync(path.join(project, 'journey.config.yaml'), config);

  await journey('validate');
  // the shop up to today in data/, and the month after it in data/future/
  await journey('--now', now, 'demo-data', '--customers', '5000', '--seed', '1', '--future', '31d', '--out', path.join(work, 'data'));
  for (const kind of ['customers', 'products', 'orders', 'order-items', 'events', 'suppressions']) {
    await journey('--now', now, 'import', kind, path.join(work, 'data', `${kind.replace('-', '_')}.csv`));
  }
  await journey('--now', now, 'segment', 'first_time_buyers', '--sample', '3');
  await journey('--now', now, 'plan');
  await journey('--now', now, 'run', '--once');
  await journey('--now', '2026-01-01T12:00:00Z', 'run', '--once');
  // the shop keeps trading: the following month's registrations, orders and status
  // changes go into the store now, and the simulation replays each as its clock reaches it
  for (const kind of ['customers', 'orders', 'order-items']) {
    await journey('--now', '2026-01-01T12:00:00Z', 'import', kind, path.join(work, 'data', 'future', `${kind.replace('-', '_')}.csv`));
  }
  await journey('simulate', '--from', '2026-01-01T12:00:00Z', '--to', '2026-01-31T12:00:00Z', '--step', '6h', '--limit', '10');
  console.log(`\nThe local provider received ${provider.received.email} e-mails, ${provider.received.sms} SMS and ${provider.received.sync} syncs (${provider.received.repeats} repeated keys).`);
} finally {
  await provider.close();
}
