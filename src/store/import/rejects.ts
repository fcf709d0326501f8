import { closeSync, fchmodSync, fstatSync, ftruncateSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
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
 * Written only when a row is rejected, readable by its owner only: it holds the
 * customers' rows (their addresses) as the store does.
 */
export class RejectsFile {
  private readonly fd: number;
  /** Made by this import (not a file that was there): removed again when no row is rejected. */
  private readonly created: boolean;
  private readonly header: string | null;
  count = 0;

  constructor(
    readonly file: string,
    private readonly format: 'csv' | 'jsonl',
    columns: readonly string[],
  ) {
    try {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      // opened now, so that a file that cannot be written fails before anything is imported;
      // a file that is there is only emptied when the first rejected row is written over it
      let fd: number;
      try {
        fd = openSync(file, 'wx', 0o600);
        this.created = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        fd = openSync(file, 'a');
        this.created = false;
      }
      this.fd = fd;
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
    this.header = format === 'csv' ? csvLine(['_row', '_column', '_reason', ...columns]) : null;
  }

  write(record: RawRecord, rejection: Rejection): void {
    if (this.count === 0) this.start();
    this.count++;
    const reason = rejection.value === undefined ? rejection.reason : `${JSON.stringify(rejection.value)} ${rejection.reason}`;
    if (this.format === 'csv') {
      const values = Array.isArray(record.values) ? (record.values as string[]) : [];
      writeSync(this.fd, csvLine([rejection.rowNo, rejection.column ?? '', reason, ...values]));
    } else {
      writeSync(this.fd, JSON.stringify({ row: rejection.rowNo, column: rejection.column ?? null, reason, record: record.values }) + '\n');
    }
  }

  private start(): void {
    // a rejects file of an earlier import (perhaps one written readable by all) is replaced; /dev/stdout is written to as it is
    if (!this.created && fstatSync(this.fd).isFile()) {
      ftruncateSync(this.fd, 0);
      try {
        fchmodSync(this.fd, 0o600);
      } catch (err) {
        // another user's file that we may write: its mode is theirs to set
        if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
      }
    }
    if (this.header !== null) writeSync(this.fd, this.header);
  }

  close(): void {
    closeSync(this.fd);
    if (this.count === 0 && this.created) rmSync(this.file, { force: true });
  }

  /** The file the rejected rows were written to, or undefined when none was rejected. */
  get written(): string | undefined {
    return this.count > 0 ? path.resolve(this.file) : undefined;
  }
}
