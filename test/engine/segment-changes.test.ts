import { describe, expect, it } from 'vitest';
import { diffRules, flow } from '../../src/engine/segment-changes.js';

describe('diffRules: which condition of a segment changed, as written', () => {
  it('names the path of a changed value with both values in flow YAML', () => {
    expect(diffRules({ all: [{ last_order_at: { between: ['30d', '10mo'] } }, { reachable: 'email' }] }, { all: [{ last_order_at: { between: ['30d', '6mo'] } }, { reachable: 'email' }] })).toEqual([
      { path: 'all[0].last_order_at.between', before: '[30d, 10mo]', after: '[30d, 6mo]' },
    ]);
  });

  it('a condition added to a list is one edit, not a shift of every later one', () => {
    const a = { all: [{ reachable: 'email' }, { orders: { count: 1 } }] };
    const b = { all: [{ 'attributes.tier': 'gold' }, { reachable: 'email' }, { orders: { count: 1 } }] };
    expect(diffRules(a, b)).toEqual([{ path: 'all[0]', before: null, after: '{ attributes.tier: gold }' }]);
    expect(diffRules(b, a)).toEqual([{ path: 'all[0]', before: '{ attributes.tier: gold }', after: null }]);
  });

  it('keys added and removed, and a rule replaced whole', () => {
    expect(diffRules({ orders: { count: 1 } }, { orders: { count: 1, status: 'delivered' } })).toEqual([{ path: 'orders.status', before: null, after: 'delivered' }]);
    expect(diffRules({ reachable: 'email' }, { any: [{ reachable: 'email' }, { reachable: 'sms' }] })).toEqual([
      { path: 'reachable', before: 'email', after: null },
      { path: 'any', before: null, after: '[{ reachable: email }, { reachable: sms }]' },
    ]);
    expect(diffRules('x', 'y')).toEqual([{ path: 'rule', before: 'x', after: 'y' }]);
  });

  it('reordered keys are no change', () => {
    expect(diffRules({ orders: { count: 1, status: 'delivered' } }, { orders: { status: 'delivered', count: 1 } })).toEqual([]);
  });

  it('quotes strings YAML would read as something else', () => {
    expect(flow(['yes', '10', 'a b', 'CZ', true, 3])).toBe('["yes", "10", "a b", CZ, true, 3]');
  });
});
