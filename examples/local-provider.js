// A stand-in for SendGrid, Twilio and Klaviyo on 127.0.0.1, for the demo: it answers
// as they do (202 with an X-Message-Id, 201 with a message sid, 202) and counts what
// it was sent, by idempotency key, so a repeat would show. A SendGrid request may
// carry many personalizations (batch_size): each is a message with its own key. It
// also answers the lookups the dispatcher makes for a message in doubt, as the
// providers document them: SendGrid's Email Activity (GET /v3/messages?query=
// unique_args['journey_key']="...") and Twilio's Messages list by recipient
// (GET .../Messages.json?To=...).
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:http';

/**
 * `bodies`: a file to which every request the stand-in accepts is appended as a JSON
 * line ({ path, body }), to read what the customers would have received.
 */
export function startLocalProvider({ bodies } = {}) {
  const received = { email: 0, sms: 0, sync: 0, repeats: 0, requests: 0, lookups: 0, keys: new Set() };
  const emails = new Map(); // key -> message id
  const sms = new Map(); // to -> [{ sid, body, at }]
  let seq = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://local');
      const json = (status, value) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      const count = (kind, key) => {
        received[kind]++;
        if (key && received.keys.has(key)) received.repeats++;
        if (key) received.keys.add(key);
      };
      if (req.method === 'GET') {
        received.lookups++;
        if (url.pathname === '/v3/messages') {
          const key = /unique_args\['journey_key'\]="(.*)"$/.exec(url.searchParams.get('query') ?? '')?.[1];
          const id = key === undefined ? undefined : emails.get(JSON.parse(`"${key}"`));
          return json(200, { messages: id ? [{ msg_id: `${id}.local`, status: 'processed' }] : [] });
        }
        if (/\/Messages\.json$/.test(url.pathname)) {
          const to = url.searchParams.get('To') ?? '';
          return json(200, { messages: (sms.get(to) ?? []).map((m) => ({ sid: m.sid, to, body: m.body, status: 'sent', date_created: new Date(m.at).toUTCString() })) });
        }
        return json(404, { error: 'unknown lookup' });
      }
      received.requests++;
      if (bodies) appendFileSync(bodies, JSON.stringify({ path: url.pathname, body }) + '\n');
      const id = `local-${++seq}`;
      if (url.pathname === '/v3/mail/send') {
        for (const p of JSON.parse(body).personalizations ?? []) {
          const key = p.custom_args?.journey_key;
          count('email', key);
          if (key && !emails.has(key)) emails.set(key, id);
        }
        res.writeHead(202, { 'x-message-id': id }).end();
      } else if (/\/Messages\.json$/.test(url.pathname)) {
        const form = new URLSearchParams(body);
        const key = new URL(form.get('StatusCallback') ?? 'http://local/').searchParams.get('key');
        count('sms', key);
        const sid = `SM${String(seq).padStart(32, '0')}`;
        const to = form.get('To') ?? '';
        sms.set(to, [{ sid, body: form.get('Body') ?? '', at: Date.now() }, ...(sms.get(to) ?? [])]);
        json(201, { sid, status: 'queued' });
      } else if (url.pathname.startsWith('/api/')) {
        count('sync', null);
        json(202, {});
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
