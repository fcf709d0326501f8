import type { YamlPath } from './diagnostic.js';
import { buildRule, duration } from './build-rule.js';
import { DEFAULT_TEST_SAMPLE, type FrequencyCap, type Goal, type Journey, type Policies, type Step, type Target, type TestMode, type Trigger } from './model.js';
import { byName, ownEntries } from './by-name.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- schema-checked YAML data

const asList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? (v as string[]) : [v as string]);

export function buildJourney(data: Obj, file: string, source: string): Journey {
  const trigger = buildTrigger(data.trigger, ['trigger']);
  return {
    id: data.id,
    name: data.name ?? data.id,
    description: data.description ?? null,
    enabled: data.enabled !== false,
    tags: data.tags ?? [],
    trigger,
    entry: {
      maxPerCustomer: data.entry?.max_per_customer ?? defaultMaxPerCustomer(trigger, data.entry?.reentry_after !== undefined),
      reentryAfter: data.entry?.reentry_after ? duration(data.entry.reentry_after) : null,
      maxPerOrder: data.entry?.max_per_order ?? 1,
      maxPerTick: data.entry?.max_per_tick ?? null,
    },
    exitWhen: (data.exit_when ?? []).map((r: Obj, i: number) => buildRule(r, ['exit_when', i])),
    goal: data.goal ? buildGoal(data.goal) : null,
    policies: buildPolicies(data.policies),
    testRecipients: buildTestMode(data.test_recipients),
    removedSteps: byName(Object.entries((data.removed_steps ?? {}) as Obj).map(([k, v]) => [k, v.moved_to as string] as const)),
    steps: buildSteps(data.steps, ['steps']),
    file,
    source,
  };
}

/**
 * What a journey means when it says nothing about how often a customer enters. A
 * per-order journey (thank you, delivered) is for every order: limited per order
 * (max_per_order 1), not per customer. A date trigger enters once per occurrence of
 * the date (each anniversary), and a custom event once per event. A segment trigger
 * enters a customer once, unless reentry_after lets them in again. Whatever the
 * default, a customer never enters while still inside.
 */
export const UNLIMITED = Number.MAX_SAFE_INTEGER;
export function defaultMaxPerCustomer(trigger: Trigger, reentryAfter: boolean): number {
  switch (trigger.kind) {
    case 'segment':
      return reentryAfter ? UNLIMITED : 1;
    case 'order_placed':
    case 'order_status_changed':
    case 'date':
    case 'custom_event':
      return UNLIMITED;
    default: {
      const never: never = trigger;
      throw new Error(`unknown trigger ${JSON.stringify(never)}`);
    }
  }
}

/** A date trigger's day that passed without a tick still enters up to a week late, once. */
export const DEFAULT_CATCH_UP = '7d';

function buildTrigger(t: Obj, path: YamlPath): Trigger {
  const maxAge = t.max_age ? duration(t.max_age) : null;
  if (t.segment !== undefined) return { kind: 'segment', segment: t.segment, check: t.check ?? null, backfill: t.backfill === true, path };
  if (t.date !== undefined) {
    return { kind: 'date', field: t.date, every: t.every ? duration(t.every) : null, after: t.after ? duration(t.after) : null, at: t.at ?? '09:00', catchUp: t.catch_up === false ? null : duration(t.catch_up ?? DEFAULT_CATCH_UP), path };
  }
  switch (t.event) {
    case 'order_status_changed':
      return { kind: 'order_status_changed', statuses: asList(t.status), items: t.items ?? null, nth: t.nth ?? null, maxAge, path };
    case 'order_placed':
      return { kind: 'order_placed', nth: t.nth ?? null, maxAge, path };
    default:
      return { kind: 'custom_event', event: t.event, where: t.where ?? {}, maxAge, path };
  }
}

function buildGoal(g: Obj): Goal {
  if (g.order_placed) return { kind: 'order_placed', within: duration(g.order_placed.within), minTotal: g.order_placed.min_total ?? null };
  return { kind: 'event', type: g.event.type, within: duration(g.event.within) };
}

/** test_recipients: channel address lists, plus the reserved keys sync (provider -> test profile) and sample. */
export function buildTestMode(t: Obj | undefined): TestMode | null {
  if (!t) return null;
  const { sync, sample, ...channels } = t;
  return { recipients: ownEntries(channels as Record<string, string[]>), sync: ownEntries((sync ?? {}) as Record<string, string>), sample: sample ?? DEFAULT_TEST_SAMPLE };
}

