import { JourneyError } from '../../errors.js';
import type { RawRecord, RecordReader } from './records.js';

/**
 * JSON Lines: one object per line; blank lines are skipped but counted, so that
 * row numbers are the line numbers an editor shows.
 */
export async function readJsonl(text: AsyncIterable<string>, fileName: string): Promise<RecordReader> {
  const chunks = text[Symbol.asyncIterator]();
  let carry = '';
  let done = false;
  let lineNo = 0;

  function toRecords(lines: string[]): RawRecord[] {
    const records: RawRecord[] = [];
    for (const line of lines) {
      lineNo++;
      const trimmed = line.trim();
      if (trimmed === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(trimmed);
      } catch (err) {
        records.push({ rowNo: lineNo, values: {}, error: `not valid JSON: ${(err as Error).message}` });
        continue;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        records.push({ rowNo: lineNo, values: {}, error: 'is not a JSON object' });
      } else {
        records.push({ rowNo: lineNo, values: value as Record<string, unknown> });
      }
    }
    return records;
  }

  async function nextLines(): Promise<string[]> {
    const next = await chunks.next();
    if (next.done) {
      done = true;
      const last = carry;
      carry = '';
      return last === '' ? [] : [last];
    }
    const lines = (carry + next.value).split('\n');
    carry = lines.pop()!;
    return lines;
  }

  // the first record names the columns the file provides
  let first: RawRecord[] = [];
  while (!done && !first.some((r) => !r.error)) first = first.concat(toRecords(await nextLines()));
  const firstGood = first.find((r) => !r.error);
  if (!firstGood && first.length === 0) {
    throw new JourneyError(`${fileName} is empty`, { location: { file: fileName } });
  }
  const columns = firstGood ? Object.keys(firstGood.values) : [];

  async function* batches(): AsyncGenerator<RawRecord[]> {
    if (first.length > 0) yield first;
    while (!done) {
      const records = toRecords(await nextLines());
      if (records.length > 0) yield records;
    }
  }

  return {
    columns,
    column: (name) => (values) => (values as Record<string, unknown>)[name],
    batches: batches(),
    rejectsFormat: 'jsonl',
  };
}
