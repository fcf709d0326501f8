/**
 * The behaviour every HTTP provider module must show against a server playing its
 * provider: the provider's id on success, its own error text on refusals, retry
 * (with the requested wait) on 429 and 5xx, retry on a reset connection and on a
 * timeout, and no more sockets than its concurrency.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingMessage, Provider, SendOutcome } from '../../../src/delivery/message.js';
import { startServer, type FakeServer, type Recorded, type Reply } from './server.js';

export interface ErrorCase {
  status: number;
  body: string | object;
  headers?: Record<string, string>;
  kind: 'permanent' | 'retry';
  /** The provider's own words that must reach the outcome. */
  text: RegExp;
}

export interface ProviderCase {
  label: string;
  make(url: string, opts: { timeoutMs?: number; concurrency?: number }): Provider;
  message: OutgoingMessage;
  /** Called for the provider's operation; anything else answers 404. */
  path: RegExp;
  success(req: Recorded): Reply;
  expectedId: string;
  errors: ErrorCase[];
  /** The provider's 429 body. */
  tooMany: string | object;
  /** Checks a request against the provider's OpenAPI description; every request of the suite goes through it. */
  validate?: (req: Recorded) => string[];
}

export function providerBehaviour(c: ProviderCase): void {
  describe(`${c.label}: behaviour over HTTP`, () => {
    let server: FakeServer;
    let provider: Provider;
    const use = (reply: (req: Recorded) => Reply) => server.handle((req) => (c.path.test(req.path) ? reply(req) : { status: 404, body: 'no such route' }));

    beforeAll(async () => {
      server = await startServer(() => ({ status: 500 }));
      provider = c.make(server.url, { timeoutMs: 300 });
    });
    afterAll(async () => {
      await provider.close();
      await server.close();
    });


    it('answers sent with the provider message id', async () => {
      use(c.success);
      const outcome = await provider.send(c.message);
      expect(outcome).toMatchObject({ kind: 'sent', providerMessageId: c.expectedId });
    });

    for (const e of c.errors) {
      it(`answers ${e.kind} with the provider's error text on ${e.status}`, async () => {
        use(() => ({ status: e.status, body: e.body, headers: e.headers }));
        const outcome = await provider.send(c.message);
        expect(outcome.kind).toBe(e.kind);
        expect(outcome).toMatchObject({ status: e.status });
        expect((outcome as { error: string }).error).toMatch(e.text);
      });
    }

    it('answers retry with the wait from Retry-After (seconds) on 429', async () => {
      use(() => ({ status: 429, body: c.tooMany, headers: { 'retry-after': '7' } }));
      expect(await provider.send(c.message)).toMatchObject({ kind: 'retry', status: 429, retryAfterMs: 7000 });
    });

    it('answers retry with the wait from Retry-After (HTTP date) on 429', async () => {
      const at = new Date(Date.now() + 30_000).toUTCString();
      use(() => ({ status: 429, body: c.tooMany, headers: { 'retry-after': at } }));
      const outcome = (await provider.send(c.message)) as Extract<SendOutcome, { kind: 'retry' }>;
      expect(outcome.kind).toBe('retry');
      expect(outcome.retryAfterMs).toBeGreaterThan(25_000);
      expect(outcome.retryAfterMs).toBeLessThanOrEqual(30_000);
    });

    it('answers retry with the wait from X-RateLimit-Reset on 429', async () => {
      const reset = Math.floor(Date.now() / 1000) + 60;
      use(() => ({ status: 429, body: c.tooMany, headers: { 'x-ratelimit-reset': String(reset) } }));
      const outcome = (await provider.send(c.message)) as Extract<SendOutcome, { kind: 'retry' }>;
      expect(outcome.kind).toBe('retry');
      expect(outcome.retryAfterMs).toBeGreaterThan(55_000);
      expect(outcome.retryAfterMs).toBeLessThanOrEqual(60_000);
    });

    it('answers retry on 500 and 503', async () => {
      use(() => ({ status: 500, body: 'Internal Server Error' }));
      expect(await provider.send(c.message)).toMatchObject({ kind: 'retry', status: 500 });
      use(() => ({ status: 503, body: '<html>upstream unavailable</html>' }));
      expect(await provider.send(c.message)).toMatchObject({ kind: 'retry', status: 503 });
    });

    it('answers retry when the connection is reset', async () => {
      use(() => ({ action: 'reset' }));
      const outcome = await provider.send(c.message);
      expect(outcome.kind).toBe('retry');
      expect(outcome).not.toHaveProperty('status');
    });

    it('answers retry when the provider does not answer in time', async () => {
      use(() => ({ action: 'hang' }));
      const started = Date.now();
      const outcome = await provider.send(c.message);
      expect(outcome).toMatchObject({ kind: 'retry', error: expect.stringMatching(/timeout/) });
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('works again after failures, and sends the same request every time', async () => {
      use(c.success);
      const before = server.requests.length;
      await provider.send(c.message);
      await provider.send(c.message);
      const [a, b] = server.requests.slice(before);
      expect(a!.text).toBe(b!.text);
    });

    it('keeps to its concurrency over keep-alive sockets', async () => {
      const limited = c.make(server.url, { timeoutMs: 2000, concurrency: 3 });
      let inFlight = 0;
      let peak = 0;
      server.handle(async (req) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 10));
        inFlight--;
        return c.success(req);
      });
      const before = server.requests.length;
      const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => limited.send({ ...c.message, idempotencyKey: `k-${i}` })));
      await limited.close();
      expect(outcomes.every((o) => o.kind === 'sent')).toBe(true);
      expect(peak).toBeLessThanOrEqual(3);
      expect(new Set(server.requests.slice(before).map((r) => r.remotePort)).size).toBeLessThanOrEqual(3);
    });

    if (c.validate) {
      it('every request of this suite matches the provider\'s OpenAPI request schema', () => {
        expect(server.requests.length).toBeGreaterThan(10);
        const violations = server.requests.flatMap((r) => c.validate!(r).map((v) => `${r.path}: ${v}`));
        expect(violations).toEqual([]);
      });
    }
  });
}
