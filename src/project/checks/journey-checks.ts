import { error, warning, type PendingDiagnostic, type YamlPath } from '../diagnostic.js';
import { describeKind, providerAddressKind } from '../channel-address.js';
import { didYouMean } from '../did-you-mean.js';
import { approxMs } from '../duration.js';
import type { DateComparison, Journey, Moment, Policies, Rule, Step } from '../model.js';
import { journeyRules } from '../rule-walk.js';
import { buildStepGraph, loops, reachable, reachableFrom, type StepGraph } from '../step-graph.js';
import { backfillReach } from './backfill.js';
import { agoTerms, checkShortDurations, checkStatuses } from './statuses.js';
import { isBrokenEntry, type CheckContext, type Finding } from './types.js';
import { cronProblem, isTimezone, timezoneNames } from './values.js';

const MESSAGE_EVENTS: Record<string, 'email' | 'sms' | 'any'> = {
  email_delivered: 'email',
  email_opened: 'email',
  email_clicked: 'email',
  email_bounced: 'email',
  email_unsubscribed: 'email',
  email_spam_report: 'email',
  sms_delivered: 'sms',
  sms_clicked: 'sms',
  sms_replied: 'sms',
  sms_failed: 'sms',
  message_delivered: 'any',
  message_failed: 'any',
};
const ORDER_EVENTS = new Set(['order_placed', 'order_status_changed']);

const EMAIL_PROVIDERS = new Set(['sendgrid', 'postmark', 'mailgun']);

export function checkJourneys(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  const byId = new Map<string, Journey>();
  for (const journey of ctx.project.journeys) {
    const first = byId.get(journey.id);
    if (first) {
      out.push({ file: journey.file, diagnostic: error('duplicate-journey', ['id'], `journey id '${journey.id}' is already used by ${first.file}`, 'journey ids are unique across the project; rename one') });
    } else {
      byId.set(journey.id, journey);
    }
    for (const d of checkJourney(journey, ctx)) out.push({ file: journey.file, diagnostic: d });
  }
  return out;
}

/** 'email', 'sms' or 'other' (webhooks and development providers carry anything). */
export function channelKind(ctx: CheckContext, channel: string): 'email' | 'sms' | 'other' {
  const provider = ctx.project.config.providers[ctx.project.config.channels[channel]?.provider ?? ''];
  if (provider) return EMAIL_PROVIDERS.has(provider.type) ? 'email' : provider.type === 'twilio' ? 'sms' : 'other';
  return channel === 'email' ? 'email' : channel === 'sms' ? 'sms' : 'other';
}

