#!/usr/bin/env node
// The compiled CLI lives in dist/ (npm run build, triggered by npm install's prepare).
import { main } from '../dist/cli/main.js';

main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => {
    console.error(err && err.stack ? err.stack : String(err));
    process.exitCode = 1;
  },
);
