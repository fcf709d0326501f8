/**
 * Recommended products, computed in SQL for every enrolment a step sends to at once
 * (never a query per customer), into a temporary table (enrolment_id, position,
 * product_id, reason):
 *
 * - related: products bought in the same orders as the products of the trigger order
 *   (or, without one, of the customer's latest order), counted over a window (default
 *   365 days, in whole UTC days): read from product_pairs (migration 019, kept by the
 *   orders' triggers) for the basis products of all the step's customers at once, then
 *   summed per customer.
 * - category: best sellers of the basis products' categories and of the categories the
 *   project's category map adds to them.
 * - popular: best sellers in a window (default 30 days), optionally of one category.
 * - new: the newest products (created within the window, when given).
 *
 * Products the customer already bought are left out (exclude_purchased, default on),
 * the basis products always, and products whose attributes say they are out of stock
 * (stock <= 0, or in_stock false) where the store knows it. A strategy that finds
 * too few is topped up by its fallback (default popular).
 */
import type { SqlValue, StoreDb } from './db.js';
import type { IdSet } from './enrolments.js';

const inSet = (set: IdSet) => `IN (SELECT id FROM (${set.sql}))`;

export interface RecommendationSpec {
  strategy: 'related' | 'popular' | 'new' | 'category';
  count: number;
  /** The window in ms (popular, new, related), or null for the strategy's default. */
  withinMs: number | null;
  category: string | null;
  excludePurchased: boolean;
  fallback: 'popular' | 'new' | 'none';
  /** category -> more categories (the project's category map). */
  categoryMap: Record<string, string[]>;
}

const DAY = 86_400_000;
const IN_STOCK = `coalesce(json_extract(p.attributes, '$.stock'), 1) > 0 AND coalesce(json_extract(p.attributes, '$.in_stock'), 1) <> 0`;
const COUNTED = `o.status NOT IN ('canceled', 'unavailable', 'refunded')`;

