import { usageError } from '../../../errors.js';
import type { ImportKind } from '../kinds.js';
import type { MappingSpec } from '../mapping.js';
import { olistSpec, OLIST_TIME_ZONE } from './olist.js';
import { shopifyOrderCustomersSpec, shopifySpec } from './shopify.js';

export type PresetName = 'shopify' | 'olist';
export const PRESETS: readonly PresetName[] = ['shopify', 'olist'];

export function parsePreset(value: string): PresetName {
  if ((PRESETS as readonly string[]).includes(value)) return value as PresetName;
  throw usageError(`unknown preset "${value}"`, `presets: ${PRESETS.join(', ')}`);
}

/** A preset's mapping for one kind; a usage error when the preset has none for it. */
export function presetSpec(preset: PresetName, kind: ImportKind): MappingSpec {
  let spec: Partial<MappingSpec> | undefined;
  let timeZone: string;
  switch (preset) {
    case 'shopify':
      spec = shopifySpec(kind);
      timeZone = 'UTC'; // Shopify writes offsets
      break;
    case 'olist':
      spec = olistSpec(kind);
      timeZone = OLIST_TIME_ZONE;
      break;
  }
  if (!spec) throw usageError(`the ${preset} preset has no mapping for ${kind}`, 'import that file without --preset, or with --mapping');
  return { columns: new Map(), dateFormat: { kind: 'iso' }, statuses: new Map(), ...spec, timeZone };
}

/** The customers of a Shopify orders export, which one import of it creates beside the orders and their items. */
export function shopifyOrderCustomers(): MappingSpec {
  return { columns: new Map(), dateFormat: { kind: 'iso' }, statuses: new Map(), ...shopifyOrderCustomersSpec(), timeZone: 'UTC' };
}
