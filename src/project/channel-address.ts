import type { ProviderType } from './model.js';

/** What a provider delivers to, whatever the channel is called. */
export function providerAddressKind(type: ProviderType | undefined): 'email' | 'phone' | 'any' {
  switch (type) {
    case 'sendgrid':
    case 'postmark':
    case 'mailgun':
      return 'email';
    case 'twilio':
      return 'phone';
    case 'webhook':
    case 'klaviyo':
    case 'console':
    case 'file':
    case undefined:
      return 'any';
    default: {
      const never: never = type;
      throw new Error(`unknown provider type ${String(never)}`);
    }
  }
}

/** The kind of address a channel's name says it sends to, if it says one. */
export function nameAddressKind(channel: string): 'email' | 'phone' | null {
  if (/mail/.test(channel)) return 'email';
  if (/sms|phone|mobile|whatsapp|viber/.test(channel)) return 'phone';
  return null;
}

export type AddressSource = 'declared' | 'provider' | 'name';

/**
 * The customer field a channel sends to: as declared (address:), else what its
 * provider delivers to, else what its name says (a channel called email on a console
 * or webhook provider reads the e-mail, not the phone number). null when nothing
 * says, which validate reports: guessing would send to the wrong kind of address.
 */
export function channelAddress(channel: string, declared: string | null, providerType: ProviderType | undefined): { address: string | null; from: AddressSource | null } {
  if (declared) return { address: declared, from: 'declared' };
  const byProvider = providerAddressKind(providerType);
  if (byProvider !== 'any') return { address: byProvider, from: 'provider' };
  const byName = nameAddressKind(channel);
  return byName ? { address: byName, from: 'name' } : { address: null, from: null };
}

export const describeKind = (kind: 'email' | 'phone'): string => (kind === 'email' ? 'the e-mail address' : 'the phone number');
