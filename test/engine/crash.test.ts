/**
 * Crash safety with real processes (issue 5). A month of `journey run --once
 * --no-deliver` ticks over generated data, each tick a child process of the built
 * CLI (npm run build first), SIGKILLed at random points and run again at the same
 * time, against a reference month run without kills on an identical copy with the
 * same inputs: nothing lost, nothing skipped, nothing written twice. And two runners
 * started together: exactly one ticks.
 *
 * The runner lock's lease is 60 s of real time (LOCK_TTL_MS). Rather than wait a
 * minute after each kill, the run after a kill that left the lock behind is started
 * with its Date.now() moved past the lease's end (test/engine/crash/preload.mjs), so
 * it takes the lock over through the real code path; the first few times a run with
 * the true clock is started first and must be refused.
 *
 * CRASH_CUSTOMERS, CRASH_TICKS, CRASH_STEP_HOURS, CRASH_PAIRS change the sizes;
 * CRASH_KEEP=1 keeps the temp folder (the stores) for a look.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../src/demo-data/prng.js';
import { LOCK_NAME, LOCK_TTL_MS, tickWithLock } from '../../src/engine/runner.js';
import { openProject } from '../../src/project/open-project.js';
import type { StoreDb } from '../../src/store/db.js';
import { openStore } from '../../src/store/open.js';
import { acquireLock, lockHolder, releaseLock, renewLock } from '../../src/store/runner-lock.js';
import { sleep, startRun, type RunOutcome } from './crash/driver.js';
import {
  addDueEnrolments,
  buildWorld,
  copyProject,
  diffEnrolments,
  diffStates,
  diffStepLogs,
  importBetweenTicks,
  multisetDiff,
  recordOpens,
  storeOf,
  storeState,
  type StoreState,
  type World,
  ROOT,
} from './crash/world.js';

// The references run the built engine in this process, the same code as the child
// processes (bin/journey.js imports dist/), not src/ as compiled by the test runner:
// a difference between the two would show up as a crash defect.
type RunModule = typeof import('../../src/engine/run.js');
type ProjectModule = typeof import('../../src/project/open-project.js');
const built = async () => ({
  runOnce: ((await import(path.join(ROOT, 'dist/engine/run.js'))) as RunModule).runOnce,
  openBuiltProject: ((await import(path.join(ROOT, 'dist/project/open-project.js'))) as ProjectModule).openProject,
});

// March 2026: the US (8 March) and the EU (29 March) change clocks within the month.
const WORLD = {
  customers: Number(process.env.CRASH_CUSTOMERS ?? 1500),
  seed: 'crash-1',
  start: Date.UTC(2026, 2, 1),
  stepHours: Number(process.env.CRASH_STEP_HOURS ?? 12),
  ticks: Number(process.env.CRASH_TICKS ?? 61),
};
const KILLS_WANTED = 50;
const PAIRS = Number(process.env.CRASH_PAIRS ?? 20);

let root: string;
let world: World;

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'journey-crash-'));
  world = await buildWorld(root, WORLD);
}, 180_000);

afterAll(() => {
  if (root && !process.env.CRASH_KEEP) rmSync(root, { recursive: true, force: true });
});

/** The lock's holder and expiry, as a new runner would see it. */
const holder = (db: StoreDb) => lockHolder(db, LOCK_NAME);
/** How far ahead a new runner's clock must be for a left lock's lease to have run out. */
const skewPast = (db: StoreDb) => {
  const h = holder(db);
  return h && h.expiresAt >= Date.now() ? h.expiresAt - Date.now() + 1000 : 0;
};
/** Runner ids are host:pid:random. */
const ownedBy = (owner: string | undefined, pid: number) => owner !== undefined && owner.split(':').at(-2) === String(pid);

interface KillStats {
  runs: number;
  kills: number;
  /** killed holding the lock: between taking it and releasing it, i.e. inside the tick */
  inTick: number;
  /** killed before it took the lock (starting, loading the project, opening the store) */
  beforeTick: number;
  /** killed after it released the lock (printing, closing) */
  afterTick: number;
  /** runs that took over a lock a killed runner left (its lease over) */
  takeovers: number;
  /** runs refused while a killed runner's lease was still on */
  refused: number;
  /** the lease a killed runner left ended more than LOCK_TTL_MS after the kill */
  leaseTooLong: string[];
  /** a run with the true clock was not refused while a left lease was on */
  notRefused: string[];
  /** a run to the end that did not end with a tick */
  failedRuns: string[];
  seconds: number;
}

