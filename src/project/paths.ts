import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export const CONFIG_FILE = 'journey.config.yaml';
export const DEFAULT_STORE_PATH = '.journey/store.db';

/**
 * The store file a project uses: `store.path` of journey.config.yaml, relative to
 * the project folder, or .journey/store.db. Reading only this one key keeps commands
 * that need nothing but the store (import, migrate) independent of the rest of the
 * config being valid.
 */
export function storePathFor(projectDir: string): string {
  const configFile = path.join(projectDir, CONFIG_FILE);
  let configured: unknown;
  if (existsSync(configFile)) {
    try {
      const doc = parse(readFileSync(configFile, 'utf8')) as { store?: { path?: unknown } } | null;
      configured = doc?.store?.path;
    } catch {
      configured = undefined; // `journey validate` reports a broken config with positions
    }
  }
  const rel = typeof configured === 'string' && configured.length > 0 ? configured : DEFAULT_STORE_PATH;
  return path.resolve(projectDir, rel);
}
