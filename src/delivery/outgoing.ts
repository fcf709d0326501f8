/**
 * What an outbox row asks a provider to do: an OutgoingMessage (a template to a
 * recipient) or a SyncRequest (profile properties and an event), or the reason it
 * cannot be sent.
 *
 * The dispatcher builds one for every message it sends, so a builder keeps what
 * rows share: the template of each template name and the tags of each journey
 * step are made once and then shared (frozen, since every message of the step
 * holds the same object), which also lets a provider cache what it derives from
 * them (sendgrid.ts: the custom_args text).
 */
import type { Config } from '../project/model.js';
import { SYNC_CHANNEL } from '../store/enrolments.js';
import type { MessageColumns } from '../store/outbox.js';
import { MESSAGE_TAGS, type DataValue, type OutgoingMessage, type SyncRequest } from './message.js';

export class OutgoingBuilder {
  private readonly templates = new Map<string, OutgoingMessage['template']>();
  private readonly tags = new Map<string, Map<string, Readonly<Record<string, string>>>>();

  constructor(private readonly config: Config) {}

  /** The request of a row, or why it cannot be sent. */
  build(row: MessageColumns): OutgoingMessage | SyncRequest | string {
    return row.channel === SYNC_CHANNEL ? buildSync(row) : this.message(row);
  }

  /** The message of a row, or why it cannot be sent. */
  message(row: MessageColumns): OutgoingMessage | string {
    const template = this.template(row.template);
    if (!template) return `template '${row.template}' is not in journey.config.yaml`;
    let data: unknown;
    try {
      data = JSON.parse(row.payload);
    } catch {
      return 'the payload is not valid JSON';
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return 'the payload is not a JSON object';
    let content: OutgoingMessage['content'] = null;
    if (row.content) {
      try {
        content = JSON.parse(row.content) as OutgoingMessage['content'];
      } catch {
        return 'the rendered content is not valid JSON';
      }
    }
    return {
      idempotencyKey: row.idempotency_key,
      channel: row.channel,
      to: row.address,
      template,
      data: data as Record<string, DataValue>,
      dataJson: row.payload,
      content,
      tags: this.tagsOf(row.journey_id, row.step_id),
      headers: this.unsubscribeHeaders(row.address, data as Record<string, unknown>),
    };
  }

  /**
   * An e-mail's List-Unsubscribe headers (links.list_unsubscribe), from the
   * unsubscribe link its variables hold: the signed one, or a test copy's, which the
   * shop refuses. None for other channels, or without the setting or a link.
   */
  private unsubscribeHeaders(address: string, data: Record<string, unknown>): Readonly<Record<string, string>> | undefined {
    const mode = this.config.links?.listUnsubscribe;
    const url = data.unsubscribe_url;
    if (!mode || typeof url !== 'string' || url === '' || !address.includes('@')) return undefined;
    return mode === 'one-click' ? { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' } : { 'List-Unsubscribe': `<${url}>` };
  }

  private template(name: string): OutgoingMessage['template'] | undefined {
    let template = this.templates.get(name);
    if (!template) {
      const t = this.config.templates[name];
      if (!t) return undefined;
      template = Object.freeze({ id: t.providerTemplate, subject: t.subject, body: t.body });
      this.templates.set(name, template);
    }
    return template;
  }

  /** The message's tags (MESSAGE_TAGS, which the providers' body templates render from the same columns). */
  private tagsOf(journey: string | null, step: string | null): Readonly<Record<string, string>> {
    // (maps by journey, then step: a joined key would be a new string per message)
    let ofJourney = this.tags.get(journey ?? '');
    if (!ofJourney) this.tags.set(journey ?? '', (ofJourney = new Map()));
    let tags = ofJourney.get(step ?? '');
    if (!tags) {
      const columns = { journey_id: journey, step_id: step };
      const t: Record<string, string> = {};
      for (const { tag, column } of MESSAGE_TAGS) if (columns[column]) t[tag] = columns[column];
      tags = Object.freeze(t);
      ofJourney.set(step ?? '', tags);
    }
    return tags;
  }
}

/** The sync request of a sync row (payload: profile, event, properties, and the customer's id, email, phone). */
function buildSync(row: MessageColumns): SyncRequest | string {
  let p: Record<string, unknown>;
  try {
    p = JSON.parse(row.payload) as Record<string, unknown>;
  } catch {
    return 'the payload is not valid JSON';
  }
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : null);
  const profile = p.profile && typeof p.profile === 'object' && Object.keys(p.profile).length > 0 ? (p.profile as Record<string, DataValue>) : undefined;
  const eventName = str(p.event);
  return {
    idempotencyKey: row.idempotency_key,
    customer: { id: String(p.customer_id ?? row.address), email: str(p.email), phone: str(p.phone) },
    ...(profile ? { profile } : {}),
    ...(eventName ? { event: { name: eventName, properties: (p.properties ?? {}) as Record<string, DataValue> } } : {}),
  };
}
