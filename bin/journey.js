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
    console.error(err && err.stack ? err.stack : String(err));
    process.exitCode = 1;
  },
);
