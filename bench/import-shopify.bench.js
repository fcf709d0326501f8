// A Shopify orders export of 1,000,000 line-item rows, in the export's own 79
// columns, imported with `journey import orders FILE --preset shopify` in one command
// (customers, orders and line items from the one file), beside the sqlite3 tool's
// `.import` of the same file into a table of its own. Target: within 2x of it.
// The file is generated in a child process and kept in the system's temporary folder,
// named after the row count and the generator's text, so that later runs reuse it (a
// million rows take ~20 s to write). Run `npm run build` first.
// ROWS=200000 node bench/import-shopify.bench.js for a shorter run.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROWS = Number(process.env.ROWS ?? 1_000_000);
const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-shopify-bench-'));
const line = (name, value) => console.log(`${name} ${value}`);
// CPU seconds besides wall time: on a machine shared with other work, wall time says
// more about the neighbours than about either importer; and the peak resident memory
const TIME = spawnSync('/usr/bin/time', ['-f', '%U', 'true']).status === 0 ? '/usr/bin/time' : undefined;
function timed(command, args, options) {
  if (!TIME) return { ...spawnSync(command, args, options), cpu: undefined, peakMb: undefined };
  const r = spawnSync(TIME, ['-f', '@cpu %U %S %M', command, ...args], options);
  const m = /@cpu ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr);
  return { ...r, stderr: m ? r.stderr.slice(0, m.index) : r.stderr, cpu: m ? Number(m[1]) + Number(m[2]) : undefined, peakMb: m ? Number(m[3]) / 1024 : undefined };
}

// Orders newest first, as Shopify exports them; 1 to 5 items (2.5 on average), about
// 2.7 orders per customer; most paid and fulfilled, some refunded, partly refunded,
// pending or cancelled; a phone on half the orders.
const generator = `
import { createWriteStream } from 'node:fs';
import { SHOPIFY_ORDER_COLUMNS, shopifyOrderLine } from ${JSON.stringify(path.join(here, 'shopify-orders-export.js'))};
let seed = 42; // mulberry32
const rand = () => { seed = (seed + 0x6d2b79f5) | 0; let x = Math.imul(seed ^ (seed >>> 15), 1 | seed); x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x; return ((x ^ (x >>> 14)) >>> 0) / 4294967296; };
const pad = (n) => String(n).padStart(2, '0');
const stamp = (ms) => { const d = new Date(ms); return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + ' ' + pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds()) + ' +0000'; };
const out = createWriteStream(process.argv[1], { highWaterMark: 1 << 20 });
const write = (s) => (out.write(s) ? Promise.resolve() : new Promise((r) => out.once('drain', r)));
const rows = ${ROWS};
const customers = Math.max(1, Math.round(rows / 2.5 / 2.7));
const countries = ['US', 'US', 'US', 'CA', 'GB', 'DE', 'FR', 'AU', 'PT', 'BR'];
let written = 0, order = 0, t = Date.UTC(2026, 10, 30);
let buf = SHOPIFY_ORDER_COLUMNS.join(',') + '\\n';
while (written < rows) {
  order++;
  t -= Math.floor(rand() * 120000);
  const c = Math.floor(rand() * customers);
  const items = Math.min(rows - written, 1 + Math.floor(rand() * 4 + rand()));
  const r = rand();
  const financial = r < 0.8 ? 'paid' : r < 0.85 ? 'refunded' : r < 0.9 ? 'partially_refunded' : r < 0.96 ? 'pending' : 'voided';
  const fulfilled = financial === 'paid' || financial.includes('refunded') ? (rand() < 0.9 ? 'fulfilled' : 'unfulfilled') : 'unfulfilled';
  const subtotal = Math.round(rand() * 20000) / 100;
  const name = '#' + (1000000 + order);
  const email = 'customer' + c + '@example.com';
  for (let i = 0; i < items; i++) {
    const v = { Name: name, Email: email, 'Lineitem quantity': 1 + Math.floor(rand() * 3), 'Lineitem name': 'Product ' + Math.floor(rand() * 500) + ' - M', 'Lineitem price': (Math.round(rand() * 8000) / 100).toFixed(2), 'Lineitem sku': 'SKU-' + Math.floor(rand() * 500), 'Lineitem requires shipping': 'true', 'Lineitem taxable': 'true', 'Lineitem fulfillment status': fulfilled === 'fulfilled' ? 'fulfilled' : 'pending', Vendor: 'Acme' };
    if (i === 0) {
      const country = countries[c % countries.length];
      Object.assign(v, {
        'Financial Status': financial, 'Paid at': financial === 'pending' ? '' : stamp(t + 60000), 'Fulfillment Status': fulfilled,
        'Fulfilled at': fulfilled === 'fulfilled' ? stamp(t + 86400000) : '', 'Accepts Marketing': c % 3 ? 'yes' : 'no', Currency: 'USD',
        Subtotal: subtotal.toFixed(2), Shipping: '5.00', Taxes: (subtotal * 0.08).toFixed(2), Total: (subtotal * 1.08 + 5).toFixed(2),
        'Discount Code': rand() < 0.2 ? 'WELCOME10' : '', 'Discount Amount': '0.00', 'Shipping Method': 'Standard', 'Created at': stamp(t),
        'Billing Name': 'First' + c + ' Last' + c, 'Billing Address1': c + ' Main Street', 'Billing City': 'City ' + (c % 300), 'Billing Zip': String(10000 + (c % 89999)),
        'Billing Country': country, 'Billing Phone': order % 2 ? '+1 555 ' + String(1000000 + (c % 8999999)).slice(0, 7) : '',
        'Shipping Name': 'First' + c + ' Last' + c, 'Shipping Address1': c + ' Main Street', 'Shipping City': 'City ' + (c % 300), 'Shipping Country': country,
        'Cancelled at': financial === 'voided' ? stamp(t + 3600000) : '', 'Payment Method': 'Shopify Payments',
        'Refunded Amount': financial === 'refunded' ? (subtotal * 1.08 + 5).toFixed(2) : financial === 'partially_refunded' ? (subtotal / 4).toFixed(2) : '0.00',
        'Outstanding Balance': '0.00', Id: String(5400000000000 + order), 'Risk Level': 'Low', Source: 'web',
      });
    }
    buf += shopifyOrderLine(v);
    written++;
    if (buf.length > 1 << 20) { await write(buf); buf = ''; }
  }
}
await write(buf);
out.end();
await new Promise((r) => out.on('finish', r));
console.log(JSON.stringify({ rows: written, orders: order, customers }));
`;

