import type { Project } from '../project/model.js';
import type { AddressField, CompileOptions } from './compile.js';

const EMAIL_PROVIDERS = new Set(['sendgrid', 'postmark', 'mailgun']);

/** The compile options a project implies: its segments, its timezone, where each channel's address is. */
export function compileOptionsFor(project: Project, now: Date): CompileOptions {
  const { config } = project;
  return {
    now,
    segments: project.segments,
    defaultTimezone: config.timezone,
    channelAddress(channel: string): AddressField {
      const declared = config.channels[channel];
      if (declared?.address) return declared.address as AddressField;
      const provider = declared ? config.providers[declared.provider] : undefined;
      if (provider) return EMAIL_PROVIDERS.has(provider.type) ? 'email' : 'phone';
      return channel === 'email' ? 'email' : 'phone';
    },
  };
}
