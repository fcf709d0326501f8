/** Development: one line per message on a stream, nothing leaves the machine. */
import { randomUUID } from 'node:crypto';
import type { OutgoingMessage, Provider, SendOutcome, SyncRequest, WireRequest } from '../message.js';
import { fillPlaceholders } from '../message.js';
// the one masking rule of what journey prints, set by --show-pii: this line is output too
import { shownAddress } from '../../pii.js';
import { inDoubtOf, limitsOf, type ProviderOptions, type Settings } from './settings.js';

export function createConsole(settings: Settings, opts: ProviderOptions): Provider {
  const lineOf = (message: OutgoingMessage): string => {
    const { id, subject, body } = message.template;
    const c = message.content;
    const what = c ? `"${c.subject ?? c.body ?? ''}"` : id ? `template ${id}` : subject ? `"${fillPlaceholders(subject, message.data)}"` : `"${fillPlaceholders(body ?? '', message.data)}"`;
    // the variables only where the provider renders the template: rendered content says it all
    return `[${settings.name}] ${message.channel} → ${shownAddress(message.to)}: ${what}${c ? '' : ` ${JSON.stringify(message.data)}`} (key ${message.idempotencyKey})`;
  };
  const out = opts.stdout ?? process.stdout;
  const write = (line: string): SendOutcome => {
    out.write(`${line}\n`);
    return { kind: 'sent', providerMessageId: `console-${randomUUID()}`, status: 200 };
  };
  return {
    name: settings.name,
    type: 'console',
    limits: limitsOf(settings, opts),
    // nothing to ask and no key it would recognise
    ...inDoubtOf(settings, { lookup: false, dedupes: false }),
    // no delivery events come back from it
    eventsById: false,
    async send(message: OutgoingMessage) {
      return write(lineOf(message));
    },
    request: (message: OutgoingMessage): WireRequest => ({ method: 'POST', url: 'stdout', contentType: 'text/plain', body: lineOf(message) }),
    async sync(request: SyncRequest) {
      const parts = [request.profile ? `profile ${JSON.stringify(request.profile)}` : null, request.event ? `event ${request.event.name} ${JSON.stringify(request.event.properties)}` : null];
      return write(`[${settings.name}] sync ${request.customer.id}: ${parts.filter(Boolean).join(', ')} (key ${request.idempotencyKey})`);
    },
    close: async () => {},
  };
}
