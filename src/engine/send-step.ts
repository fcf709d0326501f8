/**
 * The steps that reach a customer: send (consent and address, quiet hours and send
 * windows, the frequency cap, coupons, then the outbox rows with their content) and
 * sync; and test mode's part of every step that would reach or change a customer.
 */
import type { Duration, Journey, Policies, Project, Step } from '../project/model.js';
import { testModeOf, TEST_SKIP } from '../project/test-mode.js';
import { compileRule, EN, storedReachability, type CompileOptions } from '../segments/compile.js';
import { and, col, select, type Expr } from '../segments/sql/nodes.js';
import { count, deferByZone, insertOutbox, insertSync, minus, overCap, setDue, testEnrolments, testSample, zonesOf, type IdSet } from '../store/enrolments.js';
import { nextAllowed } from '../time/windows.js';
import { fillContent, issueStepCoupons, startRecommendations } from './content-step.js';
import { countDeferral, inKept, keep, moveOn, print, skipOn, type Ctx, type Kept, type StepTick } from './tick-context.js';

export function policiesOf(project: Project, journey: Journey): Policies {
  const d = project.config.policies;
  return { quietHours: journey.policies.quietHours ?? d.quietHours, sendWindow: journey.policies.sendWindow ?? d.sendWindow, frequencyCap: journey.policies.frequencyCap ?? d.frequencyCap };
}

function durationMs(d: Duration): number {
  return d.amount * ({ m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, mo: 30 * 86_400_000, y: 365 * 86_400_000 } as const)[d.unit];
}

/** An enrolment's customer can be sent to on the channel now: consent, a valid address, no suppression (the stored reachability, where the channel has one). */
export function reachableOn(channel: string, compile: CompileOptions): Expr {
  return (
    storedReachability(channel, col(EN, 'customer_id'), compile) ?? {
      kind: 'in_query' as const,
      expr: col(EN, 'customer_id'),
      query: compileRule({ kind: 'reachable', channel, path: [] }, compile),
      negated: false,
    }
  );
}

export function send(ctx: Ctx, journey: Journey, step: Extract<Step, { kind: 'send' }>, group: Kept, next: string | null, report: StepTick): number {
  const { db, now, project } = ctx;
  let moved = 0;
  // consent, a valid address and no suppression, checked now: otherwise skipped, with the reason
  const ok = keep(ctx, 'tick_reachable', print(ctx, select({ columns: [{ expr: col(EN, 'id'), alias: 'id' }], from: { kind: 'table', table: 'enrolments', alias: EN }, where: and(inKept(group), reachableOn(step.channel, ctx.compile)) })));
  const unreachable = keep(ctx, 'tick_unreachable', minus(group, ok));
  moved += skipOn(ctx, report, unreachable, next, `not_reachable:${step.channel}`);

  let sendable: Kept = ok;
  const policies = policiesOf(project, journey);
  if (policies.quietHours || policies.sendWindow) {
    const q = policies.quietHours;
    const w = policies.sendWindow;
    const policy = { quietFrom: q?.from ?? null, quietTo: q?.to ?? null, windowFrom: w?.from ?? null, windowTo: w?.to ?? null, windowDays: w?.days ?? [] };
    const fixedZone = [q?.timezone, w?.timezone].find((tz) => tz && tz !== 'customer');
    // every customer of a zone has the same next allowed instant: computed once per zone
    const zones = fixedZone ? [fixedZone] : zonesOf(db, sendable, project.config.timezone);
    const allowedIn = (tz: string) => {
      try {
        return nextAllowed(now, tz, policy);
      } catch {
        return nextAllowed(now, project.config.timezone, policy); // not a zone (imported before zones were checked)
      }
    };
    const dueByZone = new Map(zones.map((tz) => [tz, allowedIn(tz)]));
    const quiet = fixedZone
      ? (dueByZone.get(fixedZone)! > now ? sendable : null)
      : deferByZone(db, sendable, dueByZone, project.config.timezone, q ? 'quiet_hours' : 'send_window', now, 'tick_quiet');
    if (quiet === sendable) {
      countDeferral(ctx, report, q ? 'quiet_hours' : 'send_window', sendable, setDue(db, sendable, '?', [dueByZone.get(fixedZone!)!], 'deferred', q ? 'quiet_hours' : 'send_window', now));
      return moved;
    }
    if (quiet) {
      countDeferral(ctx, report, q ? 'quiet_hours' : 'send_window', quiet, count(db, quiet));
      sendable = keep(ctx, 'tick_send1', minus(sendable, quiet));
    }
  }
  const cap = policies.frequencyCap;
  // a cap on one channel limits only sends on that channel
  if (cap && (cap.channel === null || cap.channel === step.channel)) {
    const over = overCap(sendable, { max: cap.max, channel: cap.channel, per: typeof cap.per === 'string' ? cap.per : durationMs(cap.per), defaultZone: project.config.timezone }, now);
    const capped = keep(ctx, 'tick_capped', over.set);
    if (cap.onCap === 'skip') {
      moved += skipOn(ctx, report, capped, next, 'frequency_cap');
    } else {
      countDeferral(ctx, report, 'frequency_cap', capped, setDue(db, capped, over.until.sql, over.until.params, 'deferred', 'frequency_cap', now));
    }
    sendable = keep(ctx, 'tick_send2', minus(sendable, capped));
  }
  const channel = project.config.channels[step.channel];
  const provider = step.provider ?? channel?.provider ?? step.channel;
  const outbox = (set: IdSet, testRecipients: string[] | null) =>
    insertOutbox(db, set, {
      journeyId: journey.id,
      stepId: step.id,
      channel: step.channel,
      provider,
      template: step.template,
      addressField: ctx.compile.channelAddress(step.channel),
      testRecipients,
      data: step.data,
      now,
    });
  const test = testPart(ctx, journey, sendable, 'tick_send_test');
  if (test) {
    const recipients = test.mode?.recipients[step.channel] ?? null;
    const { sample, skipped } = testSplit(ctx, journey, step.id, test, recipients !== null, TEST_SKIP.noRecipient(step.channel));
    // test copies issue no coupon code: the team sees a TEST- code, the shop's codes stay unused
    const n = outbox(sample, recipients);
    if (ctx.render) fillContent(db, project, journey, step, sample, now, { testCopy: true });
    report.queued += n;
    report.testCopies = (report.testCopies ?? 0) + n;
    moved += moveOn(ctx, report, sample, next, 'sent', `${step.channel} ${step.template} to test ${recipients?.join(', ')}`);
    moved += skipTest(ctx, skipped, next, report);
    sendable = keep(ctx, 'tick_send_live', minus(sendable, test.set));
  }
  // content: a coupon pool that ran dry skips the send; the rest is rendered into the rows (engine/content-step.ts)
  const recommendations = ctx.render && step.recommendations ? startRecommendations(db, project, step, sendable, count(db, sendable), now) : null;
  const dry = issueStepCoupons(db, project, journey, step, sendable, now);
  if (dry && count(db, dry) > 0) {
    moved += skipOn(ctx, report, keep(ctx, 'tick_dry', dry), next, `coupon_pool_empty:${step.coupon}`);
    sendable = keep(ctx, 'tick_send3', minus(sendable, { sql: 'SELECT id FROM temp.tick_dry', params: [] }));
  }
  const sent = outbox(sendable, null);
  if (ctx.render) fillContent(db, project, journey, step, sendable, now, { recommendations });
  report.queued += sent;
  moved += moveOn(ctx, report, sendable, next, 'sent', `${step.channel} ${step.template}`);
  return moved;
}

