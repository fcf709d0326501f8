/**
 * Runs `journey -C DIR --now T run --once --no-deliver` as a child process (the
 * built CLI: npm run build first), and kills it with SIGKILL at a chosen moment.
 */
import { spawn } from 'node:child_process';
import { BIN, PRELOAD } from './world.js';

export interface RunOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunHandle {
  pid: number;
  started: number;
  done: Promise<RunOutcome>;
  kill(): void;
  exited(): boolean;
}

export interface RunEnv {
  /** Date.now() of the child runs this far ahead (the lock's lease is on the real clock). */
  clockSkewMs?: number;
  /** A folder: the child waits there just before taking the runner lock (see preload.mjs). */
  lockBarrier?: string;
}

export function startRun(project: string, now: number, env: RunEnv = {}): RunHandle {
  const args = ['--import', PRELOAD, BIN, '-C', project, '--now', new Date(now).toISOString(), 'run', '--once', '--no-deliver'];
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      NO_COLOR: '1',
      JOURNEY_TEST_CLOCK_SKEW_MS: String(env.clockSkewMs ?? 0),
      JOURNEY_TEST_LOCK_BARRIER: env.lockBarrier ?? '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let exited = false;
  child.stdout.on('data', (c) => (stdout += c));
  child.stderr.on('data', (c) => (stderr += c));
  const done = new Promise<RunOutcome>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      exited = true;
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
  return {
    pid: child.pid!,
    started,
    done,
    kill: () => {
      if (!exited) child.kill('SIGKILL');
    },
    exited: () => exited,
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
