/**
 * Fuzzing what `journey import` reads: CSV and JSON Lines rows of every kind (and the
 * Shopify and Olist presets' exports, and coupon codes), valid and mutated: bad quoting,
 * wrong columns, huge and negative numbers, control characters in ids, invalid UTF-8,
 * BOMs, gzip (whole, damaged or only its magic bytes), JSON nested deep, empty files.
 * Each goes into one real SQLite store. Whatever the bytes: the import returns or throws
 * a JourneyError (nothing else), within a bound; a rejection says the file, and the row
 * or line of a bad row; and after every failed import every table of the store holds
 * exactly what it held before.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCoupons } from '../../src/cli/commands/coupons.js';
import { JourneyError } from '../../src/errors.js';
import type { StoreDb } from '../../src/store/db.js';
import { importFile } from '../../src/store/import/import.js';
import { FIELDS, type FieldType, type ImportKind } from '../../src/store/import/kinds.js';
import type { PresetName } from '../../src/store/import/presets/index.js';
import { csvLine } from '../../src/store/input/csv.js';
import { openStore } from '../../src/store/open.js';
import { capture, INPUT_BUDGET_MS, mutated, NASTY, params, runs } from './helpers.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.join(repo, 'test/fixtures/store');
const NOW = Date.UTC(2024, 9, 1);

const KINDS: readonly ImportKind[] = ['customers', 'products', 'orders', 'order-items', 'payments', 'events', 'suppressions'];

/** Ids the seeded store holds, so that generated rows refer to something (or, sometimes, to nothing). */
const IDS = {
  customer: ['c1', 'c2', 'c3', 'c4', 'nobody'],
  product: ['p1', 'p2', 'p3', 'p9'],
  order: ['o1', 'o2', 'o3', 'o4', 'o99'],
};

const hostile = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.constantFrom('\u0001', '\u0007id', 'a\u0000b', 'c1\r', '\u001b[31mred', '\u2028', '\uD800', 'x'.repeat(257), 'y'.repeat(70_000), '""', '"a"b"', 'a,b', 'a\nb'),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
);

