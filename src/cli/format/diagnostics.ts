import { countOf, type Diagnostic } from '../../project/diagnostic.js';
import { chalk } from '../output.js';

export type DiagnosticFormat = 'human' | 'json' | 'github';
export const DIAGNOSTIC_FORMATS: DiagnosticFormat[] = ['human', 'json', 'github'];

export interface DiagnosticReport {
  diagnostics: Diagnostic[];
  files: string[];
  notes: string[];
  /** Whether the result counts as a failure (errors, or warnings under --strict). */
  failed: boolean;
}

const count = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

export function formatDiagnostics(report: DiagnosticReport, format: DiagnosticFormat): string {
  switch (format) {
    case 'human':
      return human(report);
    case 'json':
      return json(report);
    case 'github':
      return github(report);
    default: {
      const never: never = format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
}

function human({ diagnostics, files, notes, failed }: DiagnosticReport): string {
  const lines: string[] = notes.map((n) => `${chalk.cyan('note')} ${n}`);
  for (const d of diagnostics) {
    const where = d.line > 0 ? `${d.file}:${d.line}:${d.col}` : d.file;
    const label = d.severity === 'error' ? chalk.red('error') : chalk.yellow('warning');
    lines.push(`${chalk.bold(where)} ${label} ${d.message} ${chalk.dim(`[${d.code}]`)}`);
    if (d.hint) lines.push(`  ${chalk.dim('hint:')} ${d.hint}`);
  }
  // the true numbers: a capped kind's "... and N more" line counts its N
  const errors = countOf(diagnostics, 'error');
  const warnings = countOf(diagnostics, 'warning');
  if (diagnostics.length > 0) lines.push('');
  const summary = `${count(errors, 'error')}, ${count(warnings, 'warning')} in ${count(files.length, 'file')}`;
  lines.push(failed ? chalk.red(`✖ ${summary}`) : chalk.green(`✔ ${diagnostics.length === 0 ? `${count(files.length, 'file')} valid` : summary}`));
  return lines.join('\n') + '\n';
}

/**
 * The JSON shape is part of the CLI's contract (documented in the README):
 * { valid, files, errors, warnings, notes, diagnostics: [{ severity, code, file, line, column, message, hint? }] }.
 */
function json({ diagnostics, files, notes, failed }: DiagnosticReport): string {
  return (
    JSON.stringify(
      {
        valid: !failed,
        files: files.length,
        errors: countOf(diagnostics, 'error'),
        warnings: countOf(diagnostics, 'warning'),
        notes,
        diagnostics: diagnostics.map((d) => ({
          severity: d.severity,
          code: d.code,
          file: d.file,
          line: d.line,
          column: d.col,
          message: d.message,
          ...(d.hint ? { hint: d.hint } : {}),
        })),
      },
      null,
      2,
    ) + '\n'
  );
}

// Workflow commands: https://docs.github.com/actions/reference/workflow-commands-for-github-actions
const escapeData = (s: string) => s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProperty = (s: string) => escapeData(s).replace(/:/g, '%3A').replace(/,/g, '%2C');

function github({ diagnostics }: DiagnosticReport): string {
  return diagnostics
    .map((d) => {
      const props = [`file=${escapeProperty(d.file)}`, ...(d.line > 0 ? [`line=${d.line}`, `col=${d.col}`] : []), `title=${escapeProperty(`journey ${d.code}`)}`];
      const text = d.hint ? `${d.message}\n${d.hint}` : d.message;
      return `::${d.severity} ${props.join(',')}::${escapeData(text)}\n`;
    })
    .join('');
}