/**
 * The enrolments of a set that test mode handles: all of them while the journey is
 * in test mode (even those that entered live before it was switched on), else its
 * test enrolments only, which never reach their customer. Null when there are none.
 */
export function testPart(ctx: Ctx, journey: Journey, set: Kept, name: string): { set: Kept; mode: ReturnType<typeof testModeOf> } | null {
  const mode = testModeOf(journey, ctx.project.config);
  if (mode) return { set, mode };
  const tests = keep(ctx, name, testEnrolments(set));
  return count(ctx.db, tests) > 0 ? { set: tests, mode: null } : null;
}

/**
 * Splits test mode's enrolments at a step into those that go to the test target
 * (at most the sample, when there is a target) and those skipped, each with the reason.
 */
function testSplit(
  ctx: Ctx,
  journey: Journey,
  stepId: string,
  test: { set: Kept; mode: ReturnType<typeof testModeOf> },
  hasTarget: boolean,
  noTarget: string,
): { sample: Kept; skipped: { set: IdSet; reason: string }[] } {
  const none = keep(ctx, 'tick_test_none', { sql: 'SELECT id FROM enrolments WHERE false', params: [] });
  if (!test.mode) return { sample: none, skipped: [{ set: test.set, reason: TEST_SKIP.off }] };
  if (!hasTarget) return { sample: none, skipped: [{ set: test.set, reason: noTarget }] };
  const sample = keep(ctx, 'tick_test_sample', testSample(test.set, journey.id, stepId, test.mode.sample));
  return { sample, skipped: [{ set: minus(test.set, sample), reason: TEST_SKIP.sampleReached }] };
}

/** Moves test mode's skipped enrolments past the step, each with its reason (test_mode:...) in the step log and the report. */
function skipTest(ctx: Ctx, skipped: { set: IdSet; reason: string }[], next: string | null, report: StepTick): number {
  let moved = 0;
  for (const { set, reason } of skipped) moved += skipOn(ctx, report, set, next, reason);
  return moved;
}

/** A sync step: live enrolments push to the customer's profile; test mode's only to the test profile named for the provider. */
export function sync(ctx: Ctx, journey: Journey, step: Extract<Step, { kind: 'sync' }>, group: Kept, next: string | null, report: StepTick): number {
  const { db, now } = ctx;
  const payload = { profile: step.profile, event: step.event, properties: step.properties };
  let live: IdSet = group;
  let moved = 0;
  const test = testPart(ctx, journey, group, 'tick_sync_test');
  if (test) {
    const target = test.mode?.sync[step.provider] ?? null;
    const { sample, skipped } = testSplit(ctx, journey, step.id, test, target !== null, TEST_SKIP.noSyncTarget(step.provider));
    report.testCopies = (report.testCopies ?? 0) + insertSync(db, sample, { journeyId: journey.id, stepId: step.id, provider: step.provider, payload, testTarget: target, now });
    moved += moveOn(ctx, report, sample, next, 'synced', `to test ${target}`);
    moved += skipTest(ctx, skipped, next, report);
    live = minus(group, test.set);
  }
  insertSync(db, live, { journeyId: journey.id, stepId: step.id, provider: step.provider, payload, now });
  return moved + moveOn(ctx, report, live, next, 'synced');
}
