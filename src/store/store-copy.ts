import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { JourneyError } from '../errors.js';
import { openStore } from './open.js';
import { copyStoreTo } from './temp-tables.js';

/**
 * Runs `fn` on a throwaway copy of the store (a dry run, a simulation): a consistent
 * snapshot even while another process writes, removed afterwards whatever happens.
 */
export function withStoreCopy<T>(storePath: string, purpose: string, fn: (copyPath: string) => T): T {
  if (!existsSync(storePath)) throw new JourneyError(`no store at ${storePath}`, { hint: 'import the shop data first: journey import customers FILE (and orders, ...)' });
  const dir = mkdtempSync(path.join(os.tmpdir(), `journey-${purpose}-`));
  try {
    const copy = path.join(dir, 'store.db');
    const source = openStore(storePath);
    try {
      copyStoreTo(source, copy);
    } finally {
      source.close();
    }
    return fn(copy);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
