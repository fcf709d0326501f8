import { statSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { JourneyError, usageError } from '../../errors.js';
import { planDirectory } from '../../store/import/directory.js';
import { importFile, type ImportProgress, type ImportResult } from '../../store/import/import.js';
import { IMPORT_KINDS, kindNoun, parseKind } from '../../store/import/kinds.js';
import { didYouMean } from '../../project/did-you-mean.js';
import { parsePreset, presetSpec, PRESETS } from '../../store/import/presets/index.js';
import { INPUT_FORMATS, parseFormatFlag } from '../../store/input/source.js';
import { openStore } from '../../store/open.js';
import { configuredChannels, storePathFor } from '../../project/paths.js';
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
    .description('load customers, products, orders, order items, payments, events or suppressions into the store (upsert by id); a folder of exports; or coupon codes into a pool')
    .argument('<kind>', `one of: ${IMPORT_KINDS.join(', ')}, coupons; or a folder, to import every export in it`)
    .argument('[file]', 'a .csv, .jsonl or .ndjson file, optionally .gz; "-" reads stdin')
    .addOption(new Option('--format <format>', 'the input format when the name does not say').choices(INPUT_FORMATS))
    .addOption(new Option('--preset <name>', 'column names and statuses of a known export').choices(PRESETS))
    .option('--mapping <file>', 'a YAML mapping file: columns -> fields, date format and zone, status values')
    .option('--skip-invalid [file]', 'import the valid rows; write the others with row number and reason to FILE (default: <input>.rejected.csv next to the input), readable by its owner only and only when a row is rejected')
    .option('--json', 'print the result as JSON')
    .option('--coupon <name>', 'coupons: the pool coupon the codes are for')
    .addHelpText(
      'after',
      `
Re-importing a file changes nothing. An order whose status changed is updated and its
status history grows. One bad row aborts the whole import (nothing is written) unless
--skip-invalid is given. Exit codes: 0 imported, 1 invalid input, 64 usage error.

journey import DIR imports each file of the folder whose name says its kind
(customers_export.csv, olist_order_items_dataset.csv, ...), in the order
${IMPORT_KINDS.join(', ')}, one transaction per file; it stops at the first
file that fails (the files before it stay imported) and exits 1.`,
    )
    .action(async (kindArg: string, file: string | undefined, flags: ImportFlags, cmd: Command) => {
      if (file === undefined) {
        if (isDirectory(kindArg)) return importDirectory(kindArg, flags, cmd);
        throw usageError(`missing FILE: journey import ${kindArg} FILE`, `or name a folder to import every export in it: journey import DIR`);
      }
      if (kindArg === 'coupons') {
        const { importCoupons } = await import('./coupons.js');
        return importCoupons(projectDir(cmd), file, flags.coupon, flags.json === true, hasNow(cmd) ? clockNow(cmd).getTime() : Date.now());
      }
      const kind = kindOf(kindArg);
      const project = projectDir(cmd);
      const db = openStore(storePathFor(project));
      try {
        const result = await importFile(db, {
          kind,
          file,
          format: flags.format === undefined ? undefined : parseFormatFlag(flags.format),
          preset: flags.preset === undefined ? undefined : parsePreset(flags.preset),
          mappingFile: flags.mapping,
          channels: kind === 'suppressions' ? configuredChannels(project) : undefined,
          rejectsFile: rejectsFileFor(flags.skipInvalid, file),
          // the time recorded for status changes and consent updates: the global --now, else the real time
          now: hasNow(cmd) ? clockNow(cmd).getTime() : undefined,
          onProgress: !flags.json && process.stderr.isTTY ? progressBar() : undefined,
        });
        if (!flags.json && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
        if (flags.json) printJson(result);
        else process.stdout.write(summary(result, flags.skipInvalid));
      } finally {
        db.close();
      }
    });
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Every export in DIR, in dependency order, one transaction per file; stops at the first that fails. */
async function importDirectory(dir: string, flags: ImportFlags, cmd: Command): Promise<void> {
  if (flags.mapping) throw usageError('--mapping maps one kind of file: it cannot be used with a folder', `import that file alone: journey import KIND FILE --mapping ${flags.mapping}`);
  if (typeof flags.skipInvalid === 'string') throw usageError('--skip-invalid with a folder writes the rejected rows of each input next to it (<input>.rejected.csv): give it no file name');
  const preset = flags.preset === undefined ? undefined : parsePreset(flags.preset);
  const plan = planDirectory(dir);
  // a preset that cannot read one of the files fails before anything is imported
  if (preset) for (const f of plan.files) presetSpec(preset, f.kind);
  const project = projectDir(cmd);
  const db = openStore(storePathFor(project));
  const results: ImportResult[] = [];
  try {
    for (const unrecognised of plan.unrecognised) {
      if (!flags.json) process.stdout.write(chalk.dim(`${unrecognised}: not imported (its name says no kind)\n`));
    }
    for (const rejects of plan.rejects) {
      if (!flags.json) process.stdout.write(chalk.dim(`${rejects}: not imported (rows an import --skip-invalid rejected: fix them and import the file alone)\n`));
    }
    for (const [i, { kind, file }] of plan.files.entries()) {
      let result: ImportResult;
      try {
        result = await importFile(db, {
          kind,
          file,
          format: flags.format === undefined ? undefined : parseFormatFlag(flags.format),
          preset,
          rejectsFile: rejectsFileFor(flags.skipInvalid, file),
          now: hasNow(cmd) ? clockNow(cmd).getTime() : undefined,
        });
      } catch (err) {
        if (!(err instanceof JourneyError)) throw err;
        const done = plan.files.slice(0, i).map((f) => path.basename(f.file));
        const notDone = plan.files.slice(i).map((f) => path.basename(f.file));
        if (flags.json) printJson({ imported: results, failed: path.basename(file), notImported: notDone });
        throw new JourneyError(`${path.basename(file)} (${kind}): ${err.message}`, {
          location: err.location,
          hint: `${err.hint ? `${err.hint}. ` : ''}${done.length > 0 ? `Imported before it: ${done.join(', ')}. ` : ''}Not imported: ${notDone.join(', ')}`,
          exitCode: err.exitCode,
        });
      }
      results.push(result);
      if (!flags.json) process.stdout.write(`${path.basename(file)}: ${summary(result, flags.skipInvalid)}`);
    }
    if (flags.json) printJson({ imported: results, failed: null, notImported: [] });
  } finally {
    db.close();
  }
}

function rejectsFileFor(flag: string | boolean | undefined, input: string): string | undefined {
  if (flag === undefined || flag === false) return undefined;
  if (typeof flag === 'string') return flag;
  const base = input === '-' ? 'stdin' : path.basename(input).replace(/(\.gz)?$/i, '').replace(/\.(csv|jsonl|ndjson)$/i, '');
  const ext = /\.(jsonl|ndjson)(\.gz)?$/i.test(input) ? 'jsonl' : 'csv';
  // next to the input, as --help says; stdin has no folder: the current one
  return path.join(input === '-' ? '' : path.dirname(input), `${base}.rejected.${ext}`);
}

const n = (x: number) => x.toLocaleString('en-US');

function summary(r: ImportResult, skipInvalid: ImportFlags['skipInvalid']): string {
  const imported = r.inserted + r.updated + r.unchanged;
  const parts = [`${n(r.inserted)} new`, `${n(r.updated)} updated`, `${n(r.unchanged)} unchanged`, `${n(r.rejected)} rejected`];
  if (r.skipped > 0) parts.push(`${n(r.skipped)} skipped (rows with nothing for ${r.also ? 'any kind' : r.kind})`);
  const lines = [`${chalk.green('imported')} ${n(imported)} ${kindNoun(r.kind, imported)}: ${parts.join(', ')} in ${r.seconds.toFixed(2)} s`];
  for (const part of r.also ?? []) {
    const total = part.inserted + part.updated + part.unchanged;
    lines.push(`${chalk.green('imported')} ${n(total)} ${kindNoun(part.kind, total)} from the same file: ${n(part.inserted)} new, ${n(part.updated)} updated, ${n(part.unchanged)} unchanged`);
  }
  if (r.rejectsFile) lines.push(`${chalk.yellow('rejected rows')} written to ${r.rejectsFile}`);
  else if (skipInvalid !== undefined && skipInvalid !== false) lines.push('no row rejected: no rejects file written');
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

/** The kind of the import, or a usage error that lists every kind (coupons too) and the likely one. */
function kindOf(value: string): ReturnType<typeof parseKind> {
  try {
    return parseKind(value);
  } catch {
    const kinds = [...IMPORT_KINDS, 'coupons'];
    const likely = didYouMean(value, kinds);
    throw usageError(`unknown kind "${value}"${likely ? ` — did you mean '${likely}'?` : ''}`, `KIND is one of: ${kinds.join(', ')}`);
  }
}
