import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { JourneyError } from '../errors.js';
import type { Project } from '../project/model.js';
import type { StoreDb } from '../store/db.js';
import { acquireLock, lockHolder, releaseLock, renewLock } from '../store/runner-lock.js';
import { runTick, type TickReport } from './tick.js';

export const LOCK_NAME = 'tick';
/** A lease long enough for a tick, short enough that a killed runner's lock frees itself soon. */
export const LOCK_TTL_MS = 60_000;

export function runnerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * One tick under the store's lock. A second runner on the same store fails at once
 * with the holder's name; a lock left by a killed runner is taken over once its
 * lease ends.
 */
export function tickWithLock(db: StoreDb, project: Project, now: Date, owner = runnerId(), realNow = Date.now): TickReport {
  if (!acquireLock(db, LOCK_NAME, owner, realNow(), LOCK_TTL_MS)) {
    const holder = lockHolder(db, LOCK_NAME);
    throw new JourneyError(`another runner is ticking this store (${holder?.owner ?? 'unknown'})`, {
      hint: holder ? `its lock expires at ${new Date(holder.expiresAt).toISOString()} if it was killed; one runner per store` : undefined,
    });
  }
  const heartbeat = () => {
    if (!renewLock(db, LOCK_NAME, owner, realNow(), LOCK_TTL_MS)) throw new JourneyError('this runner lost the store lock (its lease expired); stopping before it ticks alongside another');
  };
  try {
    return runTick(db, project, { now, heartbeat });
  } finally {
    releaseLock(db, LOCK_NAME, owner);
  }
}

