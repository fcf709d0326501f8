/**
 * Broken and hostile import files get a located error, never a crash, a hang or a
 * screenful: a .csv that starts with gzip's magic bytes, text that is not UTF-8, a
 * quoted field of megabytes, JSON properties nested thousands deep, a rejected value
 * of a megabyte.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { readCsv } from '../../src/store/input/csv.js';
import { firstInvalidUtf8, openInput } from '../../src/store/input/source.js';
import { fixture, tempDir } from './helpers.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/journey.js');
const journey = (cwd: string, args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at .*:\d+:\d+/);

async function* chunks(text: string, size = 1 << 16): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

async function readText(file: string): Promise<string> {
  const input = await openInput(file);
  let text = '';
  for await (const t of input.text) text += t;
  return text;
}

describe('import input limits', () => {
  it('a .csv that starts like gzip but is not is an error naming the file, and the store is unchanged', () => {
    const project = tempDir();
    expect(journey(project, ['import', 'customers', fixture('customers.csv')]).status).toBe(0);
    writeFileSync(path.join(project, 'gz.csv'), Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from('not really compressed')]));
    const store = readFileSync(path.join(project, '.journey/store.db'));
    const r = journey(project, ['import', 'customers', 'gz.csv']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('error gz.csv: the file starts as a gzip file does but cannot be decompressed');
    noStack(r.stderr);
    expect(readFileSync(path.join(project, '.journey/store.db')).equals(store)).toBe(true);
  });

  it('text that is not UTF-8 is an error with its line and byte offset, across chunk boundaries too', async () => {
    const dir = tempDir();
    const head = Buffer.from('id,email,first_name\n' + Array.from({ length: 5000 }, (_, i) => `c${i},c${i}@shop.test,Ann\n`).join(''));
    const file = path.join(dir, 'latin1.csv');
    writeFileSync(file, Buffer.concat([head, Buffer.from('c9,r@shop.test,Ren'), Buffer.from([0xe9]), Buffer.from('\n')]));
    await expect(readText(file)).rejects.toThrow(`not UTF-8 text: line 5002, byte offset ${(head.length + 18).toLocaleString('en-US')} (byte 0xe9)`);
    // a two-byte character split by a chunk boundary is fine
    const ok = path.join(dir, 'split.csv');
    writeFileSync(ok, Buffer.concat([Buffer.alloc((1 << 16) - 1, 'a'), Buffer.from('é\n')]));
    expect((await readText(ok)).endsWith('é\n')).toBe(true);
  });

  it('finds the first byte that is not UTF-8', () => {
    expect(firstInvalidUtf8(Buffer.from('plain ascii'))).toBe(11);
    expect(firstInvalidUtf8(Buffer.from('Renée, 日本, 😀'))).toBe(Buffer.byteLength('Renée, 日本, 😀'));
    expect(firstInvalidUtf8(Buffer.from([0x41, 0xe9, 0x42]))).toBe(1); // Latin-1 é
    expect(firstInvalidUtf8(Buffer.from([0x41, 0xc0, 0x80]))).toBe(1); // overlong NUL
    expect(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80]))).toBe(0); // a surrogate
  });

  it('a quoted field of 4 MB is parsed in linear work, not once per chunk from its start', async () => {
    const text = `id,email\nc1,"${'""'.repeat(2 * 1024 * 1024)}"\n`;
    let parsed = 0;
    const Parser = Papa.Parser;
    Papa.Parser = function (this: unknown, config: Papa.ParseConfig) {
      const parser = new Parser(config);
      const parse = parser.parse.bind(parser);
      parser.parse = (input: string, ...rest: unknown[]) => {
        parsed += input.length;
        return (parse as (...a: unknown[]) => Papa.ParseResult<unknown>)(input, ...rest);
      };
      return parser;
    } as unknown as typeof Papa.Parser;
    try {
      const reader = await readCsv(chunks(text), 'big.csv');
      const rows = [];
      for await (const batch of reader.batches) rows.push(...batch);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.values[1]).toHaveLength(2 * 1024 * 1024);
    } finally {
      Papa.Parser = Parser;
    }
    // once per chunk from the field's start read 64 chunks: about 33 times the text
    expect(parsed).toBeLessThan(6 * text.length);
  });

  it('an unclosed quote is an error at its row once the row passes 16 MB, not a parse of the whole file', async () => {
    const text = `id,email\nc1,"abc\n${'c2,x@y.z\n'.repeat(2_000_000)}`;
    const reader = await readCsv(chunks(text), 'unclosed.csv');
    const read = async () => {
      for await (const _ of reader.batches) void _;
    };
    await expect(read()).rejects.toThrow('row 1 is longer than 16 MB: a quote that is never closed?');
  });

  it('JSON properties nested past 32 levels are a rejected value, and a long value is cut short in the message', () => {
    const project = tempDir();
    expect(journey(project, ['import', 'customers', fixture('customers.csv')]).status).toBe(0);
    const customer = readFileSync(fixture('customers.csv'), 'utf8').split('\n')[1]!.split(',')[0]!;
    const deep = `${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}`;
    writeFileSync(path.join(project, 'events.csv'), `id,customer_id,type,occurred_at,properties\ne1,${customer},custom,2025-03-07T12:12:11Z,"${deep.replace(/"/g, '""')}"\n`);
    const r = journey(project, ['import', 'events', 'events.csv']);
    expect(r.status).toBe(1);
    noStack(r.stderr);
    expect(r.stderr).toContain('… (30,001 characters) nests deeper than 32 levels');
    expect(r.stderr.length).toBeLessThan(1000);
  });
});
