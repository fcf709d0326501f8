import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoreDb } from '../../src/store/db.js';
import { importFile } from '../../src/store/import/import.js';
import { openStore } from '../../src/store/open.js';

// Delivery events exported by a shop's e-mail platform, imported with `journey import events`.
let dir: string;
let db: StoreDb;
const csv = (name: string, text: string) => {
  const file = path.join(dir, name);
  writeFileSync(file, text.trim() + '\n');
  return file;
};

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'journey-delivery-import-'));
  db = openStore(path.join(dir, 'store.db'));
  await importFile(db, { kind: 'customers', file: csv('customers.csv', 'id,email,consent_email\nc1,ann@shop.test,yes\nc2,bob@shop.test,yes') });
  for (const [id, customer, address, pid] of [
    [1, 'c1', 'ann@shop.test', 'sg-1'],
    [2, 'c2', 'bob@shop.test', 'sg-2'],
  ] as const) {
    db.run(
      `INSERT INTO outbox_messages (id, idempotency_key, enrolment_id, journey_id, step_id, customer_id, channel, provider, template, address, created_at)
       VALUES (?, ?, ?, 'j', 'thanks', ?, 'email', 'sendgrid', 't', ?, 0)`,
      [id, `j:${id}:thanks`, id, customer, address],
    );
    db.run(`UPDATE outbox_delivery SET status = 'sent', provider_message_id = ? WHERE id = ?`, [pid, id]);
  }
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('journey import events with delivery events', () => {
  it('matches them to their messages by key or provider id, once, and suppresses unsubscribes', async () => {
    const file = csv(
      'events.csv',
      `
id,customer_id,type,occurred_at,properties
x1,c1,email_opened,2026-11-02T10:00:00Z,"{""message_id"":""j:1:thanks""}"
x2,c2,email_unsubscribed,2026-11-02T11:00:00Z,"{""message_id"":""sg-2""}"
x3,c1,page_viewed,2026-11-02T12:00:00Z,"{""message_id"":""j:1:thanks""}"
x4,c1,email_clicked,2026-11-02T12:00:00Z,"{""message_id"":""nobody""}"`,
    );
    await importFile(db, { kind: 'events', file });
    await importFile(db, { kind: 'events', file }); // a re-import stores nothing twice
    expect(db.all('SELECT event_id, outbox_id, kind FROM message_events ORDER BY id')).toEqual([
      { event_id: 'import:x1', outbox_id: 1, kind: 'opened' },
      { event_id: 'import:x2', outbox_id: 2, kind: 'unsubscribed' },
    ]);
    expect(db.all('SELECT channel, address, reason FROM suppressions')).toEqual([{ channel: 'email', address: 'bob@shop.test', reason: 'email_unsubscribed' }]);
    expect(db.all(`SELECT customer_id FROM customer_reachability WHERE channel = 'email' ORDER BY customer_id`)).toEqual([{ customer_id: 'c1' }]);
    // every row is still a customer event, for segments
    expect(db.get<{ n: number }>('SELECT count(*) AS n FROM events')!.n).toBe(4);
  });
});
