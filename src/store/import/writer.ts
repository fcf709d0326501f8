import type { SqlValue, StoreDb } from '../db.js';
import { recordImportedDeliveryEvents } from '../delivery-events-import.js';
import { linkAllLinesToProducts, linkLinesToProducts, linkStagedLines } from '../product-links.js';
import { rebuildReachability, refreshCustomerFacts, refreshReachability } from '../facts.js';
import { FIELDS, type ImportKind } from './kinds.js';
import type { RowMapper, StageRow } from './mapping.js';

/**
 * Writes batches of mapped rows set-based: a batch goes into a TEMP stage table
 * with multi-row INSERTs, then a few INSERT ... SELECT / UPDATE ... FROM statements
 * resolve references, classify rows (new / changed / unchanged), upsert, and append
 * order status history, whatever the batch size. Only fields the source provides
 * are written, so an export with fewer columns never blanks the others.
 */
export interface Unresolved {
  readonly rowNo: number;
  readonly column: string;
  readonly value: string;
  readonly reason: string;
}

export interface BatchCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

interface TableShape {
  readonly table: string;
  /** Store key columns, in stage field names. */
  readonly key: readonly string[];
  /** Stage fields that are not columns of the table. */
  readonly stageOnly: readonly string[];
  /** A JSON column merged, not replaced. */
  readonly bag?: 'attributes' | 'properties';
  /** Fields the mapper always fills (defaults), so always written. */
  readonly alwaysProvided: readonly string[];
  /** The source field naming a customer to resolve through ids and aliases. */
  readonly customerRef?: boolean;
  /** The source field naming an order that must exist. */
  readonly orderRef?: boolean;
  /** Written on insert only: a re-import must not move it. */
  readonly insertOnly: readonly string[];
}

const SHAPES: Record<ImportKind, TableShape> = {
  customers: { table: 'customers', key: ['id'], stageOnly: [], bag: 'attributes', alwaysProvided: [], insertOnly: [] },
  orders: { table: 'orders', key: ['id'], stageOnly: ['status_changed_at', 'status_changed_estimate'], bag: 'attributes', alwaysProvided: [], customerRef: true, insertOnly: [] },
  'order-items': { table: 'order_items', key: ['order_id', 'line'], stageOnly: ['status_changed_at'], alwaysProvided: ['line', 'quantity'], orderRef: true, insertOnly: [] },
  products: { table: 'products', key: ['id'], stageOnly: [], bag: 'attributes', alwaysProvided: [], insertOnly: [] },
  events: { table: 'events', key: ['id'], stageOnly: [], bag: 'properties', alwaysProvided: ['id', 'properties'], customerRef: true, insertOnly: [] },
  payments: { table: 'order_payments', key: ['order_id', 'sequence'], stageOnly: [], alwaysProvided: ['sequence'], orderRef: true, insertOnly: [] },
  suppressions: { table: 'suppressions', key: ['channel', 'address'], stageOnly: [], alwaysProvided: ['created_at'], insertOnly: ['created_at'] },
};

/**
 * The writer's TEMP tables, named after its kind: writers of several kinds (a Shopify
 * orders export writes customers, orders and items) live side by side for a whole
 * import, so no table is created or dropped between batches (a schema change makes
 * SQLite prepare every cached statement over the stage again).
 */
function tempTables(kind: ImportKind) {
  const suffix = `_${kind.replace(/-/g, '_')}`;
  const names = {
    stage: `import_stage${suffix}`,
    consents: `import_stage_consents${suffix}`,
    aliases: `import_stage_aliases${suffix}`,
    /** Staged customer ids the store knows by another id (see adoptKnownCustomers), and that id. */
    adopted: `import_adopted${suffix}`,
    /** Customers whose orders or contact details this import changed: their facts and reachability are redone at the end. */
    touched: `import_touched${suffix}`,
    /** Events this import added: those of a delivery type are matched to their messages at the end. */
    newEvents: `import_new_events${suffix}`,
    /** Orders whose payments this import changed: their totals are redone at the end. */
    paidOrders: `import_paid_orders${suffix}`,
  };
  return { bare: names, ...(Object.fromEntries(Object.entries(names).map(([k, v]) => [k, `temp.${v}`])) as typeof names) };
}
export interface WriterOptions {
  /**
   * Only fill what the store does not know (values, consents, aliases): for data a
   * source holds second-hand, such as the customer columns of an orders export.
   */
  readonly fillBlanks?: boolean;
  /**
   * The rows' customer_id is already the id of a customer the caller has resolved and
   * will have written by the end of the import (a Shopify orders export writes its
   * customers once, after their orders): it is stored as it is, not looked up.
   */
  readonly customersResolved?: boolean;
}