describe('a runner killed with SIGKILL at random points and restarted, over a simulated month', () => {
  let expected: StoreState;
  let actual: StoreState;
  let stats: KillStats;

  beforeAll(async () => {
    const started = performance.now();
    const T = world.times;

    // The reference: the same month, the same inputs, no kills (in this process: runOnce is what `run --once` calls).
    const { runOnce, openBuiltProject } = await built();
    const reference = copyProject(world.base, path.join(root, 'reference'));
    const refProject = openBuiltProject(reference);
    const refDb = openStore(storeOf(reference));
    const refMs: number[] = [];
    for (let i = 0; i < T.length; i++) {
      if (i > 0) await importBetweenTicks(refDb, world, i);
      const t = performance.now();
      await runOnce(refProject, { storePath: storeOf(reference), now: () => new Date(T[i]!), deliver: false });
      refMs.push(performance.now() - t);
      recordOpens(refDb, T[i]!);
    }
    expected = storeState(refDb);
    refDb.close();

    // The month again on an identical copy, each tick a child process, killed at random points.
    const killed = copyProject(world.base, path.join(root, 'killed'));
    const db = openStore(storeOf(killed));
    const rng = new Rng('crash-1:kills');
    stats = { runs: 0, kills: 0, inTick: 0, beforeTick: 0, afterTick: 0, takeovers: 0, refused: 0, leaseTooLong: [], notRefused: [], failedRuns: [], seconds: 0 };
    let startupMs = 1000; // spawn to lock taken, measured as we go

    /** One run at tick i, killed `killAt.ms` after its spawn or after it took the lock, or left to finish. */
    const run = async (i: number, killAt: { from: 'spawn' | 'lock'; ms: number } | null): Promise<RunOutcome> => {
      const skew = skewPast(db);
      const h = startRun(killed, T[i]!, { clockSkewMs: skew });
      stats.runs++;
      let lockSeen: number | null = null;
      let timer: NodeJS.Timeout | undefined;
      if (killAt?.from === 'spawn') timer = setTimeout(h.kill, killAt.ms);
      // watch the lock row: when this child takes it (and, from then, when to kill it)
      const poll = setInterval(() => {
        if (lockSeen !== null || h.exited()) return;
        if (ownedBy(holder(db)?.owner, h.pid)) {
          lockSeen = performance.now();
          if (killAt?.from === 'lock') timer = setTimeout(h.kill, killAt.ms);
        }
      }, 2);
      const out = await h.done;
      clearInterval(poll);
      clearTimeout(timer);
      if (lockSeen !== null) startupMs = 0.8 * startupMs + 0.2 * (lockSeen - h.started);
      if (skew > 0 && (lockSeen !== null || out.code === 0)) stats.takeovers++;
      if (out.signal !== 'SIGKILL') return out;
      stats.kills++;
      const left = holder(db);
      if (!ownedBy(left?.owner, h.pid)) {
        if (lockSeen !== null) stats.afterTick++;
        else stats.beforeTick++;
        return out;
      }
      stats.inTick++;
      // the lease it left ends within LOCK_TTL_MS (on its clock): it cannot block for ever
      if (left!.expiresAt - (Date.now() + skew) > LOCK_TTL_MS) stats.leaseTooLong.push(`${left!.owner} ${left!.expiresAt}`);
      if (stats.refused < 3) {
        // while the lease is on, a new runner is refused, naming the holder and when the lease ends
        const r = await startRun(killed, T[i]!).done;
        stats.runs++;
        if (r.code === 1 && /another runner is ticking this store/.test(r.stderr) && r.stderr.includes(left!.owner) && /its lock expires at/.test(r.stderr)) stats.refused++;
        else stats.notRefused.push(`exit ${r.code}: ${r.stdout} ${r.stderr}`);
      }
      return out;
    };

    for (let i = 0; i < T.length; i++) {
      if (i > 0) await importBetweenTicks(db, world, i);
      // 0, 1 or 2 kills at this tick (1.15 on average), then a run to the end
      const r = rng.next();
      const attempts = r < 0.15 ? 0 : r < 0.6 ? 1 : 2;
      for (let a = 0; a < attempts; a++) {
        // most kills inside the tick (the lock held), some anywhere in the process's life
        const killAt = rng.chance(0.75)
          ? { from: 'lock' as const, ms: rng.next() * refMs[i]! * 1.2 }
          : { from: 'spawn' as const, ms: rng.next() * (startupMs + refMs[i]! * 1.2 + 100) };
        await run(i, killAt);
      }
      const last = await run(i, null);
      if (last.code !== 0 || !/^tick at /.test(last.stdout)) stats.failedRuns.push(`${new Date(T[i]!).toISOString()}: exit ${last.code} ${last.signal ?? ''} ${last.stdout} ${last.stderr}`);
      recordOpens(db, T[i]!);
    }
    actual = storeState(db);
    db.close();
    stats.seconds = (performance.now() - started) / 1000;
    console.log(
      `crash test: ${T.length} ticks every ${WORLD.stepHours} h over ${WORLD.customers} generated customers; ${stats.runs} runs, ${stats.kills} SIGKILLs ` +
        `(${stats.inTick} holding the lock, ${stats.beforeTick} before taking it, ${stats.afterTick} after releasing it), ` +
        `${stats.takeovers} takeovers of an ended lease, ${stats.refused} refusals during one; reference: ${expected.enrolments.size} enrolments, ` +
        `${expected.messages.length} outbox rows, ${[...expected.stepLog.values()].reduce((n, l) => n + l.length, 0)} step log rows; ${stats.seconds.toFixed(0)} s`,
    );
  }, 600_000);

  it(`was killed at least ${KILLS_WANTED} times, mostly inside the tick, and every tick ran to the end when run again`, () => {
    expect(stats.failedRuns).toEqual([]);
    expect(stats.kills).toBeGreaterThanOrEqual(KILLS_WANTED);
    expect(stats.inTick).toBeGreaterThanOrEqual(KILLS_WANTED / 2);
    // the month did something worth checking: every journey entered someone, hundreds of messages
    expect(expected.enrolments.size).toBeGreaterThan(500);
    expect(expected.messages.length).toBeGreaterThan(300);
    expect(new Set([...expected.enrolments.keys()].map((k) => k.split('|')[0])).size).toBe(8);
  });

  it('a lock left by a killed runner never blocks for ever: refused while its lease is on, taken over once it ends', () => {
    expect(stats.leaseTooLong).toEqual([]);
    expect(stats.notRefused).toEqual([]);
    expect(stats.refused).toBe(3);
    expect(stats.takeovers).toBeGreaterThanOrEqual(stats.inTick);
  });

  it('writes no outbox row twice: no idempotency key twice, one row per enrolment and step', () => {
    expect(actual.duplicateKeys).toEqual([]);
    expect(actual.duplicateSends).toEqual([]);
    expect(actual.duplicateEnrolments).toEqual([]);
    expect(expected.duplicateSends).toEqual([]);
  });

  it('sends the same messages as the run without kills: (customer, journey, step), and template, address, time', () => {
    expect(multisetDiff(expected.messages, actual.messages)).toEqual({ missing: [], extra: [] });
    expect(multisetDiff(expected.messageDetails, actual.messageDetails)).toEqual({ missing: [], extra: [] });
  });

  it('loses no enrolment: each of the reference is there with the same status, step, due time, exit reason, variant and conversion', () => {
    expect(diffEnrolments(expected, actual)).toEqual([]);
  });

  it('skips no step: each enrolment has the reference step log (a line repeated within one tick counted once)', () => {
    expect(diffStepLogs(expected.stepLogOnce, actual.stepLogOnce)).toEqual([]);
  });

  // Exactly, too: a tick killed and run again has run its rounds in two processes,
  // so a step that logs something again in every round (as a frequency-cap deferral
  // to `now` itself did before f5aa7ea) shows here as a different count of lines.
  it('the step log is exactly the reference one', () => {
    expect(diffStates(expected, actual)).toEqual([]);
  });

  it('one tick logs each outcome of an enrolment once (no step repeated round after round)', () => {
    expect(expected.repeatedInOneTick.slice(0, 10)).toEqual([]);
  });

  it('leaves a store that passes PRAGMA integrity_check', () => {
    expect(actual.integrity).toEqual(['ok']);
    expect(expected.integrity).toEqual(['ok']);
  });
});