function checkJourney(journey: Journey, ctx: CheckContext): PendingDiagnostic[] {
  const out: PendingDiagnostic[] = [];
  const graph = buildStepGraph(journey);
  const ids = [...graph.nodes.keys()];
  const orderTriggered = journey.trigger.kind === 'order_status_changed' || journey.trigger.kind === 'order_placed';

  for (const [id, steps] of graph.duplicates) {
    for (const step of steps.slice(1)) {
      out.push(error('duplicate-step', [...step.path, 'id'], `step id '${id}' is used twice in this journey`, 'step ids are unique within a journey: customers inside it are tracked by them'));
    }
  }

  const unknownStep = (id: string, path: YamlPath, role: string): PendingDiagnostic => {
    const guess = didYouMean(id, ids);
    return error('unknown-step', path, `${role} names step '${id}', which this journey does not have${guess ? ` — did you mean '${guess}'?` : ''}`, guess ? undefined : `steps here: ${ids.join(', ')}`);
  };
  for (const node of graph.nodes.values()) {
    for (const ref of node.references) {
      if (!graph.nodes.has(ref.id)) out.push(unknownStep(ref.id, ref.path, `'${ref.role}'`));
    }
  }
  for (const [removed, movedTo] of Object.entries(journey.removedSteps)) {
    if (graph.nodes.has(removed)) {
      out.push(error('removed-step-present', ['removed_steps', removed], `step '${removed}' is listed as removed but is still in the steps`, 'take it out of removed_steps, or out of the steps', 'key'));
    }
    if (!graph.nodes.has(movedTo)) out.push(unknownStep(movedTo, ['removed_steps', removed, 'moved_to'], "'moved_to'"));
    if (!graph.nodes.has(removed)) out.push(...checkRemovedStepHistory(journey.id, removed, ctx));
  }

  // With two steps of one id the graph cannot tell them apart; paths through it would be noise.
  if (graph.duplicates.size === 0) out.push(...checkPaths(graph));

  const sendSteps = new Map(graph.order.filter((s): s is Extract<Step, { kind: 'send' }> => s.kind === 'send').map((s) => [s.id, s]));
  for (const step of graph.order) out.push(...checkStep(step, journey, ctx, graph, sendSteps, orderTriggered));

  // Rules that name steps: opened/clicked/delivered of a send step.
  for (const rule of journeyRules(journey)) {
    if (rule.kind === 'message') {
      const target = graph.nodes.get(rule.step)?.step;
      if (!target) out.push(unknownStep(rule.step, [...rule.path, rule.event], `'${rule.event}'`));
      else if (target.kind !== 'send') out.push(error('not-a-send', [...rule.path, rule.event], `'${rule.event}' names step '${rule.step}', which is a ${target.kind} step, not a send`, 'name the send step whose message you mean'));
      else if (rule.event !== 'delivered' && channelKind(ctx, target.channel) === 'sms' && rule.event === 'opened') {
        out.push(error('event-not-produced', [...rule.path, rule.event], `step '${rule.step}' sends an SMS; an SMS cannot be opened`, "use 'delivered' or 'clicked'"));
      }
    }
    if (rule.kind === 'trigger_order' && !orderTriggered) {
      out.push(error('needs-order-trigger', [...rule.path, 'trigger_order'], "'trigger_order' only applies to journeys triggered by an order", 'use it with trigger.event order_status_changed or order_placed'));
    }
  }
  for (const rule of [...journey.exitWhen, ...graph.order.flatMap((s) => [s.when, ...(s.kind === 'branch' ? s.cases.map((c) => c.when) : [])])]) {
    if (rule) out.push(...checkRuleValues(rule, ctx));
  }

  out.push(...checkTrigger(journey, ctx));
  out.push(...checkPolicies(journey.policies, ['policies'], ctx));
  if (journey.testRecipients) out.push(...checkRecipientChannels(journey.testRecipients.recipients, ['test_recipients'], ctx));
  return out;
}

function checkPaths(graph: ReturnType<typeof buildStepGraph>): PendingDiagnostic[] {
  const out: PendingDiagnostic[] = [];
  const live = reachable(graph);
  const dead = graph.order.filter((step) => !live.has(step.id) && graph.nodes.get(step.id)?.step === step).map((s) => s.id);
  // One dead region is one mistake: report the step it starts at, not every step in it.
  const deadSet = new Set(dead);
  const fed = new Set(dead.flatMap((id) => graph.nodes.get(id)!.successors));
  const starts = dead.filter((id) => !fed.has(id));
  for (const id of starts.length > 0 || dead.length === 0 ? starts : [dead[0]!]) {
    const region = reachableFrom(graph, id, deadSet);
    const step = graph.nodes.get(id)!.step;
    const more = region.size - 1;
    out.push(error('unreachable-step', [...step.path, 'id'], `no path reaches step '${id}'${more > 0 ? ` (nor the ${more} step${more === 1 ? '' : 's'} after it)` : ''}`, 'a step after an exit, or after steps that all go elsewhere, never runs; point a next/then/on_timeout at it or remove it'));
  }
  for (const group of loops(graph)) {
    const waits = group.some((id) => {
      const kind = graph.nodes.get(id)!.step.kind;
      return kind === 'wait' || kind === 'wait_for';
    });
    if (!waits) {
      const first = graph.nodes.get(group[0]!)!.step;
      out.push(error('loop-without-wait', [...first.path, 'id'], `steps ${[...group, group[0]].join(' → ')} form a loop with no wait in it`, 'a customer would go round it forever in one tick; put a wait or wait_for in the loop'));
    }
  }

  return out;
}

