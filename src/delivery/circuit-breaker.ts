/**
 * One circuit breaker per provider. After `threshold` consecutive failures that say
 * the provider is unwell (5xx, timeouts, refused or reset connections) the circuit
 * opens: the dispatcher stops sending to that provider and puts its claimed rows
 * back without counting an attempt, so an outage does not burn every row's retries.
 * After the cool-down one probe request is let through (half-open); its success
 * closes the circuit, its failure opens it again for a longer cool-down.
 *
 * A 429 is not a failure here: the provider is up and said when to come back, which
 * the row's backoff honours. A 4xx refusal of one message proves the provider is up.
 */
export interface BreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  threshold: number;
  /** The first cool-down; it doubles on each failed probe, up to maxCoolDownMs. Default 30 s. */
  coolDownMs: number;
  maxCoolDownMs: number;
}

export const DEFAULT_BREAKER: BreakerOptions = { threshold: 5, coolDownMs: 30_000, maxCoolDownMs: 10 * 60_000 };

export type BreakerState =
  | { kind: 'closed'; failures: number }
  | { kind: 'open'; until: number; coolDownMs: number }
  | { kind: 'half_open'; probing: boolean; coolDownMs: number };

/**
 * What the breaker says about starting one request now: go; go as the one probe of
 * a half-open circuit; wait for the probe in flight; or stay away until `until`.
 */
export type Admission = { kind: 'go' } | { kind: 'probe' } | { kind: 'probing' } | { kind: 'open'; until: number };

/** The part of an outcome the breaker looks at. */
export type Health = 'healthy' | 'unwell' | 'neutral';

// asked for every message: the common answers are shared, not allocated each time
const GO: Admission = { kind: 'go' };
const PROBING: Admission = { kind: 'probing' };

export class CircuitBreaker {
  private state: BreakerState = { kind: 'closed', failures: 0 };

  constructor(private readonly opts: BreakerOptions = DEFAULT_BREAKER) {}

  get current(): BreakerState {
    return this.state;
  }

  /** Open and still cooling down: claim nothing for this provider. */
  isOpen(now: number): boolean {
    return this.state.kind === 'open' && now < this.state.until;
  }

  admit(now: number): Admission {
    const s = this.state;
    switch (s.kind) {
      case 'closed':
        return GO;
      case 'open':
        if (now < s.until) return { kind: 'open', until: s.until };
        this.state = { kind: 'half_open', probing: true, coolDownMs: s.coolDownMs };
        return { kind: 'probe' };
      case 'half_open':
        // One probe at a time; the others wait for its answer.
        if (s.probing) return PROBING;
        this.state = { ...s, probing: true };
        return { kind: 'probe' };
      default:
        return exhaustive(s);
    }
  }

  /**
   * The probe ended without an answer to judge (its rows went back unsent: the lease
   * ran short, or the dispatcher is stopping): the next request probes instead. Left
   * probing, every request of the provider would wait for an answer that never comes.
   */
  abandonProbe(): void {
    if (this.state.kind === 'half_open' && this.state.probing) this.state = { ...this.state, probing: false };
  }

  record(health: Health, now: number): void {
    const s = this.state;
    switch (s.kind) {
      case 'closed':
        if (health === 'healthy') {
          if (s.failures !== 0) this.state = { kind: 'closed', failures: 0 };
        } else if (health === 'unwell') {
          const failures = s.failures + 1;
          this.state = failures >= this.opts.threshold ? { kind: 'open', until: now + this.opts.coolDownMs, coolDownMs: this.opts.coolDownMs } : { kind: 'closed', failures };
        }
        return;
      case 'open':
        // Answers to requests started before the circuit opened: they change nothing.
        return;
      case 'half_open':
        if (health === 'unwell') {
          const coolDownMs = Math.min(s.coolDownMs * 2, this.opts.maxCoolDownMs);
          this.state = { kind: 'open', until: now + coolDownMs, coolDownMs };
        } else {
          // A 429 from the probe also proves the provider is up.
          this.state = { kind: 'closed', failures: 0 };
        }
        return;
      default:
        exhaustive(s);
    }
  }
}

function exhaustive(value: never): never {
  throw new Error(`unexpected breaker state ${JSON.stringify(value)}`);
}
