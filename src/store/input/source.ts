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
  const bytes: AsyncIterable<Buffer> = firstChunk && isGzip(firstChunk) ? Readable.from(counted()).pipe(gunzipWithErrors(name)) : counted();

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

function gunzipWithErrors(name: string) {
  const gunzip = createGunzip();
  gunzip.on('error', (err) => {
    gunzip.destroy(new JourneyError(`${name} looks gzip-compressed but cannot be decompressed: ${err.message}`, { location: { file: name } }));
  });
  return gunzip;
}

function sniffFormat(head: string): InputFormat {
  return head.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}

async function* decodeUtf8(bytes: AsyncIterable<Buffer>, name: string): AsyncGenerator<string> {
  // TextDecoder drops a leading BOM and keeps multi-byte characters split across
  // chunks whole; fatal, because silently mangled names are worse than an error
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const chunk of bytes) {
      const text = decoder.decode(chunk, { stream: true });
      if (text) yield text;
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  } catch (err) {
    if (err instanceof TypeError && /encoded data was not valid/i.test(err.message)) {
      throw new JourneyError(`${name} is not UTF-8 text`, {
        location: { file: name },
        hint: 'save or convert it as UTF-8 (e.g. iconv -f latin1 -t utf-8)',
      });
    }
    throw err;
  }
}

export function parseFormatFlag(value: string): InputFormat {
  if ((INPUT_FORMATS as readonly string[]).includes(value)) return value as InputFormat;
  throw usageError(`unknown --format ${value}`, `use one of: ${INPUT_FORMATS.join(', ')}`);
}
