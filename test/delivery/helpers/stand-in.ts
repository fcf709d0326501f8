/**
 * A stand-in for SendGrid, Postmark, Mailgun, Twilio and a webhook receiver on one
 * real HTTP server on 127.0.0.1, for the exactly-once tests. It counts every
 * request and every message it accepts, per key, WITHOUT deduplicating by key
 * (as SendGrid, Postmark, Mailgun and Twilio do not): a key accepted twice is a
 * customer who got the message twice. The webhook receiver honours Idempotency-Key,
 * as the webhook provider's contract asks of it. It answers the lookups as the
 * providers document them (SendGrid Email Activity, Postmark outbound message
 * search by metadata, Mailgun events by user variable, Twilio's Messages list by
 * recipient), and can inject faults on a share of the send requests.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = '429' | '500' | 'reset' | 'timeout_after_accept';

export interface StandInOptions {
  /** Share of send requests that get a fault (lookups are never faulted). Default 0. */
  faultRate?: number;
  random?: () => number;
  /** How long the server takes per request, ms. Default 0. */
  delayMs?: number;
}

interface Accepted {
  provider: 'sendgrid' | 'postmark' | 'mailgun' | 'twilio' | 'webhook';
  id: string;
  to: string;
  body: string | null;
  at: number;
}

export interface StandIn {
  url: string;
  /** Every send request (lookups apart), and every lookup. */
  counts: { requests: number; lookups: number; messages: number; faults: Record<Fault, number> };
  /** How many times each key was accepted (more than 1: sent twice). */
  acceptedTimes: Map<string, number>;
  /** The provider message id of each key's first acceptance. */
  idOf: Map<string, string>;
  /** Webhook requests answered from the Idempotency-Key record (a repeat the receiver recognised). */
  replayed: number;
  /** Called at the start of every send request (the kill test times its kills with it). */
  onRequest: () => void;
  close(): Promise<void>;
}

const ACCOUNT = /^\/2010-04-01\/Accounts\/[^/]+\/Messages\.json/;

