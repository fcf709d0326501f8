/**
 * `journey preview`: one send step's message for one customer, exactly as the tick
 * would send it, and the request its provider would make. Rendered by the tick's own
 * send path (a test enrolment at the step, its outbox row written, the coupon issued
 * and the content filled) inside a transaction that is rolled back, so the store is
 * left as it was; the provider module builds its request body without sending it.
 */
import { smsSegments, type SmsSegments } from '../content/sms.js';
import { customerIdOf } from '../store/customer-ref.js';
import type { RenderedContent, WireRequest } from '../delivery/message.js';
import { OutgoingBuilder } from '../delivery/outgoing.js';
import { createProvider } from '../delivery/providers/index.js';
import { JourneyError } from '../errors.js';
import type { Journey, Project } from '../project/model.js';
import { buildStepGraph } from '../project/step-graph.js';
import { EN } from '../segments/compile.js';
import { compileOptionsFor } from '../segments/options.js';
import { printerFor } from '../segments/run.js';
import { and, cmp, col, num, param, select } from '../segments/sql/nodes.js';
import type { SqlValue, StoreDb } from '../store/db.js';
import { insertOutbox, insertPreviewEnrolment, latestOrderOf, writtenMessages } from '../store/enrolments.js';
import { withRolledBack } from '../store/rolled-back.js';
import { fillContent, issueStepCoupons } from './content-step.js';
import { reachableOn } from './send-step.js';
import { sendSteps, type SendStep } from './send-test.js';

export interface PreviewOptions {
  journey: string;
  step: string;
  customer: string;
  /** The split variant the customer is in (a variant's name); default: the variant that holds the step, if any. */
  variant?: string;
  now: Date;
}

export interface Preview {
  journey: string;
  step: string;
  /** "split_step/variant", or null. */
  variant: string | null;
  customer: string;
  channel: string;
  template: string;
  provider: string;
  /** The customer's address on the channel. */
  to: string;
  /** The order the message was rendered for (order triggers: the customer's latest), or null. */
  order: string | null;
  content: RenderedContent | null;
  /** For a text channel: what the body costs in SMS parts. */
  sms: SmsSegments | null;
  coupon: string | null;
  recommendations: { id: string; title: string | null; reason: string | null }[];
  /** The provider's request, or why it would refuse the message. */
  request: WireRequest | { error: string };
  /** Why the tick would not send it to this customer now (no consent, no valid address, suppressed), or null: it would. */
  unreachable: string | null;
}