function checkStep(
  step: Step,
  journey: Journey,
  ctx: CheckContext,
  graph: StepGraph,
  sendSteps: Map<string, Extract<Step, { kind: 'send' }>>,
  orderTriggered: boolean,
): PendingDiagnostic[] {
  const out: PendingDiagnostic[] = [];
  const at = (...rest: (string | number)[]) => [...step.path, ...rest];
  const config = ctx.project.config;
  switch (step.kind) {
    case 'send': {
      if (!ctx.configUsable) break;
      const channelProblems = checkChannel(step.channel, at('send', 'channel'), ctx);
      out.push(...channelProblems);
      const template = config.templates[step.template];
      if (!template) {
        if (!isBrokenEntry(ctx, 'templates', step.template)) out.push(unknownName('unknown-template', 'template', step.template, Object.keys(config.templates), at('send', 'template'), 'templates'));
      } else if (template.channel !== step.channel && channelProblems.length === 0) {
        out.push(error('template-channel', at('send', 'template'), `template '${step.template}' is for channel '${template.channel}', but this step sends on '${step.channel}'`, 'use a template made for this channel'));
      }
      const override = step.provider ? config.providers[step.provider] : undefined;
      const address = config.channels[step.channel]?.address;
      if (override && (address === 'email' || address === 'phone')) {
        const delivers = providerAddressKind(override.type);
        if (delivers !== 'any' && delivers !== address) {
          out.push(error('channel-address', at('send', 'provider'), `provider '${step.provider}' (${override.type}) sends to ${describeKind(delivers)}, but channel '${step.channel}' reads ${describeKind(address)}`, 'use a provider for this channel\'s kind of address, or another channel'));
        }
      }
      if (step.provider && !config.providers[step.provider] && !isBrokenEntry(ctx, 'providers', step.provider)) {
        out.push(unknownName('unknown-provider', 'provider', step.provider, Object.keys(config.providers), at('send', 'provider'), 'providers'));
      }
      if (step.coupon && !config.coupons[step.coupon] && !isBrokenEntry(ctx, 'coupons', step.coupon)) {
        out.push(unknownName('unknown-coupon', 'coupon', step.coupon, Object.keys(config.coupons), at('send', 'coupon'), 'coupons'));
      }
      break;
    }
    case 'wait': {
      if (step.duration && step.until) {
        out.push(error('wait-both', at('wait', 'until'), "a wait has either 'duration' or 'until', not both", 'use two wait steps: first the duration, then until a time of day', 'key'));
      } else if (!step.duration && !step.until) {
        out.push(error('wait-empty', at('wait'), "a wait needs 'duration' (3d) or 'until' (a time of day)"));
      }
      if (!step.until && step.days.length > 0) out.push(error('wait-days', at('wait', 'days'), "'days' goes with 'until'", "add until: 'HH:MM'", 'key'));
      if (step.from === 'trigger' && journey.trigger.kind === 'segment') {
        out.push(error('wait-from-trigger', at('wait', 'from'), "'from: trigger' counts from the triggering event, but this journey is triggered by a segment", "use 'entry' or 'step'"));
      }
      if (step.timezone !== 'customer' && !isTimezone(step.timezone)) out.push(badTimezone(step.timezone, at('wait', 'timezone')));
      break;
    }
    case 'wait_for': {
      const needed = MESSAGE_EVENTS[step.event];
      const misspeltMessageEvent = !needed && !ORDER_EVENTS.has(step.event) && /^(email|sms|message)_/.test(step.event);
      if (step.of && !misspeltMessageEvent) {
        const target = sendSteps.get(step.of);
        if (!needed) {
          out.push(error('of-not-message-event', at('wait_for', 'of'), `'of' applies to message events (email_opened, sms_clicked, ...), not to '${step.event}'`, undefined, 'key'));
        } else if (!target) {
          // unknown step ids are reported by the graph check; here only a non-send target
          const other = graph.nodes.get(step.of)?.step;
          if (other) out.push(error('not-a-send', at('wait_for', 'of'), `'of' names step '${step.of}', which is a ${other.kind} step and sends nothing`, 'name the send step whose message you wait on'));
        } else if (needed !== 'any') {
          const kind = channelKind(ctx, target.channel);
          if (kind !== 'other' && kind !== needed) {
            out.push(error('event-not-produced', at('wait_for', 'event'), `step '${step.of}' sends on ${target.channel === kind ? kind : `${target.channel} (${kind})`}, which cannot produce '${step.event}'`, `wait for an ${kind === 'sms' ? 'SMS' : 'e-mail'} event such as ${kind}_delivered or ${kind}_clicked`));
          }
        }
      }
      if (step.sameOrder && !orderTriggered) {
        out.push(error('needs-order-trigger', at('wait_for', 'same_order'), "'same_order' needs a journey triggered by an order", undefined, 'key'));
      }
      if (step.statuses.length > 0 && step.event !== 'order_status_changed') {
        out.push(error('status-needs-order-event', at('wait_for', 'status'), "'status' applies to event order_status_changed", undefined, 'key'));
      } else {
        out.push(...checkStatuses(step.statuses, at('wait_for', 'status'), ctx));
      }
      if (Object.keys(step.match).length > 0 && journey.trigger.kind !== 'custom_event') {
        out.push(error('match-needs-event-trigger', at('wait_for', 'match'), "'match' compares with the triggering event, but this journey is not triggered by a custom event", undefined, 'key'));
      }
      if (misspeltMessageEvent) {
        const guess = didYouMean(step.event, Object.keys(MESSAGE_EVENTS));
        out.push(error('unknown-event', at('wait_for', 'event'), `'${step.event}' is not a message event${guess ? ` — did you mean '${guess}'?` : ''}`, `message events: ${Object.keys(MESSAGE_EVENTS).join(', ')}`));
      }
      break;
    }
    case 'split': {
      const total = step.variants.reduce((sum, v) => sum + v.weight, 0);
      if (Math.abs(total - 100) > 1e-9) {
        out.push(error('split-weights', at('split', 'variants'), `the variants' weights add up to ${total}, not 100`, `weights: ${step.variants.map((v) => `${v.name} ${v.weight}`).join(', ')}`));
      }
      const names = new Set<string>();
      for (const v of step.variants) {
        if (names.has(v.name)) out.push(error('duplicate-variant', [...v.path, 'name'], `variant name '${v.name}' is used twice in this split`));
        names.add(v.name);
      }
      break;
    }
    case 'sync': {
      if (!ctx.configUsable) break;
      const provider = config.providers[step.provider];
      if (!provider) {
        if (!isBrokenEntry(ctx, 'providers', step.provider)) out.push(unknownName('unknown-provider', 'provider', step.provider, Object.keys(config.providers), at('sync', 'provider'), 'providers'));
      } else if (!['klaviyo', 'webhook', 'console', 'file'].includes(provider.type)) {
        out.push(error('provider-cannot-sync', at('sync', 'provider'), `provider '${step.provider}' is a ${provider.type} provider, which cannot sync profiles or events`, 'use a klaviyo or webhook provider'));
      }
      break;
    }
    case 'branch':
    case 'update':
    case 'exit':
      break;
    default: {
      const never: never = step;
      throw new Error(`unknown step kind ${(never as Step).kind}`);
    }
  }
  return out;
}

