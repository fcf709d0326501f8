/**
 * Values an export should never hold are refused with their row and column, and the
 * store is left as it was: a negative price or total, a quantity past 2^53, an id of
 * megabytes, a status no rule could match, a suppression for a channel that does not exist.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importFile } from '../../src/store/import/import.js';
import type { ImportKind } from '../../src/store/import/kinds.js';
import { snapshot, tempDir, tempStore } from './helpers.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');

function file(name: string, text: string): string {
  const f = path.join(tempDir(), name);
  writeFileSync(f, text);
  return f;
}

async function refused(kind: ImportKind, csv: string, said: RegExp, extra: { channels?: string[] } = {}) {
  const db = tempStore();
  try {
    await importFile(db, { kind: 'customers', file: file('c.csv', 'id,email\nc1,a@shop.test\n'), now: NOW });
    const before = snapshot(db);
    const err = await importFile(db, { kind, file: file('x.csv', csv), now: NOW, ...extra }).then(
      () => null,
      (e: unknown) => e as Error & { location?: { row?: number; field?: string } },
    );
    expect(err, `${kind}: ${csv.slice(0, 80)}`).not.toBeNull();
    expect(err!.message).toMatch(said);
    expect(err!.location?.row).toBe(1);
    expect(snapshot(db)).toEqual(before);
  } finally {
    db.close();
  }
}

describe('import value checks', () => {
  it('refuses a negative order total and a negative product or item price', async () => {
    await refused('orders', 'id,customer_id,placed_at,status,total\no1,c1,2026-11-01T10:00:00Z,shipped,-10.50\n', /column total: "-10.50" is negative; prices and totals are 0 or more/);
    await refused('products', 'id,title,price\np1,Mug,-1\n', /column price: "-1" is negative/);
    await refused('order-items', 'order_id,line,product_id,quantity,price\no1,1,p1,1,-3\n', /column price: "-3" is negative/);
  });

  it('refuses a quantity or line past 2^53, which would be stored as another number', async () => {
    await refused('order-items', 'order_id,line,product_id,quantity\no1,1,p1,9007199254740993\n', /column quantity: "9007199254740993" is too large: whole numbers go up to 9,007,199,254,740,991/);
    await refused('order-items', 'order_id,line,product_id,quantity\no1,99999999999999999999,p1,1\n', /column line: .* is too large/);
  });

  it('refuses an id of megabytes, quoting only its start', async () => {
    const huge = 'x'.repeat(10 * 1024 * 1024);
    await refused('customers', `id,email\n${huge},b@shop.test\n`, /column id: "x{60}"… \(10,485,760 characters\) is too long for an id: at most 256 characters/);
  });

  it('refuses an order status no rule can match, and takes one a mapping file produces', async () => {
    await refused('orders', 'id,customer_id,placed_at,status\no1,c1,2026-11-01T10:00:00Z,shiped\n', /column status: "shiped" is not an order status journey knows \(pending, processing/);
    const db = tempStore();
    try {
      await importFile(db, { kind: 'customers', file: file('c.csv', 'id,email\nc1,a@shop.test\n'), now: NOW });
      const mapping = file('m.yaml', 'statuses:\n  Returned: returned\n');
      await importFile(db, { kind: 'orders', file: file('o.csv', 'id,customer_id,placed_at,status\no1,c1,2026-11-01T10:00:00Z,Returned\no2,c1,2026-11-01T10:00:00Z,Cancelled\n'), mappingFile: mapping, now: NOW });
      expect(db.all(`SELECT id, status FROM orders ORDER BY id`)).toEqual([{ id: 'o1', status: 'returned' }, { id: 'o2', status: 'canceled' }]);
    } finally {
      db.close();
    }
  });

  it("refuses a suppression for a channel the project does not have, or that is no channel's name", async () => {
    await refused('suppressions', 'channel,address\nemial,a@shop.test\n', /column channel: "emial" is not a channel of this project \(email, sms\)/, { channels: ['email', 'sms'] });
    await refused('suppressions', 'channel,address\nE Mail!,a@shop.test\n', /column channel: "e mail!" is not a channel name/);
  });
});