describe('the runner lock', () => {
  it('a lease left by a killed runner is taken over once it ends, and the old holder cannot renew it', () => {
    const dir = copyProject(world.base, path.join(root, 'lease'));
    const project = openProject(dir);
    const db = openStore(storeOf(dir));
    try {
      const t0 = 1_000_000_000_000;
      expect(acquireLock(db, LOCK_NAME, 'killed-runner', t0, LOCK_TTL_MS)).toBe(true);
      const now = new Date(world.times[0]!);
      // during the lease: refused, nothing ticked
      expect(() => tickWithLock(db, project, now, 'second', () => t0 + LOCK_TTL_MS - 1)).toThrow(/another runner is ticking this store \(killed-runner\)/);
      expect(db.get<{ n: number }>('SELECT count(*) AS n FROM journeys')!.n).toBe(0);
      // at the very end of the lease: still refused (a lease is over once expires_at < now)
      expect(() => tickWithLock(db, project, now, 'second', () => t0 + LOCK_TTL_MS)).toThrow(/another runner/);
      // after it: taken over, ticked, released
      const report = tickWithLock(db, project, now, 'second', () => t0 + LOCK_TTL_MS + 1);
      expect(report.journeys.reduce((n, j) => n + j.entered, 0)).toBeGreaterThan(0);
      expect(holder(db)).toBeNull();
      // the killed runner, were it only paused, finds its lease gone and cannot renew it
      expect(acquireLock(db, LOCK_NAME, 'third', t0 + 2 * LOCK_TTL_MS, LOCK_TTL_MS)).toBe(true);
      expect(renewLock(db, LOCK_NAME, 'killed-runner', t0 + 2 * LOCK_TTL_MS + 1, LOCK_TTL_MS)).toBe(false);
      expect(() => tickWithLock(db, project, now, 'killed-runner', () => t0 + 2 * LOCK_TTL_MS + 1)).toThrow(/another runner is ticking this store \(third\)/);
    } finally {
      db.close();
    }
  });
});

