/**
 * Order items carry their own status where the source has one (migration 013): a
 * status column, mapped to the canonical names like an order's; a re-import that
 * changes it updates the item; a file without the column leaves it as it was.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importFile } from '../../src/store/import/import.js';
import { fixture, tempDir, tempStore } from './helpers.js';

const NOW = Date.UTC(2024, 9, 1);

describe('order item status', () => {
  it('is imported from a status column, updated on re-import, and kept by a file without it', async () => {
    const db = tempStore();
    await importFile(db, { kind: 'customers', file: fixture('customers.csv'), now: NOW });
    await importFile(db, { kind: 'orders', file: fixture('orders.csv'), now: NOW });
    const dir = tempDir();
    const file = (name: string, text: string) => {
      const p = path.join(dir, name);
      writeFileSync(p, text);
      return p;
    };
    await importFile(db, { kind: 'order-items', file: file('a.csv', 'order_id,line,product_id,quantity,status\no1,1,p1,1,Delivered\no1,2,p2,1,cancelled\no2,1,p1,3,\n'), now: NOW });
    const statuses = () => db.all(`SELECT order_id, line, status FROM order_items ORDER BY 1, 2`);
    expect(statuses()).toEqual([
      { order_id: 'o1', line: 1, status: 'delivered' },
      { order_id: 'o1', line: 2, status: 'canceled' },
      { order_id: 'o2', line: 1, status: null },
    ]);
    const again = await importFile(db, { kind: 'order-items', file: file('b.csv', 'order_id,line,product_id,quantity,status\no1,2,p2,1,delivered\n'), now: NOW });
    expect(again).toMatchObject({ updated: 1 });
    await importFile(db, { kind: 'order-items', file: file('c.csv', 'order_id,line,product_id,quantity\no1,1,p1,2\n'), now: NOW });
    expect(statuses()).toEqual([
      { order_id: 'o1', line: 1, status: 'delivered' },
      { order_id: 'o1', line: 2, status: 'delivered' },
      { order_id: 'o2', line: 1, status: null },
    ]);
  });
});
