/** Stores, configs and a provider server with an "accepted" ledger, for the dispatcher tests. */
import type { Config, ProviderConfig } from '../../../src/project/model.js';
import type { StoreDb } from '../../../src/store/db.js';
import { openStore } from '../../../src/store/open.js';
import { tempDir } from '../../store/helpers.js';
import path from 'node:path';
import type { Recorded } from '../helpers/server.js';

export const TEMPLATES: Config['templates'] = {
  welcome: { channel: 'email', providerTemplate: 'd-welcome', subject: 'Hello {{first_name}}', body: null },
  plain: { channel: 'email', providerTemplate: null, subject: 'Hi {{first_name}}', body: 'Your code {{coupon}}' },
  sms: { channel: 'sms', providerTemplate: null, subject: null, body: '{{first_name}}, code {{coupon}}' },
};

export function projectConfig(providers: ProviderConfig[], templates: Config['templates'] = TEMPLATES): Config {
  return {
    file: null,
    storePath: null,
    timezone: 'UTC',
    journeysDir: 'journeys',
    segmentsDir: 'segments',
    policies: { quietHours: null, sendWindow: null, frequencyCap: null },
    testRecipients: null,
    channels: {},
    providers: Object.fromEntries(providers.map((p) => [p.name, p])),
    templates,
    coupons: {},
  };
}

export function storeAt(dir = tempDir()): StoreDb {
  return openStore(path.join(dir, 'store.db'));
}

export interface RowSpec {
  provider: string;
  template?: string;
  channel?: string;
  address?: (i: number) => string;
  payload?: (i: number) => unknown;
  journey?: string;
  nextAttemptAt?: number;
}

/** n outbox rows (and their customers), keys j:<i>:s. Returns the keys. */
export function insertRows(db: StoreDb, n: number, spec: RowSpec, from = 0): string[] {
  const keys: string[] = [];
  db.transaction(() => {
    for (let i = from; i < from + n; i++) {
      const customer = `c${i}`;
      const address = spec.address ? spec.address(i) : `user${i}@example.test`;
      db.run(`INSERT OR IGNORE INTO customers (id, email, phone) VALUES (?, ?, ?)`, [customer, address.includes('@') ? address : null, address.includes('@') ? null : address]);
      const key = `${spec.journey ?? 'j'}:${i}:${spec.provider}`;
      const { id } = db.get<{ id: number }>(
        `INSERT INTO outbox_messages (idempotency_key, enrolment_id, journey_id, step_id, customer_id, channel, provider, template, address, payload, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0) RETURNING id`,
        [key, i, spec.journey ?? 'j', 'send', customer, spec.channel ?? 'email', spec.provider, spec.template ?? 'welcome', address, JSON.stringify(spec.payload ? spec.payload(i) : { first_name: `N${i}`, coupon: `C${i}` })],
      )!;
      if (spec.nextAttemptAt) db.run(`UPDATE outbox_delivery SET next_attempt_at = ? WHERE id = ?`, [spec.nextAttemptAt, id]);
      keys.push(key);
    }
  });
  return keys;
}

export interface OutboxRow {
  id: number;
  idempotency_key: string;
  status: string;
  attempts: number;
  provider_message_id: string | null;
  last_error: string | null;
  next_attempt_at: number;
}

export function rows(db: StoreDb): OutboxRow[] {
  return db.all<OutboxRow>(`SELECT id, idempotency_key, status, attempts, provider_message_id, last_error, next_attempt_at FROM outbox ORDER BY id`);
}

export function statusCounts(db: StoreDb): Record<string, number> {
  return Object.fromEntries(db.all<{ status: string; n: number }>(`SELECT status, count(*) AS n FROM outbox GROUP BY status`).map((r) => [r.status, r.n]));
}

/** The idempotency key a provider's request carries, wherever that provider puts it. */
export function keyOf(req: Recorded): string | undefined {
  const header = req.headers['idempotency-key'];
  if (typeof header === 'string') return header;
  if (req.path.includes('/mail/send')) return req.json().personalizations?.[0]?.custom_args?.journey_key;
  if (req.path.startsWith('/email')) return req.json().Metadata?.journey_key;
  const form = req.form();
  if (typeof form['v:journey_key'] === 'string') return form['v:journey_key'];
  if (typeof form.StatusCallback === 'string') return new URL(form.StatusCallback).searchParams.get('key') ?? undefined;
  return undefined;
}

/**
 * What a provider with idempotency does: the first request under a key is
 * accepted, a repeat is recognised. `accepted` holds each key once; `duplicates`
 * lists keys accepted a second time (each one a message a customer got twice).
 */
export class Ledger {
  readonly accepted = new Map<string, number>();
  readonly duplicates: string[] = [];
  accept(key: string): number {
    const seen = this.accepted.get(key);
    if (seen !== undefined) {
      this.duplicates.push(key);
      return seen;
    }
    const id = this.accepted.size + 1;
    this.accepted.set(key, id);
    return id;
  }
}
