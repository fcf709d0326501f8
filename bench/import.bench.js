// Imports at least 1,000,000 order-item rows from CSV into a fresh store and compares with the
// sqlite3 command-line tool's .import of the same file into the same table.
// Targets (issue 3): >= 150,000 rows/s, no slower than 2x sqlite3, peak RSS < 200 MB.
// The data is generated in a child process so that this process's peak memory is the
// importer's own. Run `npm run build` first.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importFile } from '../dist/store/import/import.js';
import { openStore } from '../dist/store/open.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const CUSTOMERS = 128_000; // about 7.9 order items each: just over 1,000,000 rows
const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-import-bench-'));
const line = (name, value) => console.log(`${name} ${value}`);

function ensureSqlite3() {
  if (spawnSync('sqlite3', ['-version']).status === 0) return;
  console.log('# sqlite3 is missing: installing it from Debian packages');
  execFileSync('apt-get', ['install', '-y', 'sqlite3'], { stdio: 'inherit' });
}

try {
  ensureSqlite3();
  const gen = spawnSync(process.execPath, ['-e', `
    import('${path.join(here, '../dist/demo-data/generate.js')}').then(({ generateDemoData }) => {
      const r = generateDemoData({ customers: ${CUSTOMERS}, seed: 'bench', outDir: '${dir}', now: Date.UTC(2026, 0, 1) });
      console.log(JSON.stringify(r));
    });`], { encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(gen.stderr);
  const generated = JSON.parse(gen.stdout);
  line('demo_data.customers', CUSTOMERS);
  line('demo_data.seconds', generated.seconds.toFixed(2));

  const db = openStore(path.join(dir, 'store.db'));
  for (const [kind, file] of [['customers', 'customers.csv'], ['orders', 'orders.csv']]) {
    const r = await importFile(db, { kind, file: path.join(dir, file) });
    line(`import.${kind}.rows_per_s`, Math.round(r.rows / r.seconds));
  }
  let sampledPeak = 0;
  const itemsFile = path.join(dir, 'order_items.csv');
  const items = await importFile(db, {
    kind: 'order-items',
    file: itemsFile,
    onProgress: () => (sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss)),
  });
  db.close();
  const ours = items.rows / items.seconds;
  line('import.order_items.rows', items.rows);
  line('import.order_items.seconds', items.seconds.toFixed(2));
  line('import.order_items.rows_per_s', Math.round(ours));
  // maxRSS covers this whole process: the store, three imports, the JIT
  line('import.peak_rss_mb', Math.round(process.resourceUsage().maxRSS / 1024));
  line('import.order_items.sampled_rss_mb', Math.round(sampledPeak / 1024 / 1024));

  // the same table shape: a fresh store (same schema, keys and indexes), sqlite3's own import
  const cliStore = path.join(dir, 'cli.db');
  openStore(cliStore).close();
  // the file has the generator's columns; the table's later ones (an item's own status,
  // migration 013) are dropped there so that sqlite3 takes the file as it is
  execFileSync('sqlite3', [cliStore, 'ALTER TABLE order_items DROP COLUMN status']);
  const started = performance.now();
  const cli = spawnSync('sqlite3', [cliStore], { input: `.mode csv\n.import --skip 1 ${itemsFile} order_items\n`, encoding: 'utf8' });
  const cliSeconds = (performance.now() - started) / 1000;
  if (cli.status !== 0 || cli.stderr) throw new Error(`sqlite3 .import failed: ${cli.stderr}`);
  const count = execFileSync('sqlite3', [cliStore, 'SELECT count(*) FROM order_items'], { encoding: 'utf8' }).trim();
  line('sqlite3_cli.order_items.rows', count);
  line('sqlite3_cli.order_items.seconds', cliSeconds.toFixed(2));
  line('sqlite3_cli.order_items.rows_per_s', Math.round(Number(count) / cliSeconds));
  line('import.order_items.time_vs_sqlite3_cli', (items.seconds / cliSeconds).toFixed(2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
