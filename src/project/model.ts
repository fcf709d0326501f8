/**
 * The typed model of a project, built from files that passed the schema. Every
 * node keeps the YAML path it came from, so that later checks (and later errors at
 * plan or run time) can point at the line that caused them.
 */
import type { YamlPath } from './diagnostic.js';

import type { Duration } from '../time/duration.js';
import type { TemplateFile } from '../content/templates.js';

export type { Duration, DurationUnit } from '../time/duration.js';

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export type Scalar = string | number | boolean;

/** A moment a date is compared with: some time before now, or a fixed date. */
export type Moment = { kind: 'ago'; duration: Duration } | { kind: 'date'; iso: string };

export type NumberTerm =
  | { op: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'; value: number }
  | { op: 'between'; low: number; high: number };

export type StringTerm =
  | { op: 'eq' | 'ne' | 'contains' | 'starts_with' | 'ends_with'; value: string }
  | { op: 'in' | 'not_in'; values: string[] }
  | { op: 'exists'; value: boolean };

export type ValueTerm =
  | { op: 'eq' | 'ne'; value: Scalar }
  | { op: 'in' | 'not_in'; values: Scalar[] }
  | { op: 'contains'; value: string }
  | { op: 'exists'; value: boolean }
  | { op: 'gt' | 'gte' | 'lt' | 'lte'; value: number }
  | { op: 'before' | 'after'; at: Moment }
  | { op: 'anniversary'; every: Duration };

export type DateTerm =
  | { op: 'before' | 'after'; at: Moment; /** Where it is written, under the condition's key: ['within'], ['between', 1] (named path, so that version diffs ignore it as they ignore every position). */ path?: YamlPath }
  | { op: 'anniversary'; every: Duration }
  | { op: 'exists'; value: boolean };

/** A date comparison; `calendar` counts durations in whole days in the customer's timezone. */
export interface DateComparison {
  terms: DateTerm[];
  calendar: boolean;
}

/** Statuses an order condition counts: the default (all but canceled, unavailable, refunded), any, or a list. */
export type StatusFilter = 'default' | 'any' | string[];

export interface OrderFilter {
  statuses: StatusFilter;
  categories: string[];
  products: string[];
  skus: string[];
  total: NumberTerm[];
  placed: DateComparison;
}

export type RuleKind = Rule['kind'];

export type Rule = { path: YamlPath } & (
  | { kind: 'all'; rules: Rule[] }
  | { kind: 'any'; rules: Rule[] }
  | { kind: 'not'; rule: Rule }
  | { kind: 'segment'; name: string }
  | { kind: 'customer_field'; field: CustomerField; terms: StringTerm[] }
  | { kind: 'attribute'; name: string; terms: ValueTerm[] }
  | { kind: 'registered_at'; date: DateComparison }
  | { kind: 'orders'; filter: OrderFilter; count: NumberTerm[] }
  | { kind: 'order_date'; which: 'first' | 'last'; statuses: StatusFilter; date: DateComparison }
  | { kind: 'order_amount'; measure: 'lifetime_value' | 'average_order_value'; statuses: StatusFilter; within: Duration | null; terms: NumberTerm[] }
  | { kind: 'event'; type: string; where: Record<string, Scalar>; occurred: DateComparison; count: NumberTerm[] }
  | { kind: 'consent' | 'suppressed' | 'reachable'; channel: string }
  // The conditions below are about one enrolment and exist only inside journeys.
  | { kind: 'orders_since_entry'; count: NumberTerm[] }
  | { kind: 'message'; event: 'opened' | 'clicked' | 'delivered'; step: string }
  | { kind: 'messages_received'; within: Duration; channel: string | null; count: NumberTerm[] }
  | { kind: 'trigger_order'; statuses: string[] }
);

export const CUSTOMER_FIELDS = ['email', 'phone', 'first_name', 'last_name', 'locale', 'timezone', 'country', 'city'] as const;
export type CustomerField = (typeof CUSTOMER_FIELDS)[number];

export const ENROLMENT_RULE_KINDS: ReadonlySet<RuleKind> = new Set(['orders_since_entry', 'message', 'messages_received', 'trigger_order']);

export interface Segment {
  name: string;
  description: string | null;
  rule: Rule;
  /** The segment as written (description, rule), recorded as its version when a journey runs with it. */
  definition: Record<string, unknown>;
  file: string;
  path: YamlPath;
}

export type Trigger = { path: YamlPath } & (
  | { kind: 'segment'; segment: string; check: string | null; backfill: boolean }
  | { kind: 'order_status_changed'; statuses: string[]; items: 'all' | 'any' | null; nth: number | null; maxAge: Duration | null }
  | { kind: 'order_placed'; nth: number | null; maxAge: Duration | null }
  | { kind: 'custom_event'; event: string; where: Record<string, Scalar>; maxAge: Duration | null }
  /** catchUp: how late a date whose day passed without a tick still enters (null: never late). */
  | { kind: 'date'; field: string; every: Duration | null; after: Duration | null; at: string; catchUp: Duration | null }
);

export interface EntryLimits {
  maxPerCustomer: number;
  reentryAfter: Duration | null;
  maxPerOrder: number;
  maxPerTick: number | null;
}

export type Goal =
  | { kind: 'order_placed'; within: Duration; minTotal: number | null }
  | { kind: 'event'; type: string; within: Duration };

export interface QuietHours { from: string; to: string; timezone: string }
export interface SendWindow { days: Weekday[]; from: string; to: string; timezone: string }
export interface FrequencyCap { max: number; per: Duration | 'day' | 'week'; channel: string | null; onCap: 'skip' | 'defer' }
export interface Policies {
  quietHours: QuietHours | null;
  sendWindow: SendWindow | null;
  frequencyCap: FrequencyCap | null;
}

export type Target = { kind: 'goto'; step: string; path: YamlPath } | { kind: 'steps'; steps: Step[]; path: YamlPath };

export interface Recommendations {
  strategy: 'related' | 'popular' | 'new' | 'category';
  count: number;
  within: Duration | null;
  /** popular: only this category. */
  category: string | null;
  excludePurchased: boolean;
  /** What tops up a strategy that finds too few. */
  fallback: 'popular' | 'new' | 'none';
}

export type StepKind = Step['kind'];

export type Step = {
  id: string;
  name: string | null;
  when: Rule | null;
  next: string | null;
  path: YamlPath;
} & (
  | {
      kind: 'send';
      channel: string;
      template: string;
      provider: string | null;
      coupon: string | null;
      recommendations: Recommendations | null;
      data: Record<string, Scalar>;
      /** Liquid: replaces the template's subject (an A/B test of subject lines needs no copied template). */
      subject: string | null;
    }
  | { kind: 'wait'; duration: Duration | null; from: 'step' | 'entry' | 'trigger'; until: string | null; days: Weekday[]; timezone: string }
  | {
      kind: 'wait_for';
      event: string;
      of: string | null;
      statuses: string[];
      sameOrder: boolean;
      match: Record<string, string>;
      where: Record<string, Scalar>;
      timeout: Duration;
      onEvent: string | null;
      onTimeout: string | null;
    }
  | { kind: 'branch'; cases: { when: Rule; then: Target }[]; otherwise: Target | null }
  | { kind: 'split'; variants: { name: string; weight: number; then: Target | null; path: YamlPath }[] }
  | { kind: 'update'; set: Record<string, Scalar | null> }
  | { kind: 'sync'; provider: string; profile: Record<string, Scalar | null>; event: string | null; properties: Record<string, Scalar> }
  | { kind: 'exit'; reason: string }
);

export interface Journey {
  id: string;
  name: string;
  description: string | null;
  enabled: boolean;
  tags: string[];
  trigger: Trigger;
  entry: EntryLimits;
  exitWhen: Rule[];
  goal: Goal | null;
  policies: Policies;
  /** Test mode: this journey's own (which replaces the project's wholly), or null. */
  testRecipients: TestMode | null;
  removedSteps: Record<string, string>;
  steps: Step[];
  file: string;
  /** The file's text, recorded as the journey's version when it runs. */
  source: string;
}

/**
 * Test mode (`test_recipients`): nothing reaches a customer. A message goes only to
 * the test addresses of its channel (a channel without any is not sent), a sync
 * only to the test profile named for its provider (none: not synced), and the team
 * gets at most `sample` copies of each step per address.
 */
export interface TestMode {
  /** Channel -> the test addresses its messages go to instead. */
  recipients: Record<string, string[]>;
  /** Provider name -> the test profile its syncs go to instead (an e-mail, a phone or an id). */
  sync: Record<string, string>;
  sample: number;
}

/** How many copies of each step the team gets in test mode, when `sample` is not set. */
export const DEFAULT_TEST_SAMPLE = 5;

export type ProviderType = 'sendgrid' | 'postmark' | 'mailgun' | 'twilio' | 'webhook' | 'klaviyo' | 'console' | 'file';

export interface ProviderConfig {
  name: string;
  type: ProviderType;
  /** Settings as written; secrets stay ${ENV} references until a provider is used. */
  settings: Record<string, unknown>;
}

export interface Config {
  file: string | null;
  storePath: string | null;
  timezone: string;
  journeysDir: string;
  segmentsDir: string;
  policies: Policies;
  testRecipients: TestMode | null;
  /** Order statuses of the shop's own, besides the ones journey knows (config order_statuses). */
  orderStatuses?: string[];
  /**
   * address: the customer field the channel sends to (email, phone, attributes.<name>),
   * as declared or inferred from the provider or the channel's name; null when nothing
   * says (an error of validate).
   */
  channels: Record<string, { provider: string; address: string | null; addressFrom?: 'declared' | 'provider' | 'name' | null }>;
  providers: Record<string, ProviderConfig>;
  /** Where template files live (templates/NAME.liquid), relative to the project folder. */
  templatesDir: string;
  /**
   * By name: templates/NAME.liquid files (source set) and, as before, templates written
   * in journey.config.yaml (subject and body as Liquid, or a provider template id).
   */
  templates: Record<
    string,
    {
      channel: string;
      providerTemplate: string | null;
      /** A Twilio Content template's variables: name -> Liquid, rendered per message (ContentVariables). */
      providerVariables: Record<string, string> | null;
      subject: string | null;
      body: string | null;
      source: TemplateFile | null;
    }
  >;
  /** Project-level template variables (vars.shop_url, vars.brand, ...). */
  vars: Record<string, Scalar>;
  /** Signed per-customer unsubscribe and preference links. */
  links: {
    unsubscribe: string | null;
    preferences: string | null;
    secret: string;
    /** The unsubscribe link in each e-mail's List-Unsubscribe header (one-click: with List-Unsubscribe-Post, RFC 8058), or null: not. */
    listUnsubscribe: 'one-click' | 'link' | null;
  } | null;
  /** Money is shown in this currency when the order has none; dates and numbers in this locale when the customer has none. */
  currency: string;
  locale: string;
  coupons: Record<string, { discount: string; code: string | null; prefix: string | null; validFor: Duration | null; pool: boolean; length: number | null; alphabet: string | null }>;
  /** category -> more categories the `category` recommendations also draw from. */
  categoryMap: Record<string, string[]>;
}

export interface Project {
  root: string;
  config: Config;
  segments: Map<string, Segment>;
  journeys: Journey[];
}
