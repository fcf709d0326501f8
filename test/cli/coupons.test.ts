/**
 * Coupon codes end to end through the built CLI: a pool imported from a file, codes
 * issued by ticks, exported as Shopify's Admin GraphQL bulk-add requests (checked
 * against its schema) and as CSV,
 * redeemed by imported orders that carry them as their discount code, a pool running
 * low warned about by `journey plan`, and two processes ticking one store at once
 * never giving one code to two customers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildSchema, getVariableValues, parse as parseGraphql, validate as validateGraphql, type OperationDefinitionNode } from 'graphql';
import Papa from 'papaparse';
import { afterEach, describe, expect, it } from 'vitest';
import { journeyAt, spawned } from '../helpers/spawn.js';
import { BASE_CONFIG, ROOT, Shop, journey } from '../engine/helpers/shop.js';
import { openStore } from '../../src/store/open.js';

const NOW = '2026-03-02T12:00:00Z';

let shop: Shop | undefined;
afterEach(() => {
  shop?.close();
  shop = undefined;
});

const SECRETS = { SENDGRID_API_KEY: 'SG.test', TWILIO_AUTH_TOKEN: 'tw-test' };
const cli = (dir: string, ...args: string[]) => journeyAt(dir, NOW, args, { env: SECRETS });
const run = (cmd: string, args: string[]) => spawned(cmd, args, { env: SECRETS });

const CONFIG = BASE_CONFIG().replace('coupons:\n', 'coupons:\n  pooled: { discount: 15%, pool: true }\n');
const welcome = (id: string) => journey(id, `
trigger: { segment: everyone, backfill: true }
steps:
  - id: offer
    send: { channel: email, template: hello, coupon: pooled }
`);

const customers = (n: number, prefix = 'c') =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i + 1).padStart(3, '0')},${prefix}${i + 1}@shop.test,,Name${i + 1},2025-01-01T00:00:00Z,,yes,no`);

async function setUp(journeys: Record<string, string>, n: number): Promise<Shop> {
  const s = await Shop.create({ configText: CONFIG, journeys, customers: customers(n) });
  s.db.close();
  return s;
}

const parse = (text: string) => Papa.parse<string[]>(text, { skipEmptyLines: true }).data;

describe('coupon pools', () => {
  it('imports a pool, issues its codes at a tick, exports them for Shopify and as CSV, and matches redemptions from orders', async () => {
    shop = await setUp({ welcome: welcome('welcome') }, 3);
    const file = path.join(shop.dir, 'codes.csv');
    // as a shop system exports them: a header with a Code column among others, one code twice
    writeFileSync(file, 'Discount,Code,Usage\nSPRING,SPR-AAAA1,0\nSPRING,SPR-BBBB2,0\nSPRING,SPR-CCCC3,0\nSPRING,SPR-DDDD4,0\nSPRING,SPR-AAAA1,0\n');
    const imported = await cli(shop.dir, 'import', 'coupons', file, '--coupon', 'pooled');
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('imported 4 codes into the pool of pooled; skipped 1 repeating a code of the file (a code is the same in any case); 4 free');

    const tick = await cli(shop.dir, 'run', '--once', '--no-deliver');
    expect(tick.status, tick.stderr).toBe(0);

    // a Code header, one issued code a row (the free one stays out)
    const codes = await cli(shop.dir, 'coupons', 'export', 'pooled', '--format', 'codes');
    expect(codes.status, codes.stderr).toBe(0);
    const rows = parse(codes.stdout);
    expect(rows[0]).toEqual(['Code']);
    expect(rows.slice(1).every((r) => r.length === 1)).toBe(true);
    expect(rows.slice(1).map((r) => r[0]).sort()).toEqual(['SPR-AAAA1', 'SPR-BBBB2', 'SPR-CCCC3']);
    expect(codes.stdout).toMatch(/^Code\r\nSPR-[A-Z0-9]+\r\n/);

    // Shopify: request bodies for its Admin GraphQL discountRedeemCodeBulkAdd, as its reference
    // documents the mutation (discountId: ID!, codes: [DiscountRedeemCodeInput!]!, each { code })
    const gid = 'gid://shopify/DiscountCodeNode/1057371';
    const graphql = await cli(shop.dir, 'coupons', 'export', 'pooled', '--format', 'shopify-graphql', '--discount-id', gid, '--per-request', '2');
    expect(graphql.status, graphql.stderr).toBe(0);
    const requests = graphql.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { query: string; variables: { discountId: string; codes: { code: string }[] } });
    expect(requests.map((r) => r.variables.codes.length)).toEqual([2, 1]);
    // checked as Shopify's server would: the document against its schema, the variables coerced to its input types
    const schema = buildSchema(readFileSync(path.join(ROOT, 'test/fixtures/shopify/discount-redeem-code-bulk-add.graphql'), 'utf8'));
    for (const r of requests) {
      expect(Object.keys(r).sort()).toEqual(['query', 'variables']);
      const document = parseGraphql(r.query);
      expect(validateGraphql(schema, document).map((e) => e.message)).toEqual([]);
      const operation = document.definitions[0] as OperationDefinitionNode;
      const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], r.variables);
      expect(coerced.errors?.map((e) => e.message)).toBeUndefined();
      expect(r.variables.discountId).toBe(gid);
    }
    expect(requests.flatMap((r) => r.variables.codes.map((c) => c.code)).sort()).toEqual(['SPR-AAAA1', 'SPR-BBBB2', 'SPR-CCCC3']);
    const noId = await cli(shop.dir, 'coupons', 'export', 'pooled', '--format', 'shopify-graphql');
    expect(noId.status).toBe(64);
    expect(noId.stderr.split('\n')[0]).toContain('--format shopify-graphql needs --discount-id');
    const badId = await cli(shop.dir, 'coupons', 'export', 'pooled', '--format', 'shopify-graphql', '--discount-id', '1057371');
    expect(badId.status).toBe(64);
    expect(badId.stderr).toContain('gid://shopify/DiscountCodeNode/NUMBER');
    const tooMany = await cli(shop.dir, 'coupons', 'export', 'pooled', '--format', 'shopify-graphql', '--discount-id', gid, '--per-request', '251');
    expect(tooMany.status).toBe(64);

    const plain = await cli(shop.dir, 'coupons', 'export', 'pooled');
    const table = parse(plain.stdout);
    expect(table[0]).toEqual(['code', 'coupon', 'customer_id', 'journey_id', 'step_id', 'issued_at', 'expires_at', 'redeemed_order_id', 'redeemed_at']);
    const byCustomer = new Map(table.slice(1).map((r) => [r[2], r]));
    expect([...byCustomer.keys()].sort()).toEqual(['c001', 'c002', 'c003']);
    const c002 = byCustomer.get('c002')!;
    expect(c002.slice(1, 6)).toEqual(['pooled', 'c002', 'welcome', 'offer', '2026-03-02T12:00:00.000Z']);
    expect(c002[7]).toBe('');

    // c002 orders with the code they were given (in other case, as shops accept it); c003 with a code not theirs to redeem twice
    const orders = path.join(shop.dir, 'orders.csv');
    writeFileSync(orders, `id,customer_id,placed_at,status,total,currency,attributes.discount_code\no1,c002,2026-03-03T10:00:00Z,processing,40,EUR,${c002[0]!.toLowerCase()}\no2,c003,2026-03-04T10:00:00Z,processing,40,EUR,\n`);
    const ordered = await cli(shop.dir, 'import', 'orders', orders);
    expect(ordered.status, ordered.stderr).toBe(0);
    expect(ordered.stdout).toContain('1 issued coupon code redeemed');

    const after = parse((await cli(shop.dir, 'coupons', 'export', 'pooled')).stdout);
    expect(after.find((r) => r[2] === 'c002')!.slice(7)).toEqual(['o1', '2026-03-03T10:00:00.000Z']);
    expect(after.filter((r) => r[7] !== '' && r[0] !== 'code')).toHaveLength(1);

    // a Shopify orders export redeems too: c001's code in its Discount Code column
    const c001 = byCustomer.get('c001')!;
    const header = readFileSync(path.join(ROOT, 'test/fixtures/store/shopify/orders_only_export.csv'), 'utf8').split('\n')[0]!;
    const columns = header.split(',');
    const row = columns.map((c) =>
      ({ Name: '#3001', Email: 'c1@shop.test', 'Financial Status': 'paid', 'Paid at': '2026-03-05 10:00:00 +0000', Currency: 'EUR', Total: '50.00', 'Discount Code': c001[0]!, 'Created at': '2026-03-05 09:59:00 +0000', 'Lineitem quantity': '1', 'Lineitem name': 'Tee', 'Lineitem price': '50.00', Id: '5409990000001' })[c] ?? '',
    );
    const shopifyOrders = path.join(shop.dir, 'orders_export.csv');
    writeFileSync(shopifyOrders, `${header}\n${row.join(',')}\n`);
    const fromShopify = await cli(shop.dir, 'import', 'orders', shopifyOrders, '--preset', 'shopify');
    expect(fromShopify.status, fromShopify.stderr).toBe(0);
    expect(fromShopify.stdout).toContain('1 issued coupon code redeemed');

    const report = await cli(shop.dir, 'coupons');
    expect(report.status, report.stderr).toBe(0);
    expect(report.stdout).toContain('pooled (pool, 15%): 3 issued, 2 redeemed (66.7%), 1 free in the pool');
    expect(report.stdout).toContain('welcome/offer  pooled: 3 issued, 2 redeemed (66.7%)');
  });

  it('a code is one code in any case: a repeat in another case is skipped, in the file and against the store, and said so', async () => {
    shop = await setUp({ welcome: welcome('welcome') }, 1);
    const file = path.join(shop.dir, 'codes.txt');
    writeFileSync(file, 'POOL-AAA1\nPOOL-BBB2\npool-aaa1\n');
    const first = await cli(shop.dir, 'import', 'coupons', file, '--coupon', 'pooled', '--json');
    expect(first.status, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ rows: 3, added: 2, repeated: 1, duplicates: 0, free: 2 });
    writeFileSync(file, 'pool-bbb2\nPOOL-CCC3\n');
    const second = await cli(shop.dir, 'import', 'coupons', file, '--coupon', 'pooled');
    expect(second.status, second.stderr).toBe(0);
    expect(second.stdout).toContain('imported 1 code into the pool of pooled; skipped 1 the store had already (a code is the same in any case); 3 free');
    const db = openStore(path.join(shop.dir, '.journey', 'store.db'));
    try {
      expect(db.all<{ code: string }>(`SELECT code FROM coupon_codes ORDER BY code`).map((r) => r.code)).toEqual(['POOL-AAA1', 'POOL-BBB2', 'POOL-CCC3']);
    } finally {
      db.close();
    }
  });

  it('a CSV whose columns hold no codes is refused, not read with its header as a code (exit 1, nothing imported)', async () => {
    shop = await setUp({ welcome: welcome('welcome') }, 1);
    const file = path.join(shop.dir, 'codes.csv');
    writeFileSync(file, 'name,value\nPOOLD1,1\n');
    const refused = await cli(shop.dir, 'import', 'coupons', file, '--coupon', 'pooled');
    expect(refused.status).toBe(1);
    expect(refused.stderr.split('\n')[0]).toBe(`error ${file}, row 1: no column of codes: the columns are "name", "value"`);
    expect(refused.stderr).toContain('name the column of codes "code"');
    expect(JSON.parse((await cli(shop.dir, 'coupons', '--json')).stdout).coupons.find((c: { coupon: string }) => c.coupon === 'pooled').free).toBe(0);
    // a row of the wrong width is named once, by the error's place
    writeFileSync(file, 'Code,Uses\nPOOLE1,1\nPOOLE2\n');
    const narrow = await cli(shop.dir, 'import', 'coupons', file, '--coupon', 'pooled');
    expect(narrow.status).toBe(1);
    expect(narrow.stderr.split('\n')[0]).toBe(`error ${file}, row 2: has 1 field, the header has 2`);
    // a column named as shop systems name it is the codes' column
    writeFileSync(file, 'Discount Code,Uses\nPOOLD1,1\n');
    const named = await cli(shop.dir, 'import', 'coupons', file, '--coupon', 'pooled', '--json');
    expect(named.status, named.stderr).toBe(0);
    expect(JSON.parse(named.stdout)).toMatchObject({ added: 1, free: 1 });
  });

  it('plan warns when the next tick would leave a pool short, and when it runs dry', async () => {
    shop = await setUp({ welcome: welcome('welcome') }, 3);
    const file = path.join(shop.dir, 'codes.txt');
    writeFileSync(file, 'AAA-1\nAAA-2\nAAA-3\nAAA-4\n');
    await cli(shop.dir, 'import', 'coupons', file, '--coupon', 'pooled');
    const low = await cli(shop.dir, 'plan', '--json');
    const pool = JSON.parse(low.stdout).couponPools[0];
    expect(pool).toEqual({ coupon: 'pooled', size: 4, freeNow: 4, drawn: 3, freeAfter: 1, skipped: 0, warning: expect.stringContaining('running low: 1 code left after the next tick, which draws 3') });
    expect((await cli(shop.dir, 'plan')).stdout).toContain('warning: pool pooled is running low');

    writeFileSync(file, 'AAA-1\n');
    const small = await setUp({ welcome: welcome('welcome') }, 3);
    try {
      await cli(small.dir, 'import', 'coupons', file, '--coupon', 'pooled');
      const dry = await cli(small.dir, 'plan');
      expect(dry.stdout).toContain('warning: pool pooled runs dry at the next tick: 2 customers skipped (coupon_pool_empty)');
    } finally {
      small.close();
    }
  });

  it('bad input: a coupon that is not a pool, a value that is not a code, an unknown coupon (exit 1)', async () => {
    shop = await setUp({ welcome: welcome('welcome') }, 1);
    const file = path.join(shop.dir, 'codes.txt');
    writeFileSync(file, 'GOOD-1\nnot a code\n');
    const notPool = await cli(shop.dir, 'import', 'coupons', file, '--coupon', 'ten');
    expect(notPool.status).toBe(1);
    expect(notPool.stderr).toContain("coupon 'ten' does not draw from a pool");
    const bad = await cli(shop.dir, 'import', 'coupons', file, '--coupon', 'pooled');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`error ${file}, row 2: 1 value is not a code (row 2: "not a code")`);
    const unknown = await cli(shop.dir, 'coupons', 'export', 'pooledd');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("no coupon 'pooledd'");
    const usage = await cli(shop.dir, 'import', 'coupons', file);
    expect(usage.status).toBe(64);
    // read as every import reads: bytes that are not UTF-8 are located, not turned into \uFFFD codes
    writeFileSync(file, Buffer.concat([Buffer.from('GOOD-1\nBAD-'), Buffer.from([0xff, 0xfe]), Buffer.from('2\n')]));
    const latin = await cli(shop.dir, 'import', 'coupons', file, '--coupon', 'pooled');
    expect(latin.status).toBe(1);
    expect(latin.stderr).toMatch(/not UTF-8 text.*line 2/);
    // a compressed list is read as it is
    writeFileSync(file, gzipSync('ZIP-0001\nZIP-0002\n'));
    const zipped = await cli(shop.dir, 'import', 'coupons', file, '--coupon', 'pooled', '--json');
    expect(zipped.status, zipped.stderr).toBe(0);
    expect(JSON.parse(zipped.stdout)).toMatchObject({ added: 2 });
  });

  it('two processes ticking one store at once never give one code to two customers', async () => {
    // two journeys draw from one pool; each process ticks one of them, at the same time
    const n = 300;
    shop = await Shop.create({ configText: CONFIG, journeys: { a: welcome('a'), b: welcome('b') }, customers: customers(n) });
    shop.db.close();
    const file = path.join(shop.dir, 'codes.txt');
    writeFileSync(file, Array.from({ length: 2 * n }, (_, i) => `POOL-${String(i).padStart(5, '0')}`).join('\n') + '\n');
    expect((await cli(shop.dir, 'import', 'coupons', file, '--coupon', 'pooled')).status).toBe(0);
    const worker = (journeyId: string) => `
      const { loadProject } = await import(${JSON.stringify(path.join(ROOT, 'dist/project/load-project.js'))});
      const { openStore } = await import(${JSON.stringify(path.join(ROOT, 'dist/store/open.js'))});
      const { runTick } = await import(${JSON.stringify(path.join(ROOT, 'dist/engine/tick.js'))});
      const dir = ${JSON.stringify(shop!.dir)};
      const { project } = loadProject(dir, dir);
      project.journeys = project.journeys.filter((j) => j.id === ${JSON.stringify(journeyId)});
      const db = openStore(dir + '/.journey/store.db');
      const r = runTick(db, project, { now: new Date(${JSON.stringify(NOW)}) });
      console.log(JSON.stringify(r.journeys.map((j) => j.queued)));
      db.close();`;
    const [a, b] = await Promise.all(['a', 'b'].map((j) => run(process.execPath, ['--input-type=module', '-e', worker(j)])));
    expect(a.status, a.stderr).toBe(0);
    expect(b.status, b.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toEqual([n]);
    expect(JSON.parse(b.stdout)).toEqual([n]);
    const { openStore } = await import('../../src/store/open.js');
    const db = openStore(path.join(shop.dir, '.journey/store.db'));
    try {
      // every message shows the code recorded for its own enrolment, and no code is in two messages
      const messages = db.all<{ enrolment_id: number; code: string }>(`SELECT enrolment_id, json_extract(payload, '$.coupon.code') AS code FROM outbox_messages`);
      expect(messages).toHaveLength(2 * n);
      expect(new Set(messages.map((m) => m.code)).size).toBe(2 * n);
      const owner = new Map(db.all<{ code: string; enrolment_id: number }>(`SELECT code, enrolment_id FROM coupon_codes`).map((c) => [c.code, c.enrolment_id]));
      expect(messages.filter((m) => owner.get(m.code) !== m.enrolment_id)).toEqual([]);
    } finally {
      db.close();
    }
  });
});
