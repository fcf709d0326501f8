import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { JourneyError, usageError } from '../../errors.js';

export type InputFormat = 'csv' | 'jsonl';
export const INPUT_FORMATS: readonly InputFormat[] = ['csv', 'jsonl'];

/** An input file opened for streaming: decoded text chunks, never the whole file. */
export interface InputSource {
  /** What messages call it: the path as given, or "stdin". */
  readonly name: string;
  readonly format: InputFormat;
  /** Size on disk (compressed size for .gz) when it is a file; undefined for stdin. */
  readonly totalBytes: number | undefined;
  /** Bytes read from the file so far (before decompression), for progress and ETA. */
  bytesRead(): number;
  readonly text: AsyncIterable<string>;
}

/**
 * 64 KB reads: a chunk's parsed rows then die before the next garbage collection
 * of the young generation; 1 MB chunks let them survive into the old one, and the
 * heap (RSS) of a large import grew past 250 MB.
 */
const CHUNK_BYTES = 1 << 16;

export function formatFromName(file: string): InputFormat | undefined {
  const base = file.toLowerCase().replace(/\.gz$/, '');
  const ext = path.extname(base);
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  return undefined;
}

function isGzip(chunk: Buffer): boolean {
  return chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b;
}

/**
 * Opens FILE (or "-" for stdin): gzip is recognised by its magic bytes, whatever
 * the name; the format comes from `format`, else the extension, else the first
 * character (a JSON Lines file starts with "{").
 */
