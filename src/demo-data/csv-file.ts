import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * A CSV file written through a 64 KB buffer with synchronous writes: memory stays
 * at the buffer whatever the row count, and no back-pressure bookkeeping is needed.
 */
export class CsvFile {
  private readonly fd: number;
  private buffer = '';
  rows = 0;

  constructor(
    readonly file: string,
    header: readonly string[],
  ) {
    this.fd = openSync(file, 'w');
    this.buffer = header.join(',') + '\n';
  }

  row(fields: readonly (string | number | null)[]): void {
    let line = '';
    for (let i = 0; i < fields.length; i++) {
      if (i > 0) line += ',';
      const f = fields[i];
      if (f === null) continue;
      line += typeof f === 'number' ? String(f) : quote(f);
    }
    this.buffer += line + '\n';
    this.rows++;
    if (this.buffer.length > 1 << 16) this.flush();
  }

  private flush(): void {
    writeSync(this.fd, this.buffer);
    this.buffer = '';
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

function quote(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