/** 512 rows x at most 12 columns stays far below SQLite's 32,766 bound parameters. */
const ROWS_PER_INSERT = 512;

export class ImportWriter {
  private readonly shape: TableShape;
  private readonly fieldNames: string[];
  /** The fields a row is staged with (indexes into fieldNames): the others are never read, and binding them cost a tenth of staging. */
  private readonly stagedFields: number[];
  private readonly stageColumns: string[];
  private readonly insertTexts = new Map<string, string>();
  private readonly keyIndexes: number[];
  private readonly written: string[];
  private readonly insertOnly: readonly string[];
  /** Order items whose source names no product: new lines take the product they match as they are inserted. */
  private readonly linksProducts: boolean;
  private readonly t: ReturnType<typeof tempTables>;
  private readonly fillBlanks: boolean;
  private readonly customersResolved: boolean;

  constructor(
    private readonly db: StoreDb,
    readonly kind: ImportKind,
    mapper: Pick<RowMapper, 'provided'>,
    private readonly now: number,
    options: WriterOptions = {},
  ) {
    this.fillBlanks = options.fillBlanks ?? false;
    this.customersResolved = options.customersResolved ?? false;
    this.shape = SHAPES[kind];
    this.t = tempTables(kind);
    this.fieldNames = FIELDS[kind].map((f) => f.name);
    this.keyIndexes = this.shape.key.map((k) => this.fieldNames.indexOf(k));
    const provided = new Set([...mapper.provided, ...this.shape.alwaysProvided]);
    this.stagedFields = this.fieldNames.flatMap((f, i) => (provided.has(f) || this.shape.key.includes(f) ? [i] : []));
    this.stageColumns = ['row_no', ...this.stagedFields.map((i) => this.fieldNames[i]!)];
    // store columns this import writes, key first
    this.written = this.fieldNames.filter((f) => provided.has(f) && !this.shape.stageOnly.includes(f));
    this.insertOnly = this.shape.insertOnly;
    this.linksProducts = kind === 'order-items' && !provided.has('product_id');
    if (this.linksProducts) {
      // Linked in the stage, a new line arrives with its product, and the product_pairs
      // trigger pairs it with its order's others (a few lookups). Linked after the insert,
      // each line's UPDATE recounted its whole order's pairs twice over (out, then in): 11
      // of the 17 s of a 300,000-row Shopify export into a store with its catalogue. An
      // existing line keeps its product (insert-only) and is linked after, as before.
      this.written.push('product_id');
      this.insertOnly = [...this.insertOnly, 'product_id'];
    }
    this.createStage();
  }

  /** The row's key as one string, to keep one row per key in a batch. */
  keyOf(row: StageRow): string {
    return this.keyIndexes.length === 1 ? String(row.fields[this.keyIndexes[0]!]) : this.keyIndexes.map((i) => row.fields[i]).join('\u0000');
  }

