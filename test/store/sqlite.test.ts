/**
 * The store's transactions with a second connection writing to the same file, as
 * `journey serve`, a second dispatcher or the dispatcher's store thread do.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { openSqlite } from '../../src/store/sqlite.js';
import { tempDir } from './helpers.js';

describe('store transactions', () => {
  it('hold the write lock from their start: a transaction that reads first still writes, and the other writer waits its turn', () => {
    const file = path.join(tempDir(), 'store.db');
    const ours = openStore(file);
    const other = openSqlite(file);
    // the other connection does not wait, so that "must wait" shows as an error here
    other.exec('PRAGMA busy_timeout = 0');
    const insertCustomer = (db: typeof ours, id: string) => db.run(`INSERT INTO customers (id, email) VALUES (?, ?)`, [id, `${id}@example.test`]);

    const seen = ours.transaction(() => {
      const before = ours.get<{ n: number }>(`SELECT count(*) AS n FROM customers`)!.n;
      expect(() => insertCustomer(other, 'theirs')).toThrow(/locked|busy/i);
      insertCustomer(ours, 'ours');
      return before;
    });

    expect(seen).toBe(0);
    insertCustomer(other, 'theirs');
    expect(ours.all(`SELECT id FROM customers ORDER BY id`)).toEqual([{ id: 'ours' }, { id: 'theirs' }]);
    other.close();
    ours.close();
  });
});