function checkTrigger(journey: Journey, ctx: CheckContext): PendingDiagnostic[] {
  const out: PendingDiagnostic[] = [];
  const t = journey.trigger;
  switch (t.kind) {
    case 'segment': {
      if (ctx.segmentNames && !ctx.segmentNames.has(t.segment)) out.push(unknownSegment(t.segment, ['trigger', 'segment'], ctx));
      if (t.check) {
        const problem = cronProblem(t.check);
        if (problem) out.push(error('invalid-cron', ['trigger', 'check'], `'${t.check}' is not a valid cron expression: ${problem}`, "e.g. '0 * * * *' (every hour) or '*/15 * * * *'"));
      }
      const segment = ctx.project.segments.get(t.segment);
      if (t.backfill && segment) {
        const reach = backfillReach(segment.rule, ctx.project.segments);
        if (reach) {
          out.push(warning('unbounded-backfill', ['trigger', 'backfill'], `backfill enters everyone already in '${t.segment}', whose ${reach} has no upper bound on how long ago`, `it would reach customers from years ago; bound the segment, e.g. last_order_at: { between: [30d, 10mo] }`));
        }
      }
      break;
    }
    case 'order_status_changed':
      if (t.statuses.length === 0) out.push(error('missing-status', ['trigger'], "an order_status_changed trigger needs 'status' (the status changed to, e.g. delivered)"));
      out.push(...checkStatuses(t.statuses, ['trigger', 'status'], ctx));
      break;
    case 'date':
      if ((t.every === null) === (t.after === null)) {
        out.push(error('date-trigger-period', ['trigger'], "a date trigger needs exactly one of 'every' (each anniversary, e.g. 1y) and 'after' (once, e.g. 14d after the date)"));
      }
      break;
    case 'order_placed':
    case 'custom_event':
      break;
    default: {
      const never: never = t;
      throw new Error(`unknown trigger ${(never as { kind: string }).kind}`);
    }
  }
  // The builder defaults max_per_customer to unlimited when reentry_after is set, so 1 here was written.
  if (journey.entry.reentryAfter && journey.entry.maxPerCustomer === 1) {
    out.push(error('reentry-conflict', ['entry', 'reentry_after'], "'reentry_after' has no effect with max_per_customer: 1", 'raise max_per_customer or drop reentry_after', 'key'));
  }
  return out;
}

