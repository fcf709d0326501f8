/**
 * The types shared by the provider modules and whatever drives them (the outbox
 * dispatcher, `journey send --test`, the benchmarks). A provider turns one
 * OutgoingMessage (or one SyncRequest) into one HTTP request and answers with a
 * SendOutcome; it never retries by itself, so that the dispatcher alone decides
 * about backoff, circuit breaking and dead-lettering.
 */
import type { RenderedMessage } from '../content/render.js';
import type { ProviderType } from '../project/model.js';

export type { ProviderType };

export type DataValue = string | number | boolean | null;

/** Rendered content, as the outbox row keeps it: content/render.ts's message, the one definition of its shape. */
export type RenderedContent = RenderedMessage;

export interface OutgoingMessage {
  /**
   * Unique per outbox row and stable across retries: the provider sees the same key
   * every time the row is attempted, so a repeated request can be recognised (by the
   * provider where it supports keys, by our delivery events otherwise).
   */
  idempotencyKey: string;
  channel: string;
  /** An e-mail address, an E.164 phone number or a channel address (whatsapp:+420...). */
  to: string;
  /** Overrides the provider's configured sender. */
  from?: string;
  template: {
    /** The provider's own template id (SendGrid d-..., Postmark alias or number, Mailgun name, Twilio Content HX...). */
    id: string | null;
    subject: string | null;
    body: string | null;
  };
  /**
   * The message as rendered when its step sent it (content/render.ts): what the
   * provider puts in its request as it is. Absent for a provider-side template
   * (template.id), which renders from `data`, and for rows written before content
   * was rendered.
   */
  content?: RenderedContent | null;
  /** The template variables: a provider-side template's data (dynamic template data, TemplateModel). */
  data: Record<string, DataValue>;
  /**
   * `data` as JSON text, when the caller already has it (the outbox payload), so that
   * a provider posting the data as JSON does not serialise it again.
   */
  dataJson?: string;
  /** Extra string metadata carried to the provider where it has a place for it. */
  tags?: Readonly<Record<string, string>>;
  /** E-mail headers the message carries (List-Unsubscribe: outgoing.ts), where the provider takes headers. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * What became of one attempt. `retry` means the provider may not have got it (or
 * asked us to come back); sending again with the same idempotency key is safe.
 * `permanent` means sending the same request again cannot succeed.
 */
export type SendOutcome =
  | {
      kind: 'sent';
      providerMessageId: string;
      status: number;
      /**
       * The provider's rate-limit headers said the allowance is used up (remaining 0):
       * wait this long before its next request, rather than run into 429s.
       */
      pauseMs?: number;
    }
  /**
   * inDoubt: the request was written and its answer never came (a timeout, a reset
   * connection), so the provider may have accepted it: the message must not be sent
   * again blindly (the dispatcher asks the provider, or follows its in_doubt policy).
   */
  | { kind: 'retry'; error: string; status?: number; retryAfterMs?: number; inDoubt?: boolean }
  /** `status` is absent when the message was refused before any request was made. */
  | { kind: 'permanent'; error: string; status?: number };

/** Profile properties and/or one event for one customer (the `sync` step, Klaviyo and webhooks). */
export interface SyncRequest {
  idempotencyKey: string;
  customer: { id: string; email: string | null; phone: string | null };
  profile?: Record<string, DataValue>;
  event?: { name: string; properties: Record<string, DataValue>; time?: string };
}

/** The limits a provider was configured with; the dispatcher enforces them. */
export interface ProviderLimits {
  /** At most this many requests in flight (the keep-alive pool is sized to it). */
  concurrency: number;
  /** At most this many requests per second, or null for no limit. */
  ratePerSecond: number | null;
  /** At most this many messages per second (a batch counts each of its messages), or null for no limit. */
  messagesPerSecond?: number | null;
  /** Messages per request where the provider takes batches (sendBatch); 1 or absent: one a request. */
  batchSize?: number;
  /** How long a request may take before it is given up (and is in doubt). */
  timeoutMs?: number;
}

/**
 * What the dispatcher does with a message whose request may have reached the
 * provider: ask the provider (reconcile, where it has a lookup), send it again under
 * the same key (resend: only safe where the provider deduplicates by it), or leave
 * it for `journey outbox resolve` (hold).
 */
export type InDoubtPolicy = 'reconcile' | 'resend' | 'hold';
export const IN_DOUBT_POLICIES: readonly InDoubtPolicy[] = ['reconcile', 'resend', 'hold'];

/** Asks a provider whether it accepted the message sent under a key. */
export interface LookupRequest {
  idempotencyKey: string;
  to: string;
  /** When the attempt in doubt began (ms since the epoch): the provider's record is no older. */
  since: number;
  /** The message as it was sent, for providers that can only match on what it said (Twilio). */
  message: OutgoingMessage | null;
}

export type LookupOutcome =
  | { kind: 'accepted'; providerMessageId: string }
  | { kind: 'not_found' }
  /** The provider could not be asked (an error, a rate limit): the message stays in doubt. */
  /** hold: asking again cannot tell (nothing of ours to match on): held for `journey outbox resolve`. */
  | { kind: 'unknown'; error: string; retryAfterMs?: number; hold?: boolean };


/**
 * The request a provider makes for a message, as it goes on the wire: its body
 * exactly, and where it goes. Headers are left out (they carry the credentials).
 */
export interface WireRequest {
  method: 'POST';
  /** The URL; for a development provider, where it writes (stdout, the file). */
  url: string;
  contentType: string;
  body: string;
}

export interface Provider {
  readonly name: string;
  readonly type: ProviderType;
  readonly limits: ProviderLimits;
  /**
   * Whether delivery events of its messages may name them by the provider's message
   * id alone, without the idempotency key: the store indexes those ids, which costs
   * the dispatcher a random index write per message, so only where it is needed.
   */
  readonly eventsById: boolean;
  send(message: OutgoingMessage): Promise<SendOutcome>;
  /**
   * The request send() would make for the message, without making it (`journey
   * preview`), or why there is none. send() goes through it, so the two never differ.
   */
  request(message: OutgoingMessage): WireRequest | { error: string };
  /** Present on providers that can take profile and event sync (klaviyo, webhook, console, file). */
  sync?(request: SyncRequest): Promise<SendOutcome>;
  /** The in_doubt policy in force (the setting, else reconcile where lookup exists, resend where the provider deduplicates, else hold). */
  readonly inDoubt: InDoubtPolicy;
  /** A lookup waits this long after the attempt began, for the provider's search to catch up. */
  readonly reconcileAfterMs: number;
  /** Whether the provider accepted a message under our key (present where it offers a lookup). */
  lookup?(request: LookupRequest): Promise<LookupOutcome>;
  /**
   * Messages that may share one batch request have the same key; null: this one goes
   * alone. Present with sendBatch.
   */
  batchKey?(message: OutgoingMessage): string | null;
  /** One request for several messages of one batch key; an outcome per message, in order. */
  sendBatch?(messages: readonly OutgoingMessage[]): Promise<SendOutcome[]>;
  /** Lets requests in flight finish, then closes the connections. */
  close(): Promise<void>;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g;

/** Literal text and field names, alternating: 'Hi {{name}}!' is ['Hi ', 'name', '!']. */
type CompiledText = readonly string[];

// A journey has a handful of templates and the dispatcher fills them for every
// message: splitting each text once (and not running the regex per message) took
// a noticeable part of the dispatcher's time (node bench/run.js dispatch).
const compiled = new Map<string, CompiledText>();
const MAX_COMPILED = 1_000;

function compile(text: string): CompiledText {
  let parts = compiled.get(text);
  if (!parts) {
    parts = text.split(PLACEHOLDER);
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    compiled.set(text, parts);
  }
  return parts;
}

/** The tags the dispatcher gives every message (outgoing.ts), from these outbox columns, where present. */
export const MESSAGE_TAGS = [
  { tag: 'journey', column: 'journey_id' },
  { tag: 'step', column: 'step_id' },
] as const satisfies readonly { tag: string; column: 'journey_id' | 'step_id' }[];

/**
 * Fills {{field}} from data, for a message without rendered content only (a row
 * written before the tick rendered content, or a test send built by hand): the
 * content of every message a step sends is rendered by content/render.ts.
 */
export function fillPlaceholders(text: string, data: Record<string, DataValue>): string {
  const parts = compile(text);
  let out = parts[0]!;
  for (let i = 1; i < parts.length; i += 2) {
    const value = data[parts[i]!];
    out += (value === null || value === undefined ? '' : String(value)) + parts[i + 1]!;
  }
  return out;
}
