import { buildPolicies, buildTestMode } from './build-journey.js';
import { duration } from './build-rule.js';
import { byName, ownEntries } from './by-name.js';
import { channelAddress } from './channel-address.js';
import type { Config, ProviderType } from './model.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- schema-checked YAML data

export const DEFAULT_CONFIG: Config = buildConfig({}, null);

export function buildConfig(data: Obj, file: string | null): Config {
  const providers = ownEntries((data.providers ?? {}) as Obj);
  return {
    file,
    storePath: data.store?.path ?? null,
    timezone: data.timezone ?? 'UTC',
    templatesDir: data.templates_dir ?? 'templates',
    vars: data.vars ?? {},
    links: data.links ? { unsubscribe: data.links.unsubscribe ?? null, preferences: data.links.preferences ?? null, secret: data.links.secret, listUnsubscribe: data.links.list_unsubscribe ?? null } : null,
    currency: data.currency ?? 'EUR',
    locale: data.locale ?? 'en',
    journeysDir: data.journeys ?? 'journeys',
    segmentsDir: data.segments_dir ?? 'segments',
    policies: buildPolicies(data.policies),
    testRecipients: buildTestMode(data.test_recipients),
    orderStatuses: data.order_statuses ?? [],
    channels: byName(
      Object.entries((data.channels ?? {}) as Obj).map(([k, v]) => {
        const { address, from } = channelAddress(k, v.address ?? null, providers[v.provider]?.type);
        return [k, { provider: v.provider, address, addressFrom: from }];
      }),
    ),
    providers: byName(
      Object.entries((data.providers ?? {}) as Obj).map(([k, v]) => {
        const { type, ...settings } = v as Obj;
        return [k, { name: k, type: type as ProviderType, settings }];
      }),
    ),
    templates: byName(
      Object.entries((data.templates ?? {}) as Obj).map(([k, v]) => [
        k,
        { channel: v.channel, providerTemplate: v.provider_template ?? null, providerVariables: v.provider_variables ?? null, subject: v.subject ?? null, body: v.body ?? null, source: null },
      ]),
    ),
    coupons: byName(
      Object.entries((data.coupons ?? {}) as Obj).map(([k, v]) => [
        k,
        {
          discount: v.discount,
          code: v.code ?? null,
          prefix: v.prefix ?? null,
          validFor: v.valid_for ? duration(v.valid_for) : null,
          pool: v.pool ?? false,
          length: v.length ?? null,
          alphabet: v.alphabet ?? null,
        },
      ]),
    ),
    categoryMap: data.recommendations?.category_map ?? {},
  };
}
