/**
 * createProvider: one provider object from one entry of journey.config.yaml's
 * `providers`, with its secrets resolved from the environment now (so a missing
 * variable fails at start-up, not on the thousandth message).
 */
import { JourneyError } from '../../errors.js';
import type { ProviderConfig, ProviderType } from '../../project/model.js';
import type { Provider } from '../message.js';
import { createConsole } from './console.js';
import { createFile } from './file.js';
import { createKlaviyo } from './klaviyo.js';
import { createMailgun } from './mailgun.js';
import { createPostmark } from './postmark.js';
import { createSendgrid } from './sendgrid.js';
import { Settings, type ProviderOptions } from './settings.js';
import { createTwilio } from './twilio.js';
import { createWebhook } from './webhook.js';

export type { ProviderOptions } from './settings.js';
export { retryAfterMs, sentOutcome } from './http.js';
export { signPayload, SIGNATURE_HEADER } from './webhook.js';

export function createProvider(config: ProviderConfig, env: NodeJS.ProcessEnv = process.env, opts: ProviderOptions = {}): Provider {
  const settings = new Settings(config, env);
  const type: ProviderType = config.type;
  switch (type) {
    case 'sendgrid':
      return createSendgrid(settings, opts);
    case 'postmark':
      return createPostmark(settings, opts);
    case 'mailgun':
      return createMailgun(settings, opts);
    case 'twilio':
      return createTwilio(settings, opts);
    case 'webhook':
      return createWebhook(settings, opts);
    case 'klaviyo':
      return createKlaviyo(settings, opts);
    case 'console':
      return createConsole(settings, opts);
    case 'file':
      return createFile(settings, opts);
    default:
      return unknownType(type, config.name);
  }
}

function unknownType(type: never, name: string): never {
  throw new JourneyError(`provider '${name}' has an unknown type '${String(type)}'`);
}