/** Fills temp.<table> with each enrolment's products; returns the table's name. */
export function recommendFor(db: StoreDb, set: IdSet, spec: RecommendationSpec, now: number, table: string): string {
  db.exec(`DROP TABLE IF EXISTS temp.${table}; DROP TABLE IF EXISTS temp.${table}_t; DROP TABLE IF EXISTS temp.${table}_c;
    CREATE TEMP TABLE ${table}_c (eid INTEGER NOT NULL, pid TEXT NOT NULL, tier INTEGER NOT NULL, score REAL NOT NULL, reason TEXT NOT NULL)`);
  // each enrolment with its basis order: the trigger order, else the latest order
  // (keyed by eid: every candidate below is joined back to its enrolment's row)
  db.exec(`CREATE TEMP TABLE ${table}_t (eid INTEGER PRIMARY KEY, cid TEXT NOT NULL, basis TEXT)`);
  db.run(
    `INSERT INTO ${table}_t (eid, cid, basis) SELECT en.id, en.customer_id,
       coalesce(en.order_id, (SELECT id FROM orders WHERE customer_id = en.customer_id ORDER BY placed_at DESC, id DESC LIMIT 1))
     FROM enrolments en WHERE en.id ${inSet(set)}`,
    [...set.params],
  );
  const pool = spec.count + 30; // candidates kept per list before exclusions
  const add = (strategy: RecommendationSpec['strategy'], tier: number) => {
    switch (strategy) {
      case 'related': {
        // the window in whole UTC days, as product_pairs counts them: from the start of
        // the day that holds now - within (up to a day more than within, never less)
        const since = Math.floor((now - (spec.withinMs ?? 365 * DAY)) / DAY);
        // pairs are read for the step's basis products only, and each product keeps its
        // best `pool` partners: a customer's candidates are then a few dozen rows, not
        // every product ever bought beside theirs
        db.run(
          `WITH basis AS (SELECT DISTINCT t.eid, i.product_id AS pid FROM ${table}_t t JOIN order_items i ON i.order_id = t.basis WHERE i.product_id IS NOT NULL),
                pairs AS (SELECT pp.a, pp.b, sum(pp.n) AS n FROM product_pairs pp
                          WHERE pp.a IN (SELECT pid FROM basis) AND pp.day >= ? GROUP BY pp.a, pp.b HAVING sum(pp.n) > 0),
                best AS MATERIALIZED (SELECT a, b, n FROM (SELECT a, b, n, row_number() OVER (PARTITION BY a ORDER BY n DESC, b) AS r FROM pairs) WHERE r <= ?)
           INSERT INTO ${table}_c (eid, pid, tier, score, reason)
           SELECT b.eid, best.b, ?, sum(best.n), 'bought together with ' || group_concat(b.pid, ', ' ORDER BY b.pid) || ' in ' || sum(best.n) || ' orders'
           FROM basis b JOIN best ON best.a = b.pid GROUP BY b.eid, best.b`,
          [since, pool, tier],
        );
        break;
      }
      case 'category': {
        const since = now - (spec.withinMs ?? 90 * DAY);
        db.exec(`DROP TABLE IF EXISTS temp.${table}_map; CREATE TEMP TABLE ${table}_map (c TEXT NOT NULL, more TEXT NOT NULL)`);
        for (const [c, more] of Object.entries(spec.categoryMap)) for (const m of more) db.run(`INSERT INTO temp.${table}_map VALUES (?, ?)`, [c, m]);
        db.run(
          `WITH cats AS (SELECT DISTINCT t.eid, p.category AS cat FROM ${table}_t t JOIN order_items i ON i.order_id = t.basis JOIN products p ON p.id = i.product_id WHERE p.category IS NOT NULL),
                wanted AS (SELECT eid, cat FROM cats UNION SELECT cats.eid, m.more FROM cats JOIN temp.${table}_map m ON m.c = cats.cat),
                sales AS (SELECT p.category AS cat, p.id AS pid, count(DISTINCT o.id) AS n FROM products p JOIN order_items i ON i.product_id = p.id
                          JOIN orders o ON o.id = i.order_id AND o.placed_at >= ? AND ${COUNTED}
                          WHERE p.category IN (SELECT cat FROM wanted) GROUP BY p.id),
                ranked AS (SELECT cat, pid, n, row_number() OVER (PARTITION BY cat ORDER BY n DESC, pid) AS r FROM sales)
           INSERT INTO ${table}_c (eid, pid, tier, score, reason)
           SELECT w.eid, ranked.pid, ?, ranked.n, 'a best seller of ' || ranked.cat || ' (' || ranked.n || ' orders)' FROM wanted w JOIN ranked ON ranked.cat = w.cat AND ranked.r <= ?`,
          [since, tier, pool],
        );
        break;
      }
      case 'popular': {
        const since = now - (spec.withinMs ?? 30 * DAY);
        const cat: SqlValue[] = spec.category && tier === 0 ? [spec.category] : [];
        db.run(
          // orders first, as for related (28 s from the products, 2 s from the orders, on the 1M shop)
          `WITH top AS MATERIALIZED (SELECT p.id AS pid, count(DISTINCT o.id) AS n FROM orders o CROSS JOIN order_items i ON i.order_id = o.id
                        JOIN products p ON p.id = i.product_id
                        WHERE o.placed_at >= ? AND ${COUNTED} ${cat.length ? 'AND p.category = ?' : ''} GROUP BY p.id ORDER BY n DESC, p.id LIMIT ?)
           INSERT INTO ${table}_c (eid, pid, tier, score, reason) SELECT t.eid, top.pid, ?, top.n, 'popular: ' || top.n || ' orders' FROM ${table}_t t, top`,
          [since, ...cat, pool, tier],
        );
        break;
      }
      case 'new': {
        const since = spec.withinMs && tier === 0 ? now - spec.withinMs : null;
        db.run(
          `WITH top AS MATERIALIZED (SELECT p.id AS pid, p.created_at AS at FROM products p WHERE p.created_at IS NOT NULL AND p.created_at <= ? ${since !== null ? 'AND p.created_at >= ?' : ''}
                        ORDER BY p.created_at DESC, p.id LIMIT ?)
           INSERT INTO ${table}_c (eid, pid, tier, score, reason) SELECT t.eid, top.pid, ?, top.at, 'new: added ' || strftime('%Y-%m-%d', top.at / 1000, 'unixepoch') FROM ${table}_t t, top`,
          [now, ...(since !== null ? [since] : []), pool, tier],
        );
        break;
      }
      default: {
        const never: never = strategy;
        throw new Error(`unknown strategy ${String(never)}`);
      }
    }
  };
  add(spec.strategy, 0);
  if (spec.fallback !== 'none' && spec.fallback !== spec.strategy) add(spec.fallback, 1);
  // what each customer bought, once, as a keyed table: probing it per candidate costs one
  // lookup, where walking the customer's orders per candidate took most of the step
  if (spec.excludePurchased) {
    db.exec(`DROP TABLE IF EXISTS temp.${table}_b; CREATE TEMP TABLE ${table}_b (cid TEXT NOT NULL, pid TEXT NOT NULL, PRIMARY KEY (cid, pid)) WITHOUT ROWID`);
    db.run(
      `INSERT OR IGNORE INTO ${table}_b (cid, pid) SELECT DISTINCT t.cid, i.product_id FROM (SELECT DISTINCT cid FROM ${table}_t) t
       JOIN orders o ON o.customer_id = t.cid JOIN order_items i ON i.order_id = o.id WHERE i.product_id IS NOT NULL`,
    );
  }
  const purchased = spec.excludePurchased
    ? `AND NOT EXISTS (SELECT 1 FROM ${table}_b b WHERE b.cid = t.cid AND b.pid = c.pid)`
    : `AND NOT EXISTS (SELECT 1 FROM order_items i WHERE i.order_id = t.basis AND i.product_id = c.pid)`;
  db.run(
    `CREATE TEMP TABLE ${table} AS
     SELECT eid AS enrolment_id, position, pid AS product_id, reason FROM (
       SELECT eid, pid, reason, row_number() OVER (PARTITION BY eid ORDER BY tier, score DESC, pid) AS position FROM (
         SELECT c.eid, c.pid, c.tier, c.score, c.reason, row_number() OVER (PARTITION BY c.eid, c.pid ORDER BY c.tier) AS dup
         FROM ${table}_c c JOIN ${table}_t t ON t.eid = c.eid JOIN products p ON p.id = c.pid
         WHERE ${IN_STOCK} ${purchased}) WHERE dup = 1)
     WHERE position <= ?`,
    [spec.count],
  );
  // each message reads its enrolment's products: unindexed, every message scanned all of them (1M shop, 100,000 messages: 56 s)
  db.exec(`CREATE INDEX temp.${table}_by_enrolment ON ${table} (enrolment_id, position)`);
  db.exec(`DROP TABLE IF EXISTS temp.${table}_c; DROP TABLE IF EXISTS temp.${table}_t; DROP TABLE IF EXISTS temp.${table}_map; DROP TABLE IF EXISTS temp.${table}_b`);
  return table;
}

export interface RecommendedProduct {
  position: number;
  id: string;
  title: string | null;
  category: string | null;
  price: number | null;
  currency: string | null;
  url: string | null;
  reason: string;
}

/** One enrolment's products from a table recommendFor filled, in order. */
export function recommendedProducts(db: StoreDb, table: string, enrolmentId: number): RecommendedProduct[] {
  return db.all<RecommendedProduct>(
    `SELECT r.position, p.id, p.title, p.category, p.price, p.currency, p.url, r.reason FROM temp.${table} r JOIN products p ON p.id = r.product_id
     WHERE r.enrolment_id = ? ORDER BY r.position`,
    [enrolmentId],
  );
}
