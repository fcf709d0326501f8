/**
 * The one error class of the project. Whatever goes wrong with a user's input
 * (a YAML file, a CSV row, a flag, an HTTP body) is thrown as a JourneyError that
 * says where (file, line, column, row, field) and what to do about it, so that the
 * CLI can print it the same way everywhere and exit with the right code.
 */
export interface SourceLocation {
  file?: string;
  line?: number;
  col?: number;
  /** A data row number (1-based, header excluded) for tabular input. */
  row?: number;
  /** A column, field or flag name. */
  field?: string;
}

/**
 * 1: bad input or a failed operation; 64: the command line itself was wrong (EX_USAGE of
 * sysexits.h: not 2, which is plan's "changes" and would read as a result in CI).
 */
export type ExitCode = 1 | 64;

/** The exit code of every usage error, on every command (EX_USAGE). */
export const EXIT_USAGE = 64;
/** An unexpected error: a bug, not the input (EX_SOFTWARE). */
export const EXIT_INTERNAL = 70;

export class JourneyError extends Error {
  readonly location: SourceLocation | undefined;
  readonly hint: string | undefined;
  /** 1: bad input or a failed operation; 64: the command line itself was wrong. */
  readonly exitCode: ExitCode;

  constructor(message: string, opts: { location?: SourceLocation; hint?: string; exitCode?: ExitCode; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'JourneyError';
    this.location = opts.location;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? 1;
  }
}

export function usageError(message: string, hint?: string): JourneyError {
  return new JourneyError(message, { exitCode: EXIT_USAGE, hint });
}

/** "file:line:col", "file row 12, column total", or "" when nothing is known. */
export function formatLocation(loc: SourceLocation | undefined): string {
  if (!loc) return '';
  const parts: string[] = [];
  if (loc.file) {
    let where = loc.file;
    if (loc.line !== undefined) where += `:${loc.line}`;
    if (loc.line !== undefined && loc.col !== undefined) where += `:${loc.col}`;
    parts.push(where);
  }
  if (loc.row !== undefined) parts.push(`row ${loc.row}`);
  if (loc.field !== undefined) parts.push(`field ${loc.field}`);
  return parts.join(', ');
}
