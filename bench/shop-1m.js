// The benchmark shop: 1,000,000 customers and about 5,000,000 orders from the
// demo-data generator, imported into a store. Building it takes minutes, so it is
// kept in the temp folder between runs (keyed by size and seed); delete the folder
// to rebuild. Order items, products and events are not imported (no seed segment
// reads them) unless `items: true` (the content benchmark's recommendations do): that
// shop is kept apart, in a folder of its own.
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateDemoData } from '../dist/demo-data/generate.js';
import { importFile } from '../dist/store/import/import.js';
import { openStore } from '../dist/store/open.js';

export const SHOP_NOW = Date.UTC(2026, 0, 1);

export async function benchShop({ customers = 1_000_000, seed = 1, items = false, log = console.log } = {}) {
  const dir = path.join(os.tmpdir(), `journey-bench-shop-${customers}-${seed}${items ? '-items' : ''}`);
  const store = path.join(dir, 'store.db');
  if (existsSync(store)) return { store, built: false };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const data = path.join(dir, 'data');
  let t0 = performance.now();
  generateDemoData({ customers, seed, outDir: data, now: SHOP_NOW });
  log(`shop.generate.seconds ${((performance.now() - t0) / 1000).toFixed(1)}`);
  const building = path.join(dir, 'building.db');
  const db = openStore(building);
  try {
    const kinds = [['customers', 'customers.csv'], ['orders', 'orders.csv'], ['suppressions', 'suppressions.csv']];
    if (items) kinds.push(['products', 'products.csv'], ['order-items', 'order_items.csv']);
    for (const [kind, file] of kinds) {
      t0 = performance.now();
      const r = await importFile(db, { kind, file: path.join(data, file), now: SHOP_NOW });
      log(`shop.import.${kind}.rows ${r.rows ?? r.total ?? ''} seconds ${((performance.now() - t0) / 1000).toFixed(1)}`);
    }
    db.exec('ANALYZE');
  } finally {
    db.close();
  }
  rmSync(data, { recursive: true, force: true });
  renameSync(building, store);
  return { store, built: true };
}
