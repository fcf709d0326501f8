import path from 'node:path';
import { Command, Option } from 'commander';
import { importFile, type ImportProgress, type ImportResult } from '../../store/import/import.js';
import { IMPORT_KINDS, kindNoun, parseKind } from '../../store/import/kinds.js';
import { parsePreset, PRESETS } from '../../store/import/presets/index.js';
import { INPUT_FORMATS, parseFormatFlag } from '../../store/input/source.js';
import { openStore } from '../../store/open.js';
import { storePathFor } from '../../project/paths.js';
import { chalk, printJson } from '../output.js';
import { clockNow, hasNow, projectDir } from '../project-option.js';

interface ImportFlags {
  format?: string;
  preset?: string;
  mapping?: string;
  skipInvalid?: string | boolean;
  json?: boolean;
  coupon?: string;
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('load customers, orders, order items, products, events or suppressions into the store (upsert by id), or coupon codes into a pool')
    .argument('<kind>', `one of: ${IMPORT_KINDS.join(', ')}, coupons`)
    .argument('<file>', 'a .csv, .jsonl or .ndjson file, optionally .gz; "-" reads stdin')
    .addOption(new Option('--format <format>', 'the input format when the name does not say').choices(INPUT_FORMATS))
    .addOption(new Option('--preset <name>', 'column names and statuses of a known export').choices(PRESETS))
    .option('--mapping <file>', 'a YAML mapping file: columns -> fields, date format and zone, status values')
    .option('--skip-invalid [file]', 'import the valid rows; write the others with row number and reason to FILE (default: <input>.rejected.csv)')
    .option('--json', 'print the result as JSON')
    .option('--coupon <name>', 'coupons: the pool coupon the codes are for')
    .addHelpText(
      'after',
      `
Re-importing a file changes nothing. An order whose status changed is updated and its
status history grows. One bad row aborts the whole import (nothing is written) unless
--skip-invalid is given. Exit codes: 0 imported, 1 invalid input, 2 usage error.`,
    )
    .action(async (kindArg: string, file: string, flags: ImportFlags, cmd: Command) => {
      if (kindArg === 'coupons') {
        const { importCoupons } = await import('./coupons.js');
        return importCoupons(projectDir(cmd), file, flags.coupon, flags.json === true, hasNow(cmd) ? clockNow(cmd).getTime() : Date.now());
      }
      const kind = parseKind(kindArg);
      const project = projectDir(cmd);
      const db = openStore(storePathFor(project));
      try {
        const result = await importFile(db, {
          kind,
          file,
          format: flags.format === undefined ? undefined : parseFormatFlag(flags.format),
          preset: flags.preset === undefined ? undefined : parsePreset(flags.preset),
          mappingFile: flags.mapping,
          rejectsFile: rejectsFileFor(flags.skipInvalid, file),
          // the time recorded for status changes and consent updates: the global --now, else the real time
          now: hasNow(cmd) ? clockNow(cmd).getTime() : undefined,
          onProgress: !flags.json && process.stderr.isTTY ? progressBar() : undefined,
        });
        if (!flags.json && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
        if (flags.json) printJson(result);
        else process.stdout.write(summary(result));
      } finally {
        db.close();
      }
    });
}

function rejectsFileFor(flag: string | boolean | undefined, input: string): string | undefined {
  if (flag === undefined || flag === false) return undefined;
  if (typeof flag === 'string') return flag;
  const base = input === '-' ? 'stdin' : path.basename(input).replace(/(\.gz)?$/i, '').replace(/\.(csv|jsonl|ndjson)$/i, '');
  const ext = /\.(jsonl|ndjson)(\.gz)?$/i.test(input) ? 'jsonl' : 'csv';
  return `${base}.rejected.${ext}`;
}

const n = (x: number) => x.toLocaleString('en-US');

function summary(r: ImportResult): string {
  const imported = r.inserted + r.updated + r.unchanged;
  const parts = [`${n(r.inserted)} new`, `${n(r.updated)} updated`, `${n(r.unchanged)} unchanged`, `${n(r.rejected)} rejected`];
  if (r.skipped > 0) parts.push(`${n(r.skipped)} skipped (rows with nothing for ${r.kind})`);
  const lines = [`${chalk.green('imported')} ${n(imported)} ${kindNoun(r.kind, imported)}: ${parts.join(', ')} in ${r.seconds.toFixed(2)} s`];
  if (r.rejectsFile) lines.push(`${r.rejected > 0 ? chalk.yellow('rejected rows') : 'rejected rows (none)'} written to ${r.rejectsFile}`);
  if (r.couponsRedeemed) lines.push(`${n(r.couponsRedeemed)} issued coupon code${r.couponsRedeemed === 1 ? '' : 's'} redeemed by these orders (journey coupons)`);
  if (r.ignoredColumns.length > 0) lines.push(chalk.dim(`ignored columns: ${r.ignoredColumns.join(', ')} (map them with --mapping)`));
  return lines.join('\n') + '\n';
}

/** Redraws at most ten times a second on stderr, so stdout stays clean for --json or pipes. */
function progressBar(): (p: ImportProgress) => void {
  let lastDraw = 0;
  return (p) => {
    const now = performance.now();
    if (now - lastDraw < 100) return;
    lastDraw = now;
    const rate = p.elapsedMs > 0 ? (p.rows / p.elapsedMs) * 1000 : 0;
    let line = `${n(p.rows)} rows  ${n(Math.round(rate))} rows/s`;
    if (p.totalBytes) {
      const done = Math.min(1, p.bytesRead / p.totalBytes);
      const width = 30;
      const filled = Math.round(done * width);
      const etaSeconds = done > 0 ? ((1 - done) * p.elapsedMs) / done / 1000 : 0;
      line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(done * 100).toFixed(0).padStart(3)}%  ${line}  ETA ${etaSeconds.toFixed(0)} s`;
    }
    process.stderr.write(`\r\x1b[K${line}`);
  };
}