export function preview(db: StoreDb, project: Project, opts: PreviewOptions): Preview {
  const journey = project.journeys.find((j) => j.id === opts.journey || j.file === opts.journey || j.file.endsWith(`/${opts.journey}`));
  if (!journey) throw new JourneyError(`no journey '${opts.journey}'`, { hint: `journeys: ${project.journeys.map((j) => j.id).join(', ')}` });
  const all = sendSteps(journey);
  const found = all.find((s) => s.step.id === opts.step);
  if (!found) throw new JourneyError(`journey '${journey.id}' has no send step '${opts.step}'`, { hint: `its send steps: ${all.map((s) => s.step.id).join(', ') || 'none'}` });
  const customer = customerIdOf(db, opts.customer);
  const variant = variantFor(journey, found.step, found.variant, opts.variant);
  const now = opts.now.getTime();
  const orderTriggered = journey.trigger.kind === 'order_placed' || journey.trigger.kind === 'order_status_changed';
  const orderId = orderTriggered ? latestOrderOf(db, customer, now) : null;
  const step = found.step;
  const providerName = step.provider ?? project.config.channels[step.channel]?.provider ?? step.channel;
  const compile = compileOptionsFor(project, opts.now);
  const addressField = compile.channelAddress(step.channel);

  const rendered = withRolledBack(db, (inner) => {
    const [split, name] = variant ? variant.split('/') : [];
    const set = insertPreviewEnrolment(inner, { journeyId: journey.id, customerId: customer, stepId: step.id, variants: split && name ? { [split]: name } : null, now, orderId });
    // as the tick does: the code first (a pool that ran dry skips the send), then the row, then its content
    const dry = issueStepCoupons(inner, project, journey, step, set, now);
    if (dry && inner.get(`SELECT 1 AS one FROM (${dry.sql})`, dry.params)) {
      throw new JourneyError(`coupon '${step.coupon}' has no free code left in its pool: the step would skip this customer (coupon_pool_empty)`, {
        hint: `import more codes: journey import coupons FILE --coupon ${step.coupon}`,
      });
    }
    // the step sends only to a customer it can reach now; the message is shown all the same, with that said
    const reach = printerFor(inner.dialect).print(
      select({ columns: [{ expr: num(1), alias: 'one' }], from: { kind: 'table', table: 'enrolments', alias: EN }, where: and(cmp('=', col(EN, 'customer_id'), param(customer)), reachableOn(step.channel, compile)) }),
    );
    const reachable = inner.get(reach.sql, reach.params as SqlValue[]) !== undefined;
    insertOutbox(inner, set, { journeyId: journey.id, stepId: step.id, channel: step.channel, provider: providerName, template: step.template, addressField, testRecipients: null, data: step.data, now });
    fillContent(inner, project, journey, step, set, now);
    const [row] = writtenMessages(inner, set, journey.id, step.id);
    if (!row) throw new JourneyError(`customer '${customer}' has no ${addressField === 'email' ? 'e-mail address' : addressField === 'phone' ? 'phone number' : addressField} for channel ${step.channel}`, { hint: 'the step would not send to them' });
    if (row.failed) throw new JourneyError(`the message cannot be rendered: ${row.failed}`, { hint: 'the step would fail this message; journey validate checks the template' });
    const built = new OutgoingBuilder(project.config).message(row);
    if (typeof built === 'string') throw new JourneyError(`the message cannot be built: ${built}`);
    const payload = JSON.parse(row.payload) as { coupon?: { code?: string } | null; recommendations?: { id: string; title: string | null; reason: string | null }[] };
    return { reachable, message: built, coupon: payload.coupon?.code ?? null, recommendations: (payload.recommendations ?? []).map((p) => ({ id: p.id, title: p.title, reason: p.reason })) };
  });

  const config = project.config.providers[providerName];
  let request: Preview['request'];
  if (!config) request = { error: `provider '${providerName}' is not in journey.config.yaml` };
  else {
    // the body carries no secret (they go in headers): a preview needs none of them set
    const provider = createProvider(config, secretPlaceholders(process.env));
    try {
      request = provider.request(rendered.message);
    } finally {
      void provider.close();
    }
  }
  const content = rendered.message.content ?? null;
  return {
    journey: journey.id,
    step: step.id,
    variant,
    customer,
    channel: step.channel,
    template: step.template,
    provider: providerName,
    to: rendered.message.to,
    order: orderId,
    content,
    sms: content?.body != null && addressField !== 'email' ? smsSegments(content.body) : null,
    coupon: rendered.coupon,
    recommendations: rendered.recommendations,
    request,
    unreachable: rendered.reachable ? null : `customer '${customer}' cannot be reached by ${step.channel} now (no consent, no valid address, or suppressed): the step would skip them (not_reachable:${step.channel})`,
  };
}

/** The environment, with every variable that is not set reading as its own ${NAME}. */
function secretPlaceholders(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return new Proxy(env, { get: (target, key) => (typeof key === 'string' && !target[key] ? `\${${key}}` : target[key as string]) });
}

/** The variant the preview renders in, as "split/variant". */
function variantFor(journey: Journey, step: SendStep, holding: string | null, wanted: string | undefined): string | null {
  if (wanted === undefined) return holding;
  const splits = buildStepGraph(journey).order.filter((s) => s.kind === 'split');
  const matches = splits.flatMap((s) => (s.kind === 'split' ? s.variants.filter((v) => v.name === wanted || `${s.id}/${v.name}` === wanted).map((v) => `${s.id}/${v.name}`) : []));
  const names = splits.flatMap((s) => (s.kind === 'split' ? s.variants.map((v) => `${s.id}/${v.name}`) : []));
  if (matches.length === 0) throw new JourneyError(`journey '${journey.id}' has no split variant '${wanted}'`, { hint: names.length ? `its variants: ${names.join(', ')}` : 'it has no split step' });
  if (holding && !matches.includes(holding)) throw new JourneyError(`step '${step.id}' is in variant ${holding} only, not '${wanted}'`, { hint: `omit --variant, or preview a step of ${wanted}` });
  return holding ?? matches[0]!;
}
