/**
 * What the delivery-webhook verifiers share: the request as received, the events
 * they produce, and the one error type whose `status` is the HTTP answer to give
 * (400 for a body we cannot read, 401 for anything that fails authentication:
 * bad signature, stale timestamp, replay).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { JourneyError } from '../../errors.js';
import type { ProviderType } from '../message.js';

import type { DeliveryEvent } from '../../store/delivery-event.js';

export type { DeliveryEvent, DeliveryEventKind } from '../../store/delivery-event.js';

export interface WebhookRequest {
  /** The body exactly as received; signatures are computed over these bytes. */
  rawBody: Buffer;
  /** node:http's req.headers (lower-case names). */
  headers: Record<string, string | string[] | undefined>;
  /** The full public URL the provider called, with the query (Twilio signs it). */
  url: string;
}

export interface WebhookOptions {
  /**
   * Replay check: answers whether this id was seen before and records it. Called
   * only after the signature verified, so forged requests cannot fill the set.
   */
  seen: (id: string) => boolean;
  /** Signed timestamps older (or further in the future) than this are refused. Default 5 minutes. */
  maxAgeMs?: number;
  /**
   * Postmark only (its requests carry no signed time): refuse events whose own
   * timestamp is older than this. Off by default, because Postmark retries a
   * failed webhook for hours with the original event.
   */
  maxEventAgeMs?: number;
  now?: () => number;
}

export const DEFAULT_MAX_AGE_MS = 5 * 60_000;

export type WebhookFailure = 'malformed' | 'bad_signature' | 'stale' | 'replayed';

export class WebhookError extends JourneyError {
  readonly reason: WebhookFailure;
  /** The HTTP status to answer with. */
  readonly status: 400 | 401;

  constructor(reason: WebhookFailure, message: string) {
    super(message);
    this.name = 'WebhookError';
    this.reason = reason;
    this.status = reason === 'malformed' ? 400 : 401;
  }
}

export interface WebhookVerifier {
  readonly provider: string;
  readonly type: ProviderType;
  /** Verifies the request and returns its events (unknown event types left out); throws WebhookError. */
  verify(request: WebhookRequest): DeliveryEvent[];
}

export function headerValue(headers: WebhookRequest['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Constant-time comparison of two strings of any length (hashing first hides the length too). */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Refuses a signed timestamp (ms) outside now ± maxAge. */
export function checkFresh(timestampMs: number, opts: WebhookOptions): void {
  const now = (opts.now ?? Date.now)();
  const maxAge = opts.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  if (!Number.isFinite(timestampMs) || Math.abs(now - timestampMs) > maxAge) {
    throw new WebhookError('stale', `timestamp is more than ${Math.round(maxAge / 1000)} s away from now`);
  }
}

export function checkReplay(id: string, opts: WebhookOptions): void {
  if (opts.seen(id)) throw new WebhookError('replayed', 'request was seen before (replay)');
}

export function parseJsonBody(rawBody: Buffer): unknown {
  try {
    return JSON.parse(rawBody.toString('utf8'));
  } catch {
    throw new WebhookError('malformed', 'body is not valid JSON');
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** Drops undefined fields so events compare and serialise cleanly. */
export function event(fields: DeliveryEvent): DeliveryEvent {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as unknown as DeliveryEvent;
}