export async function startStandIn(opts: StandInOptions = {}): Promise<StandIn> {
  const random = opts.random ?? Math.random;
  const faultRate = opts.faultRate ?? 0;
  const byKey = new Map<string, Accepted[]>();
  const byTo = new Map<string, { sid: string; body: string; at: number }[]>();
  let seq = 0;
  const state: StandIn = {
    url: '',
    counts: { requests: 0, lookups: 0, messages: 0, faults: { '429': 0, '500': 0, reset: 0, timeout_after_accept: 0 } },
    acceptedTimes: new Map(),
    idOf: new Map(),
    replayed: 0,
    onRequest: () => {},
    close: async () => {},
  };
  const accept = (provider: Accepted['provider'], key: string, to: string, body: string | null, id = `${provider}-${++seq}`): string => {
    state.counts.messages++;
    state.acceptedTimes.set(key, (state.acceptedTimes.get(key) ?? 0) + 1);
    if (!state.idOf.has(key)) state.idOf.set(key, id);
    byKey.set(key, [...(byKey.get(key) ?? []), { provider, id, to, body, at: Date.now() }]);
    return id;
  };
  const pickFault = (): Fault | null => {
    if (random() >= faultRate) return null;
    const r = random();
    return r < 0.25 ? '429' : r < 0.5 ? '500' : r < 0.75 ? 'reset' : 'timeout_after_accept';
  };
  const webhookAnswers = new Map<string, string>();

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://x');
      const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      };
      if (req.method === 'GET') {
        state.counts.lookups++;
        return json(200, lookup(url));
      }
      state.counts.requests++;
      state.onRequest();
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      const fault = pickFault();
      if (fault) state.counts.faults[fault]++;
      if (fault === '429') return json(429, { errors: [{ message: 'too many requests' }], ErrorCode: 429, Message: 'rate limited' }, { 'retry-after': '1' });
      if (fault === '500') return json(500, { errors: [{ message: 'internal error' }], Message: 'internal error' });
      if (fault === 'reset') return req.socket.resetAndDestroy();
      // the message is accepted; with timeout_after_accept, its answer never comes
      const answer = send(url, text, req.headers);
      if (fault === 'timeout_after_accept') {
        setTimeout(() => req.socket.destroy(), 30_000).unref();
        return;
      }
      json(answer.status, answer.body, answer.headers);
    });
  });

  function send(url: URL, text: string, headers: Record<string, string | string[] | undefined>): { status: number; body: unknown; headers?: Record<string, string> } {
    const path = url.pathname;
    if (path === '/v3/mail/send') {
      const body = JSON.parse(text);
      const requestId = `sg${++seq}`;
      for (const p of body.personalizations) accept('sendgrid', p.custom_args.journey_key, p.to[0].email, null, requestId);
      return { status: 202, body: '', headers: { 'x-message-id': requestId } };
    }
    if (path === '/email/withTemplate' || path === '/email') {
      const m = JSON.parse(text);
      const id = accept('postmark', m.Metadata.journey_key, m.To, null);
      return { status: 200, body: { ErrorCode: 0, Message: 'OK', MessageID: id, To: m.To } };
    }
    if (path === '/email/batchWithTemplates') {
      const { Messages } = JSON.parse(text);
      return { status: 200, body: Messages.map((m: { To: string; Metadata: { journey_key: string } }) => ({ ErrorCode: 0, Message: 'OK', MessageID: accept('postmark', m.Metadata.journey_key, m.To, null), To: m.To })) };
    }
    if (ACCOUNT.test(path)) {
      const form = new URLSearchParams(text);
      const to = form.get('To')!;
      const sid = `SM${String(++seq).padStart(32, '0')}`;
      const key = new URL(form.get('StatusCallback') ?? 'http://x/').searchParams.get('key') ?? `twilio:${to}:${form.get('Body')}`;
      accept('twilio', key, to, form.get('Body'), sid);
      byTo.set(to, [{ sid, body: form.get('Body') ?? '', at: Date.now() }, ...(byTo.get(to) ?? [])]);
      return { status: 201, body: { sid, to, body: form.get('Body'), status: 'queued', date_created: new Date().toUTCString() } };
    }
    if (/^\/v3\/[^/]+\/messages$/.test(path)) {
      const form = new URLSearchParams(text);
      const id = `<${++seq}@mg.shop.test>`;
      accept('mailgun', form.get('v:journey_key')!, form.get('to')!, null, id.slice(1, -1));
      return { status: 200, body: { id, message: 'Queued. Thank you.' } };
    }
    // the webhook receiver: a repeated Idempotency-Key gets the first answer, and is not accepted again
    const key = String(headers['idempotency-key']);
    const seen = webhookAnswers.get(key);
    if (seen) {
      state.replayed++;
      return { status: 200, body: { id: seen } };
    }
    const id = accept('webhook', key, JSON.parse(text).to, null);
    webhookAnswers.set(key, id);
    return { status: 200, body: { id } };
  }

  function lookup(url: URL): unknown {
    const path = url.pathname;
    if (path === '/v3/messages') {
      // query=unique_args['journey_key']="<key>"
      const key = /unique_args\['journey_key'\]="(.*)"$/.exec(url.searchParams.get('query') ?? '')?.[1];
      const found = (byKey.get(JSON.parse(`"${key ?? ''}"`)) ?? []).filter((a) => a.provider === 'sendgrid');
      return { messages: found.map((a) => ({ msg_id: `${a.id}.filter0001p1mdw1-1-1`, to_email: a.to, status: 'processed' })) };
    }
    if (path === '/messages/outbound') {
      const found = (byKey.get(url.searchParams.get('metadata_journey_key') ?? '') ?? []).filter((a) => a.provider === 'postmark');
      return { TotalCount: found.length, Messages: found.map((a) => ({ MessageID: a.id, To: [{ Email: a.to }], Status: 'Sent' })) };
    }
    if (/^\/v3\/[^/]+\/events$/.test(path)) {
      const vars = JSON.parse(url.searchParams.get('user-variables') ?? '{}') as { journey_key?: string };
      const found = (byKey.get(vars.journey_key ?? '') ?? []).filter((a) => a.provider === 'mailgun');
      return { items: found.map((a) => ({ event: 'accepted', recipient: a.to, message: { headers: { 'message-id': a.id } }, 'user-variables': vars })), paging: {} };
    }
    if (ACCOUNT.test(path)) {
      const to = url.searchParams.get('To') ?? '';
      return { messages: (byTo.get(to) ?? []).map((m) => ({ sid: m.sid, to, body: m.body, status: 'sent', date_created: new Date(m.at).toUTCString() })), page: 0 };
    }
    return { error: 'unknown lookup' };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
