#!/usr/bin/env node
// The compiled CLI lives in dist/ (npm run build, triggered by npm install's prepare).
import { main } from '../dist/cli/main.js';

// `journey plan | head`: the reader went away; stop quietly instead of a stack trace
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => {
    // main() answers every error itself; this is for one that escapes it (a broken install)
    const debug = process.argv.includes('--debug');
    if (debug && err && err.stack) console.error(err.stack);
    else console.error(`internal error: ${err && err.message ? String(err.message).split('\n')[0] : String(err)} (run with --debug for the stack)`);
    process.exitCode = 70;
  },
);