export function checkPolicies(p: Policies, path: YamlPath, ctx: CheckContext): PendingDiagnostic[] {
  const out: PendingDiagnostic[] = [];
  if (p.quietHours) {
    if (p.quietHours.from === p.quietHours.to) out.push(error('empty-window', [...path, 'quiet_hours', 'to'], "quiet hours start and end at the same time, so they never apply", "e.g. from: '21:00', to: '08:00'"));
    if (p.quietHours.timezone !== 'customer' && !isTimezone(p.quietHours.timezone)) out.push(badTimezone(p.quietHours.timezone, [...path, 'quiet_hours', 'timezone']));
  }
  if (p.sendWindow) {
    if (p.sendWindow.from === p.sendWindow.to) out.push(error('empty-window', [...path, 'send_window', 'to'], 'the send window opens and closes at the same time, so nothing could be sent', "e.g. from: '09:00', to: '20:00'"));
    if (p.sendWindow.timezone !== 'customer' && !isTimezone(p.sendWindow.timezone)) out.push(badTimezone(p.sendWindow.timezone, [...path, 'send_window', 'timezone']));
  }
  if (p.frequencyCap?.channel && ctx.configUsable) out.push(...checkChannel(p.frequencyCap.channel, [...path, 'frequency_cap', 'channel'], ctx));
  return out;
}

export function checkRecipientChannels(recipients: Record<string, string[]>, path: YamlPath, ctx: CheckContext): PendingDiagnostic[] {
  if (!ctx.configUsable) return [];
  return Object.keys(recipients).flatMap((ch) => checkChannel(ch, [...path, ch], ctx).map((d) => ({ ...d, at: 'key' as const })));
}

function checkChannel(channel: string, path: YamlPath, ctx: CheckContext): PendingDiagnostic[] {
  const channels = ctx.project.config.channels;
  if (channels[channel] || isBrokenEntry(ctx, 'channels', channel)) return [];
  return [unknownName('unknown-channel', 'channel', channel, Object.keys(channels), path, 'channels')];
}

function unknownName(code: string, what: string, name: string, known: string[], path: YamlPath, section: string): PendingDiagnostic {
  const guess = didYouMean(name, known);
  return error(
    code,
    path,
    `unknown ${what} '${name}'${guess ? ` — did you mean '${guess}'?` : ''}`,
    known.length ? (guess ? undefined : `declared ${section}: ${known.join(', ')}`) : `declare it under '${section}' in journey.config.yaml`,
  );
}

export function unknownSegment(name: string, path: YamlPath, ctx: CheckContext): PendingDiagnostic {
  const guess = didYouMean(name, ctx.segmentNames ?? []);
  return error('unknown-segment', path, `unknown segment '${name}'${guess ? ` — did you mean '${guess}'?` : ''}`, guess ? undefined : 'declare it in a file under segments/ or under segments: in journey.config.yaml');
}

function badTimezone(tz: string, path: YamlPath): PendingDiagnostic {
  const guess = didYouMean(tz, timezoneNames());
  return error('invalid-timezone', path, `'${tz}' is not a timezone${guess ? ` — did you mean '${guess}'?` : ''}`, "use an IANA name such as Europe/Prague or America/New_York, or 'customer'");
}

