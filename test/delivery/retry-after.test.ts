import { describe, expect, it } from 'vitest';
import { createProvider, retryAfterMs, sentOutcome } from '../../src/delivery/providers/index.js';
import { config, ENV } from './helpers/fixtures.js';

const NOW = 1_767_225_600_000;

describe('sentOutcome', () => {
  const res = (headers: Record<string, string>) => ({ status: 202, headers, body: '' });
  it('asks for a pause only when the allowance is used up, until the window resets', () => {
    expect(sentOutcome(res({}), 'id', NOW)).toEqual({ kind: 'sent', providerMessageId: 'id', status: 202 });
    expect(sentOutcome(res({ 'x-ratelimit-remaining': '3', 'x-ratelimit-reset': String(NOW / 1000 + 5) }), 'id', NOW).pauseMs).toBeUndefined();
    expect(sentOutcome(res({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 5) }), 'id', NOW)).toMatchObject({ kind: 'sent', pauseMs: 5000 });
    expect(sentOutcome(res({ 'ratelimit-remaining': '0', 'ratelimit-reset': '2' }), 'id', NOW)).toMatchObject({ pauseMs: 2000 });
    // no reset header: a short pause; an absurd one: a bounded pause
    expect(sentOutcome(res({ 'x-ratelimit-remaining': '0' }), 'id', NOW)).toMatchObject({ pauseMs: 1000 });
    expect(sentOutcome(res({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 86_400) }), 'id', NOW)).toMatchObject({ pauseMs: 60_000 });
  });
});

describe('retryAfterMs', () => {
  it('reads Retry-After in seconds and as an HTTP date', () => {
    expect(retryAfterMs({ 'retry-after': '3' }, NOW)).toBe(3000);
    expect(retryAfterMs({ 'retry-after': '0.5' }, NOW)).toBe(500);
    expect(retryAfterMs({ 'retry-after': new Date(NOW + 90_000).toUTCString() }, NOW)).toBe(90_000);
    expect(retryAfterMs({ 'retry-after': new Date(NOW - 90_000).toUTCString() }, NOW)).toBe(0);
  });

  it('reads rate-limit reset headers as an epoch (s or ms) or a delay', () => {
    expect(retryAfterMs({ 'x-ratelimit-reset': String(NOW / 1000 + 12) }, NOW)).toBe(12_000);
    expect(retryAfterMs({ 'x-ratelimit-reset': String(NOW + 1500) }, NOW)).toBe(1500);
    expect(retryAfterMs({ 'ratelimit-reset': '4' }, NOW)).toBe(4000);
    expect(retryAfterMs({ 'retry-after-ms': '250' }, NOW)).toBe(250);
  });

  it('prefers Retry-After, ignores garbage, and answers undefined without a hint', () => {
    expect(retryAfterMs({ 'retry-after': '2', 'x-ratelimit-reset': String(NOW / 1000 + 60) }, NOW)).toBe(2000);
    expect(retryAfterMs({ 'retry-after': 'soon' }, NOW)).toBeUndefined();
    expect(retryAfterMs({}, NOW)).toBeUndefined();
  });
});

describe('provider limits', () => {
  it('exposes concurrency (default 16) and rate_limit for the dispatcher', async () => {
    const a = createProvider(config('sendgrid', { api_key: '${SENDGRID_API_KEY}', from: 'a@b.test', url: 'http://127.0.0.1:9' }), ENV);
    const b = createProvider(config('sendgrid', { api_key: '${SENDGRID_API_KEY}', from: 'a@b.test', url: 'http://127.0.0.1:9', concurrency: 4, rate_limit: 10 }), ENV);
    expect(a.limits).toMatchObject({ concurrency: 16, ratePerSecond: null, batchSize: 1, timeoutMs: 15_000 });
    expect(b.limits).toMatchObject({ concurrency: 4, ratePerSecond: 10 });
    await Promise.all([a.close(), b.close()]);
  });
});
