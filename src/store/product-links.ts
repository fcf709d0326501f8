/**
 * Line items that name no product take one the store knows. A Shopify orders export
 * has no product id for a line, only its SKU and its name, which Shopify writes as
 * "Product title - Variant title"; the products export is keyed by Handle. So a line
 * without a product takes the product whose SKU is the line's, else the one whose
 * title is the line's name, else the one whose title is the name before its first
 * " - ". Without that link a Shopify shop's lines count for no product: no
 * recommendation (related, popular, category) could find anything.
 */
import type { StoreDb } from './db.js';

const PRODUCT_OF_LINE = `coalesce(
  (SELECT p.id FROM products p WHERE i.sku IS NOT NULL AND i.sku <> '' AND p.sku = i.sku ORDER BY p.id LIMIT 1),
  (SELECT p.id FROM products p WHERE p.title = i.title ORDER BY p.id LIMIT 1),
  (SELECT p.id FROM products p WHERE instr(i.title, ' - ') > 1 AND p.title = substr(i.title, 1, instr(i.title, ' - ') - 1) ORDER BY p.id LIMIT 1))`;

/** Links the lines without a product among those `lines` selects (order_id, line); how many were linked. */
export function linkLinesToProducts(db: StoreDb, lines: string): number {
  // no catalogue yet (an orders export first): nothing to link to, and no line is read
  if (!db.get('SELECT 1 AS one FROM products LIMIT 1')) return 0;
  return db.run(
    `UPDATE order_items SET product_id = x.pid FROM (
       SELECT i.order_id, i.line, ${PRODUCT_OF_LINE} AS pid FROM order_items i
       WHERE i.product_id IS NULL AND (i.order_id, i.line) IN (${lines})) x
     WHERE order_items.order_id = x.order_id AND order_items.line = x.line AND x.pid IS NOT NULL`,
  ).changes;
}

/**
 * The staged lines new to the store (existed = 0, see import/writer.ts) that name no
 * product take the one they match, before they are inserted.
 */
export function linkStagedLines(db: StoreDb, stage: string): void {
  if (!/^[a-z_][a-z0-9_.]*$/i.test(stage)) throw new Error(`not a table name: ${stage}`);
  if (!db.get('SELECT 1 AS one FROM products LIMIT 1')) return;
  db.run(`UPDATE ${stage} AS i SET product_id = ${PRODUCT_OF_LINE} WHERE i.existed = 0 AND i.product_id IS NULL`);
}

/** After a products import: every line still without a product that a product now matches (one pass over those lines). */
export function linkAllLinesToProducts(db: StoreDb): number {
  return linkLinesToProducts(db, `SELECT order_id, line FROM order_items WHERE product_id IS NULL`);
}
