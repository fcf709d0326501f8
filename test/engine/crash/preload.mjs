// Loaded with `node --import` into the `journey run` child processes of the crash
// tests; changes nothing unless its variables are set.
//
// JOURNEY_TEST_CLOCK_SKEW_MS=<ms>: Date.now() runs that far ahead, as if the process
//   had been started that much later. The runner lock is leased on the real clock
//   (Date.now), so this is how a test lets a killed runner's 60 s lease run out
//   without waiting a minute. The simulated clock (--now) is not affected.
//
// JOURNEY_TEST_LOCK_BARRIER=<dir>: just before the statement that takes the runner
//   lock (INSERT INTO runner_lock) first runs, write <dir>/arrived-<pid> and wait
//   until <dir>/go exists. The test creates it once both runners have arrived, so
//   that they try to take the lock at the same instant however long each took to
//   start. The statement itself, and everything after it, runs unchanged.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const skew = Number(process.env.JOURNEY_TEST_CLOCK_SKEW_MS ?? 0);
if (skew) {
  const realNow = Date.now;
  Date.now = () => realNow() + skew;
}

const barrier = process.env.JOURNEY_TEST_LOCK_BARRIER;
if (barrier) {
  const { default: Database } = await import('better-sqlite3');
  const prepare = Database.prototype.prepare;
  let waited = false;
  const arriveAndWait = () => {
    if (waited) return;
    waited = true;
    writeFileSync(path.join(barrier, `arrived-${process.pid}`), '');
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const giveUp = Date.now() + 60_000;
    while (!existsSync(path.join(barrier, 'go'))) {
      if (Date.now() > giveUp) throw new Error(`lock barrier: ${barrier}/go never appeared`);
      Atomics.wait(pause, 0, 0, 1);
    }
  };
  Database.prototype.prepare = function (sql, ...rest) {
    const statement = prepare.call(this, sql, ...rest);
    if (/^\s*INSERT INTO runner_lock\b/i.test(sql)) {
      const run = statement.run;
      statement.run = function (...args) {
        arriveAndWait();
        return run.apply(this, args);
      };
    }
    return statement;
  };
}