  private createStage(): void {
    const b = this.t.bare;
    const columns = this.fieldNames.map((f) => `${f}`).join(', ');
    this.db.exec(`
      DROP TABLE IF EXISTS ${this.t.stage};
      CREATE TEMP TABLE ${b.stage} (row_no INTEGER PRIMARY KEY, ${columns}, resolved_customer TEXT,
        existed INTEGER NOT NULL DEFAULT 0, changed INTEGER NOT NULL DEFAULT 0, prev_status TEXT);
      DROP TABLE IF EXISTS ${this.t.consents};
      CREATE TEMP TABLE ${b.consents} (customer_id TEXT NOT NULL, channel TEXT NOT NULL, granted INTEGER NOT NULL);
      -- classifying a batch looks up each row's consents and aliases: without these, a scan per row
      CREATE INDEX temp.${b.consents}_by_customer ON ${b.consents} (customer_id);
      DROP TABLE IF EXISTS ${this.t.aliases};
      CREATE TEMP TABLE ${b.aliases} (alias TEXT NOT NULL, customer_id TEXT NOT NULL);
      CREATE INDEX temp.${b.aliases}_by_customer ON ${b.aliases} (customer_id);
      DROP TABLE IF EXISTS ${this.t.adopted};
      CREATE TEMP TABLE ${b.adopted} (staged_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL) WITHOUT ROWID;
      DROP TABLE IF EXISTS ${this.t.touched};
      CREATE TEMP TABLE ${b.touched} (customer_id TEXT PRIMARY KEY) WITHOUT ROWID;
      DROP TABLE IF EXISTS ${this.t.newEvents};
      CREATE TEMP TABLE ${b.newEvents} (id TEXT PRIMARY KEY) WITHOUT ROWID;
      DROP TABLE IF EXISTS ${this.t.paidOrders};
      CREATE TEMP TABLE ${b.paidOrders} (id TEXT PRIMARY KEY) WITHOUT ROWID;
    `);
  }

  /**
   * Appends rows (at most a few hundred: the caller keeps little in memory) to the
   * stage table and returns those whose customer or order is not in the store.
   * Keys must be unique among all rows staged since the last clear().
   */
  stage(rows: readonly StageRow[]): Unresolved[] {
    if (rows.length === 0) return [];
    this.append(rows);
    return this.unresolvedFrom(rows[0]!.rowNo);
  }

  /**
   * Appends rows to the stage without checking their references, for a caller that
   * stages a batch as it reads it and writes what the rows refer to (their customers,
   * their orders) only when the batch is complete: it calls unresolved() then.
   */
  append(rows: readonly StageRow[]): void {
    if (rows.length === 0) return;
    const staged = this.stagedFields;
    this.insertMany(this.t.stage, this.stageColumns, rows.length, (r, params, at) => {
      const row = rows[r]!;
      params[at] = row.rowNo;
      for (let f = 0; f < staged.length; f++) params[at + 1 + f] = row.fields[staged[f]!]!;
    });
    if (this.kind === 'customers') {
      const consents: SqlValue[][] = [];
      const aliases: SqlValue[][] = [];
      for (const row of rows) {
        const id = row.fields[0]!;
        for (const [channel, granted] of row.consents) consents.push([id, channel, granted]);
        if (row.alias !== null) aliases.push([row.alias, id]);
      }
      this.insertMany(this.t.consents, ['customer_id', 'channel', 'granted'], consents.length, (r, params, at) => {
        const [id, channel, granted] = consents[r]!;
        params[at] = id!;
        params[at + 1] = channel!;
        params[at + 2] = granted!;
      });
      this.insertMany(this.t.aliases, ['alias', 'customer_id'], aliases.length, (r, params, at) => {
        params[at] = aliases[r]![0]!;
        params[at + 1] = aliases[r]![1]!;
      });
      if (!this.fillBlanks) this.adoptKnownCustomers(rows[0]!.rowNo);
    }
  }

  /** Staged rows that name a customer by one of these ids name it by the other (for a caller that resolves customers itself). */
  renameCustomers(renamed: readonly [from: string, to: string][]): void {
    if (renamed.length === 0) return;
    this.db.run(
      `UPDATE ${this.t.stage} SET customer_id = m.value ->> 1 FROM json_each(?) m WHERE ${this.t.bare.stage}.customer_id = m.value ->> 0`,
      [JSON.stringify(renamed)],
    );
  }

  /** The rows staged since the last clear() whose customer or order is not in the store. */
  unresolved(): Unresolved[] {
    return this.unresolvedFrom(0);
  }

