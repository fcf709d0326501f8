/**
 * A small temp project and store for engine tests: journey.config.yaml with e-mail
 * and SMS, providers, templates and coupons; segments; journeys written inline by
 * the test; customers, orders, events and suppressions imported from CSV/JSONL text
 * (so that the store's facts and reachability are refreshed as in real use); ticks at
 * chosen instants, through runTick or the CLI.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTick, type TickReport } from '../../../src/engine/tick.js';
import { loadProject } from '../../../src/project/load-project.js';
import type { Project } from '../../../src/project/model.js';
import type { StoreDb } from '../../../src/store/db.js';
import { importFile } from '../../../src/store/import/import.js';
import type { ImportKind } from '../../../src/store/import/kinds.js';
import { openStore } from '../../../src/store/open.js';
import { customerJourneys, recordPendingAsSent } from '../../../src/store/reports.js';
import { tickWithLock } from '../../../src/engine/runner.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const FIXTURES = path.join(ROOT, 'test/fixtures/engine');

export const ms = (t: string | Date | number): number => (typeof t === 'number' ? t : typeof t === 'string' ? Date.parse(t) : t.getTime());
export const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export const BASE_CONFIG = (extra = ''): string => `version: 1
store:
  path: .journey/store.db
timezone: UTC
channels:
  email: { provider: sendgrid }
  sms: { provider: twilio }
providers:
  sendgrid: { type: sendgrid, api_key: "\${SENDGRID_API_KEY}", from: shop@shop.test }
  twilio: { type: twilio, account_sid: AC00000000000000000000000000000000, auth_token: "\${TWILIO_AUTH_TOKEN}", from: "+420700000000" }
  klaviyo: { type: klaviyo, api_key: "\${KLAVIYO_API_KEY}" }
templates:
  hello: { channel: email, provider_template: d-hello, subject: Hello }
  followup: { channel: email, provider_template: d-follow, subject: Follow-up }
  third: { channel: email, provider_template: d-third, subject: Third }
  nudge-sms: { channel: sms, body: "Hi {{ customer.first_name | default: 'there' }}" }
coupons:
  ten: { discount: 10%, prefix: TEN, valid_for: 30d }
  fixed: { discount: 5%, code: WELCOME5 }
${extra}`;

export const BASE_SEGMENTS = `segments:
  everyone:
    rule: { reachable: email }
  registered:
    rule: { registered_at: { exists: true } }
  vip:
    rule: { attributes.vip: true }
  buyers:
    rule: { orders: { count: { gte: 1 } } }
`;

export const CUSTOMER_HEADER = 'id,email,phone,first_name,registered_at,timezone,consent_email,consent_sms';

export interface ShopOptions {
  /** journey id -> YAML text (the whole file). */
  journeys: Record<string, string>;
  /** Extra config YAML appended to the base config (policies:, test_recipients: ...). */
  config?: string;
  /** The whole config text instead of the base one. */
  configText?: string;
  segments?: string;
  /** Segment files by name (instead of `segments`). */
  segmentFiles?: Record<string, string>;
  /** templates/NAME: text */
  templateFiles?: Record<string, string>;
  /** Rows for customers.csv (without header), imported at `importAt`. */
  customers?: string[];
  customerHeader?: string;
  importAt?: string;
}

export interface OutboxRow {
  id: number;
  idempotency_key: string;
  enrolment_id: number;
  journey_id: string;
  step_id: string;
  customer_id: string;
  channel: string;
  provider: string;
  template: string;
  address: string;
  payload: string;
  /** The rendered message (JSON), null for a provider's own template. */
  content: string | null;
  status: string;
  created_at: number;
}

export interface EnrolmentRow {
  id: number;
  journey_id: string;
  version: number;
  customer_id: string;
  entry_key: string;
  order_id: string | null;
  trigger_at: number;
  entered_at: number;
  status: string;
  step_id: string | null;
  step_started_at: number | null;
  due_at: number | null;
  variant: string | null;
  exit_reason: string | null;
  exited_at: number | null;
  converted_at: number | null;
  conversion_order_id: string | null;
  conversion_value: number | null;
}

export class Shop {
  project!: Project;
  readonly db: StoreDb;
  private files = 0;

  private constructor(readonly dir: string) {
    this.db = openStore(path.join(dir, '.journey/store.db'));
  }

