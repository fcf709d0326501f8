/**
 * A problem found in a project file. Checks produce diagnostics with a YAML path;
 * the loader turns the path into a line and column of the file as written.
 */
export type Severity = 'error' | 'warning';

export type YamlPath = readonly (string | number)[];

export interface Diagnostic {
  severity: Severity;
  /** A stable, documented identifier of the kind of problem (unknown-key, unknown-step, ...). */
  code: string;
  file: string;
  /** 1-based; 0 when the problem concerns the file as a whole (it could not be read). */
  line: number;
  col: number;
  message: string;
  hint?: string;
  /** The "... and N more" line that stands for N capped diagnostics of its kind: N (1 when unset). */
  counts?: number;
}

/** How many problems a list of diagnostics reports, the capped ones ("... and N more") included. */
export function countOf(diagnostics: readonly Diagnostic[], severity: Severity): number {
  let n = 0;
  for (const d of diagnostics) if (d.severity === severity) n += d.counts ?? 1;
  return n;
}

/** A diagnostic whose position is still a YAML path into a file's document. */
export interface PendingDiagnostic {
  severity: Severity;
  code: string;
  path: YamlPath;
  /** Point at the key of the last path element instead of its value. */
  at?: 'key' | 'value';
  message: string;
  hint?: string;
}

export function error(code: string, path: YamlPath, message: string, hint?: string, at?: 'key' | 'value'): PendingDiagnostic {
  return { severity: 'error', code, path, message, ...(hint ? { hint } : {}), ...(at ? { at } : {}) };
}

export function warning(code: string, path: YamlPath, message: string, hint?: string, at?: 'key' | 'value'): PendingDiagnostic {
  return { severity: 'warning', code, path, message, ...(hint ? { hint } : {}), ...(at ? { at } : {}) };
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.col - b.col || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0);
}