  /**
   * A staged customer whose id the store does not have may still be a customer it
   * knows: one an earlier import gave this id as an alias, or one keyed by the row's
   * alias (a Shopify orders export keys its customers by e-mail, and the customers
   * export imported after it names the same people by Customer ID and e-mail). The
   * row then updates that customer, which keeps its id (its orders, consents and
   * journey state refer to it) and gets the row's id as an alias, instead of a second
   * customer being created for the same person.
   */
  private adoptKnownCustomers(firstRowNo: number): void {
    this.db.run(
      `INSERT OR IGNORE INTO ${this.t.adopted} (staged_id, customer_id)
       SELECT staged_id, known FROM (
         SELECT s.id AS staged_id, coalesce(
           (SELECT a.customer_id FROM customer_aliases a WHERE a.alias = s.id),
           (SELECT c.id FROM ${this.t.aliases} sa JOIN customers c ON c.id = sa.alias WHERE sa.customer_id = s.id)) AS known
         FROM ${this.t.stage} s WHERE s.row_no >= ? AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = s.id))
       WHERE known IS NOT NULL`,
      [firstRowNo],
    );
    if (this.db.get<{ n: number }>(`SELECT count(*) AS n FROM ${this.t.adopted}`)!.n === 0) return;
    this.db.exec(`
      UPDATE ${this.t.stage} SET id = m.customer_id FROM ${this.t.adopted} m WHERE ${this.t.bare.stage}.id = m.staged_id;
      UPDATE ${this.t.consents} SET customer_id = m.customer_id FROM ${this.t.adopted} m WHERE ${this.t.bare.consents}.customer_id = m.staged_id;
      UPDATE ${this.t.aliases} SET customer_id = m.customer_id FROM ${this.t.adopted} m WHERE ${this.t.bare.aliases}.customer_id = m.staged_id;
      INSERT INTO ${this.t.aliases} (alias, customer_id) SELECT staged_id, customer_id FROM ${this.t.adopted};
      DELETE FROM ${this.t.adopted};
    `);
  }

