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

describe('item status history (migration 018)', () => {
  it('an import that changes an item status appends a row dated by the source, else by the import; a new item, a cleared status, an item taking its order\'s status or a re-import appends none', async () => {
    const db = tempStore();
    await importFile(db, { kind: 'customers', file: fixture('customers.csv'), now: NOW });
    await importFile(db, { kind: 'orders', file: fixture('orders.csv'), now: NOW });
    const dir = tempDir();
    let n = 0;
    const items = (text: string, now: number) => {
      const p = path.join(dir, `items-${++n}.csv`);
      writeFileSync(p, text);
      return importFile(db, { kind: 'order-items', file: p, now });
    };
    const history = () =>
      db.all(`SELECT order_id, item_line, previous_status, status, changed_at, recorded_at, estimated FROM order_status_history WHERE item_line IS NOT NULL ORDER BY id`);
    const orderRows = () => db.get<{ n: number }>(`SELECT count(*) AS n FROM order_status_history WHERE item_line IS NULL`)!.n;
    const ordersBefore = orderRows();
    // new items, whatever their status: they arrive with their order
    await items('order_id,line,product_id,quantity,status\no1,1,p1,1,shipped\no1,2,p2,1,\no2,1,p1,1,shipped\no2,2,p2,1,\n', NOW);
    expect(history()).toEqual([]);
    const later = NOW + 86_400_000;
    const dated = Date.UTC(2024, 9, 1, 15, 30);
    // o2 is shipped: its item 2, which followed it, is still shipped (an export that
    // starts giving line statuses, the store upgraded from before items had them)
    await items('order_id,line,product_id,quantity,status,status_changed_at\no1,1,p1,1,delivered,2024-10-01T15:30:00Z\no1,2,p2,1,canceled,\no2,1,p1,1,,\no2,2,p2,1,shipped,\n', later);
    expect(history()).toEqual([
      { order_id: 'o1', item_line: 1, previous_status: 'shipped', status: 'delivered', changed_at: dated, recorded_at: later, estimated: 0 },
      { order_id: 'o1', item_line: 2, previous_status: null, status: 'canceled', changed_at: later, recorded_at: later, estimated: 0 },
    ]);
    // the same file again, and a file without the status column
    await items('order_id,line,product_id,quantity,status,status_changed_at\no1,1,p1,1,delivered,2024-10-01T15:30:00Z\no1,2,p2,1,canceled,\no2,1,p1,1,,\n', later + 1);
    await items('order_id,line,product_id,quantity\no1,1,p1,2\no1,2,p2,1\n', later + 2);
    expect(history()).toHaveLength(2);
    expect(orderRows()).toBe(ordersBefore);
  });
});
