import type { Diagnostic } from './diagnostic.js';

/**
 * The most diagnostics of one kind (code and severity) shown per file: past it they say
 * one thing many times (20,000 unknown keys printed 150 KB), so the rest become a count.
 */
export const MAX_PER_KIND = 20;

/**
 * The first `max` diagnostics of each kind in each file, in order, the last of them
 * followed by one that counts the rest ("... and 19,980 more unknown-key errors in this
 * file"). Linear in the number of diagnostics.
 */
export function capPerKind(diagnostics: readonly Diagnostic[], max = MAX_PER_KIND): Diagnostic[] {
  const kinds = new Map<string, { shown: number; more: number; last: Diagnostic }>();
  const kindOf = (d: Diagnostic) => `${d.file}\u0000${d.severity}\u0000${d.code}`;
  for (const d of diagnostics) {
    const kind = kinds.get(kindOf(d));
    if (!kind) kinds.set(kindOf(d), { shown: 1, more: 0, last: d });
    else if (kind.shown < max) {
      kind.shown++;
      kind.last = d;
    } else kind.more++;
  }
  const out: Diagnostic[] = [];
  const shown = new Map<string, number>();
  for (const d of diagnostics) {
    const key = kindOf(d);
    const n = (shown.get(key) ?? 0) + 1;
    shown.set(key, n);
    if (n > max) continue;
    out.push(d);
    const kind = kinds.get(key)!;
    if (d === kind.last && kind.more > 0) {
      out.push({
        severity: d.severity,
        code: d.code,
        file: d.file,
        line: d.line,
        col: d.col,
        message: `... and ${kind.more.toLocaleString('en-US')} more ${d.code} ${d.severity === 'error' ? 'errors' : 'warnings'} in this file`,
        hint: `only the first ${max} of a kind are listed; fix them and run again`,
        counts: kind.more,
      });
    }
  }
  return out;
}
