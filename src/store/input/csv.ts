import Papa from 'papaparse';
import { JourneyError } from '../../errors.js';
import type { RawRecord, RecordReader } from './records.js';

type Newline = '\n' | '\r\n' | '\r';

/** One record (row) of a CSV file at most: far beyond any real export's row. */
export const MAX_RECORD_CHARS = 16 * 1024 * 1024;
/** A carry shorter than this (the common case: a partial row at a chunk's end) is parsed again with the next chunk. */
const CARRY_DOUBLING_FROM = 1 << 18;

/** The header's line ending is the file's; quoted fields may still hold other newlines. */
function detectNewline(text: string): Newline {
  const lf = text.indexOf('\n');
  if (lf > 0 && text[lf - 1] === '\r') return '\r\n';
  if (lf >= 0) return '\n';
  return text.includes('\r') ? '\r' : '\n';
}

/**
 * RFC 4180 CSV over a stream of text chunks. Papa.Parser (papaparse's core, the
 * fastest parser measured here) parses each chunk up to its last complete record;
 * the rest is carried into the next chunk, so a quoted field may span chunks and
 * memory stays at one chunk whatever the file size.
 */
export async function readCsv(text: AsyncIterable<string>, fileName: string): Promise<RecordReader> {
  const chunks = text[Symbol.asyncIterator]();
  let parser: Papa.Parser | undefined;
  let carry = '';
  let done = false;
  let rowNo = 0; // header is row 0

  /** Parses what is buffered; returns complete rows. */
  function parseSome(final: boolean): { rows: string[][]; errorsByIndex: Map<number, string> } {
    const input = carry;
    const result = parser!.parse(input, 0, !final);
    carry = final ? '' : input.substring(result.meta.cursor);
    const errorsByIndex = new Map<number, string>();
    for (const e of result.errors) if (e.row !== undefined) errorsByIndex.set(e.row, e.message);
    return { rows: result.data as string[][], errorsByIndex };
  }

  async function fill(): Promise<boolean> {
    // A record longer than a chunk is parsed again from its start with every chunk:
    // read on until the carry doubles, so a long quoted field costs linear time, not
    // quadratic (a 4 MB field took 10 s).
    const enough = carry.length >= CARRY_DOUBLING_FROM ? carry.length * 2 : 0;
    do {
      const next = await chunks.next();
      if (next.done) {
        done = true;
        return false;
      }
      carry += next.value;
      if (carry.length > MAX_RECORD_CHARS) {
        throw new JourneyError(`row ${rowNo + 1} is longer than ${MAX_RECORD_CHARS / 1024 / 1024} MB: a quote that is never closed?`, {
          location: { file: fileName, row: rowNo + 1 },
          hint: 'check the quoting of that row (a field that starts with " runs until the next lone ")',
        });
      }
    } while (carry.length < enough);
    return true;
  }

  // the header: read until it is complete
  let header: string[] | undefined;
  let pending: { rows: string[][]; errorsByIndex: Map<number, string> } | undefined;
  while (!header) {
    const more = await fill();
    if (!more && carry === '') throw new JourneyError(`${fileName} is empty: a CSV file needs a header row`, { location: { file: fileName } });
    if (!parser) {
      // the line ending is known once the text holds one (a CR needs the next character)
      const cr = carry.indexOf('\r');
      if (more && !carry.includes('\n') && (cr < 0 || cr === carry.length - 1)) continue;
      parser = new Papa.Parser({ delimiter: ',', newline: detectNewline(carry) } as Papa.ParseConfig);
    }
    const parsed = parseSome(!more);
    if (parsed.rows.length > 0) {
      header = parsed.rows[0]!.map((h) => h.trim());
      pending = { rows: parsed.rows.slice(1), errorsByIndex: shiftErrors(parsed.errorsByIndex) };
    } else if (!more) {
      throw new JourneyError(`${fileName} has no header row`, { location: { file: fileName } });
    }
  }
  checkHeader(header, fileName);
  const width = header.length;
  const indexOf = new Map<string, number>();
  header.forEach((h, i) => indexOf.set(h, i));

  function toRecords(rows: string[][], errorsByIndex: Map<number, string>): RawRecord[] {
    const records: RawRecord[] = [];
    for (let i = 0; i < rows.length; i++) {
      const values = rows[i]!;
      rowNo++;
      if (values.length === 1 && values[0] === '') continue; // a blank line
      const quoteError = errorsByIndex.get(i);
      if (quoteError) records.push({ rowNo, values, error: `malformed quoting: ${quoteError}` });
      else if (values.length !== width) records.push({ rowNo, values, error: `has ${values.length} field${values.length === 1 ? '' : 's'}, the header has ${width}` });
      else records.push({ rowNo, values });
    }
    return records;
  }

  async function* batches(): AsyncGenerator<RawRecord[]> {
    if (pending && pending.rows.length > 0) yield toRecords(pending.rows, pending.errorsByIndex);
    while (!done) {
      const more = await fill();
      const parsed = parseSome(!more);
      if (parsed.rows.length > 0) yield toRecords(parsed.rows, parsed.errorsByIndex);
    }
  }

  return {
    columns: header,
    column(name) {
      const index = indexOf.get(name);
      if (index === undefined) return () => undefined;
      return (values) => (values as readonly string[])[index];
    },
    batches: batches(),
    rejectsFormat: 'csv',
  };
}

function shiftErrors(errors: Map<number, string>): Map<number, string> {
  const shifted = new Map<number, string>();
  for (const [row, message] of errors) if (row > 0) shifted.set(row - 1, message);
  return shifted;
}

function checkHeader(header: string[], fileName: string): void {
  const seen = new Set<string>();
  header.forEach((name, i) => {
    if (name === '') {
      throw new JourneyError(`column ${i + 1} of the header has no name`, { location: { file: fileName, row: 0 }, hint: 'give every column a name in the first row' });
    }
    if (seen.has(name)) {
      throw new JourneyError(`the header names column "${name}" twice`, { location: { file: fileName, row: 0, field: name }, hint: 'rename one of them' });
    }
    seen.add(name);
  });
}

/** One CSV line for the rejects file, quoted as needed. */
export function csvLine(fields: readonly unknown[]): string {
  return Papa.unparse([fields.map((f) => (f === undefined || f === null ? '' : String(f)))], { newline: '\n' }) + '\n';
}
