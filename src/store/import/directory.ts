import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { JourneyError } from '../../errors.js';
import { formatFromName } from '../input/source.js';
import { IMPORT_KINDS, KIND_FILE_WORDS, kindsOfFileName, type ImportKind } from './kinds.js';

export interface DirectoryPlan {
  /** The files to import, in the order of IMPORT_KINDS (a kind after the kinds it refers to), then by name. */
  readonly files: readonly { readonly kind: ImportKind; readonly file: string }[];
  /** Data files whose name says no kind: left alone, and said so. */
  readonly unrecognised: readonly string[];
  /** Rejects files an import --skip-invalid wrote next to its inputs: left alone, and said so. */
  readonly rejects: readonly string[];
}

/** The name of the rejects file --skip-invalid writes next to an input (orders.csv: orders.rejected.csv). */
export const REJECTS_NAME = /\.rejected\.(csv|jsonl)$/i;

/** Which file of a folder of exports is which kind, and in which order they go in. */
export function planDirectory(dir: string): DirectoryPlan {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    throw new JourneyError(`cannot read the folder ${dir}: ${(err as Error).message}`, { location: { file: dir } });
  }
  const files: { kind: ImportKind; file: string }[] = [];
  const unrecognised: string[] = [];
  const rejects: string[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    if (name.startsWith('.') || !statSync(file).isFile() || !formatFromName(name)) continue;
    // its name still says its kind (orders.rejected.csv), but its rows are the ones that failed
    if (REJECTS_NAME.test(name)) {
      rejects.push(name);
      continue;
    }
    const kinds = kindsOfFileName(name);
    if (kinds.length === 0) unrecognised.push(name);
    else if (kinds.length > 1) {
      throw new JourneyError(`${name}: its name could hold ${kinds.join(' or ')}`, {
        location: { file },
        hint: `rename it, or import it alone: journey import ${kinds[0]} ${file}`,
      });
    } else files.push({ kind: kinds[0]!, file });
  }
  if (files.length === 0) {
    const words = IMPORT_KINDS.map((k) => `${k} (${KIND_FILE_WORDS[k].join('/')})`).join(', ');
    throw new JourneyError(`${dir} holds no file to import`, {
      location: { file: dir },
      hint: `a .csv, .jsonl or .ndjson file (optionally .gz) whose name has one of these words: ${words}`,
    });
  }
  files.sort((a, b) => IMPORT_KINDS.indexOf(a.kind) - IMPORT_KINDS.indexOf(b.kind) || a.file.localeCompare(b.file));
  return { files, unrecognised, rejects };
}
