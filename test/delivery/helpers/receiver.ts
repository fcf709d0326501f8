/**
 * A real node:http endpoint in front of a verifier, the way `journey serve` will
 * use it: the raw body bytes and headers go to verify(), a WebhookError's status
 * becomes the answer. Tests post to it with undici.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { WebhookError, type DeliveryEvent, type WebhookVerifier } from '../../../src/delivery/webhooks/index.js';

export interface Receiver {
  url: string;
  post(path: string, body: string | Buffer, headers: Record<string, string>): Promise<{ status: number; events: DeliveryEvent[]; error?: string; reason?: string }>;
  close(): Promise<void>;
}

export async function startReceiver(verifier: WebhookVerifier): Promise<Receiver> {
  let base = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        const events = verifier.verify({ rawBody: Buffer.concat(chunks), headers: req.headers, url: base + (req.url ?? '/') });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ events }));
      } catch (err) {
        if (!(err instanceof WebhookError)) throw err;
        res.writeHead(err.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err.message, reason: err.reason }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    async post(path, body, headers) {
      const res = await request(base + path, { method: 'POST', body, headers });
      const json = (await res.body.json()) as { events?: DeliveryEvent[]; error?: string; reason?: string };
      return { status: res.statusCode, events: json.events ?? [], error: json.error, reason: json.reason };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A seen() callback over a Set, as a store-backed one would behave. */
export function seenSet(): { seen: (id: string) => boolean; ids: Set<string> } {
  const ids = new Set<string>();
  return { ids, seen: (id) => (ids.has(id) ? true : (ids.add(id), false)) };
}
