import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The example shop as a project of its own in `dir`: its config, segments and
 * templates, with the journey library copied in (journeys: journeys). Every test that
 * runs the example shop copies it here, so that a new folder of the shop's (templates/)
 * reaches them all.
 */
export function copyExampleShop(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const part of ['segments', 'templates']) cpSync(path.join(ROOT, 'examples/shop', part), path.join(dir, part), { recursive: true });
  cpSync(path.join(ROOT, 'journeys'), path.join(dir, 'journeys'), { recursive: true });
  const config = readFileSync(path.join(ROOT, 'examples/shop/journey.config.yaml'), 'utf8');
  if (!config.includes('journeys: ../../journeys')) throw new Error('examples/shop/journey.config.yaml no longer says journeys: ../../journeys');
  writeFileSync(path.join(dir, 'journey.config.yaml'), config.replace('journeys: ../../journeys', 'journeys: journeys'));
}