const goodNumber = fc.oneof(fc.constantFrom('0', '1', '12.50', '39.9', ''), fc.integer({ min: 0, max: 1000 }).map(String));
const oddNumber = fc.oneof(
  fc.constantFrom('-1', '-0', '1e3', '1e309', '-1e309', '99999999999999999999', '9007199254740993', '0x10', 'NaN', 'Infinity', '1,5', '1 000', '€12'),
  fc.double({ noNaN: false }).map(String),
  fc.integer().map(String),
);
const goodTimestamp = fc.oneof(
  fc.constantFrom('2024-02-01T12:00:00Z', '2024-03-01 09:30:00', '2024-06-30T23:00:00+02:00', '1717232400000', ''),
  fc.date({ min: new Date('2000-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
);
const oddTimestamp = fc.oneof(
  fc.constantFrom('2026-02-30', '2024-13-01T00:00:00Z', '2024-01-01T25:61:00Z', '+275760-09-13T00:00:00Z', '0', '-1', '1e20', 'yesterday'),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer().map(String),
);

/** Values a field takes in a good file, and values it should refuse (or may take: a test never predicts which). */
function valuesOf(type: FieldType, name: string, kind: ImportKind): { good: fc.Arbitrary<string>; odd: fc.Arbitrary<string> } {
  const pick = (good: string[], odd: string[]) => ({ good: fc.constantFrom(...good), odd: fc.constantFrom(...odd) });
  switch (type) {
    case 'id': {
      const ids = name === 'id' ? (kind === 'customers' ? IDS.customer : kind === 'products' ? IDS.product : kind === 'orders' ? IDS.order : ['ev-1', 'ev-2']) : name === 'customer_id' ? IDS.customer : name === 'product_id' ? IDS.product : IDS.order;
      // an id that names nothing the store has ("nobody", "o99") is an odd one for a reference
      return pick(ids.slice(0, 3), ids.slice(3).concat(['', ' ', '1e5']));
    }
    case 'text':
      if (name === 'address') return pick(['bob@example.com', '+1 (555) 010-0199'], ['nobody', '']);
      return pick(['Ada', 'Linen Shirt, blue', 'The "Classic" Mug', 'Chloé', 'https://shop.example.com/p1', ''], ['\t', ' x ']);
    case 'lower':
      return name === 'channel' ? pick(['email', 'sms', 'EMAIL'], ['push', '']) : pick(['email_opened', 'Page_Viewed', 'card'], ['', 'A B']);
    case 'email':
      return pick(['ada@example.com', 'Bob@Example.COM', ''], ['not-an-email', 'a@b', '@']);
    case 'phone':
      return pick(['+33 6 12 34 56 78', '+420700000000', '+1 (555) 010-0199', ''], ['12', '+', 'phone']);
    case 'timestamp':
      return { good: goodTimestamp, odd: oddTimestamp };
    case 'number':
    case 'integer':
      return { good: goodNumber, odd: oddNumber };
    case 'status':
      return pick(['delivered', 'Shipped', 'Cancelled', 'pending', 'refunded'], ['lost in space', '']);
    case 'timezone':
      return pick(['Europe/Paris', 'UTC', 'America/New_York', ''], ['Mars/Olympus', '+99:00']);
    case 'country':
      return pick(['FR', 'fr', 'France', 'Czech Republic', ''], ['ZZ', 'Atlantis']);
    case 'currency':
      return pick(['EUR', 'usd', ''], ['EURO', '$']);
    case 'json':
      return {
        good: fc.constantFrom('{"tier":"gold"}', '{}', ''),
        odd: fc.oneof(fc.constantFrom('[]', '{"a":', 'null'), fc.integer({ min: 1, max: 200 }).map((n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n))),
      };
  }
}

/** The columns of a kind as a file has them: every field (or some), extras, sometimes one twice. */
function columnsOf(kind: ImportKind): string[] {
  const extra = kind === 'customers' ? ['consent_email', 'consent_sms', 'attributes.tier'] : kind === 'events' ? ['properties.campaign'] : kind === 'orders' || kind === 'products' ? ['attributes.gift'] : [];
  return [...FIELDS[kind].map((f) => f.name).filter((n) => n !== 'status_changed_estimate'), ...extra];
}

interface Table {
  kind: ImportKind;
  columns: string[];
  rows: string[][];
}

const table: fc.Arbitrary<Table> = fc.record({ kind: fc.constantFrom(...KINDS), clean: fc.boolean() }).chain(({ kind, clean }) => {
  const all = columnsOf(kind);
  const types = new Map<string, FieldType>(FIELDS[kind].map((f) => [f.name, f.type]));
  const extra = { good: fc.constantFrom('yes', 'no', 'gold', 'summer', '1', ''), odd: fc.constantFrom('maybe', '{"x":1}') };
  // a clean file: only good values, so that imports succeed too; else a few odd and hostile ones
  const cell = (column: string) => {
    const values = types.has(column) ? valuesOf(types.get(column)!, column, kind) : extra;
    return clean ? values.good : fc.oneof({ weight: 12, arbitrary: values.good }, { weight: 2, arbitrary: values.odd }, { weight: 1, arbitrary: hostile });
  };
  // all columns in order, or a shuffled subset (a required one may be missing), or an unknown one too
  const columns = clean
    ? fc.constant(all)
    : fc.oneof(
        { weight: 3, arbitrary: fc.constant(all) },
        { weight: 1, arbitrary: fc.shuffledSubarray(all, { minLength: 1 }) },
        { weight: 1, arbitrary: fc.tuple(fc.constant(all), fc.constantFrom('unknown', 'id', '', 'ID', ' id ', 'attributes.', 'properties.x.y', '__proto__')).map(([c, x]) => [...c, x]) },
      );
  return columns.chain((cols) =>
    fc.record({
      kind: fc.constant(kind),
      columns: fc.constant(cols),
      rows: fc.array(
        fc.tuple(...cols.map(cell)).chain((row) =>
          // a row with a cell too many or too few
          clean ? fc.constant(row) : fc.oneof({ weight: 20, arbitrary: fc.constant(row) }, { weight: 1, arbitrary: fc.constant(row.slice(0, -1)) }, { weight: 1, arbitrary: fc.constant([...row, 'extra']) }),
        ),
        { minLength: 0, maxLength: 8 },
      ),
    }),
  );
});

const asCsv = (t: Table) => csvLine(t.columns) + t.rows.map((r) => csvLine(r)).join('');
const asJsonl = (t: Table) =>
  t.rows
    .map((r) => {
      const o: Record<string, unknown> = {};
      t.columns.forEach((c, i) => {
        const v = r[i];
        // numbers as JSON numbers where they parse, as a real export has them
        o[c] = v !== undefined && v !== '' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
      });
      return JSON.stringify(o);
    })
    .join('\n') + '\n';

type Encoding = 'plain' | 'bom' | 'gzip' | 'gzip-truncated' | 'gzip-magic' | 'invalid-utf8' | 'latin1' | 'empty' | 'crlf';

/** The file's bytes: the text as written, or damaged the ways files arrive damaged. */
function encode(text: string, how: Encoding, at: number): Buffer {
  const utf8 = Buffer.from(text, 'utf8');
  switch (how) {
    case 'plain':
      return utf8;
    case 'crlf':
      return Buffer.from(text.replace(/\n/g, '\r\n'), 'utf8');
    case 'bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8]);
    case 'gzip':
      return gzipSync(utf8);
    case 'gzip-truncated': {
      const gz = gzipSync(utf8);
      return gz.subarray(0, Math.max(2, at % gz.length));
    }
    case 'gzip-magic':
      return Buffer.concat([Buffer.from([0x1f, 0x8b]), utf8]);
    case 'invalid-utf8': {
      const i = utf8.length === 0 ? 0 : at % utf8.length;
      const bad = [Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xe9])][at % 4]!;
      return Buffer.concat([utf8.subarray(0, i), bad, utf8.subarray(i)]);
    }
    case 'latin1':
      return Buffer.from(text, 'latin1');
    case 'empty':
      return Buffer.alloc(0);
  }
}

const encoding = fc.oneof(
  { weight: 12, arbitrary: fc.constant<Encoding>('plain') },
  { weight: 1, arbitrary: fc.constantFrom<Encoding>('bom', 'gzip', 'gzip-truncated', 'gzip-magic', 'invalid-utf8', 'latin1', 'empty', 'crlf') },
);

/** An input as a failure prints it: the text, and how its bytes are made from it. */
interface Input {
  kind: ImportKind | 'coupons';
  preset?: PresetName;
  name: string;
  text: string;
  encoding: Encoding;
  at: number;
}

const generated: fc.Arbitrary<Input> = fc
  .record({ table, format: fc.constantFrom('csv', 'jsonl'), textMutation: fc.nat(2).map((n) => n === 0), encoding, at: fc.nat() })
  .chain(({ table: t, format, textMutation, encoding: how, at }) => {
    const text = format === 'csv' ? asCsv(t) : asJsonl(t);
    return (textMutation ? mutated(text) : fc.constant(text)).map((final) => ({
      kind: t.kind,
      name: `${t.kind}.${format}${how.startsWith('gzip') && at % 2 === 0 ? '.gz' : ''}`,
      text: final,
      encoding: how,
      at,
    }));
  });

/** A preset's own export, mutated: the column names a real shop system writes. */
const PRESET_FILES: { kind: ImportKind; preset: PresetName; file: string }[] = [
  { kind: 'orders', preset: 'shopify', file: 'shopify/orders_export.csv' },
  { kind: 'orders', preset: 'shopify', file: 'shopify/orders_only_export.csv' },
  { kind: 'customers', preset: 'shopify', file: 'shopify/customers_export.csv' },
  { kind: 'customers', preset: 'shopify', file: 'shopify/customers_excel.csv' },
  { kind: 'customers', preset: 'shopify', file: 'shopify/customers_old_format.csv' },
];
const presetInput: fc.Arbitrary<Input> = fc
  .record({ which: fc.constantFrom(...PRESET_FILES), encoding, at: fc.nat() })
  .chain(({ which, encoding: how, at }) =>
    mutated(readFileSync(path.join(fixtures, which.file), 'utf8')).map((text) => ({ kind: which.kind, preset: which.preset, name: path.basename(which.file), text, encoding: how, at })),
  );

/** Coupon codes for a pool: one a line, or a CSV with a code column. */
const couponInput: fc.Arbitrary<Input> = fc
  .record({
    header: fc.constantFrom('', 'code\n', 'Code,batch\n', 'CODE\n'),
    codes: fc.array(fc.oneof({ weight: 4, arbitrary: fc.stringMatching(/^[A-Z0-9_-]{3,12}$/) }, { weight: 1, arbitrary: hostile }), { maxLength: 8 }),
    encoding,
    at: fc.nat(),
  })
  .chain(({ header, codes, encoding: how, at }) => mutated(header + codes.join('\n') + '\n').map((text) => ({ kind: 'coupons' as const, name: 'codes.csv', text, encoding: how, at })));

const input = fc.oneof({ weight: 8, arbitrary: generated }, { weight: 2, arbitrary: presetInput }, { weight: 1, arbitrary: couponInput });

/** Every table's rows, hashed: what "the store is unchanged" compares. */
function digest(db: StoreDb): string {
  const hash = createHash('sha256');
  const tables = db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
  for (const { name } of tables) {
    hash.update(`\0${name}\0`);
    // sorted here: a table's primary key is not always its first columns
    const rows = db.arrays(`SELECT * FROM "${name}"`).map((row) => JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    for (const row of rows.sort()) hash.update(row);
  }
  return hash.digest('hex');
}

function rowCount(db: StoreDb): number {
  const tables = db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
  return tables.reduce((sum, { name }) => sum + db.get<{ n: number }>(`SELECT count(*) AS n FROM "${name}"`)!.n, 0);
}

describe('fuzz: import', () => {
  let dir: string;
  let storeFile: string;
  let seededFile: string;
  let db: StoreDb;

  const seed = async (into: StoreDb) => {
    for (const [kind, file] of [
      ['customers', 'customers.csv'],
      ['products', 'products-rfc4180.csv'],
      ['orders', 'orders.csv'],
      ['order-items', 'order-items.csv'],
      ['events', 'events.jsonl'],
      ['suppressions', 'suppressions.csv'],
    ] as const) {
      await importFile(into, { kind, file: path.join(fixtures, file), now: NOW });
    }
  };

  /** Back to the seeded store, so that the store (and each digest) stays small however many inputs succeed. */
  const reset = () => {
    db.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(storeFile + suffix, { force: true });
    copyFileSync(seededFile, storeFile);
    db = openStore(storeFile);
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'journey-fuzz-import-'));
    mkdirSync(path.join(dir, '.journey'));
    // a project for `journey import coupons`: its store is the one the other kinds fill
    writeFileSync(
      path.join(dir, 'journey.config.yaml'),
      `version: 1\nstore:\n  path: .journey/store.db\ntimezone: UTC\nchannels:\n  email: { provider: console }\nproviders:\n  console: { type: console }\ncoupons:\n  pool-10: { discount: 10%, pool: true, valid_for: 30d }\n`,
    );
    storeFile = path.join(dir, '.journey/store.db');
    seededFile = path.join(dir, 'seeded.db');
    db = openStore(storeFile);
    await seed(db);
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    db.close();
    copyFileSync(storeFile, seededFile);
    db = openStore(storeFile);
  });
  afterAll(() => db.close());

  it('returns or throws a located JourneyError for any file of any kind, in bounded time, and a failed import changes nothing', async () => {
    let before = '';
    let seen = 0;
    const outcomes = { imported: 0, rejected: 0 };
    await fc.assert(
      fc.asyncProperty(input, async ({ kind, preset, name, text, encoding: how, at }) => {
        if (seen++ % 200 === 0 || rowCount(db) > 2_000) reset();
        before = digest(db);
        const file = path.join(dir, name);
        writeFileSync(file, encode(text, how, at));
        const started = performance.now();
        let error: unknown;
        try {
          if (kind === 'coupons') await capture(() => importCoupons(dir, file, 'pool-10', true, NOW));
          else await importFile(db, { kind, file, preset, now: NOW, channels: ['email', 'sms'], batchRows: 3 });
        } catch (err) {
          error = err;
        }
        const ms = performance.now() - started;
        expect(ms, 'one input took too long').toBeLessThan(INPUT_BUDGET_MS);
        if (error === undefined) return void outcomes.imported++;
        outcomes.rejected++;
        // anything but a JourneyError is a crash: fail with it, stack and all
        if (!(error instanceof JourneyError)) throw error;
        expect(error.message.split('\n')[0], 'the first line says what went wrong').toMatch(/\S/);
        expect(error.location?.file, `not located: ${error.message}`).toBe(file);
        if (/invalid; nothing was imported|not UTF-8|is longer than|the header/.test(error.message)) {
          expect(error.location?.row ?? error.location?.line, `no row or line: ${error.message}`).toBeGreaterThanOrEqual(0);
        }
        expect(digest(db), `a failed import changed the store: ${error.message.split('\n')[0]}`).toBe(before);
      }),
      params(runs(4_500)),
    );
    // both sides must be exercised: a generator that only makes broken files tests half of it
    console.log(`import fuzz: ${outcomes.imported} imported, ${outcomes.rejected} rejected`);
    expect(outcomes.imported).toBeGreaterThan(0);
  // bounded per input instead: a whole-test timeout would leave the property running after the test ended (and its chdir undone)
  }, runs(4_500) * INPUT_BUDGET_MS);
});
