/**
 * `journey forget` and `journey export` end to end: a shop whose customer has been
 * through everything (orders, items, events, an alias, a journey's message and its
 * delivery events, a suppression, an e-mail changed by a re-import), then erased
 * through the built CLI; the raw database file and its WAL are grepped afterwards.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.js';
import { HASH_KEY_ENV } from '../../src/store/privacy.js';
import { Shop, journey } from '../engine/helpers/shop.js';

const KEY = 'k'.repeat(16) + '0123456789abcdef0123';
const HEADER = 'id,email,phone,first_name,last_name,registered_at,timezone,consent_email,consent_sms';
const OLD_ROW = 'ann,Zuzana.Old-Address@shop.test,+420601234567,Zuzanka,Kvetoslavova,2025-01-01T00:00:00Z,Europe/Prague,yes,yes';
const ROW = 'ann,zuzana.kvetoslavova@shop.test,+420601234567,Zuzanka,Kvetoslavova,2025-01-01T00:00:00Z,Europe/Prague,yes,yes';
const BOB = 'bob,bob@shop.test,+420700000111,Bob,Builder,2025-01-01T00:00:00Z,UTC,yes,yes';
/** What must not be found anywhere after the erasure. */
const NEEDLES = ['zuzana', 'Zuzana', 'Zuzanka', 'Kvetoslavova', '601234567', 'old-address', 'Old-Address'];

const J = journey('welcome', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: hello
    send: { channel: email, template: hello }
  - id: nudge
    send: { channel: sms, template: nudge-sms }
`);

let shop: Shop;
let storePath: string;

const cli = (env: Record<string, string | undefined>, ...args: string[]) => {
  const saved = process.env[HASH_KEY_ENV];
  if (env[HASH_KEY_ENV] === undefined) delete process.env[HASH_KEY_ENV];
  else process.env[HASH_KEY_ENV] = env[HASH_KEY_ENV];
  try {
    return shop.cli('2026-03-10T12:00:00Z', ...args);
  } finally {
    if (saved === undefined) delete process.env[HASH_KEY_ENV];
    else process.env[HASH_KEY_ENV] = saved;
  }
};
const withKey = (...args: string[]) => cli({ [HASH_KEY_ENV]: KEY }, ...args);

function rawFiles(): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const suffix of ['', '-wal', '-shm', '-journal']) if (existsSync(storePath + suffix)) out[storePath + suffix] = readFileSync(storePath + suffix);
  return out;
}

function foundInFiles(needle: string): string[] {
  return Object.entries(rawFiles())
    .filter(([, bytes]) => bytes.includes(Buffer.from(needle, 'utf8')))
    .map(([file]) => file);
}

function foundInTables(needle: string): string[] {
  const db = openStore(storePath);
  try {
    const tables = db.all<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table'`).map((t) => t.name);
    return tables.filter((t) => db.all(`SELECT * FROM "${t}"`).some((row) => JSON.stringify(row).includes(needle)));
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  delete process.env[HASH_KEY_ENV];
  shop = await Shop.create({ journeys: { welcome: J }, customers: [OLD_ROW, BOB], customerHeader: HEADER });
  storePath = `${shop.dir}/.journey/store.db`;
  // the e-mail changes: the old one is left in the pages as garbage unless scrubbed
  await shop.customers([ROW], '2026-02-01T00:00:00Z', HEADER);
  await shop.orders(['o1,ann,2026-02-02T10:00:00Z,delivered,,120.50', 'o2,bob,2026-02-02T10:00:00Z,delivered,,30'], '2026-02-03T00:00:00Z');
  await shop.importCsv('order-items', 'order_id,line,product_id,sku,title,quantity,price', ['o1,1,p1,SKU1,Shoes,1,120.50'], '2026-02-03T00:00:00Z');
  await shop.events([{ id: 'ev1', customer_id: 'ann', type: 'page_view', occurred_at: '2026-02-04T00:00:00Z', properties: { email: 'zuzana.kvetoslavova@shop.test' } }], '2026-02-04T00:00:00Z');
  shop.db.run(`INSERT INTO customer_aliases (alias, customer_id) VALUES ('zuzana.kvetoslavova@shop.test', 'ann')`);
  shop.tick('2026-03-02T12:00:00Z');
  const mine = shop.outbox(`customer_id = 'ann'`);
  expect(mine.map((o) => o.step_id)).toEqual(['hello', 'nudge']);
  shop.messageEvent(mine[0]!.id, 'opened', '2026-03-02T13:00:00Z');
  shop.db.run(`UPDATE outbox_delivery SET status = 'sent', provider_message_id = 'pm-1', sent_at = 1 WHERE id = ?`, [mine[0]!.id]);
  // an unmatched delivery event that names only the address
  shop.db.run(`INSERT INTO message_events (event_id, outbox_id, provider, kind, occurred_at, address) VALUES ('x1', NULL, 'sendgrid', 'bounced', 1, 'Zuzana.Kvetoslavova@shop.test')`);
  await shop.suppress(['sms,+420601234567,unsubscribed'], '2026-03-03T00:00:00Z');
  shop.db.close();
});
afterAll(() => shop.close());

