/**
 * A child process run to the end without blocking this one (a stand-in provider the
 * test started answers from this process's event loop): its exit code and output.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Ran {
  status: number | null;
  stdout: string;
  stderr: string;
}

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/journey.js');

/** `cmd args` with the test's environment, NO_COLOR, `env` added and the `unset` variables removed. */
export function spawned(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; unset?: readonly string[] } = {}): Promise<Ran> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...opts.env };
  for (const name of opts.unset ?? []) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The built CLI (npm run build first) on the project `dir` at the clock `now`. */
export function journeyAt(dir: string, now: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; unset?: readonly string[] } = {}): Promise<Ran> {
  return spawned(process.execPath, [BIN, '-C', dir, '--now', now, ...args], opts);
}