// the export, generated once per row count and generator (written aside, then renamed: a run cut short leaves no half file)
const cacheName = `journey-shopify-export-${ROWS}-${createHash('sha1').update(generator).update(readFileSync(path.join(here, 'shopify-orders-export.js'))).digest('hex').slice(0, 12)}`;
const file = path.join(os.tmpdir(), `${cacheName}.csv`);
function generatedFile() {
  const facts = path.join(os.tmpdir(), `${cacheName}.json`);
  if (existsSync(file) && existsSync(facts)) return JSON.parse(readFileSync(facts, 'utf8'));
  const partial = `${file}.${process.pid}.part`;
  const gen = spawnSync(process.execPath, ['--input-type=module', '-e', generator, partial], { encoding: 'utf8' });
  if (gen.status !== 0) throw new Error(gen.stderr);
  renameSync(partial, file);
  writeFileSync(facts, gen.stdout);
  return JSON.parse(gen.stdout);
}

try {
  const generated = generatedFile();
  line('shopify_export.rows', generated.rows);
  line('shopify_export.orders', generated.orders);
  line('shopify_export.mb', (statSync(file).size / 1024 / 1024).toFixed(0));

  // one command, as a shop would run it, into a fresh store
  const project = path.join(dir, 'project');
  mkdirSync(project);
  const started = performance.now();
  const ours = timed(process.execPath, [path.join(here, '../bin/journey.js'), '-C', project, 'import', 'orders', file, '--preset', 'shopify', '--json'], {
    cwd: dir,
    encoding: 'utf8',
  });
  const seconds = (performance.now() - started) / 1000;
  if (ours.status !== 0) throw new Error(`journey import failed: ${ours.stderr}`);
  const result = JSON.parse(ours.stdout);
  line('import.shopify_orders.rows', result.rows);
  line('import.shopify_orders.orders', result.inserted);
  for (const part of result.also) line(`import.shopify_orders.${part.kind}`, part.inserted);
  line('import.shopify_orders.seconds', seconds.toFixed(2));
  line('import.shopify_orders.rows_per_s', Math.round(result.rows / seconds));
  if (ours.cpu !== undefined) line('import.shopify_orders.cpu_seconds', ours.cpu.toFixed(2));
  if (ours.peakMb !== undefined) line('import.shopify_orders.peak_rss_mb', ours.peakMb.toFixed(0));

  if (spawnSync('sqlite3', ['-version']).status !== 0) {
    console.log('# the sqlite3 tool is not installed: no comparison with its .import');
  } else {
    const cliStore = path.join(dir, 'cli.db');
    const cliStarted = performance.now();
    const cli = timed('sqlite3', [cliStore], { input: `.mode csv\n.import ${file} orders_export\n`, encoding: 'utf8' });
    const cliSeconds = (performance.now() - cliStarted) / 1000;
    if (cli.status !== 0 || cli.stderr) throw new Error(`sqlite3 .import failed: ${cli.stderr}`);
    const count = Number(spawnSync('sqlite3', [cliStore, 'SELECT count(*) FROM orders_export'], { encoding: 'utf8' }).stdout.trim());
    line('sqlite3_cli.shopify_orders.rows', count);
    line('sqlite3_cli.shopify_orders.seconds', cliSeconds.toFixed(2));
    line('sqlite3_cli.shopify_orders.rows_per_s', Math.round(count / cliSeconds));
    line('import.shopify_orders.time_vs_sqlite3_cli', (seconds / cliSeconds).toFixed(2));
    if (cli.cpu !== undefined && ours.cpu !== undefined) {
      line('sqlite3_cli.shopify_orders.cpu_seconds', cli.cpu.toFixed(2));
      line('import.shopify_orders.cpu_vs_sqlite3_cli', (ours.cpu / cli.cpu).toFixed(2));
    }
  }
} finally {
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
  else console.log(`# kept ${dir}`);
}
