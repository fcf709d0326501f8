/**
 * The dispatcher's store thread: claims and completions run here, on a connection
 * of its own, so that the main thread's event loop only sends and receives HTTP.
 * (Synchronous SQLite on the main thread stalls every socket for the length of each
 * claim and each group write: about a fifth of the dispatcher's main-thread time in
 * the bench, by a CPU profile, with the leases of migration 009.)
 * Requests are served one at a time, in order, so a completion written after a
 * claim always sees the claim.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openStore } from './open.js';
import { claimDue, claimInDoubt, commitGroup } from './outbox.js';
import type { OutboxRequest, OutboxResponse } from './outbox-thread.js';

const db = openStore((workerData as { path: string }).path);
const port = parentPort!;

port.on('message', (request: OutboxRequest) => {
  let response: OutboxResponse;
  try {
    switch (request.op) {
      case 'claim':
        response = { id: request.id, ok: true, rows: claimDue(db, request.provider, request.now, request.leaseUntil, request.limit) };
        break;
      case 'claim_in_doubt':
        response = { id: request.id, ok: true, rows: claimInDoubt(db, request.provider, request.now, request.leaseUntil, request.limit) };
        break;
      case 'commit':
        response = { id: request.id, ok: true, group: commitGroup(db, request.attempts, request.completions, request.endedLeases) };
        break;
      case 'close':
        db.close();
        response = { id: request.id, ok: true };
        break;
      default:
        response = { id: (request as { id: number }).id, ok: false, error: `unknown request ${JSON.stringify(request)}` };
    }
  } catch (err) {
    response = { id: request.id, ok: false, error: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(response);
});
