import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { JourneyError } from '../../errors.js';
import { csvLine } from '../input/csv.js';
import type { RawRecord } from '../input/records.js';

export interface Rejection {
  readonly rowNo: number;
  readonly column?: string;
  readonly value?: unknown;
  readonly reason: string;
}

/**
 * The rejects file of --skip-invalid: each rejected row as it was, after its row
 * number, column and reason. A CSV input gives a CSV with the original columns (fix
 * it, drop the _ columns, import it again); a JSON Lines input gives JSON Lines.
 */
export class RejectsFile {
  private readonly fd: number;
  count = 0;

  constructor(
    readonly file: string,
    private readonly format: 'csv' | 'jsonl',
    columns: readonly string[],
  ) {
    try {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      this.fd = openSync(file, 'w');
    } catch (err) {
      // a folder, a path through a file, no permission: the user's to fix, before anything is imported
      const code = (err as NodeJS.ErrnoException).code;
      if (typeof code !== 'string') throw err;
      throw new JourneyError(`cannot write the rejects file ${file}: ${code === 'EISDIR' ? 'it is a folder' : (err as Error).message}`, {
        location: { file, field: '--skip-invalid' },
        hint: 'give --skip-invalid a file in a folder you can write to',
        cause: err,
      });
    }
    if (format === 'csv') writeSync(this.fd, csvLine(['_row', '_column', '_reason', ...columns]));
  }

  write(record: RawRecord, rejection: Rejection): void {
    this.count++;
    const reason = rejection.value === undefined ? rejection.reason : `${JSON.stringify(rejection.value)} ${rejection.reason}`;
    if (this.format === 'csv') {
      const values = Array.isArray(record.values) ? (record.values as string[]) : [];
      writeSync(this.fd, csvLine([rejection.rowNo, rejection.column ?? '', reason, ...values]));
    } else {
      writeSync(this.fd, JSON.stringify({ row: rejection.rowNo, column: rejection.column ?? null, reason, record: record.values }) + '\n');
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
