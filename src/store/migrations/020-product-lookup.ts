/**
 * Lines without a product id (a Shopify orders export) are linked to the product with
 * their SKU or their title (product-links.ts): both looked up by index, once per line.
 */
export const version = 20;
export const name = 'product lookup by sku and title';
export const sql = `
CREATE INDEX products_by_sku ON products (sku) WHERE sku IS NOT NULL;
CREATE INDEX products_by_title ON products (title) WHERE title IS NOT NULL;
`;
