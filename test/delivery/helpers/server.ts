/**
 * A real HTTP server on 127.0.0.1 that plays a provider: every request is recorded
 * with its raw body, and a handler decides the answer, including the failures a
 * real provider produces (a reset connection, no answer at all).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Reply =
  | { status: number; headers?: Record<string, string>; body?: string | object }
  | { action: 'reset' }
  | { action: 'hang' };

export interface Recorded {
  method: string;
  path: string;
  /** The client's port: requests on one keep-alive socket share it. */
  remotePort: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test convenience
  /** The form body as an object; repeated names become arrays. */
  form(): Record<string, string | string[]>;
}

export type Handler = (req: Recorded) => Reply | Promise<Reply>;

export interface FakeServer {
  url: string;
  requests: Recorded[];
  handle(handler: Handler): void;
  close(): Promise<void>;
}

export async function startServer(handler: Handler): Promise<FakeServer> {
  let current = handler;
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const text = body.toString('utf8');
      const recorded: Recorded = {
        method: req.method ?? '',
        remotePort: req.socket.remotePort ?? 0,
        path: req.url ?? '',
        headers: req.headers,
        body,
        text,
        json: () => JSON.parse(text),
        form: () => {
          const out: Record<string, string | string[]> = {};
          for (const [k, v] of new URLSearchParams(text)) {
            const prev = out[k];
            out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
          }
          return out;
        },
      };
      requests.push(recorded);
      const reply = await current(recorded);
      if ('action' in reply) {
        if (reply.action === 'reset') req.socket.resetAndDestroy();
        return; // hang: never answer
      }
      const payload = reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body);
      const type = typeof reply.body === 'object' ? { 'content-type': 'application/json' } : {};
      res.writeHead(reply.status, { ...type, ...reply.headers });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    handle: (h) => {
      current = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
