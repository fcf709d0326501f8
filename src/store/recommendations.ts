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
 * (stock <= 0, or in_stock false) or not for sale (status draft or archived, published
 * false) where the store knows it. A strategy that finds
 * too few is topped up by its fallback (default popular), for the enrolments left short.
 *
 * Each ranked list (a product's partners, the best sellers, a category's) keeps its
 * first count + 30 products; of those in stock, an enrolment reads as many as it can
 * need: count plus the number of products it leaves out. With one basis product (or
 * one list) that is exactly its first `count` products not left out; with several
 * basis products a partner's score is the sum of its counts with those whose read part
 * of the list it is in.
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
/**
 * A product the customer can buy: in stock where the store knows it, and not withdrawn
 * from sale (Shopify's export marks a product draft or archived in its Status column,
 * and one not on the online store Published false): a link to it would show the
 * customer a page that does not sell it.
 */
const IN_STOCK = `coalesce(json_extract(p.attributes, '$.stock'), 1) > 0 AND coalesce(json_extract(p.attributes, '$.in_stock'), 1) <> 0
  AND lower(coalesce(json_extract(p.attributes, '$.status'), 'active')) NOT IN ('draft', 'archived')
  AND lower(coalesce(json_extract(p.attributes, '$.published'), 'true')) NOT IN ('false', '0', 'no')`;
const COUNTED = `o.status NOT IN ('canceled', 'unavailable', 'refunded')`;

/** The enrolments of `set` with the order their products start from (the trigger order, else the latest order): [enrolment, customer, order] rows. */
const TARGETS = (set: IdSet) => `SELECT en.id, en.customer_id,
       coalesce(en.order_id, (SELECT id FROM orders WHERE customer_id = en.customer_id ORDER BY placed_at DESC, id DESC LIMIT 1))
     FROM enrolments en WHERE en.id ${inSet(set)}`;

/** What recommendFor starts from, to compute the products on another connection (recommendForTargets), where the enrolments of this one's transaction are not seen. */
export function recommendationTargets(db: StoreDb, set: IdSet): SqlValue[][] {
  return db.arrays(TARGETS(set), [...set.params]);
}

/** Fills temp.<table> with each enrolment's products; returns the table's name. */
export function recommendFor(db: StoreDb, set: IdSet, spec: RecommendationSpec, now: number, table: string): string {
  return recommend(db, spec, now, table, () => db.run(`INSERT INTO ${table}_t (eid, cid, basis) ${TARGETS(set)}`, [...set.params]));
}

/** recommendFor from the enrolments and orders recommendationTargets gave. */
export function recommendForTargets(db: StoreDb, targets: readonly SqlValue[][], spec: RecommendationSpec, now: number, table: string): string {
  return recommend(db, spec, now, table, () => {
    const PER_STATEMENT = 500;
    for (let i = 0; i < targets.length; i += PER_STATEMENT) {
      const batch = targets.slice(i, i + PER_STATEMENT);
      db.run(`INSERT INTO ${table}_t (eid, cid, basis) VALUES ${batch.map(() => '(?, ?, ?)').join(', ')}`, batch.flat());
    }
  });
}

/** Each enrolment's products of a table recommendFor filled, in order, as JSON: [[product id, reason], ...]. */
export function recommendationLists(db: StoreDb, table: string): SqlValue[][] {
  return db.arrays(`SELECT enrolment_id, json_group_array(json_array(product_id, reason) ORDER BY position) FROM temp.${table} GROUP BY enrolment_id`);
}