describe('journey forget', () => {
  it('refuses without JOURNEY_HASH_KEY, before touching the store', () => {
    const before = readFileSync(storePath);
    const r = cli({}, 'forget', 'ann');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('JOURNEY_HASH_KEY is not set');
    expect(r.stderr).toContain('openssl rand -hex 32');
    expect(readFileSync(storePath).equals(before)).toBe(true);
    const short = cli({ [HASH_KEY_ENV]: 'tiny-secret' }, 'forget', 'ann');
    expect(short.status).toBe(1);
    expect(short.stderr).toContain('must have 32 or more');
    expect(short.stderr).not.toContain('tiny-secret');
  });

  it('the person is in the store and the raw files before the erasure (the grep can find them)', () => {
    expect(foundInTables('zuzana.kvetoslavova@shop.test').sort()).toEqual(
      expect.arrayContaining(['customers', 'customer_aliases', 'events', 'message_events', 'outbox_messages']),
    );
    expect(foundInTables('+420601234567')).toEqual(expect.arrayContaining(['customers', 'suppressions', 'outbox_messages']));
    // checkpointed into the file by the next command; the old address too, as garbage
    const r = withKey('migrate');
    expect(r.status, r.stderr).toBe(0);
    for (const n of ['Zuzanka', 'old-address']) expect(foundInFiles(n), n).not.toEqual([]);
  });

  it('export gives everything held about the person as JSON, unmasked', () => {
    const r = withKey('export', 'ann');
    expect(r.status, r.stderr).toBe(0);
    const data = JSON.parse(r.stdout);
    expect(data.customer).toBe('ann');
    expect(data.tables.customers).toEqual([expect.objectContaining({ id: 'ann', email: 'zuzana.kvetoslavova@shop.test', phone: '+420601234567', last_name: 'Kvetoslavova' })]);
    expect(data.tables.orders.map((o: { id: string }) => o.id)).toEqual(['o1']);
    expect(data.tables.order_items).toHaveLength(1);
    expect(data.tables.events.map((e: { id: string }) => e.id)).toEqual(['ev1']);
    expect(data.tables.outbox_messages).toHaveLength(2);
    expect(data.tables.message_events).toHaveLength(2);
    expect(data.tables.suppressions).toEqual([expect.objectContaining({ channel: 'sms', address: '+420601234567' })]);
    expect(JSON.stringify(data)).not.toContain('bob');
    const missing = withKey('export', 'nobody');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("no customer 'nobody'");
  });

  it('removes the person from every table, the free pages and the WAL, and says what it removed', () => {
    // an erasure request comes with the person's address, not the store's id
    const r = withKey('forget', 'Zuzana.Kvetoslavova@shop.test');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('forgot ann');
    expect(r.stdout).toMatch(/removed: .*customers 1/);
    expect(r.stdout).toMatch(/orders 1/);
    expect(r.stdout).toMatch(/outbox_messages 2/);
    expect(r.stdout).toContain('kept as keyed hashes only');
    expect(r.stdout).toContain('free pages and write-ahead log scrubbed');
    expect(r.stdout).not.toContain('zuzana');
    expect(r.stdout).not.toContain(KEY);
    for (const n of NEEDLES) {
      expect(foundInTables(n), n).toEqual([]);
      expect(foundInFiles(n), n).toEqual([]);
    }
    // bob is untouched
    const db = openStore(storePath);
    try {
      expect(db.all(`SELECT id FROM customers`)).toEqual([{ id: 'bob' }]);
      expect(db.get<{ n: number }>(`SELECT count(*) AS n FROM outbox WHERE customer_id = 'bob'`)!.n).toBe(2);
      // the e-mail and the phone (the alias is the e-mail; the old e-mail the store no longer had)
      expect(db.get<{ n: number }>(`SELECT count(*) AS n FROM erased_addresses`)!.n).toBe(2);
    } finally {
      db.close();
    }
  });

  it('a forgotten id again is an error that says so (exit 1); a different key is refused', () => {
    const r = withKey('forget', 'ann');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("no customer 'ann' in the store");
    const other = cli({ [HASH_KEY_ENV]: 'z'.repeat(40) }, 'forget', 'bob');
    expect(other.status).toBe(1);
    expect(other.stderr).toContain('not the key this store');
  });

  it('re-imported from an old export, the person is not messaged again; without the key the import refuses', async () => {
    await import('node:fs').then((fs) => fs.writeFileSync(`${shop.dir}/old-export.csv`, `${HEADER}\n${ROW}\n`));
    const noKey = cli({}, 'import', 'customers', `${shop.dir}/old-export.csv`);
    expect(noKey.status).toBe(1);
    expect(noKey.stderr).toContain('JOURNEY_HASH_KEY is not set');
    const imported = withKey('import', 'customers', `${shop.dir}/old-export.csv`);
    expect(imported.status, imported.stderr).toBe(0);
    // a new journey that would message everyone reachable
    const fs = await import('node:fs');
    fs.writeFileSync(`${shop.dir}/journeys/again.yaml`, journey('again', `
trigger: { segment: everyone, backfill: true }
steps:
  - id: hi
    send: { channel: email, template: hello }
  - id: hi_sms
    send: { channel: sms, template: nudge-sms }
`));
    const run = withKey('run', '--once', '--no-deliver', '--json');
    expect(run.status, run.stderr).toBe(0);
    const db = openStore(storePath);
    try {
      expect(db.all(`SELECT customer_id, step_id FROM outbox WHERE journey_id = 'again' ORDER BY 1, 2`)).toEqual([
        { customer_id: 'bob', step_id: 'hi' },
        { customer_id: 'bob', step_id: 'hi_sms' },
      ]);
      expect(db.all(`SELECT customer_id FROM erased_customers`)).toEqual([{ customer_id: 'ann' }]);
    } finally {
      db.close();
    }
    const seg = withKey('segment', 'everyone', '--json', '--sample', '5');
    expect(JSON.parse(seg.stdout)).toMatchObject({ count: 1, sample: [{ id: 'bob', email: 'b**@shop.test' }] });
    const human = withKey('segment', 'everyone', '--sample', '5');
    expect(human.stdout).toContain('b**@shop.test');
    expect(human.stdout).not.toContain('bob@shop.test');
    expect(withKey('--show-pii', 'segment', 'everyone', '--sample', '5').stdout).toContain('bob@shop.test');
  });
});

describe('the store file', () => {
  it('is created readable by its owner only, and so is its WAL', () => {
    for (const f of [storePath, `${storePath}-wal`]) {
      const db = openStore(storePath); // keeps the WAL present while open
      try {
        db.run(`INSERT OR REPLACE INTO runner_lock VALUES ('probe', 'test', 0, 0)`);
        expect(existsSync(f), f).toBe(true);
        expect((statSync(f).mode & 0o777).toString(8), f).toBe('600');
      } finally {
        db.close();
      }
    }
  });
});
