/**
 * Reading a provider's settings as written in journey.config.yaml. Secrets are
 * `${ENV_VAR}` references resolved here, once, when the provider is created; every
 * resolved secret is remembered so that text coming back from the network can be
 * scrubbed of it before it reaches an error or a log line.
 */
import { JourneyError } from '../../errors.js';
import type { ProviderConfig } from '../../project/model.js';
import { IN_DOUBT_POLICIES, type InDoubtPolicy, type ProviderLimits } from '../message.js';
import { DEFAULT_TIMEOUT_MS } from './http.js';

const ENV_REF = /\$\{([A-Z_][A-Z0-9_]*)\}/g;

export class Settings {
  /** Every secret value resolved so far; used by redact(). */
  readonly secrets: string[] = [];

  constructor(
    readonly config: ProviderConfig,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  get name(): string {
    return this.config.name;
  }

  /** A plain string setting; missing or empty → null. */
  string(key: string): string | null {
    const value = this.config.settings[key];
    return typeof value === 'string' && value !== '' ? value : null;
  }

  requireString(key: string): string {
    const value = this.string(key);
    if (value === null) throw this.missing(key);
    return value;
  }

  number(key: string): number | null {
    const value = this.config.settings[key];
    return typeof value === 'number' && Number.isFinite(value) ? value : null;
  }

  /**
   * A setting holding ${ENV} references, possibly inside other text ("Bearer
   * ${TOKEN}"), with every reference replaced by the variable's value.
   */
  secret(key: string): string | null {
    const value = this.string(key);
    return value === null ? null : this.resolve(value, key);
  }

  requireSecret(key: string): string {
    const value = this.secret(key);
    if (value === null) throw this.missing(key);
    return value;
  }

  /** Resolves references in any string (header values); the field name is for the error only. */
  resolve(text: string, field: string): string {
    return text.replace(ENV_REF, (_, variable: string) => {
      const value = this.env[variable];
      if (value === undefined || value === '') {
        // Names the variable and the provider, never a value.
        throw new JourneyError(`environment variable ${variable} is not set (provider '${this.name}', setting ${field})`, {
          location: { field: `providers.${this.name}.${field}` },
          hint: `export ${variable}=... before running journey`,
        });
      }
      this.secrets.push(value);
      return value;
    });
  }

  /** Marks a value derived from secrets (a basic-auth header) as secret too. */
  markSecret(value: string): string {
    // "Basic <base64>": the credentials part alone is what an echo might show.
    this.secrets.push(value.slice(value.lastIndexOf(' ') + 1));
    return value;
  }

  /** Replaces every secret value in text (an error body that echoes a key, say). */
  redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) {
      // Very short values would mangle ordinary text; real secrets are long.
      if (secret.length >= 4) out = out.split(secret).join('[redacted]');
    }
    return out;
  }

  private missing(key: string): JourneyError {
    return new JourneyError(`provider '${this.name}' (${this.config.type}) needs the setting '${key}'`, {
      location: { field: `providers.${this.name}.${key}` },
    });
  }
}

/** "Name <address>" when a display name is set, for APIs that take one string. */
export function mailbox(address: string, name: string | null): string {
  if (!name) return address;
  const quoted = /[",;<>@()[\]\\]/.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : name;
  return `${quoted} <${address}>`;
}

/** What the caller of createProvider may pass besides the config and the environment. */
export interface ProviderOptions {
  /** Per-request timeout in ms (connect, headers, body). Default 15 s; tests use less. */
  timeoutMs?: number;
  /** console: where lines go. Default process.stdout. */
  stdout?: NodeJS.WritableStream;
  /** file: relative paths resolve against this (the project root). Default the cwd. */
  baseDir?: string;
  /**
   * twilio: the public URL of `journey serve`'s status-callback endpoint for this
   * provider; the idempotency key is added as ?key=... . The setting
   * `status_callback_url` wins when present.
   */
  statusCallbackUrl?: string;
  /** The clock (ms since the epoch), for signature timestamps. */
  now?: () => number;
}

export function limitsOf(settings: Settings, opts: ProviderOptions = {}): ProviderLimits {
  const timeout = settings.number('timeout');
  return {
    concurrency: settings.number('concurrency') ?? 16,
    ratePerSecond: settings.number('rate_limit'),
    messagesPerSecond: settings.number('message_rate_limit'),
    batchSize: Math.max(1, Math.floor(settings.number('batch_size') ?? 1)),
    timeoutMs: timeout !== null ? Math.round(timeout * 1000) : (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS),
  };
}

/** The most messages one batch request of each provider type takes (its documented limit). */
export const MAX_BATCH: Readonly<Record<string, number>> = { sendgrid: 1000, postmark: 500 };

/**
 * The provider's in_doubt policy and reconcile delay: the setting, else reconcile
 * where the provider has a lookup, resend where it deduplicates by our key, hold
 * elsewhere. resend on a provider that does not deduplicate is the operator's call.
 */
export function inDoubtOf(settings: Settings, can: { lookup: boolean; dedupes: boolean }): { inDoubt: InDoubtPolicy; reconcileAfterMs: number } {
  const set = settings.string('in_doubt') as InDoubtPolicy | null;
  if (set !== null && !IN_DOUBT_POLICIES.includes(set)) {
    throw new JourneyError(`provider '${settings.name}': in_doubt '${set}' is not one of ${IN_DOUBT_POLICIES.join(', ')}`, { location: { field: `providers.${settings.name}.in_doubt` } });
  }
  if (set === 'reconcile' && !can.lookup) {
    throw new JourneyError(`provider '${settings.name}' (${settings.config.type}) cannot be asked about a message: in_doubt must be hold or resend`, {
      location: { field: `providers.${settings.name}.in_doubt` },
    });
  }
  const inDoubt = set ?? (can.lookup ? 'reconcile' : can.dedupes ? 'resend' : 'hold');
  const after = settings.number('reconcile_after');
  return { inDoubt, reconcileAfterMs: after !== null ? Math.round(after * 1000) : DEFAULT_RECONCILE_AFTER_MS };
}

/** The providers' message searches lag their sends by seconds to minutes (SendGrid's Email Activity most). */
export const DEFAULT_RECONCILE_AFTER_MS = 120_000;
