import { error, type PendingDiagnostic } from '../diagnostic.js';
import type { Config } from '../model.js';
import { describeKind, nameAddressKind, providerAddressKind } from '../channel-address.js';
import { didYouMean } from '../did-you-mean.js';
import { checkPolicies, checkRecipientChannels } from './journey-checks.js';
import { isBrokenEntry, type CheckContext, type Finding } from './types.js';
import { isTimezone, timezoneNames } from './values.js';

const SECRET_HEADER = /^(authorization|proxy-authorization|x-api-key|api-key|x-auth-token)$/i;
const ENV_REF = /^\$\{[A-Z_][A-Z0-9_]*\}$/;

export function checkConfig(ctx: CheckContext): Finding[] {
  const config = ctx.project.config;
  if (!config.file || !ctx.configUsable) return [];
  const out: PendingDiagnostic[] = [];
  if (!isTimezone(config.timezone)) {
    const guess = didYouMean(config.timezone, timezoneNames());
    out.push(error('invalid-timezone', ['timezone'], `'${config.timezone}' is not a timezone${guess ? ` — did you mean '${guess}'?` : ''}`, 'use an IANA name such as Europe/Prague'));
  }
  for (const [name, channel] of Object.entries(config.channels)) {
    if (!config.providers[channel.provider] && !isBrokenEntry(ctx, 'providers', channel.provider)) {
      const guess = didYouMean(channel.provider, Object.keys(config.providers));
      out.push(error('unknown-provider', ['channels', name, 'provider'], `unknown provider '${channel.provider}'${guess ? ` — did you mean '${guess}'?` : ''}`, guess ? undefined : "declare it under 'providers'"));
    }
  }
  for (const [name, channel] of Object.entries(config.channels)) out.push(...checkChannelAddress(name, channel, ctx));
  for (const [name, template] of Object.entries(config.templates)) {
    if (!config.channels[template.channel] && !isBrokenEntry(ctx, 'channels', template.channel)) {
      const guess = didYouMean(template.channel, Object.keys(config.channels));
      out.push(error('unknown-channel', ['templates', name, 'channel'], `unknown channel '${template.channel}'${guess ? ` — did you mean '${guess}'?` : ''}`, guess ? undefined : "declare it under 'channels'"));
    }
  }
  for (const [name, coupon] of Object.entries(config.coupons)) {
    if (coupon.code === null && coupon.prefix === null && !coupon.pool) {
      out.push(error('coupon-code', ['coupons', name], `coupon '${name}' needs 'code' (one shared code) or 'prefix' (a unique code per customer)`));
    }
  }
  for (const [name, provider] of Object.entries(config.providers)) {
    const headers = (provider.settings.headers ?? {}) as Record<string, string>;
    for (const [header, value] of Object.entries(headers)) {
      if (SECRET_HEADER.test(header) && !value.split(/\s+/).some((part) => ENV_REF.test(part))) {
        out.push(error('literal-secret', ['providers', name, 'headers', header], `header '${header}' holds a literal secret`, 'put the secret in an environment variable and write e.g. "Bearer ${WEBHOOK_TOKEN}"'));
      }
    }
  }
  if (config.links?.listUnsubscribe && !config.links.unsubscribe) {
    out.push(error('list-unsubscribe', ['links', 'list_unsubscribe'], `list_unsubscribe needs the unsubscribe page the header links to`, "add 'unsubscribe: https://...' under links"));
  }
  out.push(...checkPolicies(config.policies, ['policies'], ctx));
  if (config.testRecipients) out.push(...checkRecipientChannels(config.testRecipients.recipients, ['test_recipients'], ctx));
  return out.map((diagnostic) => ({ file: config.file!, diagnostic }));
}

/**
 * A message must go to the kind of address its provider delivers to: an e-mail
 * provider never gets a phone number, and a channel whose provider carries anything
 * (console, file, webhook) must say, by its name or address:, which field to read.
 */
function checkChannelAddress(name: string, channel: Config['channels'][string], ctx: CheckContext): PendingDiagnostic[] {
  const provider = ctx.project.config.providers[channel.provider];
  if (!provider) return [];
  const delivers = providerAddressKind(provider.type);
  const by = `'${channel.provider}' (${provider.type})`;
  if (channel.address === null) {
    return [
      error('channel-address', ['channels', name], `channel '${name}' sends through ${by}, which carries any address, and neither its name nor 'address' says which customer field to read`, "add address: email, phone or attributes.<name>", 'key'),
    ];
  }
  if (delivers === 'any') return [];
  if (channel.addressFrom === 'declared' && (channel.address === 'email' || channel.address === 'phone') && channel.address !== delivers) {
    return [
      error('channel-address', ['channels', name, 'address'], `channel '${name}' reads ${describeKind(channel.address)}, but ${by} sends to ${describeKind(delivers)}`, `use address: ${delivers} (or an attribute holding one), or a provider for this kind of address`),
    ];
  }
  const named = nameAddressKind(name);
  if (channel.addressFrom === 'provider' && named && named !== delivers) {
    return [
      error('channel-address', ['channels', name, 'provider'], `channel '${name}' is named for ${named === 'email' ? 'e-mail' : 'phone messages'}, but ${by} sends to ${describeKind(delivers)}`, `use a provider that sends to ${describeKind(named)}, or rename the channel`),
    ];
  }
  return [];
}