function recommend(db: StoreDb, spec: RecommendationSpec, now: number, table: string, fillTargets: () => void): string {
  const drop = () =>
    db.exec(['_t', '_s', '_map', '_b', '_best', '_bp', '_top'].map((s) => `DROP TABLE IF EXISTS temp.${table}${s};`).join(' '));
  drop();
  db.exec(`DROP TABLE IF EXISTS temp.${table}`);
  // each enrolment with its basis order: the trigger order, else the latest order
  // (keyed by eid: every candidate below is joined back to its enrolment's row), and
  // `lim`, how deep into each ranked list it reads (below)
  db.exec(`CREATE TEMP TABLE ${table}_t (eid INTEGER PRIMARY KEY, cid TEXT NOT NULL, basis TEXT, lim INTEGER)`);
  fillTargets();
  const pool = spec.count + 30; // the most of each ranked list an enrolment reads
  // what each customer bought, once, as a keyed table: probing it per candidate costs one
  // lookup, where walking the customer's orders per candidate took most of the step
  if (spec.excludePurchased) {
    db.exec(`CREATE TEMP TABLE ${table}_b (cid TEXT NOT NULL, pid TEXT NOT NULL, PRIMARY KEY (cid, pid)) WITHOUT ROWID`);
    db.run(
      // (no DISTINCT: OR IGNORE drops the repeats, where sorting them out first cost a quarter of the statement)
      `INSERT OR IGNORE INTO ${table}_b (cid, pid) SELECT t.cid, i.product_id FROM (SELECT DISTINCT cid FROM ${table}_t) t
       JOIN orders o ON o.customer_id = t.cid JOIN order_items i ON i.order_id = o.id WHERE i.product_id IS NOT NULL`,
    );
  }
  // Every list a strategy ranks (a product's partners, the best sellers, a category's) is
  // the same for all enrolments; one enrolment takes the first `count` of it that are not
  // left out for it, and at most as many are left out as the products it excludes. So it
  // reads the first count + that many (never more than the pool), not the whole pool:
  // the candidates of a 100,000-customer step are then a few hundred thousand rows
  db.run(
    `UPDATE ${table}_t SET lim = min(?, ? + ${
      spec.excludePurchased
        ? `(SELECT count(*) FROM ${table}_b b WHERE b.cid = ${table}_t.cid)`
        : `(SELECT count(DISTINCT i.product_id) FROM order_items i WHERE i.order_id = ${table}_t.basis)`
    })`,
    [pool, spec.count],
  );
  /** The product `pid` is not left out for the enrolment `t`: not bought (or not in the basis order); every list is in stock already. */
  const kept = (pid: string) =>
    `NOT EXISTS (${
      spec.excludePurchased
        ? `SELECT 1 FROM ${table}_b b WHERE b.cid = t.cid AND b.pid = ${pid}`
        : `SELECT 1 FROM order_items i WHERE i.order_id = t.basis AND i.product_id = ${pid}`
    })`;
  /** A further condition on a candidate, given its product column. */
  type Also = (pid: string) => string;
  /** A strategy's candidates: a SELECT of (eid, pid, score, reason), one row per enrolment and product, those left out already out. */
  interface Candidates {
    sql: string;
    params: SqlValue[];
  }
  /** Ranks the list `top` (pid, score, reason: its first pool products, in order) once, and gives each enrolment of `targets` its first lim. */
  const fromList = (top: string, targets: string, params: SqlValue[], more: Also): Candidates => {
    db.exec(`DROP TABLE IF EXISTS temp.${table}_top`);
    db.run(
      `CREATE TEMP TABLE ${table}_top AS SELECT x.pid, x.score, x.reason, row_number() OVER (ORDER BY x.score DESC, x.pid) AS r
       FROM (${top}) x JOIN products p ON p.id = x.pid WHERE ${IN_STOCK}`,
      params,
    );
    return {
      sql: `SELECT t.eid, top.pid, top.score, top.reason FROM ${targets} t JOIN ${table}_top top ON top.r <= t.lim WHERE ${kept('top.pid')} ${more('top.pid')}`,
      params: [],
    };
  };
  const candidates = (strategy: RecommendationSpec['strategy'], tier: number, targets: string, more: Also): Candidates => {
    switch (strategy) {
      case 'related': {
        // the window in whole UTC days, as product_pairs counts them: from the start of
        // the day that holds now - within (up to a day more than within, never less)
        const since = Math.floor((now - (spec.withinMs ?? 365 * DAY)) / DAY);
        // each basis product's partners, counted once for the step from product_pairs: its
        // best `pool` (one product at a time, through a sort that keeps only those: ranking
        // all partners of all products at once took most of this), then those in stock, ranked
        db.run(
          `CREATE TEMP TABLE ${table}_best AS
           WITH top AS (SELECT bp.a, j.value ->> 0 AS b, j.value ->> 1 AS n
                        FROM (SELECT DISTINCT i.product_id AS a FROM ${targets} t JOIN order_items i ON i.order_id = t.basis WHERE i.product_id IS NOT NULL) bp,
                        json_each((SELECT json_group_array(json_array(x.b, x.n)) FROM (SELECT pp.b, sum(pp.n) AS n FROM product_pairs pp WHERE pp.a = bp.a AND pp.day >= ?
                                   GROUP BY pp.b HAVING sum(pp.n) > 0 ORDER BY n DESC, pp.b LIMIT ?) x)) j)
           SELECT top.a, top.b, top.n, row_number() OVER (PARTITION BY top.a ORDER BY top.n DESC, top.b) AS r FROM top JOIN products p ON p.id = top.b WHERE ${IN_STOCK}`,
          [since, pool],
        );
        db.exec(`CREATE INDEX temp.${table}_best_by_rank ON ${table}_best (a, r); CREATE INDEX temp.${table}_best_by_b ON ${table}_best (a, b)`);
        // how far into each basis product's list an enrolment reads: count + how many of
        // the list it leaves out (exact for one basis product: its first count kept)
        db.run(
          `CREATE TEMP TABLE ${table}_bp AS SELECT t.eid, t.cid, t.basis, t.pid, ? + (${
            spec.excludePurchased
              ? `SELECT count(*) FROM ${table}_b b WHERE b.cid = t.cid AND EXISTS (SELECT 1 FROM ${table}_best be WHERE be.a = t.pid AND be.b = b.pid)`
              : `SELECT count(*) FROM order_items j WHERE j.order_id = t.basis AND EXISTS (SELECT 1 FROM ${table}_best be WHERE be.a = t.pid AND be.b = j.product_id)`
          }) AS lim
           FROM (SELECT DISTINCT t.eid, t.cid, t.basis, i.product_id AS pid FROM ${targets} t JOIN order_items i ON i.order_id = t.basis WHERE i.product_id IS NOT NULL) t`,
          [spec.count],
        );
        // with several basis products, a partner's score is the sum of its counts with each
        // (of those whose read part of the list it is in)
        return {
          sql: `SELECT t.eid, best.b AS pid, sum(best.n) AS score, 'bought together with ' || group_concat(t.pid, ', ' ORDER BY t.pid) || ' in ' || sum(best.n) || CASE sum(best.n) WHEN 1 THEN ' order' ELSE ' orders' END AS reason
                FROM ${table}_bp t JOIN ${table}_best best ON best.a = t.pid AND best.r <= t.lim
                WHERE ${kept('best.b')} ${more('best.b')} GROUP BY t.eid, best.b`,
          params: [],
        };
      }
      case 'category': {
        const since = now - (spec.withinMs ?? 90 * DAY);
        db.exec(`DROP TABLE IF EXISTS temp.${table}_map; CREATE TEMP TABLE ${table}_map (c TEXT NOT NULL, more TEXT NOT NULL)`);
        for (const [c, more] of Object.entries(spec.categoryMap)) for (const m of more) db.run(`INSERT INTO temp.${table}_map VALUES (?, ?)`, [c, m]);
        // a product has one category, so an enrolment's lists never share a product: each
        // contributes its first lim, as a single list does
        return {
          sql: `WITH cats AS (SELECT DISTINCT t.eid, p.category AS cat FROM ${targets} t JOIN order_items i ON i.order_id = t.basis JOIN products p ON p.id = i.product_id WHERE p.category IS NOT NULL),
                wanted AS (SELECT eid, cat FROM cats UNION SELECT cats.eid, m.more FROM cats JOIN temp.${table}_map m ON m.c = cats.cat),
                sales AS (SELECT p.category AS cat, p.id AS pid, count(DISTINCT o.id) AS n FROM products p JOIN order_items i ON i.product_id = p.id
                          JOIN orders o ON o.id = i.order_id AND o.placed_at >= ? AND ${COUNTED}
                          WHERE p.category IN (SELECT cat FROM wanted) GROUP BY p.id),
                ranked AS MATERIALIZED (SELECT cat, pid, n, row_number() OVER (PARTITION BY cat ORDER BY n DESC, pid) AS r FROM sales),
                stocked AS MATERIALIZED (SELECT ranked.cat, ranked.pid, ranked.n, row_number() OVER (PARTITION BY ranked.cat ORDER BY ranked.n DESC, ranked.pid) AS r
                          FROM ranked JOIN products p ON p.id = ranked.pid WHERE ranked.r <= ? AND ${IN_STOCK})
           SELECT w.eid, s.pid, s.n AS score, 'a best seller of ' || s.cat || ' (' || s.n || CASE s.n WHEN 1 THEN ' order)' ELSE ' orders)' END AS reason
           FROM wanted w JOIN ${targets} t ON t.eid = w.eid JOIN stocked s ON s.cat = w.cat AND s.r <= t.lim
           WHERE ${kept('s.pid')} ${more('s.pid')}`,
          params: [since, pool],
        };
      }
      case 'popular': {
        const since = now - (spec.withinMs ?? 30 * DAY);
        const cat: SqlValue[] = spec.category && tier === 0 ? [spec.category] : [];
        // orders first, as for related (28 s from the products, 2 s from the orders, on the 1M shop)
        return fromList(
          `SELECT p.id AS pid, count(DISTINCT o.id) AS score, 'popular: ' || count(DISTINCT o.id) || CASE count(DISTINCT o.id) WHEN 1 THEN ' order' ELSE ' orders' END AS reason FROM orders o CROSS JOIN order_items i ON i.order_id = o.id
           JOIN products p ON p.id = i.product_id
           WHERE o.placed_at >= ? AND ${COUNTED} ${cat.length ? 'AND p.category = ?' : ''} GROUP BY p.id ORDER BY score DESC, p.id LIMIT ?`,
          targets,
          [since, ...cat, pool],
          more,
        );
      }
      case 'new': {
        const since = spec.withinMs && tier === 0 ? now - spec.withinMs : null;
        return fromList(
          `SELECT p.id AS pid, p.created_at AS score, 'new: added ' || strftime('%Y-%m-%d', p.created_at / 1000, 'unixepoch') AS reason FROM products p
           WHERE p.created_at IS NOT NULL AND p.created_at <= ? ${since !== null ? 'AND p.created_at >= ?' : ''} ORDER BY p.created_at DESC, p.id LIMIT ?`,
          targets,
          [now, ...(since !== null ? [since] : []), pool],
          more,
        );
      }
      default: {
        const never: never = strategy;
        throw new Error(`unknown strategy ${String(never)}`);
      }
    }
  };
  // the strategy's own products first; candidates are one row per enrolment and product,
  // those left out already out, ranked as they are made: the ranking sorts each
  // enrolment's few rows
  const own = candidates(spec.strategy, 0, `${table}_t`, () => '');
  db.run(
    `CREATE TEMP TABLE ${table} AS SELECT eid AS enrolment_id, position, pid AS product_id, reason
     FROM (SELECT c.eid, c.pid, c.reason, row_number() OVER (PARTITION BY c.eid ORDER BY c.score DESC, c.pid) AS position FROM (${own.sql}) c) WHERE position <= ?`,
    [...own.params, spec.count],
  );
  // each message reads its enrolment's products: unindexed, every message scanned all of them (1M shop, 100,000 messages: 56 s)
  db.exec(`CREATE INDEX temp.${table}_by_enrolment ON ${table} (enrolment_id, position)`);
  if (spec.fallback !== 'none' && spec.fallback !== spec.strategy) {
    // the fallback tops up only the enrolments left short, after their own products
    // (which it does not repeat: they count among what it leaves out)
    db.exec(`CREATE TEMP TABLE ${table}_s (eid INTEGER PRIMARY KEY, cid TEXT NOT NULL, basis TEXT, lim INTEGER, have INTEGER NOT NULL)`);
    db.run(
      `INSERT INTO ${table}_s (eid, cid, basis, lim, have) SELECT t.eid, t.cid, t.basis, min(?, t.lim + coalesce(h.have, 0)), coalesce(h.have, 0)
       FROM ${table}_t t LEFT JOIN (SELECT enrolment_id, count(*) AS have FROM ${table} GROUP BY enrolment_id) h ON h.enrolment_id = t.eid
       WHERE coalesce(h.have, 0) < ?`,
      [pool, spec.count],
    );
    if (db.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}_s`)!.n > 0) {
      db.exec(`DROP TABLE IF EXISTS temp.${table}_best; DROP TABLE IF EXISTS temp.${table}_bp`);
      const more = candidates(spec.fallback, 1, `${table}_s`, (pid) => `AND NOT EXISTS (SELECT 1 FROM ${table} r WHERE r.enrolment_id = t.eid AND r.product_id = ${pid})`);
      db.run(
        `INSERT INTO ${table} (enrolment_id, position, product_id, reason)
         SELECT eid, position, pid, reason FROM (
           SELECT c.eid, c.pid, c.reason, s.have + row_number() OVER (PARTITION BY c.eid ORDER BY c.score DESC, c.pid) AS position
           FROM (${more.sql}) c JOIN ${table}_s s ON s.eid = c.eid) WHERE position <= ?`,
        [...more.params, spec.count],
      );
    }
  }
  drop();
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
