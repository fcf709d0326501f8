import path from 'node:path';
import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { parseIsoInstant } from '../time/iso.js';

/** The project folder: the global -C/--project option, or the current folder. */
export function projectDir(cmd: Command): string {
  const opts = cmd.optsWithGlobals() as { project?: string };
  const dir = path.resolve(process.cwd(), opts.project ?? '.');
  // as git -C does: a folder that is not there is a mistake, not a new project (import would create a store in it)
  if (opts.project !== undefined && !isDirectory(dir)) {
    throw usageError(`-C ${opts.project}: ${existsSync(dir) ? 'not a folder' : 'no such folder'}`, 'name the project folder, the one that holds journey.config.yaml');
  }
  return dir;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Whether the global --now was given. */
export function hasNow(cmd: Command): boolean {
  return (cmd.optsWithGlobals() as { now?: string }).now !== undefined;
}

/**
 * The clock: the global --now option (an ISO 8601 time), or the real time. Every
 * command takes its "now" from here, so a plan or a simulation is reproducible.
 */
export function clockNow(cmd: Command): Date {
  const opts = cmd.optsWithGlobals() as { now?: string };
  if (opts.now === undefined) return new Date();
  return timeFlag('--now', opts.now);
}

/** A flag's ISO 8601 time, read as strictly as --now: a day that does not exist is a usage error, not the next month. */
export function timeFlag(flag: string, text: string): Date {
  const ms = parseIsoInstant(text.trim());
  if (ms === undefined) {
    throw usageError(`${flag} '${text}' is not a time`, 'write an ISO 8601 date or time that exists, e.g. 2026-11-25T09:00:00Z or 2026-11-25 (UTC unless it names an offset)');
  }
  return new Date(ms);
}
