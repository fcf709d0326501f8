/**
 * The codes of `journey import coupons FILE`: one code a line, or a CSV whose `code`
 * column (any case; `codes`, `discount_code` and `coupon code` too) holds them, as a
 * shop system's bulk discount code export has them. A CSV of several columns, none of
 * them of codes, is refused: its header is not a code. Read as every import reads
 * (streamed, gzip recognised, UTF-8 checked, a record at most 16 MB), and all or
 * nothing: a value that is not a code rejects the file, naming the rows.
 */
import type { Readable } from 'node:stream';
import { JourneyError } from '../../errors.js';
import { readCsv } from '../input/csv.js';
import { openInput } from '../input/source.js';
import { quoteValue } from './import.js';

/** A code as a shop system takes it: letters, digits, dashes and underscores, 3 to 255 characters. */
const CODE = /^[A-Za-z0-9_-]{3,255}$/;

/** Names a header gives the column of codes (compared without case, spaces, dashes and underscores). */
const CODE_COLUMNS = new Set(['code', 'codes', 'couponcode', 'couponcodes', 'discountcode', 'discountcodes']);
const isCodeColumn = (name: string) => CODE_COLUMNS.has(name.toLowerCase().replace(/[\s_-]+/g, ''));

/** More than a pool needs at once; a larger file is split (the codes are held in memory until they are written). */
export const MAX_CODES_PER_FILE = 1_000_000;

export interface CouponFile {
  /** The file's codes, each once: the first spelling of a code repeated in another case (a shop takes a code in any case). */
  codes: string[];
  /** Lines that repeated a code of the file. */
  repeated: number;
}

export async function readCouponCodes(file: string, opts: { stdin?: Readable } = {}): Promise<CouponFile> {
  const input = await openInput(file, { format: 'csv', ...(opts.stdin ? { stdin: opts.stdin } : {}) });
  const reader = await readCsv(input.text, input.name);
  const column = reader.columns.findIndex(isCodeColumn);
  const named = reader.columns.filter((c) => c.trim() !== '');
  if (column < 0 && named.length > 1) {
    // a CSV whose codes are not in a column we know: its header would be taken for codes
    throw new JourneyError(`no column of codes: the columns are ${named.map((c) => quoteValue(c.trim())).join(', ')}`, {
      location: { file: input.name, row: 1 },
      hint: 'name the column of codes "code" (or give one code a line, without a header); nothing was imported',
    });
  }
  const codes: string[] = [];
  const seen = new Set<string>();
  let repeated = 0;
  const bad: { row: number; code: string }[] = [];
  // without a code column the file is a list: its first line is a code, not a header
  const take = (value: string, row: number) => {
    const code = value.trim();
    if (!CODE.test(code)) bad.push({ row, code });
    else if (seen.has(code.toUpperCase())) repeated++;
    else {
      seen.add(code.toUpperCase());
      codes.push(code);
    }
  };
  if (column < 0 && reader.columns.some((c) => c.trim() !== '')) take(reader.columns[0]!, 1);
  const offset = column < 0 ? 1 : 0;
  for await (const records of reader.batches) {
    for (const r of records) {
      const values = r.values as readonly string[];
      if (r.error) throw new JourneyError(r.error, { location: { file: input.name, row: r.rowNo + offset }, hint: 'nothing was imported' });
      // a blank line is no code; a row of a CSV with an empty code is a mistake
      if (values.every((v) => v.trim() === '')) continue;
      // a list's lines are rows 1, 2, ...; a CSV's data rows are counted without its header
      take(values[column < 0 ? 0 : column] ?? '', r.rowNo + offset);
      if (codes.length + repeated > MAX_CODES_PER_FILE) {
        throw new JourneyError(`more than ${MAX_CODES_PER_FILE.toLocaleString('en-US')} codes in one file`, {
          location: { file: input.name, row: r.rowNo + offset },
          hint: 'split the file and import the parts one after another; nothing was imported',
        });
      }
    }
  }
  if (bad.length > 0) {
    // quoted: a value may hold control characters (a terminal's escape sequences)
    const listed = bad.slice(0, 5).map((b) => `row ${b.row}: ${quoteValue(b.code)}`);
    throw new JourneyError(`${bad.length} value${bad.length === 1 ? ' is' : 's are'} not a code (${listed.join(', ')}${bad.length > 5 ? ', ...' : ''})`, {
      location: { file: input.name, row: bad[0]!.row, ...(column >= 0 ? { field: reader.columns[column]!.trim() } : {}) },
      hint: 'a code is 3 to 255 letters, digits, dashes or underscores; nothing was imported',
    });
  }
  return { codes, repeated };
}