  /**
   * Multi-row INSERTs in sizes that are powers of two (512, 256, ... 1): any count
   * takes a handful of statements, from a handful of cached texts.
   */
  private insertMany(table: string, columns: readonly string[], count: number, fill: (row: number, params: SqlValue[], at: number) => void): void {
    const width = columns.length;
    let i = 0;
    for (let size = ROWS_PER_INSERT; size >= 1; size >>= 1) {
      if (count - i < size) continue;
      const key = `${table}\u0000${columns.join(',')}\u0000${size}`;
      let sql = this.insertTexts.get(key);
      if (sql === undefined) {
        const one = `(${columns.map(() => '?').join(', ')})`;
        sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${new Array(size).fill(one).join(', ')}`;
        this.insertTexts.set(key, sql);
      }
      const params: SqlValue[] = new Array(size * width);
      for (; i + size <= count; i += size) {
        for (let r = 0; r < size; r++) fill(i + r, params, r * width);
        this.db.run(sql, params);
      }
    }
  }

  /** Rows staged from firstRowNo on whose customer or order is not in the store. */
  private unresolvedFrom(firstRowNo: number): Unresolved[] {
    if (this.shape.customerRef && !this.customersResolved) {
      this.db.run(
        `UPDATE ${this.t.stage} SET resolved_customer = coalesce(
          (SELECT c.id FROM customers c WHERE c.id = ${this.t.bare.stage}.customer_id),
          (SELECT a.customer_id FROM customer_aliases a WHERE a.alias = ${this.t.bare.stage}.customer_id))
         WHERE row_no >= ?`,
        [firstRowNo],
      );
      return this.db
        .all<{ row_no: number; ref: string }>(`SELECT row_no, customer_id AS ref FROM ${this.t.stage} WHERE row_no >= ? AND resolved_customer IS NULL ORDER BY row_no`, [firstRowNo])
        .map((r) => ({ rowNo: r.row_no, column: 'customer_id', value: r.ref, reason: 'unknown customer: no customer has this id or alias' }));
    }
    if (this.shape.orderRef) {
      return this.db
        .all<{ row_no: number; ref: string }>(
          `SELECT row_no, order_id AS ref FROM ${this.t.stage} s WHERE row_no >= ? AND NOT EXISTS (SELECT 1 FROM orders o WHERE o.id = s.order_id) ORDER BY row_no`,
          [firstRowNo],
        )
        .map((r) => ({ rowNo: r.row_no, column: 'order_id', value: r.ref, reason: 'unknown order: no order has this id' }));
    }
    return [];
  }

  /** Removes rejected rows from the stage (only orders, items and events have references to reject). */
  drop(rowNos: readonly number[]): void {
    for (const rowNo of rowNos) this.db.run(`DELETE FROM ${this.t.stage} WHERE row_no = ?`, [rowNo]);
  }

  /** Classifies and writes the staged rows. */
  apply(): BatchCounts {
    const { table, key, bag } = this.shape;
    const storeExpr = (f: string) => (f === 'customer_id' ? this.customerExpr() : `s.${f}`);
    const dataColumns = this.written.filter((f) => !key.includes(f));
    const compared = dataColumns.filter((f) => !this.insertOnly.includes(f));
    const keyMatch = key.map((k) => `t.${k} = s.${k}`).join(' AND ');

    const differs = compared.map((f) =>
      f === bag
        ? `t.${f} IS NOT json_patch(t.${f}, coalesce(s.${f}, '{}'))`
        : this.fillBlanks
          ? `(t.${f} IS NULL AND ${storeExpr(f)} IS NOT NULL)`
          : `t.${f} IS NOT ${storeExpr(f)}`,
    );
    if (this.kind === 'customers' && this.fillBlanks) {
      differs.push(`EXISTS (SELECT 1 FROM ${this.t.consents} sc LEFT JOIN customer_consents cc ON cc.customer_id = sc.customer_id AND cc.channel = sc.channel
        WHERE sc.customer_id = s.id AND cc.granted IS NULL)`);
      differs.push(`EXISTS (SELECT 1 FROM ${this.t.aliases} sa LEFT JOIN customer_aliases ca ON ca.alias = sa.alias
        WHERE sa.customer_id = s.id AND ca.customer_id IS NULL)`);
    } else if (this.kind === 'customers') {
      differs.push(`EXISTS (SELECT 1 FROM ${this.t.consents} sc LEFT JOIN customer_consents cc ON cc.customer_id = sc.customer_id AND cc.channel = sc.channel
        WHERE sc.customer_id = s.id AND cc.granted IS NOT sc.granted)`);
      differs.push(`EXISTS (SELECT 1 FROM ${this.t.aliases} sa LEFT JOIN customer_aliases ca ON ca.alias = sa.alias
        WHERE sa.customer_id = s.id AND ca.customer_id IS NOT sa.customer_id)`);
    }
    // prev_status is read here, before the upsert overwrites it
    this.db.run(
      `UPDATE ${this.t.stage} AS s SET existed = 1, changed = ${differs.length > 0 ? differs.join(' OR ') : '0'}
       ${this.kind === 'orders' || this.kind === 'order-items' ? ', prev_status = t.status' : ''} FROM ${table} t WHERE ${keyMatch}`,
    );
    const counts = this.db.get<{ inserted: number | null; updated: number | null; total: number }>(
      `SELECT sum(existed = 0) AS inserted, sum(existed = 1 AND changed = 1) AS updated, count(*) AS total FROM ${this.t.stage}`,
    )!;

    this.recordTouched();

    const insertValues = this.written.map((f) => {
      if (f === bag) return `json_patch('{}', coalesce(s.${f}, '{}'))`;
      if (f === 'created_at' && this.insertOnly.includes(f)) return `coalesce(s.created_at, ${this.now})`;
      return storeExpr(f);
    });
    const updates = dataColumns
      .filter((f) => !this.insertOnly.includes(f))
      .map((f) =>
        f === bag ? `${f} = json_patch(${table}.${f}, excluded.${f})` : this.fillBlanks ? `${f} = coalesce(${table}.${f}, excluded.${f})` : `${f} = excluded.${f}`,
      );
    const onConflict = updates.length > 0 ? `DO UPDATE SET ${updates.join(', ')}` : 'DO NOTHING';

    if (this.linksProducts) linkStagedLines(this.db, this.t.stage);
    // rows go in in file order (events' seq is the engine's cursor); customers, whose
    // order nothing reads, in key order: their B-trees are then written in order
    this.db.run(
      `INSERT INTO ${table} (${this.written.join(', ')})
       SELECT ${insertValues.join(', ')} FROM ${this.t.stage} s WHERE s.existed = 0 OR s.changed = 1 ORDER BY ${this.kind === 'customers' ? 's.id' : 's.row_no'}
       ON CONFLICT (${key.join(', ')}) ${onConflict}`,
    );
    if (this.kind === 'orders') {
      // history grows only when the status differs from the stored one: exact, and a
      // re-import appends nothing. When the source does not date the status, it is the
      // import's time (the change happened since the last import), except for an order
      // new to the store whose export is known to leave dates out (a preset gives the
      // estimate: Shopify never dates a refund): that status is history, dated by the
      // best time the file holds and marked estimated, and triggers do not enter it.
      this.db.run(
        `INSERT INTO order_status_history (order_id, previous_status, status, changed_at, recorded_at, estimated)
         SELECT s.id, s.prev_status, s.status,
           coalesce(s.status_changed_at, CASE WHEN s.existed = 0 THEN s.status_changed_estimate END, ?),
           ?, s.status_changed_at IS NULL AND s.existed = 0 AND s.status_changed_estimate IS NOT NULL
         FROM ${this.t.stage} s
         WHERE s.existed = 0 OR s.prev_status IS NOT s.status ORDER BY s.row_no`,
        [this.now, this.now],
      );
    }
    if (this.kind === 'order-items' && this.written.includes('status')) {
      // An item whose status changed is a trigger position of its own (migration
      // 018): `items: all|any` journeys enter when the last item arrives after the
      // order did. Compared with what the upsert stored, so a re-import appends
      // nothing. A new item arrives with its order (whose own row is the news), and
      // one whose status is cleared follows its order again: neither reached a status.
      // Nor did an item that followed its order and now has the order's status as its
      // own (an export that starts giving line statuses): its status is what it was.
      this.db.run(
        `INSERT INTO order_status_history (order_id, item_line, previous_status, status, changed_at, recorded_at, estimated)
         SELECT s.order_id, s.line, s.prev_status, t.status, coalesce(s.status_changed_at, ?), ?, 0
         FROM ${this.t.stage} s JOIN order_items t ON t.order_id = s.order_id AND t.line = s.line JOIN orders o ON o.id = s.order_id
         WHERE s.existed = 1 AND t.status IS NOT NULL AND t.status IS NOT coalesce(s.prev_status, o.status) ORDER BY s.row_no`,
        [this.now, this.now],
      );
    }
    // a line that names no product takes the one with its SKU or title (a Shopify export names none)
    if (this.kind === 'order-items') linkLinesToProducts(this.db, `SELECT order_id, line FROM ${this.t.stage}`);
    if (this.kind === 'customers') {
      this.db.run(
        `INSERT INTO customer_consents (customer_id, channel, granted, updated_at)
         SELECT customer_id, channel, granted, ? FROM ${this.t.consents} WHERE true ORDER BY customer_id, channel
         ON CONFLICT (customer_id, channel) ${this.fillBlanks ? 'DO NOTHING' : `DO UPDATE SET granted = excluded.granted, updated_at = excluded.updated_at
         WHERE customer_consents.granted IS NOT excluded.granted`}`,
        [this.now],
      );
      this.db.run(
        `INSERT INTO customer_aliases (alias, customer_id) SELECT alias, customer_id FROM ${this.t.aliases} WHERE true ORDER BY alias
         ON CONFLICT (alias) ${this.fillBlanks ? 'DO NOTHING' : 'DO UPDATE SET customer_id = excluded.customer_id WHERE customer_aliases.customer_id IS NOT excluded.customer_id'}`,
      );
    }
    const inserted = counts.inserted ?? 0;
    const updated = counts.updated ?? 0;
    return { inserted, updated, unchanged: counts.total - inserted - updated };
  }

  /** A staged row's customer as the store will know it. */
  private customerExpr(): string {
    return this.shape.customerRef && !this.customersResolved ? 's.resolved_customer' : 's.customer_id';
  }

  private suppressionsChanged = false;

  /** Notes whose derived data (order facts, reachability) this batch changes. */
  private recordTouched(): void {
    const changedRows = `s.existed = 0 OR s.changed = 1`;
    switch (this.kind) {
      case 'orders':
        // the order's customer now, and the one it had before (an order can move)
        this.db.run(`INSERT OR IGNORE INTO ${this.t.touched} (customer_id) SELECT ${this.customerExpr()} FROM ${this.t.stage} s WHERE ${changedRows}`);
        this.db.run(`INSERT OR IGNORE INTO ${this.t.touched} (customer_id) SELECT o.customer_id FROM ${this.t.stage} s JOIN orders o ON o.id = s.id WHERE s.changed = 1`);
        break;
      case 'customers':
        this.db.run(`INSERT OR IGNORE INTO ${this.t.touched} (customer_id) SELECT s.id FROM ${this.t.stage} s WHERE ${changedRows}`);
        break;
      case 'suppressions':
        if (this.db.get<{ n: number }>(`SELECT count(*) AS n FROM ${this.t.stage} s WHERE ${changedRows}`)!.n > 0) this.suppressionsChanged = true;
        break;
      case 'events':
        this.db.run(`INSERT OR IGNORE INTO ${this.t.newEvents} (id) SELECT s.id FROM ${this.t.stage} s WHERE s.existed = 0`);
        break;
      case 'payments':
        // the customers of orders whose payments changed: their totals, then facts, are redone
        this.db.run(`INSERT OR IGNORE INTO ${this.t.touched} (customer_id) SELECT o.customer_id FROM ${this.t.stage} s JOIN orders o ON o.id = s.order_id WHERE ${changedRows}`);
        this.db.run(`INSERT OR IGNORE INTO ${this.t.paidOrders} (id) SELECT s.order_id FROM ${this.t.stage} s WHERE ${changedRows}`);
        break;
      case 'products':
        // lines imported before their products (an orders export first) are linked now
        linkAllLinesToProducts(this.db);
        break;
      case 'order-items':
        break;
    }
  }

  /**
   * Brings what the store derives from the imported rows up to date, in the import's
   * transaction: the order facts segments read, and who is reachable on which channel.
   */
  finish(): void {
    switch (this.kind) {
      case 'orders':
        refreshCustomerFacts(this.db, this.t.touched);
        break;
      case 'customers':
        refreshReachability(this.db, this.t.touched);
        break;
      case 'suppressions':
        if (this.suppressionsChanged) rebuildReachability(this.db);
        break;
      case 'events':
        recordImportedDeliveryEvents(this.db, this.t.newEvents);
        break;
      case 'payments':
        // an order's total is what was paid for it
        this.db.run(`UPDATE orders SET total = (SELECT sum(p.value) FROM order_payments p WHERE p.order_id = orders.id) WHERE id IN (SELECT id FROM ${this.t.paidOrders})`);
        refreshCustomerFacts(this.db, this.t.touched);
        break;
      case 'products':
        // lines imported before their products (an orders export first) are linked now
        linkAllLinesToProducts(this.db);
        break;
      case 'order-items':
        break;
    }
  }

  /** Empties the stage for the next batch. */
  clear(): void {
    this.db.exec(`DELETE FROM ${this.t.stage}; DELETE FROM ${this.t.consents}; DELETE FROM ${this.t.aliases};`);
  }

  dispose(): void {
    this.db.exec(`DROP TABLE IF EXISTS ${this.t.stage}; DROP TABLE IF EXISTS ${this.t.consents}; DROP TABLE IF EXISTS ${this.t.aliases}; DROP TABLE IF EXISTS ${this.t.adopted}; DROP TABLE IF EXISTS ${this.t.touched}; DROP TABLE IF EXISTS ${this.t.newEvents}; DROP TABLE IF EXISTS ${this.t.paidOrders};`);
  }
}
