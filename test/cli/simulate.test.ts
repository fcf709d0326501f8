/**
 * `journey simulate`'s --from and --to, end to end through the built CLI: read as
 * strictly as the global --now, so that a day that does not exist is a usage error
 * naming the flag, not a date rolled into the next month.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Shop, journey } from '../engine/helpers/shop.js';

let shop: Shop;

beforeAll(async () => {
  shop = await Shop.create({
    journeys: { welcome: journey('welcome', `
trigger: { segment: everyone }
steps:
  - id: hello
    send: { channel: email, template: hello }
`) },
    customers: ['ann,ann@shop.test,,Ann,2025-01-01T00:00:00Z,Europe/Prague,yes,'],
  });
  shop.db.close();
});
afterAll(() => shop.close());

describe('journey simulate --from/--to', () => {
  it('refuses a day that does not exist (exit 64, naming the flag) instead of rolling it over', () => {
    for (const [args, said] of [
      // was simulated from 2026-03-02
      [['--from', '2026-02-30', '--to', '2026-03-05'], "--from '2026-02-30' is not a time"],
      // was "--to is before --from"
      [['--from', '2026-02-30', '--to', '2026-03-01'], "--from '2026-02-30' is not a time"],
      [['--from', '2026-03-01', '--to', '2026-04-31'], "--to '2026-04-31' is not a time"],
      [['--from', '2026-03-01T24:30:00Z', '--to', '2026-03-05'], "--from '2026-03-01T24:30:00Z' is not a time"],
    ] as const) {
      const r = shop.cli('2026-03-01T00:00:00Z', 'simulate', ...args, '--json');
      expect(r.status, args.join(' ')).toBe(64);
      expect(r.stderr).toContain(said);
      expect(r.stderr).toContain('ISO 8601 date or time that exists');
      expect(r.stdout).toBe('');
    }
  });
});
