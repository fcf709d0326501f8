// A stand-in for SendGrid, Twilio and Klaviyo on 127.0.0.1, for the demo: it answers
// as they do (202 with an X-Message-Id, 201 with a message sid, 202) and counts what
// it was sent, by idempotency key, so a repeat would show.
import { createServer } from 'node:http';

export function startLocalProvider() {
  const received = { email: 0, sms: 0, sync: 0, repeats: 0, keys: new Set() };
  let seq = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const id = `local-${++seq}`;
      const count = (kind, key) => {
        received[kind]++;
        if (key && received.keys.has(key)) received.repeats++;
        if (key) received.keys.add(key);
      };
      if (req.url === '/v3/mail/send') {
        const key = JSON.parse(body).personalizations?.[0]?.custom_args?.journey_key;
        count('email', key);
        res.writeHead(202, { 'x-message-id': id }).end();
      } else if (/\/Messages\.json$/.test(req.url ?? '')) {
        count('sms', null);
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: `SM${String(seq).padStart(32, '0')}`, status: 'queued' }));
      } else if (req.url?.startsWith('/api/')) {
        count('sync', null);
        res.writeHead(202, { 'content-type': 'application/json' }).end('{}');
      } else {
        res.writeHead(404).end();
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, received, close: () => new Promise((r) => server.close(r)) });
    });
  });
}