  static async create(opts: ShopOptions): Promise<Shop> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-engine-'));
    mkdirSync(path.join(dir, 'journeys'));
    mkdirSync(path.join(dir, 'segments'));
    mkdirSync(path.join(dir, '.journey'));
    writeFileSync(path.join(dir, 'journey.config.yaml'), opts.configText ?? BASE_CONFIG(opts.config));
    if (opts.segmentFiles) for (const [name, text] of Object.entries(opts.segmentFiles)) writeFileSync(path.join(dir, `segments/${name}`), text);
    else writeFileSync(path.join(dir, 'segments/segments.yaml'), opts.segments ?? BASE_SEGMENTS);
    for (const [id, text] of Object.entries(opts.journeys)) writeFileSync(path.join(dir, `journeys/${id}.yaml`), text);
    if (opts.templateFiles) {
      mkdirSync(path.join(dir, 'templates'), { recursive: true });
      for (const [name, text] of Object.entries(opts.templateFiles)) writeFileSync(path.join(dir, `templates/${name}`), text);
    }
    const shop = new Shop(dir);
    shop.reload();
    if (opts.customers) await shop.importCsv('customers', opts.customerHeader ?? CUSTOMER_HEADER, opts.customers, opts.importAt ?? '2026-01-01T00:00:00Z');
    return shop;
  }

  /** Reads the project files again (after a journey was edited). Fails on any validation error. */
  reload(): Project {
    const { project, diagnostics } = loadProject(this.dir, this.dir);
    const errors = diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) throw new Error(`invalid test project:\n${errors.map((d) => `${d.file}:${d.line}:${d.column} ${d.message}`).join('\n')}`);
    this.project = project;
    return project;
  }

  writeJourney(id: string, text: string | null): Project {
    const file = path.join(this.dir, `journeys/${id}.yaml`);
    if (text === null) {
      if (existsSync(file)) unlinkSync(file);
    } else writeFileSync(file, text);
    return this.reload();
  }

  /** Imports rows of CSV text (or JSON lines for events when header is null) as the importer would at `at`. */
  async importCsv(kind: ImportKind, header: string | null, rows: string[], at: string): Promise<void> {
    const ext = header === null ? 'jsonl' : 'csv';
    const file = path.join(this.dir, `import-${++this.files}.${ext}`);
    writeFileSync(file, (header === null ? rows : [header, ...rows]).join('\n') + '\n');
    await importFile(this.db, { kind, file, now: ms(at) });
  }

  customers(rows: string[], at: string, header = CUSTOMER_HEADER): Promise<void> {
    return this.importCsv('customers', header, rows, at);
  }

  /** Orders: id,customer_id,placed_at,status,status_changed_at,total (status_changed_at may be empty: the import's clock). */
  orders(rows: string[], at: string): Promise<void> {
    return this.importCsv('orders', 'id,customer_id,placed_at,status,status_changed_at,total,currency', rows.map((r) => `${r},EUR`), at);
  }

  events(events: { id?: string; customer_id: string; type: string; occurred_at: string; properties?: Record<string, unknown> }[], at: string): Promise<void> {
    return this.importCsv('events', null, events.map((e) => JSON.stringify(e)), at);
  }

  suppress(rows: string[], at: string): Promise<void> {
    return this.importCsv('suppressions', 'channel,address,reason', rows, at);
  }

  tick(at: string | number | Date): TickReport {
    return runTick(this.db, this.project, { now: new Date(ms(at)) });
  }

  /**
   * What `journey simulate` does at each instant (a tick under the lock, then every
   * pending message recorded as sent), with the shop's data arriving on the way:
   * `actions` run just before the first tick at or after their time.
   */
  async simulate(from: string, to: string, stepMs: number, actions: [string, () => unknown][] = []): Promise<void> {
    const pending = [...actions].sort((a, b) => ms(a[0]) - ms(b[0]));
    for (let t = ms(from); t <= ms(to); t += stepMs) {
      while (pending.length && ms(pending[0]![0]) <= t) await pending.shift()![1]();
      tickWithLock(this.db, this.project, new Date(t));
      recordPendingAsSent(this.db, t);
    }
  }

  /** Ticks every `step` from `from` to `to` inclusive. */
  ticks(from: string, to: string, stepMs: number): TickReport[] {
    const out: TickReport[] = [];
    for (let t = ms(from); t <= ms(to); t += stepMs) out.push(this.tick(t));
    return out;
  }

  outbox(where = 'true', params: (string | number)[] = []): OutboxRow[] {
    return this.db.all<OutboxRow>(`SELECT *, (SELECT content FROM outbox_messages m WHERE m.id = outbox.id) AS content FROM outbox WHERE ${where} ORDER BY id`, params);
  }

  /** Messages (not syncs) as "customer step template @ISO". */
  sent(customer?: string): string[] {
    return this.outbox(`channel <> 'sync'${customer ? ' AND customer_id = ?' : ''}`, customer ? [customer] : []).map(
      (o) => `${o.customer_id} ${o.step_id} @${iso(o.created_at)}`,
    );
  }

  enrolments(where = 'true', params: (string | number)[] = []): EnrolmentRow[] {
    return this.db.all<EnrolmentRow>(`SELECT * FROM enrolments WHERE ${where} ORDER BY id`, params);
  }

  enrolment(customer: string, journey?: string): EnrolmentRow | undefined {
    const rows = this.enrolments(`customer_id = ?${journey ? ' AND journey_id = ?' : ''}`, journey ? [customer, journey] : [customer]);
    return rows[rows.length - 1];
  }

  /** The step log of a customer's latest enrolment (in a journey), as "step outcome[: detail]". */
  log(customer: string, journey?: string): string[] {
    const all = customerJourneys(this.db, customer).filter((j) => !journey || j.enrolment.journey_id === journey);
    const latest = all[0];
    return latest ? latest.log.map((l) => `${l.step_id ?? '-'} ${l.outcome}${l.detail ? `: ${l.detail}` : ''}`) : [];
  }

  /** The step log with times. */
  timedLog(customer: string, journey?: string): string[] {
    const all = customerJourneys(this.db, customer).filter((j) => !journey || j.enrolment.journey_id === journey);
    return all[0] ? all[0].log.map((l) => `${iso(l.at)} ${l.step_id ?? '-'} ${l.outcome}${l.detail ? `: ${l.detail}` : ''}`) : [];
  }

  /** A delivery event (opened, clicked, ...) of an outbox row, as a provider webhook would store it. */
  messageEvent(outboxId: number, kind: string, at: string | number): void {
    const row = this.db.get<{ provider: string; address: string }>('SELECT provider, address FROM outbox WHERE id = ?', [outboxId])!;
    this.db.run(`INSERT INTO message_events (event_id, outbox_id, provider, kind, occurred_at, address) VALUES (?, ?, ?, ?, ?, ?)`, [
      `test:${outboxId}:${kind}:${ms(at)}`,
      outboxId,
      row.provider,
      kind,
      ms(at),
      row.address,
    ]);
  }

  /** Row counts of the engine's tables, for "nothing changed" checks. */
  counts(): Record<string, number> {
    const t = ['enrolments', 'outbox', 'step_log', 'segment_memberships'];
    return Object.fromEntries(t.map((n) => [n, this.db.get<{ n: number }>(`SELECT count(*) AS n FROM ${n}`)!.n]));
  }

  /** The engine's state as rows, for "nothing changed" checks. */
  state(): unknown {
    return {
      enrolments: this.db.all('SELECT * FROM enrolments ORDER BY id'),
      outbox: this.db.all('SELECT id, idempotency_key, status, address, payload FROM outbox ORDER BY id'),
      log: this.db.all('SELECT * FROM step_log ORDER BY id'),
      customers: this.db.all('SELECT id, attributes FROM customers ORDER BY id'),
    };
  }

  cli(now: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin/journey.js'), '-C', this.dir, '--now', now, ...args], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  close(): void {
    try {
      this.db.close();
    } catch {
      // already closed
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A journey file: the id line and the rest. */
/** A seed project: the example shop's config and segments, with some of the journey library. */
export function seedProject(journeyIds: string[]): Pick<ShopOptions, 'configText' | 'segmentFiles' | 'journeys' | 'templateFiles'> {
  const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');
  // the example's e-mails carry signed unsubscribe links
  process.env.JOURNEY_LINK_SECRET ??= 'test-link-secret';
  return {
    templateFiles: Object.fromEntries(readdirSync(path.join(ROOT, 'examples/shop/templates')).map((f) => [f, read(`examples/shop/templates/${f}`)])),
    configText: read('examples/shop/journey.config.yaml').replace('journeys: ../../journeys', 'journeys: journeys'),
    segmentFiles: { 'buyers.yaml': read('examples/shop/segments/buyers.yaml'), 'retention.yaml': read('examples/shop/segments/retention.yaml') },
    journeys: Object.fromEntries(journeyIds.map((id) => [id, read(`journeys/${id}.yaml`)])),
  };
}

export const journey = (id: string, body: string): string => `id: ${id}\n${body.replace(/^\n/, '')}`;