export function buildPolicies(p: Obj | undefined): Policies {
  const cap = p?.frequency_cap as Obj | undefined;
  const frequencyCap: FrequencyCap | null = cap
    ? { max: cap.max, per: cap.per === 'day' || cap.per === 'week' ? cap.per : duration(cap.per), channel: cap.channel ?? null, onCap: cap.on_cap ?? 'defer' }
    : null;
  return {
    quietHours: p?.quiet_hours ? { from: p.quiet_hours.from, to: p.quiet_hours.to, timezone: p.quiet_hours.timezone ?? 'customer' } : null,
    sendWindow: p?.send_window
      ? { days: p.send_window.days ?? ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: p.send_window.from, to: p.send_window.to, timezone: p.send_window.timezone ?? 'customer' }
      : null,
    frequencyCap,
  };
}

function buildSteps(list: Obj[], path: YamlPath): Step[] {
  return list.map((s, i) => buildStep(s, [...path, i]));
}

function buildTarget(t: string | Obj[], path: YamlPath): Target {
  return typeof t === 'string' ? { kind: 'goto', step: t, path } : { kind: 'steps', steps: buildSteps(t, path), path };
}

function buildStep(s: Obj, path: YamlPath): Step {
  const base = { id: s.id as string, name: (s.name as string) ?? null, when: s.when ? buildRule(s.when, [...path, 'when']) : null, next: (s.next as string) ?? null, path };
  if (s.send) {
    const v = s.send;
    return {
      ...base,
      kind: 'send',
      channel: v.channel,
      template: v.template,
      provider: v.provider ?? null,
      coupon: v.coupon ?? null,
      recommendations: v.recommendations
        ? {
            strategy: v.recommendations.strategy,
            count: v.recommendations.count ?? 4,
            within: v.recommendations.within ? duration(v.recommendations.within) : null,
            category: v.recommendations.category ?? null,
            excludePurchased: v.recommendations.exclude_purchased ?? true,
            fallback: v.recommendations.fallback ?? 'popular',
          }
        : null,
      data: v.data ?? {},
      subject: v.subject ?? null,
    };
  }
  if (s.wait !== undefined) {
    const v = typeof s.wait === 'string' ? { duration: s.wait } : s.wait;
    return {
      ...base,
      kind: 'wait',
      duration: v.duration ? duration(v.duration) : null,
      from: v.from ?? 'step',
      until: v.until ?? null,
      days: v.days ?? [],
      timezone: v.timezone ?? 'customer',
    };
  }
  if (s.wait_for) {
    const v = s.wait_for;
    return {
      ...base,
      kind: 'wait_for',
      event: v.event,
      of: v.of ?? null,
      statuses: asList(v.status),
      sameOrder: v.same_order === true,
      match: v.match ?? {},
      where: v.where ?? {},
      timeout: duration(v.timeout),
      onEvent: v.on_event ?? null,
      onTimeout: v.on_timeout ?? null,
    };
  }
  if (s.branch) {
    const bp = [...path, 'branch'];
    return {
      ...base,
      kind: 'branch',
      cases: (s.branch.cases as Obj[]).map((c, i) => ({
        when: buildRule(c.when, [...bp, 'cases', i, 'when']),
        then: buildTarget(c.then, [...bp, 'cases', i, 'then']),
      })),
      otherwise: s.branch.else === undefined ? null : buildTarget(s.branch.else, [...bp, 'else']),
    };
  }
  if (s.split) {
    const sp = [...path, 'split', 'variants'];
    return {
      ...base,
      kind: 'split',
      variants: (s.split.variants as Obj[]).map((v, i) => ({
        name: v.name,
        weight: v.weight,
        then: v.then === undefined ? null : buildTarget(v.then, [...sp, i, 'then']),
        path: [...sp, i],
      })),
    };
  }
  if (s.update) return { ...base, kind: 'update', set: s.update.set };
  if (s.sync) {
    return { ...base, kind: 'sync', provider: s.sync.provider, profile: s.sync.profile ?? {}, event: s.sync.event ?? null, properties: s.sync.properties ?? {} };
  }
  return { ...base, kind: 'exit', reason: s.exit === true ? 'exit_step' : (s.exit?.reason ?? 'exit_step') };
}
