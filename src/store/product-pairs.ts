/**
 * Co-purchase counts (product_pairs, migration 019) kept by a bulk writer set by set:
 * the pairs of the orders a batch touches come out as they are, the batch is written
 * with the row triggers paused (migration 020), and the pairs of the same orders go
 * back in as they are now. Whatever the batch changed (items, a status, a date), the
 * counts end as a recount would make them.
 */
import type { StoreDb } from './db.js';

const DAY = 86_400_000;
/** As migration 019's triggers count: an order in one of these statuses is no purchase. */
const COUNTED = `o.status NOT IN ('canceled', 'unavailable', 'refunded')`;

/** Runs `write` with the pairs of the orders `affected` selects (one column of order ids) kept by set. */
export function keepingPairsBySet<T>(db: StoreDb, affected: string, write: () => T): T {
  db.exec(`CREATE TEMP TABLE IF NOT EXISTS pairs_orders (id TEXT PRIMARY KEY) WITHOUT ROWID;
    CREATE TEMP TABLE IF NOT EXISTS pairs_delta (a TEXT NOT NULL, b TEXT NOT NULL, day INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (a, b, day)) WITHOUT ROWID;
    DELETE FROM temp.pairs_orders;`);
  db.run(`INSERT OR IGNORE INTO temp.pairs_orders (id) SELECT id FROM (${affected}) WHERE id IS NOT NULL`);
  countPairs(db);
  db.exec(`UPDATE product_pairs SET n = product_pairs.n - d.n FROM temp.pairs_delta d WHERE product_pairs.a = d.a AND product_pairs.b = d.b AND product_pairs.day = d.day;
    DELETE FROM product_pairs WHERE n <= 0 AND (a, b, day) IN (SELECT a, b, day FROM temp.pairs_delta);
    INSERT INTO product_pairs_paused (id) VALUES (1);`);
  try {
    return write();
  } finally {
    db.exec(`DELETE FROM product_pairs_paused`);
    countPairs(db);
    db.exec(`INSERT INTO product_pairs (a, b, day, n) SELECT a, b, day, n FROM temp.pairs_delta WHERE true ON CONFLICT (a, b, day) DO UPDATE SET n = n + excluded.n`);
  }
}

/** temp.pairs_delta = the pairs the orders of temp.pairs_orders make now, each order counted once. */
function countPairs(db: StoreDb): void {
  db.exec(`DELETE FROM temp.pairs_delta;
    INSERT INTO temp.pairs_delta (a, b, day, n)
    SELECT a, b, day, count(*) FROM (
      SELECT DISTINCT i.product_id AS a, j.product_id AS b, o.placed_at / ${DAY} AS day, o.id
      FROM temp.pairs_orders p JOIN orders o ON o.id = p.id
      JOIN order_items i ON i.order_id = o.id JOIN order_items j ON j.order_id = o.id
      WHERE ${COUNTED} AND i.product_id IS NOT NULL AND j.product_id IS NOT NULL AND i.product_id <> j.product_id)
    GROUP BY a, b, day`);
}
