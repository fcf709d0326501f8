import { matchRedemptions } from '../coupons.js';
import type { StoreDb } from '../db.js';
import type { RawRecord } from '../input/records.js';
import { openInput } from '../input/source.js';
import { invalidRowsError, openReader, useImportPragmas, type ImportOptions, type ImportResult, type PartCounts } from './import.js';
import { compileMapping, type RowMapper, type StageRow } from './mapping.js';
import { presetSpec, shopifyOrderCustomers } from './presets/index.js';
import { RejectsFile, type Rejection } from './rejects.js';
import { FileCustomers } from './file-customers.js';
import { ImportWriter } from './writer.js';

const LISTED_PROBLEMS = 10;
const STAGE_CHUNK = 512;

/**
 * `journey import orders EXPORT --preset shopify`: Shopify's orders export holds the
 * customers (by e-mail), the orders (on an order's first row) and the line items (one
 * per row), so one import of it loads all three, in one pass and one transaction.
 * Each batch writes its orders, then its items (which need their order); the
 * customers are merged across the whole file and written once at its end, in key
 * order (an export repeats a customer on each of their orders: written per batch, a
 * customer was written up to once per batch, each time at a random place of the
 * customers' B-trees). An order's customer is resolved when its e-mail is first seen,
 * so its orders can be written before it. A row that fails any of the three is
 * rejected as a whole, and the rows of an order that was rejected are rejected with it.
 */
