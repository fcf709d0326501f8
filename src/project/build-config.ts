import { buildPolicies, buildTestMode } from './build-journey.js';
import { duration } from './build-rule.js';
import type { Config, ProviderType } from './model.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- schema-checked YAML data

export const DEFAULT_CONFIG: Config = buildConfig({}, null);

export function buildConfig(data: Obj, file: string | null): Config {
  return {
    file,
    storePath: data.store?.path ?? null,
    timezone: data.timezone ?? 'UTC',
    journeysDir: data.journeys ?? 'journeys',
    segmentsDir: data.segments_dir ?? 'segments',
    policies: buildPolicies(data.policies),
    testRecipients: buildTestMode(data.test_recipients),
    channels: Object.fromEntries(Object.entries((data.channels ?? {}) as Obj).map(([k, v]) => [k, { provider: v.provider, address: v.address ?? null }])),
    providers: Object.fromEntries(
      Object.entries((data.providers ?? {}) as Obj).map(([k, v]) => {
        const { type, ...settings } = v as Obj;
        return [k, { name: k, type: type as ProviderType, settings }];
      }),
    ),
    templates: Object.fromEntries(
      Object.entries((data.templates ?? {}) as Obj).map(([k, v]) => [
        k,
        { channel: v.channel, providerTemplate: v.provider_template ?? null, subject: v.subject ?? null, body: v.body ?? null },
      ]),
    ),
    coupons: Object.fromEntries(
      Object.entries((data.coupons ?? {}) as Obj).map(([k, v]) => [
        k,
        { discount: v.discount, code: v.code ?? null, prefix: v.prefix ?? null, validFor: v.valid_for ? duration(v.valid_for) : null },
      ]),
    ),
  };
}
