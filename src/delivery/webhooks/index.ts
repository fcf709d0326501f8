/**
 * createWebhookVerifier: the verifier for one configured provider's delivery
 * webhooks. `journey serve` builds one per provider at start-up (so a missing
 * secret fails then) and calls verify() with the raw body of each request.
 */
import { JourneyError } from '../../errors.js';
import type { ProviderConfig, ProviderType } from '../../project/model.js';
import { Settings } from '../providers/settings.js';
import type { WebhookOptions, WebhookVerifier } from './event.js';
import { createMailgunWebhook } from './mailgun.js';
import { createPostmarkWebhook } from './postmark.js';
import { createSendgridWebhook } from './sendgrid.js';
import { createTwilioWebhook } from './twilio.js';

export * from './event.js';
export { twilioSignature } from './twilio.js';

export function createWebhookVerifier(config: ProviderConfig, env: NodeJS.ProcessEnv, opts: WebhookOptions): WebhookVerifier {
  const settings = new Settings(config, env);
  const type: ProviderType = config.type;
  switch (type) {
    case 'sendgrid':
      return createSendgridWebhook(settings, opts);
    case 'postmark':
      return createPostmarkWebhook(settings, opts);
    case 'mailgun':
      return createMailgunWebhook(settings, opts);
    case 'twilio':
      return createTwilioWebhook(settings, opts);
    case 'webhook':
    case 'klaviyo':
    case 'console':
    case 'file':
      throw new JourneyError(`provider '${config.name}' (${type}) sends no delivery webhooks`);
    default:
      return unknownType(type, config.name);
  }
}

/** Whether createWebhookVerifier accepts this type (for serve's routing table). */
export function hasDeliveryWebhooks(type: ProviderType): boolean {
  return type === 'sendgrid' || type === 'postmark' || type === 'mailgun' || type === 'twilio';
}

function unknownType(type: never, name: string): never {
  throw new JourneyError(`provider '${name}' has an unknown type '${String(type)}'`);
}
