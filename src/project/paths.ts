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
/** The channel names journey.config.yaml declares, or undefined when it has none or cannot be read (validate reports that). */
export function configuredChannels(projectDir: string): string[] | undefined {
  const configFile = path.join(projectDir, CONFIG_FILE);
  if (!existsSync(configFile)) return undefined;
  try {
    const doc = parse(readFileSync(configFile, 'utf8')) as { channels?: unknown } | null;
    const channels = doc?.channels;
    return channels !== null && typeof channels === 'object' && !Array.isArray(channels) ? Object.keys(channels) : undefined;
  } catch {
    return undefined;
  }
}

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