export async function importShopifyOrders(db: StoreDb, options: ImportOptions): Promise<ImportResult> {
  const started = performance.now();
  const now = options.now ?? Date.now();
  const input = await openInput(options.file, { format: options.format, stdin: options.stdin });
  const reader = await openReader(input);
  const mappers = {
    customers: compileMapping('customers', shopifyOrderCustomers(), reader, input.name),
    orders: compileMapping('orders', presetSpec('shopify', 'orders'), reader, input.name),
    items: compileMapping('order-items', presetSpec('shopify', 'order-items'), reader, input.name),
  };
  const batchRows = options.batchRows ?? 10_000;
  const rejects = options.rejectsFile ? new RejectsFile(options.rejectsFile, reader.rejectsFormat, reader.columns) : undefined;

  const rows = { read: 0, skipped: 0 };
  const totals = { customers: zero(), orders: zero(), items: zero() };
  const problems: Rejection[] = [];
  let problemCount = 0;
  let couponsRedeemed = 0;
  let batchRejects: { record: RawRecord; rejection: Rejection }[] = [];
  // a row is rejected once, whichever of its parts failed first (an order's first row is also its first item)
  let rejectedRows = new Set<number>();
  const reject = (record: RawRecord, rejection: Rejection) => {
    if (rejectedRows.has(rejection.rowNo)) return;
    rejectedRows.add(rejection.rowNo);
    if (rejects) return void batchRejects.push({ record, rejection });
    problemCount++;
    problems.push(rejection);
    problems.sort((a, b) => a.rowNo - b.rowNo);
    if (problems.length > LISTED_PROBLEMS) problems.pop();
  };

  // the file's customers, merged by e-mail (the key the mapper gives them)
  const customers = new FileCustomers();
  // the e-mails first seen in this batch, resolved at its flush; those the store knows
  // as another customer's id or alias, and that id
  let newEmails: string[] = [];
  const knownAs = new Map<string, string>();
  // the batch: orders and items by key; records by row for rejections
  let orders: StageRow[] = [];
  let items: StageRow[] = [];
  let records = new Map<number, RawRecord>();
  let batchSize = 0;
  // orders whose first row was rejected: their other rows are rejected with that reason
  const rejectedOrders = new Map<string, number>();
  let orderKeys = new Set<string>();
  // the orders the batch before wrote
  let previousOrderKeys = new Set<string>();
  // the orders whose rows this batch holds, and the order of the row before: an item's
  // line is its position in its order's run of rows, so an item key can repeat in a
  // batch only where an order's rows resume after another order's (cheaper than a set
  // of every item's key)
  let batchOrders = new Set<string>();
  let lastOrder: string | undefined;

  // It writes the orders, their items and history batch by batch, and the customers
  // once at the end, in key order. When it wrote the customers with each batch (six
  // tables keyed by customer or order at once) a 32 MB cache read their pages back
  // from the OS page by page, and 128 MB was needed; since they are written once,
  // 32, 64 and 128 MB take the same time within the noise (1M rows: 16.0-17.1 s) and
  // 64 MB keeps the peak at ~320-350 MB (128 MB: ~390-410).
  // Where the 1M-row bench's ~15 s go (node bench/run.js import-shopify; statement by
  // statement in one process): SQL ~9.7 s, of which the orders insert 2.0 (its
  // by-customer index ~1.2, the product_pairs trigger's look for items that came first
  // ~0.5, json_patch of the attributes ~0.4), staging the items 1.5 and the orders 0.8,
  // inserting the items 0.9, COMMIT 0.8, order facts 0.7, the customers (once each, with
  // their consents and aliases) ~1.1; JavaScript ~6 s: CSV parsing 1.1, mapping ~2.5,
  // merging the customers ~1, garbage collection ~1.
  const restorePragmas = useImportPragmas(db, 64);
  // Every reference this import writes is one it has checked or writes itself before it
  // commits (an order's customer, resolved when its e-mail is first seen and written at
  // the end; an item's order checked or written in this batch or the one before; a
  // consent's customer upserted with it): the per-row foreign key lookups would only
  // repeat those checks (measured on 1,000,000 rows: 8% of the import), and orders now go
  // in before their customers, which immediate foreign keys would refuse. Outside a
  // transaction, as SQLite requires.
  const foreignKeys = db.get<{ foreign_keys: number }>('PRAGMA foreign_keys')!.foreign_keys;
  db.exec('PRAGMA foreign_keys = OFF');
  db.begin();
  // one writer per kind for the whole import: each batch is staged, applied and
  // cleared, and the customers whose facts and reachability to redo accumulate, to be
  // refreshed once at the end rather than per batch
  // (the customers an orders export names are second-hand: they only fill what the store lacks)
  const writers = {
    customers: new ImportWriter(db, 'customers', mappers.customers, now, { fillBlanks: true }),
    orders: new ImportWriter(db, 'orders', mappers.orders, now, { customersResolved: true }),
    items: new ImportWriter(db, 'order-items', mappers.items, now),
  };
  try {
    const flush = () => {
      if (batchSize === 0) return;
      batchSize = 0;
      // the orders staged before their customer's e-mail was resolved take the id the store knows it by
      const renamed = knownCustomerIds(db, newEmails);
      newEmails = [];
      for (const [email, id] of renamed) knownAs.set(email, id);
      writers.orders.append(orders);
      writers.orders.renameCustomers(renamed);
      const ordersWritten = write(writers.orders, reject, records);
      add(totals.orders, ordersWritten);
      writers.items.append(items);
      // items whose order this batch or the one before wrote need not be looked up (a batch
      // mostly holds whole orders, its first rows may end the last batch's); the others
      // (an order this file lists again further on, or gives no first row for) are
      let known = ordersWritten.rejected === 0;
      for (const order of batchOrders) if (known && !orderKeys.has(order) && !previousOrderKeys.has(order)) known = false;
      add(totals.items, write(writers.items, reject, records, known));
      previousOrderKeys = ordersWritten.rejected === 0 ? orderKeys : new Set();
      if (rejects) {
        batchRejects.sort((a, b) => a.rejection.rowNo - b.rejection.rowNo);
        for (const r of batchRejects) rejects.write(r.record, r.rejection);
        batchRejects = [];
      }
      rejectedRows = new Set();
      orders = [];
      items = [];
      records = new Map();
      orderKeys = new Set();
      batchOrders = new Set();
    };

    for await (const batch of reader.batches) {
      for (const record of batch) {
        rows.read++;
        const order = mappers.orders.map(record);
        const item = mappers.items.map(record);
        const itemOrder = item.kind === 'row' ? String(item.row.fields[0]) : undefined;
        const resumes = itemOrder === undefined || itemOrder !== lastOrder;
        lastOrder = itemOrder;
        if (order.kind === 'invalid') {
          if (item.kind === 'row') rejectedOrders.set(String(item.row.fields[0]), record.rowNo);
          reject(record, { rowNo: record.rowNo, ...order.problem });
          continue;
        }
        if (item.kind === 'invalid') {
          reject(record, { rowNo: record.rowNo, ...item.problem });
          continue;
        }
        if (item.kind === 'skip') {
          rows.skipped++;
          continue;
        }
        const rejectedOrderRow = order.kind === 'skip' ? rejectedOrders.get(String(item.row.fields[0])) : undefined;
        if (rejectedOrderRow !== undefined) {
          reject(record, { rowNo: record.rowNo, column: 'Name', value: item.row.fields[0], reason: `is an order whose first row (row ${rejectedOrderRow}) was rejected` });
          continue;
        }
        const customer = order.kind === 'row' ? mappers.customers.map(record) : undefined;
        if (customer?.kind === 'invalid') {
          rejectedOrders.set(String(item.row.fields[0]), record.rowNo);
          reject(record, { rowNo: record.rowNo, ...customer.problem });
          continue;
        }
        // one row per key in a batch: an order listed twice is applied in file order
        const orderKey = order.kind === 'row' ? String(order.row.fields[0]) : undefined;
        if ((orderKey !== undefined && orderKeys.has(orderKey)) || (resumes && batchOrders.has(itemOrder!))) flush();
        // the rows themselves are kept only for the rejects file: held for a batch, they outlive the young generation
        if (rejects) records.set(record.rowNo, record);
        batchSize++;
        if (order.kind === 'row') {
          orderKeys.add(orderKey!);
          const email = String(order.row.fields[1]);
          order.row.fields[1] = knownAs.get(email) ?? email;
          orders.push(order.row);
          if (customer?.kind === 'row' && customers.merge(customer.row, order.row.fields[2] as number)) newEmails.push(String(customer.row.fields[0]));
        }
        batchOrders.add(itemOrder!);
        items.push(item.row);
        // orders and items go to their stage tables as they come, a few hundred at a time
        // (their references are checked at the flush, once their customers and orders are
        // written): held in JavaScript for a whole batch, they outlived the young
        // generation, and copying and promoting them was most of the import's garbage collection
        if (orders.length >= STAGE_CHUNK) {
          writers.orders.append(orders);
          orders = [];
        }
        if (items.length >= STAGE_CHUNK) {
          writers.items.append(items);
          items = [];
        }
        if (batchSize >= batchRows) flush();
      }
      options.onProgress?.({ rows: rows.read, bytesRead: input.bytesRead(), totalBytes: input.totalBytes, elapsedMs: performance.now() - started });
    }
    flush();
    if (problemCount > 0) throw invalidRowsError(input.name, problems, problemCount, reader.rejectsFormat === 'jsonl');
    // the customers, once each, in key order: their B-trees are then written in order, not at random
    const ids: [id: string, email: string][] = [];
    for (const email of customers.keys()) ids.push([knownAs.get(email) ?? email, email]);
    ids.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (let i = 0; i < ids.length; i += batchRows) {
      // numbered in key order (no customer is rejected here): the stage's key, written at random, cost twice as much
      const rows = ids.slice(i, i + batchRows).map(([id, email], at): StageRow => {
        const row = customers.get(email)!;
        row.fields[0] = id;
        return { ...row, rowNo: i + at + 1 };
      });
      writers.customers.append(rows);
      add(totals.customers, write(writers.customers, reject, records));
    }
    // foreign keys are off: a customer refused here would leave its orders naming nobody
    if (problemCount > 0) throw invalidRowsError(input.name, problems, problemCount, reader.rejectsFormat === 'jsonl');
    // the reachability of the customers whose contacts changed, the facts of those whose orders did
    writers.customers.finish();
    writers.orders.finish();
    for (const w of Object.values(writers)) w.dispose();
    // an order that used an issued code (its Discount Code) redeems it, as the generic orders import does
    couponsRedeemed = matchRedemptions(db);
    db.commit();
  } catch (err) {
    db.rollback();
    for (const w of Object.values(writers)) w.dispose();
    throw err;
  } finally {
    rejects?.close();
    restorePragmas();
    db.exec(`PRAGMA foreign_keys = ${foreignKeys ? 'ON' : 'OFF'}`);
  }
  const ignored = (m: RowMapper) => new Set(m.ignoredColumns);
  const [a, b, c] = [ignored(mappers.customers), ignored(mappers.orders), ignored(mappers.items)];
  return {
    kind: 'orders',
    file: input.name,
    format: input.format,
    rows: rows.read,
    ...totals.orders,
    skipped: rows.skipped,
    rejected: rejects?.count ?? 0,
    rejectsFile: rejects?.written,
    ignoredColumns: reader.columns.filter((col) => a.has(col) && b.has(col) && c.has(col)),
    seconds: (performance.now() - started) / 1000,
    couponsRedeemed,
    also: [
      { kind: 'customers', ...totals.customers },
      { kind: 'order-items', ...totals.items },
    ],
  };
}

