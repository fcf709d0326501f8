import { describe, expect, it } from 'vitest';
import { readCsv } from '../../src/store/input/csv.js';
import type { RawRecord } from '../../src/store/input/records.js';

async function* chunks(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function readAll(text: string, chunkSize = 1 << 16): Promise<{ columns: readonly string[]; records: RawRecord[] }> {
  const reader = await readCsv(chunks(text, chunkSize), 'test.csv');
  const records: RawRecord[] = [];
  for await (const batch of reader.batches) records.push(...batch);
  return { columns: reader.columns, records };
}

const RFC4180 = 'id,title,note\r\n1,"Shirt, blue","says ""hi""\r\nand bye"\r\n"2",plain,\r\n3,"",x';

describe('CSV reader', () => {
  it('reads quoted fields, escaped quotes, embedded newlines, mixed quoting and a last row without newline', async () => {
    const { columns, records } = await readAll(RFC4180);
    expect(columns).toEqual(['id', 'title', 'note']);
    expect(records.map((r) => r.values)).toEqual([
      ['1', 'Shirt, blue', 'says "hi"\r\nand bye'],
      ['2', 'plain', ''],
      ['3', '', 'x'],
    ]);
    expect(records.map((r) => r.rowNo)).toEqual([1, 2, 3]);
  });

  it('gives the same records whatever the chunk boundaries (a quoted field may span chunks)', async () => {
    const whole = await readAll(RFC4180);
    for (const size of [1, 2, 3, 5, 7, 13]) expect(await readAll(RFC4180, size)).toEqual(whole);
  });

  it('flags a row with the wrong number of fields and counts blank lines in row numbers', async () => {
    const { records } = await readAll('a,b\n1,2\n\n3\n4,5,6\n7,8\n');
    expect(records.map((r) => [r.rowNo, r.error ?? 'ok'])).toEqual([
      [1, 'ok'],
      [3, 'has 1 field, the header has 2'],
      [4, 'has 3 fields, the header has 2'],
      [5, 'ok'],
    ]);
  });

  it('rejects a header with a duplicate or empty column name', async () => {
    await expect(readAll('id,email,id\n1,a,2\n')).rejects.toThrow(/names column "id" twice/);
    await expect(readAll('id,,x\n')).rejects.toThrow(/column 2 of the header has no name/);
  });
});
