import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { error, type PendingDiagnostic } from '../diagnostic.js';

const FOLDER_KEYS = [
  { key: 'journeys', holds: 'journey files' },
  { key: 'segments_dir', holds: 'segment files' },
] as const;

/** A path as a message shows it: on one line, a line break or other control character escaped (a YAML value may hold one). */
const CONTROL = /[\u0000-\u001f\u007f]/;
const quoted = (p: string) => (CONTROL.test(p) ? JSON.stringify(p) : `'${p}'`);
const oneLine = (p: string) => (CONTROL.test(p) ? JSON.stringify(p) : p);

/**
 * The folders a config names must exist: a misspelt `journeys:` would otherwise leave
 * a project with no journeys that validates and plans nothing.
 */
export function checkFolders(data: Record<string, unknown>, configDir: string): PendingDiagnostic[] {
  const out: PendingDiagnostic[] = [];
  for (const { key, holds } of FOLDER_KEYS) {
    const value = data[key];
    if (typeof value !== 'string' || value === '') continue;
    const dir = path.resolve(configDir, value);
    if (!existsSync(dir)) {
      out.push(error('missing-folder', [key], `folder ${quoted(value)} does not exist (${key} names the folder that holds the ${holds})`, `create ${oneLine(path.relative(process.cwd(), dir) || dir)}, or correct the path: it is relative to the folder of the config`));
    } else if (!statSync(dir).isDirectory()) {
      out.push(error('not-a-folder', [key], `${quoted(value)} is a file, not a folder (${key} names the folder that holds the ${holds})`, 'point it at a folder; it is relative to the folder of the config'));
    }
  }
  return out;
}
