/**
 * A status an order arrives in, which the export does not date (Shopify never dates a
 * refund), is history: it never enters an event-triggered journey as news. A change
 * seen between two imports of an order the store already had does.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { importFile } from '../../src/store/import/import.js';
import { fixture } from '../store/helpers.js';
import { HOUR, Shop, iso, journey, ms } from './helpers/shop.js';

let shop: Shop | undefined;
afterEach(() => {
  shop?.close();
  shop = undefined;
});

const T0 = '2026-12-01T12:00:00Z';
const at = (offsetMs: number) => iso(ms(T0) + offsetMs)!;
const ONE_SEND = `steps:
  - id: hello
    send: { channel: email, template: hello }
`;

describe('statuses of unknown date', () => {
  it('a Shopify export of old refunds enters no journey; a refund seen at the next import does', async () => {
    shop = await Shop.create({
      journeys: { sorry: journey('sorry', `trigger: { event: order_status_changed, status: [refunded, partially_refunded, processing] }\n${ONE_SEND}`) },
    });
    shop.tick(T0);
    const file = fixture('shopify', 'orders_only_export.csv');
    await importFile(shop.db, { kind: 'orders', file, preset: 'shopify', now: ms(at(HOUR)) });
    shop.tick(at(2 * HOUR));
    expect(shop.enrolments('true', []).map((e) => e.customer_id)).toEqual([]);

    // the next day's export: Bob's order #2003 has been refunded since
    const next = path.join(shop.dir, 'next.csv');
    writeFileSync(next, readFileSync(file, 'utf8').replace('#2003,Bob@Example.com,paid,', '#2003,Bob@Example.com,refunded,'));
    await importFile(shop.db, { kind: 'orders', file: next, preset: 'shopify', now: ms(at(3 * HOUR)) });
    shop.tick(at(4 * HOUR));
    expect(shop.enrolments('true', []).map((e) => e.customer_id)).toEqual(['bob@example.com']);
  });
});
