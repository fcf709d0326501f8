import path from 'node:path';
import type { Command } from 'commander';

/** The project folder: the global -C/--project option, or the current folder. */
export function projectDir(cmd: Command): string {
  const opts = cmd.optsWithGlobals() as { project?: string };
  return path.resolve(process.cwd(), opts.project ?? '.');
}