/** Checks of values inside one rule tree that the schema cannot express. */
export function checkRuleValues(rule: Rule, ctx: CheckContext): PendingDiagnostic[] {
  const out: PendingDiagnostic[] = [];
  const visit = (r: Rule): void => {
    switch (r.kind) {
      case 'all':
      case 'any':
        r.rules.forEach(visit);
        return;
      case 'not':
        visit(r.rule);
        return;
      case 'segment':
        if (ctx.segmentNames && !ctx.segmentNames.has(r.name)) out.push(unknownSegment(r.name, [...r.path, 'segment'], ctx));
        return;
      case 'registered_at':
        out.push(...checkBetween(r.path, 'registered_at', r.date.terms), ...checkUnits(r.path, 'registered_at', r.date));
        out.push(...checkShortDurations(r.path, 'registered_at', agoTerms(r.date)));
        return;
      case 'order_date': {
        const key = r.which === 'last' ? 'last_order_at' : 'first_order_at';
        out.push(...checkBetween(r.path, key, r.date.terms), ...checkUnits(r.path, key, r.date));
        out.push(...checkStatuses(r.statuses, [...r.path, key, 'status'], ctx), ...checkShortDurations(r.path, key, agoTerms(r.date)));
        return;
      }
      case 'orders':
        out.push(...checkBetween(r.path, 'orders', r.filter.placed.terms), ...checkUnits(r.path, 'orders', r.filter.placed));
        out.push(...checkStatuses(r.filter.statuses, [...r.path, 'orders', 'status'], ctx), ...checkShortDurations(r.path, 'orders', agoTerms(r.filter.placed)));
        return;
      case 'order_amount':
        out.push(...checkStatuses(r.statuses, [...r.path, r.measure, 'status'], ctx));
        if (r.within) out.push(...checkShortDurations(r.path, r.measure, [{ duration: r.within, path: ['within'] }]));
        return;
      case 'trigger_order':
        out.push(...checkStatuses(r.statuses, [...r.path, 'trigger_order', 'status'], ctx));
        return;
      case 'event':
        out.push(...checkBetween(r.path, 'event', r.occurred.terms), ...checkUnits(r.path, 'event', r.occurred));
        return;
      case 'attribute':
        for (const t of r.terms) {
          if (t.op === 'anniversary' && ['m', 'h'].includes(t.every.unit)) {
            out.push(error('anniversary-unit', [...r.path, `attributes.${r.name}`, 'anniversary'], `an anniversary repeats in days, weeks, months or years, not every ${t.every.text}`, 'e.g. anniversary: 1y'));
          }
        }
        return;
      case 'consent':
      case 'suppressed':
      case 'reachable':
        if (ctx.configUsable && Object.keys(ctx.project.config.channels).length > 0) out.push(...checkChannel(r.channel, [...r.path, r.kind], ctx));
        return;
      default:
        return;
    }
  };
  visit(rule);
  return out;
}

/** Calendar windows count whole days; anniversaries repeat in days, weeks, months or years. */
function checkUnits(path: YamlPath, key: string, date: DateComparison): PendingDiagnostic[] {
  const out: PendingDiagnostic[] = [];
  for (const t of date.terms) {
    if (date.calendar && (t.op === 'before' || t.op === 'after') && t.at.kind === 'ago' && !['d', 'w'].includes(t.at.duration.unit)) {
      out.push(error('calendar-unit', [...path, key, 'calendar'], `calendar: true counts whole days, so '${t.at.duration.text}' cannot be a calendar window`, 'use days or weeks (7d, 2w), or drop calendar: true for a rolling window', 'key'));
    }
    if (t.op === 'anniversary' && ['m', 'h'].includes(t.every.unit)) {
      out.push(error('anniversary-unit', [...path, key, 'anniversary'], `an anniversary repeats in days, weeks, months or years, not every ${t.every.text}`, 'e.g. anniversary: 1y'));
    }
  }
  return out;
}

/** between: [near, far] — the nearer moment first. Written the other way round it matches nobody. */
function checkBetween(path: YamlPath, key: string, terms: { op: string; at?: Moment }[]): PendingDiagnostic[] {
  const after = terms.find((t) => t.op === 'after')?.at;
  const before = terms.find((t) => t.op === 'before')?.at;
  if (!after || !before || after.kind !== 'ago' || before.kind !== 'ago') return [];
  if (approxMs(before.duration) >= approxMs(after.duration)) {
    return [error('empty-range', [...path, key], `this range is empty: nothing is both less than ${after.duration.text} and more than ${before.duration.text} ago`, 'write between: [nearer, further], e.g. between: [30d, 10mo]')];
  }
  return [];
}

/** A removed step should be one a deployed version had: otherwise it is likely misspelt, and the customers at the real one exit. */
function checkRemovedStepHistory(journeyId: string, removed: string, ctx: CheckContext): PendingDiagnostic[] {
  if (ctx.recordedSteps === undefined) return [];
  const at = ['removed_steps', removed];
  if (ctx.recordedSteps === null) {
    return [
      warning('removed-step-unchecked', at, `step '${removed}' is not in this journey, and with no store validate cannot tell whether a deployed version had it`, 'validate where the store is (store.path in journey.config.yaml) to check it, or compare the name with the deployed version', 'key'),
    ];
  }
  const recorded = ctx.recordedSteps.get(journeyId);
  if (recorded?.has(removed)) return [];
  const guess = recorded ? didYouMean(removed, recorded) : undefined;
  const never = recorded ? `no deployed version of '${journeyId}' had it` : `journey '${journeyId}' was never deployed`;
  return [
    warning('removed-step-unknown', at, `step '${removed}' is not in this journey and ${never}${guess ? ` — did you mean '${guess}'?` : ''}`, 'removed_steps names steps of an earlier, deployed version; no customer can be at this one', 'key'),
  ];
}