/** A line of a human tick report with a count above zero: the tick did something. */
const DID_WORK = /\b[1-9][\d,]* (entered|sent|skipped|deferred|exited|completed|converted)\b/;

describe('two runners started together', () => {
  interface Pair {
    outs: RunOutcome[];
    show: string;
    state: StoreState;
    lockLeft: boolean;
  }
  const pairs: Pair[] = [];
  let expected: StoreState;
  let tickMs = 0;

  beforeAll(async () => {
    const { runOnce, openBuiltProject } = await built();
    const now = world.times[0]!;
    // The month's first tick (the backfills), and 10 due enrolments per customer at a
    // send step: the one that takes the lock is busy for a while.
    const base = copyProject(world.base, path.join(root, 'pair-base'));
    const baseDb = openStore(storeOf(base));
    addDueEnrolments(baseDb, 'registered-never-bought', 'nudge', 10, now - 3_600_000);
    baseDb.close();
    // what one tick does, run alone
    const single = copyProject(base, path.join(root, 'pair-reference'));
    const t = performance.now();
    await runOnce(openBuiltProject(single), { storePath: storeOf(single), now: () => new Date(now), deliver: false });
    tickMs = performance.now() - t;
    const refDb = openStore(storeOf(single));
    expected = storeState(refDb);
    refDb.close();

    for (let p = 0; p < PAIRS; p++) {
      const dir = copyProject(base, path.join(root, `pair-${p}`));
      // both wait just before the statement that takes the runner lock until both are there, then go at once
      const barrier = path.join(root, `pair-${p}-barrier`);
      mkdirSync(barrier);
      const runs = [startRun(dir, now, { lockBarrier: barrier }), startRun(dir, now, { lockBarrier: barrier })];
      const arrived = () => readdirSync(barrier).filter((f) => f.startsWith('arrived-')).length;
      for (const deadline = Date.now() + 60_000; arrived() < 2 && Date.now() < deadline && !runs.some((r) => r.exited()); ) await sleep(5);
      const bothArrived = arrived() === 2;
      writeFileSync(path.join(barrier, 'go'), '');
      const outs = await Promise.all(runs.map((r) => r.done));
      if (!bothArrived) throw new Error(`pair ${p}: the runners never both reached INSERT INTO runner_lock: ${outs.map((o) => o.stderr).join(' | ')}`);
      const db = openStore(storeOf(dir));
      pairs.push({
        outs,
        show: `pair ${p}: ` + outs.map((o) => `exit ${o.code} after ${o.ms.toFixed(0)} ms: ${(o.stdout.split('\n')[0] || o.stderr.split('\n')[0]) ?? ''}`).join(' | '),
        state: storeState(db),
        lockLeft: holder(db) !== null,
      });
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const refusedAtOnce = pairs.filter((p) => p.outs.some((o) => o.code === 1)).length;
    console.log(
      `two runners: ${PAIRS} pairs (one tick alone: ${tickMs.toFixed(0)} ms); ${refusedAtOnce} with one refused, ` +
        `${PAIRS - refusedAtOnce} where the second waited out the first's tick and ticked after it; e.g. ${pairs[0]?.show}`,
    );
  }, 300_000);

  it(`never both do work: in each of ${PAIRS} pairs the store is exactly what one tick alone does`, () => {
    expect(expected.messages.length).toBeGreaterThan(1000);
    for (const p of pairs) {
      expect(p.state.duplicateKeys, p.show).toEqual([]);
      expect(p.state.duplicateSends, p.show).toEqual([]);
      expect(p.state.duplicateEnrolments, p.show).toEqual([]);
      expect(p.state.integrity, p.show).toEqual(['ok']);
      expect(multisetDiff(expected.messageDetails, p.state.messageDetails), p.show).toEqual({ missing: [], extra: [] });
      expect(diffStates(expected, p.state), p.show).toEqual([]);
      expect(p.lockLeft, p.show).toBe(false);
    }
  });

  it('in each pair exactly one runner ticks (does the work); the other is refused with exit 1 (another runner)', () => {
    for (const p of pairs) {
      for (const o of p.outs) expect(o.code === 0 ? /^tick at /.test(o.stdout) : o.code === 1 && /another runner is ticking this store/.test(o.stderr), p.show).toBe(true);
      expect(p.outs.filter((o) => o.code === 0 && DID_WORK.test(o.stdout)).length, p.show).toBe(1);
    }
    // every pair: one exit 0 and one exit 1 (the second finds the lock held)
    expect(pairs.filter((p) => p.outs.filter((o) => o.code === 1).length === 1).length).toBe(PAIRS);
  });
});

// Taking the runner lock first reads the lock row (reads never wait in WAL mode), so
// a runner started while another ticks is refused at once, even while the ticking one
// holds SQLite's write lock, and is never left waiting on it.
describe('a runner started while another ticks', () => {
  const midTick = async (name: string, holdMs: number): Promise<RunOutcome> => {
    const dir = copyProject(world.base, path.join(root, name));
    const db = openStore(storeOf(dir));
    try {
      // runner A: holds the lock, and is in the middle of a step (the write transaction open)
      expect(acquireLock(db, LOCK_NAME, 'host:1:runner-a', Date.now(), LOCK_TTL_MS)).toBe(true);
      db.begin();
      const barrier = path.join(root, `${name}-barrier`);
      mkdirSync(barrier);
      const b = startRun(dir, world.times[0]!, { lockBarrier: barrier });
      for (const deadline = Date.now() + 60_000; readdirSync(barrier).length < 1 && Date.now() < deadline && !b.exited(); ) await sleep(5);
      writeFileSync(path.join(barrier, 'go'), '');
      // B now tries to take the lock; A's step goes on for holdMs, then A finishes its tick
      await sleep(holdMs);
      releaseLock(db, LOCK_NAME, 'host:1:runner-a');
      db.commit();
      return await b.done;
    } finally {
      db.close();
    }
  };

  it('is refused at once (exit 1, another runner), not let in once that tick is over', async () => {
    const out = await midTick('mid-tick', 500);
    expect({ code: out.code, refused: /another runner is ticking this store \(host:1:runner-a\)/.test(out.stderr) }, out.stdout + out.stderr).toEqual({ code: 1, refused: true });
  }, 60_000);

  it('is refused with the holder\'s name even when the tick holds the write lock past the busy timeout', async () => {
    const out = await midTick('mid-tick-long', 5_500);
    expect({ code: out.code, refused: /another runner is ticking this store \(host:1:runner-a\)/.test(out.stderr) }, out.stdout + out.stderr).toEqual({ code: 1, refused: true });
  }, 60_000);
});