export async function openInput(file: string, opts: { format?: InputFormat; stdin?: Readable } = {}): Promise<InputSource> {
  const fromStdin = file === '-';
  const name = fromStdin ? 'stdin' : file;
  let totalBytes: number | undefined;
  let raw: Readable;
  if (fromStdin) {
    raw = opts.stdin ?? process.stdin;
  } else {
    try {
      const stat = statSync(file);
      if (!stat.isFile()) throw new JourneyError(`${file} is not a file`);
      totalBytes = stat.size;
    } catch (err) {
      if (err instanceof JourneyError) throw err;
      throw new JourneyError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, {
        location: { file },
      });
    }
    raw = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  }

  let bytesRead = 0;
  const rawChunks = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await rawChunks.next();
  const firstChunk: Buffer | undefined = first.done ? undefined : Buffer.from(first.value);
  async function* counted(): AsyncGenerator<Buffer> {
    if (!firstChunk) return;
    bytesRead += firstChunk.length;
    yield firstChunk;
    for (;;) {
      const next = await rawChunks.next();
      if (next.done) return;
      bytesRead += next.value.length;
      yield next.value;
    }
  }
  const bytes: AsyncIterable<Buffer> = firstChunk && isGzip(firstChunk) ? gunzipped(counted(), name) : counted();

  const decoded = decodeUtf8(bytes, name)[Symbol.asyncIterator]();
  const head = await decoded.next();
  const format = opts.format ?? formatFromName(fromStdin ? '' : file) ?? sniffFormat(head.done ? '' : head.value);
  async function* text(): AsyncGenerator<string> {
    if (head.done) return;
    yield head.value;
    for (;;) {
      const next = await decoded.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { name, format, totalBytes, bytesRead: () => bytesRead, text: text() };
}

/** The decompressed bytes; a damaged or truncated gzip stream is an error that names the file, not zlib's stack. */
async function* gunzipped(compressed: AsyncIterable<Buffer>, name: string): AsyncGenerator<Buffer> {
  const gunzip = createGunzip();
  const input = Readable.from(compressed);
  input.on('error', (err) => gunzip.destroy(err));
  input.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (err) {
    if (err instanceof JourneyError) throw err;
    throw new JourneyError(`the file starts as a gzip file does but cannot be decompressed: ${(err as Error).message}`, {
      location: { file: name },
      hint: 'if it is compressed, check that it arrived whole (gzip -t FILE); if it is plain text, it begins with the bytes 1f 8b by accident: re-export it',
    });
  } finally {
    input.destroy();
  }
}

function sniffFormat(head: string): InputFormat {
  return head.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}

async function* decodeUtf8(bytes: AsyncIterable<Buffer>, name: string): AsyncGenerator<string> {
  // TextDecoder drops a leading BOM and keeps multi-byte characters split across
  // chunks whole; fatal, because silently mangled names are worse than an error
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0; // bytes decoded before the current chunk
  let lines = 1;
  let previous: Buffer | undefined;
  for await (const chunk of bytes) {
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch (err) {
      throw notUtf8(err, name, offset, lines, chunk, previous);
    }
    offset += chunk.length;
    lines += countNewlines(text);
    previous = chunk;
    if (text) yield text;
  }
  let rest: string;
  try {
    rest = decoder.decode();
  } catch (err) {
    throw notUtf8(err, name, offset, lines, Buffer.alloc(0), previous);
  }
  if (rest) yield rest;
}

function countNewlines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/** Where the bytes stop being UTF-8: the file offset and line of the first bad byte, and the byte itself. */
function notUtf8(err: unknown, name: string, offset: number, lines: number, chunk: Buffer, previous: Buffer | undefined): unknown {
  if (!(err instanceof TypeError && /encoded data was not valid/i.test(err.message))) return err;
  // a sequence the previous chunk began may end in this one: its continuation bytes are not the fault
  let start = 0;
  const tail = previous ? incompleteTail(previous) : 0;
  while (start < tail && start < chunk.length && (chunk[start]! & 0xc0) === 0x80) start++;
  const bad = start + firstInvalidUtf8(chunk.subarray(start));
  const at = bad < chunk.length ? bad : chunk.length;
  const line = lines + countNewlines(chunk.subarray(0, at).toString('latin1'));
  const byte = at < chunk.length ? ` (byte 0x${chunk[at]!.toString(16).padStart(2, '0')})` : ' (it ends inside a character)';
  return new JourneyError(`not UTF-8 text: line ${line}, byte offset ${(offset + at).toLocaleString('en-US')}${byte}`, {
    location: { file: name, line },
    hint: 'save or convert it as UTF-8 (e.g. iconv -f latin1 -t utf-8); a byte such as 0xe9 is usually Latin-1 or Windows-1252',
  });
}

/** How many bytes at the end of a chunk start a character that continues in the next chunk. */
function incompleteTail(buf: Buffer): number {
  for (let back = 1; back <= 3 && back <= buf.length; back++) {
    const b = buf[buf.length - back]!;
    if ((b & 0xc0) === 0x80) continue;
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? need - back : 0;
  }
  return 0;
}

/** The index of the first byte that does not belong to well-formed UTF-8, or the length when all do. */
export function firstInvalidUtf8(buf: Buffer): number {
  let i = 0;
  while (i < buf.length) {
    const b = buf[i]!;
    const need = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (need === 0) return i;
    if (i + need > buf.length) return buf.subarray(i).every((c, k) => k === 0 || (c & 0xc0) === 0x80) ? buf.length : i;
    for (let k = 1; k < need; k++) if ((buf[i + k]! & 0xc0) !== 0x80) return i;
    // overlong and surrogate forms are not UTF-8 either
    if ((b === 0xe0 && buf[i + 1]! < 0xa0) || (b === 0xed && buf[i + 1]! > 0x9f) || (b === 0xf0 && buf[i + 1]! < 0x90) || (b === 0xf4 && buf[i + 1]! > 0x8f)) return i;
    i += need;
  }
  return i;
}

export function parseFormatFlag(value: string): InputFormat {
  if ((INPUT_FORMATS as readonly string[]).includes(value)) return value as InputFormat;
  throw usageError(`unknown --format ${value}`, `use one of: ${INPUT_FORMATS.join(', ')}`);
}
