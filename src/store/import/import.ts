import type { Readable } from 'node:stream';
import { JourneyError } from '../../errors.js';
import { matchRedemptions } from '../coupons.js';
import type { StoreDb } from '../db.js';
import { readCsv } from '../input/csv.js';
import { readJsonl } from '../input/jsonl.js';
import type { RawRecord, RecordReader } from '../input/records.js';
import { openInput, type InputFormat, type InputSource } from '../input/source.js';
import type { ImportKind } from './kinds.js';
import { compileMapping, type MappingSpec, type StageRow } from './mapping.js';
import { loadMappingFile } from './mapping-file.js';
import { presetSpec, type PresetName } from './presets/index.js';
import { RejectsFile, type Rejection } from './rejects.js';
import { importShopifyOrders } from './shopify-orders.js';
import { ImportWriter } from './writer.js';

export interface ImportOptions {
  readonly kind: ImportKind;
  /** A path, or "-" for stdin. */
  readonly file: string;
  readonly format?: InputFormat;
  readonly preset?: PresetName;
  readonly mappingFile?: string;
  /** Import the valid rows and write the others to this file. */
  readonly rejectsFile?: string;
  /** The clock for history and consent times (tests and --now set it). */
  readonly now?: number;
  readonly stdin?: Readable;
  readonly onProgress?: (progress: ImportProgress) => void;
  /**
   * The channels of the project (journey.config.yaml): a suppression for any other would
   * never match a message. Undefined: not known (no config), only the name's form is checked.
   */
  readonly channels?: readonly string[];
  /** Rows per set-based write; 10k was the sweet spot measured here. */
  readonly batchRows?: number;
}

export interface ImportProgress {
  readonly rows: number;
  readonly bytesRead: number;
  readonly totalBytes: number | undefined;
  readonly elapsedMs: number;
}

export interface ImportResult {
  readonly kind: ImportKind;
  readonly file: string;
  readonly format: InputFormat;
  /** Data rows read (blank lines excluded). */
  readonly rows: number;
  readonly inserted: number;
  readonly updated: number;
  readonly unchanged: number;
  /** Rows that carry nothing for this kind (Shopify line-item rows when importing orders). */
  readonly skipped: number;
  readonly rejected: number;
  /** Where the rejected rows were written: undefined when none was (or without --skip-invalid). */
  readonly rejectsFile: string | undefined;
  readonly ignoredColumns: readonly string[];
  /** Orders: issued coupon codes that orders of the store (this import's among them) newly redeemed. */
  readonly couponsRedeemed?: number;
  readonly seconds: number;
  /** What the same file loaded of other kinds (a Shopify orders export: its customers and line items). */
  readonly also?: readonly PartCounts[];
}

export interface PartCounts {
  readonly kind: ImportKind;
  inserted: number;
  updated: number;
  unchanged: number;
}

const LISTED_PROBLEMS = 10;
const CHUNK_ROWS = 512;

/**
 * Imports one file in one transaction: everything or, on a bad row, nothing (the
 * file is still read to the end so that every bad row is reported at once), unless
 * rejectsFile is set, which imports the valid rows and writes the others there.
 */
export async function importFile(db: StoreDb, options: ImportOptions): Promise<ImportResult> {
  if (options.preset === 'shopify' && options.kind === 'orders') {
    if (options.mappingFile) mappingSpecFor(options); // the usage error
    return importShopifyOrders(db, options);
  }
  const started = performance.now();
  const now = options.now ?? Date.now();
  const spec = mappingSpecFor(options);
  const input = await openInput(options.file, { format: options.format, stdin: options.stdin });
  const reader = await openReader(input);
  const mapper = compileMapping(options.kind, spec, reader, input.name);
  const batchRows = options.batchRows ?? 10_000;
  const rejects = options.rejectsFile ? new RejectsFile(options.rejectsFile, reader.rejectsFormat, reader.columns) : undefined;

  const counts = { rows: 0, inserted: 0, updated: 0, unchanged: 0, skipped: 0 };
  let couponsRedeemed = 0;
  const problems: Rejection[] = [];
  let problemCount = 0;
  // rejects of the current chunk, written in row order once its references are checked
  let chunkRejects: { record: RawRecord; rejection: Rejection }[] = [];
  const reject = (record: RawRecord, rejection: Rejection) => {
    if (rejects) return void chunkRejects.push({ record, rejection });
    problemCount++;
    // the first rows of the file, whichever check (row or reference) found them
    problems.push(rejection);
    problems.sort((a, b) => a.rowNo - b.rowNo);
    if (problems.length > LISTED_PROBLEMS) problems.pop();
  };

  const restorePragmas = useImportPragmas(db);
  db.begin();
  const writer = new ImportWriter(db, options.kind, mapper, now);
  try {
    // Rows go to the stage table a few hundred at a time and are written every
    // batchRows: JavaScript holds only the current chunk, so rows die young and the
    // heap stays small; SQLite holds the batch.
    let chunk: { row: StageRow; record: RawRecord }[] = [];
    let staged = 0;
    let keys = new Set<string>();
    const stageChunk = () => {
      const unresolved = writer.stage(chunk.map((c) => c.row));
      if (unresolved.length > 0) {
        const byRow = new Map(chunk.map((c) => [c.row.rowNo, c.record]));
        for (const u of unresolved) reject(byRow.get(u.rowNo)!, u);
        if (rejects) writer.drop(unresolved.map((u) => u.rowNo));
      }
      if (rejects) {
        chunkRejects.sort((a, b) => a.rejection.rowNo - b.rejection.rowNo);
        for (const r of chunkRejects) rejects.write(r.record, r.rejection);
        chunkRejects = [];
      }
      staged += chunk.length;
      chunk = [];
    };
    const flush = () => {
      stageChunk();
      if (staged === 0) return;
      // once a row is bad nothing will be committed: only look for more bad rows
      if (problemCount === 0) {
        const written = writer.apply();
        counts.inserted += written.inserted;
        counts.updated += written.updated;
        counts.unchanged += written.unchanged;
      }
      writer.clear();
      staged = 0;
      keys = new Set();
    };

    for await (const records of reader.batches) {
      for (const record of records) {
        counts.rows++;
        const mapped = checkChannel(mapper.map(record), options);
        switch (mapped.kind) {
          case 'row': {
            const key = writer.keyOf(mapped.row);
            // one row per key in a batch, so that a file listing an order twice
            // (a status change) is applied in file order
            if (keys.has(key)) flush();
            keys.add(key);
            chunk.push({ row: mapped.row, record });
            break;
          }
          case 'skip':
            counts.skipped++;
            break;
          case 'invalid':
            reject(record, { rowNo: record.rowNo, ...mapped.problem });
            break;
        }
        if (chunk.length + chunkRejects.length >= CHUNK_ROWS) stageChunk();
        if (staged >= batchRows) flush();
      }
      options.onProgress?.({ rows: counts.rows, bytesRead: input.bytesRead(), totalBytes: input.totalBytes, elapsedMs: performance.now() - started });
    }
    flush();
    if (problemCount > 0) throw invalidRowsError(input.name, problems, problemCount, reader.rejectsFormat === 'jsonl');
    writer.finish();
    writer.dispose();
    // an order that used an issued code redeems it (coupons report per step), in the import's transaction
    if (options.kind === 'orders') couponsRedeemed = matchRedemptions(db);
    db.commit();
  } catch (err) {
    db.rollback();
    writer.dispose();
    throw err;
  } finally {
    rejects?.close();
    restorePragmas();
  }
  return {
    kind: options.kind,
    file: input.name,
    format: input.format,
    rows: counts.rows,
    inserted: counts.inserted,
    updated: counts.updated,
    unchanged: counts.unchanged,
    skipped: counts.skipped,
    rejected: rejects?.count ?? 0,
    rejectsFile: rejects?.written,
    ignoredColumns: mapper.ignoredColumns,
    ...(options.kind === 'orders' ? { couponsRedeemed } : {}),
    seconds: (performance.now() - started) / 1000,
  };
}

