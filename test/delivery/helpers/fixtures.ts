/** Configs, messages and secrets shared by the delivery tests. */
import type { OutgoingMessage } from '../../../src/delivery/message.js';
import type { ProviderConfig, ProviderType } from '../../../src/project/model.js';

/** Distinctive values, so a leak anywhere is easy to spot. */
export const SECRETS = {
  SENDGRID_API_KEY: 'SG.secret-sendgrid-key-1234567890',
  POSTMARK_SERVER_TOKEN: 'pm-secret-server-token-0987654321',
  MAILGUN_API_KEY: 'key-secret-mailgun-5555555555',
  TWILIO_AUTH_TOKEN: 'twilio-secret-auth-token-7777777',
  KLAVIYO_API_KEY: 'pk_secret_klaviyo_key_4444444444',
  WEBHOOK_SIGNING_SECRET: 'whsec-secret-signing-3333333333',
  WEBHOOK_TOKEN: 'gateway-secret-bearer-2222222222',
  MAILGUN_SIGNING_KEY: 'mailgun-secret-webhook-key-9999',
  POSTMARK_WEBHOOK_AUTH: 'postmark-hook:secret-password-8888',
} as const;

export const ENV: NodeJS.ProcessEnv = { ...SECRETS };

export const ACCOUNT_SID = 'AC0123456789abcdef0123456789abcdef';
export const SERVICE_SID = 'MG0123456789abcdef0123456789abcdef';

export function config(type: ProviderType, settings: Record<string, unknown>, name: string = type): ProviderConfig {
  return { name, type, settings };
}

export function emailMessage(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    idempotencyKey: 'outbox-42-thank-you',
    channel: 'email',
    to: 'jana@example.test',
    template: { id: 'd-0001thankyou', subject: 'Thank you, {{first_name}}', body: null },
    data: { first_name: 'Jana', order_total: 1290.5, vip: true, coupon: null },
    tags: { journey: 'post-purchase' },
    ...overrides,
  };
}

export function smsMessage(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    idempotencyKey: 'outbox-77-offer-sms',
    channel: 'sms',
    to: '+420777123456',
    template: { id: null, subject: null, body: '{{first_name}}, your code {{coupon}} ends soon' },
    data: { first_name: 'Jana', coupon: 'SECOND-AB12' },
    ...overrides,
  };
}
