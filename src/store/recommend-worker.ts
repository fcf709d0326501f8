/**
 * The recommendations thread's own code (recommend-thread.ts starts it): on a
 * connection of its own to the store, it computes a step's recommended products from
 * the enrolments and orders it is sent, and posts each enrolment's list back with the
 * products' fields. Every request is answered, an error too: the tick waits for it.
 */
import { workerData, type MessagePort } from 'node:worker_threads';
import type { SqlValue } from './db.js';
import { recommendedProducts, type ProductRow } from './message-context.js';
import { recommendationLists, recommendForTargets, type RecommendationSpec } from './recommendations.js';
import { openSqlite } from './sqlite.js';

export interface RecommendRequest {
  targets: SqlValue[][];
  spec: RecommendationSpec;
  now: number;
}
export type RecommendAnswer = { lists: SqlValue[][]; products: ProductRow[] } | { error: { message: string; stack: string | undefined } };

const { path, port, signal } = workerData as { path: string; port: MessagePort; signal: Int32Array };
const TABLE = 'thread_recs';

function answer(a: RecommendAnswer): void {
  port.postMessage(a);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

// the tick's connection migrated the store: this one only reads
let db: ReturnType<typeof openSqlite> | null = null;
port.on('message', (r: RecommendRequest) => {
  try {
    db ??= openSqlite(path);
    recommendForTargets(db, r.targets, r.spec, r.now, TABLE);
    answer({ lists: recommendationLists(db, TABLE), products: [...recommendedProducts(db, TABLE).values()] });
  } catch (err) {
    answer({ error: { message: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined } });
  } finally {
    db?.exec(`DROP TABLE IF EXISTS temp.${TABLE}`);
  }
});
