import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from '../../src/delivery/circuit-breaker.js';

describe('the circuit breaker', () => {
  const opened = () => {
    const b = new CircuitBreaker({ threshold: 1, coolDownMs: 100, maxCoolDownMs: 1_000 });
    b.record('unwell', 0);
    return b;
  };

  it('lets one probe through after the cool-down; the others wait for its answer, which closes or reopens the circuit', () => {
    const b = opened();
    expect(b.admit(50)).toEqual({ kind: 'open', until: 100 });
    expect(b.admit(100)).toEqual({ kind: 'probe' });
    expect(b.admit(101)).toEqual({ kind: 'probing' });
    b.record('healthy', 102);
    expect(b.admit(103)).toEqual({ kind: 'go' });
    const again = opened();
    again.admit(100);
    again.record('unwell', 100);
    expect(again.admit(150)).toEqual({ kind: 'open', until: 300 });
  });

  it('a probe abandoned without an answer (its rows went back unsent) leaves the next request to probe', () => {
    const b = opened();
    expect(b.admit(100)).toEqual({ kind: 'probe' });
    b.abandonProbe();
    expect(b.admit(101)).toEqual({ kind: 'probe' });
    expect(b.admit(102)).toEqual({ kind: 'probing' });
    // after an answer there is nothing to abandon
    b.record('healthy', 103);
    b.abandonProbe();
    expect(b.current).toEqual({ kind: 'closed', failures: 0 });
  });
});