function checkChannel(mapped: ReturnType<ReturnType<typeof compileMapping>['map']>, options: ImportOptions): typeof mapped {
  if (options.kind !== 'suppressions' || !options.channels || mapped.kind !== 'row') return mapped;
  const channel = mapped.row.fields[0];
  if (options.channels.includes(String(channel))) return mapped;
  return { kind: 'invalid', problem: { column: 'channel', value: channel, reason: `is not a channel of this project (${options.channels.join(', ') || 'none declared'})` } };
}

function mappingSpecFor(options: ImportOptions): MappingSpec {
  if (options.preset && options.mappingFile) {
    throw new JourneyError('--preset and --mapping cannot be used together', { exitCode: 64, hint: 'a mapping file replaces the preset: copy what you need from it' });
  }
  if (options.preset) return presetSpec(options.preset, options.kind);
  if (options.mappingFile) return loadMappingFile(options.mappingFile, options.kind);
  return { columns: new Map(), dateFormat: { kind: 'iso' }, timeZone: 'UTC', statuses: new Map() };
}

export async function openReader(input: InputSource): Promise<RecordReader> {
  switch (input.format) {
    case 'csv':
      return readCsv(input.text, input.name);
    case 'jsonl':
      return readJsonl(input.text, input.name);
  }
}

/**
 * An import streams through more pages than it revisits: a bounded page cache and
 * no mmap keep its memory flat whatever the file size (the query pragmas would let
 * both grow to 1.4 GB).
 */
export function useImportPragmas(db: StoreDb, cacheMb = 32): () => void {
  const cache = db.get<{ cache_size: number }>('PRAGMA cache_size')!.cache_size;
  const mmap = db.get<{ mmap_size: number }>('PRAGMA mmap_size')!.mmap_size;
  db.exec(`PRAGMA cache_size = ${-1024 * Math.round(cacheMb)}; PRAGMA mmap_size = 0;`);
  return () => db.exec(`PRAGMA cache_size = ${Number(cache)}; PRAGMA mmap_size = ${Number(mmap)};`);
}

/** A rejected value as an error shows it: quoted, and cut short when it is long (a 10 MB cell is not printed). */
export function quoteValue(value: unknown, max = 60): string {
  const text = typeof value === 'string' ? value : String(value);
  if (text.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(text.slice(0, max))}… (${text.length.toLocaleString('en-US')} characters)`;
}

export function invalidRowsError(file: string, problems: Rejection[], count: number, byLine: boolean): JourneyError {
  const first = problems[0]!;
  const where = (p: Rejection) => `${byLine ? 'line' : 'row'} ${p.rowNo}${p.column ? `, column ${p.column}` : ''}`;
  const what = (p: Rejection) => (p.value === undefined ? p.reason : `${quoteValue(p.value)} ${p.reason}`);
  const lines = problems.map((p) => `  ${where(p)}: ${what(p)}`);
  if (count > problems.length) lines.push(`  ... and ${(count - problems.length).toLocaleString('en-US')} more`);
  const noun = count === 1 ? 'row is' : 'rows are';
  return new JourneyError(`${count.toLocaleString('en-US')} ${noun} invalid; nothing was imported\n${lines.join('\n')}`, {
    location: byLine ? { file, line: first.rowNo, field: first.column } : { file, row: first.rowNo, field: first.column },
    hint: 'fix them, or run again with --skip-invalid [FILE] to import the other rows and write these to FILE',
  });
}
