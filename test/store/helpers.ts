import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StoreDb } from '../../src/store/db.js';
import { openStore } from '../../src/store/open.js';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/store');
/** The Olist excerpt lives outside the repo (licence); tests read it in place. */
export const OLIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data/olist-sample');
export const HAS_OLIST = existsSync(OLIST);
/** Appended to the name of a test that needs the excerpt, so that a clone without it says why the test skipped. */
export const OLIST_SKIP_NOTE = HAS_OLIST ? '' : ' (skipped: needs the Olist excerpt in ../shared/data/olist-sample, which its licence keeps out of the repo)';

export function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'journey-store-test-'));
}

export function tempStore(): StoreDb {
  return openStore(path.join(tempDir(), 'store.db'));
}

export const fixture = (...parts: string[]) => path.join(FIXTURES, ...parts);

/** Every table's rows, for "nothing changed" assertions. */
export function snapshot(db: StoreDb): Record<string, unknown[]> {
  const tables = ['customers', 'customer_consents', 'customer_aliases', 'products', 'orders', 'order_status_history', 'order_items', 'events', 'suppressions'];
  return Object.fromEntries(tables.map((t) => [t, db.all(`SELECT * FROM ${t} ORDER BY 1, 2`)]));
}