const zero = (): Omit<PartCounts, 'kind'> => ({ inserted: 0, updated: 0, unchanged: 0 });
const add = (to: Omit<PartCounts, 'kind'>, from: Omit<PartCounts, 'kind'>) => {
  to.inserted += from.inserted;
  to.updated += from.updated;
  to.unchanged += from.unchanged;
};

/**
 * A customer the store knows by one of these e-mails (as id or alias) keeps its id; the
 * others are keyed by the e-mail. The e-mails the store knows by another id, with that id.
 */
function knownCustomerIds(db: StoreDb, emails: readonly string[]): [email: string, id: string][] {
  if (emails.length === 0) return [];
  return db
    .arrays(
      `SELECT email, id FROM (SELECT e.value AS email, coalesce((SELECT c.id FROM customers c WHERE c.id = e.value), (SELECT a.customer_id FROM customer_aliases a WHERE a.alias = e.value)) AS id
       FROM json_each(?) e) WHERE id <> email`,
      [JSON.stringify(emails)],
    )
    .map(([email, id]) => [String(email), String(id)]);
}

/**
 * Checks and applies one kind's staged rows of a batch, then clears its stage; rows whose
 * customer or order is missing are rejected (unless the caller knows every one is there).
 */
function write(
  writer: ImportWriter,
  reject: (record: RawRecord, rejection: Rejection) => void,
  records: Map<number, RawRecord>,
  referencesKnown = false,
): Omit<PartCounts, 'kind'> & { rejected: number } {
  const unresolved = referencesKnown ? [] : writer.unresolved();
  if (unresolved.length > 0) {
    for (const u of unresolved) reject(records.get(u.rowNo) ?? { rowNo: u.rowNo, values: [] }, u);
    writer.drop(unresolved.map((u) => u.rowNo));
  }
  const counts = writer.apply();
  writer.clear();
  return { ...counts, rejected: unresolved.length };
}
