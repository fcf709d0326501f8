/**
 * `journey send-test`: each send step of a journey (in every split variant, every
 * branch), rendered for one real customer, sent to a test address, as the marketing
 * platforms' "send a test" does. Nobody is enrolled and the store is not written:
 * the messages go straight through the provider modules the dispatcher uses, built
 * by the same OutgoingBuilder from the same payload an outbox row would carry, so a
 * test shows what the customer would get. "sent" is the provider's acceptance.
 */
import { JourneyError, usageError } from '../errors.js';
import { customerIdOf } from '../store/customer-ref.js';
import { isEmailAddress, normalisePhone } from '../store/import/values.js';
import type { OutgoingMessage, Provider, SendOutcome } from '../delivery/message.js';
import { OutgoingBuilder } from '../delivery/outgoing.js';
import { createProvider, type ProviderOptions } from '../delivery/providers/index.js';
import type { Journey, Project, Step, Target } from '../project/model.js';
import { buildStepGraph } from '../project/step-graph.js';
import { compileOptionsFor } from '../segments/options.js';
import type { StoreDb } from '../store/db.js';
import { insertOutbox, insertPreviewEnrolment, writtenMessages } from '../store/enrolments.js';
import { withRolledBack } from '../store/rolled-back.js';
import { fillContent } from './content-step.js';

export interface SendTestOptions {
  journey: string;
  customer: string;
  /**
   * Test addresses: each step goes to the first one its channel delivers to (an e-mail
   * address to e-mail, a phone number to a phone channel; to a channel addressed by a
   * customer attribute, one that is neither, else a phone number).
   */
  to: string[];
  /** Only this send step. */
  step?: string;
  now: Date;
  env?: NodeJS.ProcessEnv;
  providerOptions?: ProviderOptions;
}

export interface TestSend {
  step: string;
  /** The split variant the step belongs to, as "split_step/variant", or null. */
  variant: string | null;
  channel: string;
  template: string;
  provider: string;
  /** The test address, or null when none of --to fits the channel. */
  to: string | null;
  outcome: 'sent' | 'failed' | 'not_sent';
  providerMessageId: string | null;
  error: string | null;
}

export interface SendTestResult {
  journey: string;
  customer: string;
  sends: TestSend[];
  /** Every step was accepted by its provider. */
  ok: boolean;
}

export type SendStep = Extract<Step, { kind: 'send' }>;

export async function sendTest(db: StoreDb, project: Project, opts: SendTestOptions): Promise<SendTestResult> {
  const journey = project.journeys.find((j) => j.id === opts.journey || j.file === opts.journey || j.file.endsWith(`/${opts.journey}`));
  if (!journey) throw new JourneyError(`no journey '${opts.journey}'`, { hint: `journeys: ${project.journeys.map((j) => j.id).join(', ')}` });
  const all = sendSteps(journey);
  const steps = opts.step ? all.filter((s) => s.step.id === opts.step) : all;
  if (opts.step && steps.length === 0) {
    throw new JourneyError(`journey '${journey.id}' has no send step '${opts.step}'`, { hint: `its send steps: ${all.map((s) => s.step.id).join(', ') || 'none'}` });
  }
  if (steps.length === 0) throw new JourneyError(`journey '${journey.id}' has no send step`, { hint: 'send-test sends the messages of send steps; a sync is not sent by it' });
  const compile = compileOptionsFor(project, opts.now);
  // a push token or the like is only an address to a channel that reads it from an attribute; to SMS it is a typo
  const takesOther = steps.some(({ step }) => !['email', 'phone'].includes(compile.channelAddress(step.channel)));
  const other = opts.to.find((a) => addressKind(a) === 'other');
  if (other !== undefined && !takesOther) {
    throw usageError(`--to '${other}' is neither an e-mail address nor a phone number`, 'give an e-mail address for e-mail steps and a phone number (+ and digits) for SMS steps, e.g. --to team@shop.example --to +420700000001');
  }
  const customer = customerIdOf(db, opts.customer);

  const builder = new OutgoingBuilder(project.config);
  const providers = new Map<string, Provider>();
  const stamp = opts.now.getTime();
  const sends: TestSend[] = [];
  try {
    for (const { step, variant } of steps) {
      const provider = step.provider ?? project.config.channels[step.channel]?.provider ?? step.channel;
      const field = compile.channelAddress(step.channel);
      const to = (field === 'email' || field === 'phone' ? fitting(opts.to, field) : (fitting(opts.to, 'other') ?? fitting(opts.to, 'phone'))) ?? null;
      const base = { step: step.id, variant, channel: step.channel, template: step.template, provider, to, providerMessageId: null, error: null };
      if (to === null) {
        const wanted = field === 'email' ? 'an e-mail address' : field === 'phone' ? 'a phone number' : 'a phone number or channel address';
        sends.push({ ...base, outcome: 'not_sent', error: `no --to address for ${step.channel} (${wanted})` });
        continue;
      }
      const built = renderForTest(db, project, journey, step, variant, to, customer, stamp, compile.channelAddress(step.channel), builder);
      if (typeof built === 'string') {
        sends.push({ ...base, outcome: 'not_sent', error: built });
        continue;
      }
      const outcome = await sendOne(providers, project, provider, built, opts);
      sends.push(
        outcome.kind === 'sent'
          ? { ...base, outcome: 'sent', providerMessageId: outcome.providerMessageId }
          : { ...base, outcome: 'failed', error: `${outcome.error}${outcome.kind === 'retry' ? ' (temporary: try again)' : ''}` },
      );
    }
  } finally {
    await Promise.all([...providers.values()].map((p) => p.close()));
  }
  return { journey: journey.id, customer, sends, ok: sends.every((s) => s.outcome === 'sent') };
}

/** A --to value as the imports would read it: an e-mail address, a phone number, or something else. */
function addressKind(text: string): 'email' | 'phone' | 'other' {
  if (isEmailAddress(text)) return 'email';
  return normalisePhone(text) !== undefined ? 'phone' : 'other';
}

/** The first --to of a kind; a phone number as the imports store one (+ and digits), which is how the provider wants it. */
function fitting(to: string[], kind: ReturnType<typeof addressKind>): string | undefined {
  const found = to.find((a) => addressKind(a) === kind);
  return found !== undefined && kind === 'phone' ? (normalisePhone(found) ?? found) : found;
}

async function sendOne(providers: Map<string, Provider>, project: Project, name: string, message: OutgoingMessage, opts: SendTestOptions): Promise<SendOutcome> {
  let provider = providers.get(name);
  if (!provider) {
    const config = project.config.providers[name];
    if (!config) return { kind: 'permanent', error: `provider '${name}' is not in journey.config.yaml` };
    try {
      provider = createProvider(config, opts.env ?? process.env, opts.providerOptions ?? {});
    } catch (err) {
      if (err instanceof JourneyError) return { kind: 'permanent', error: err.message };
      throw err;
    }
    providers.set(name, provider);
  }
  return provider.send(message);
}

/**
 * The message of a send step for one customer, rendered by the tick's own send path (an
 * outbox row of a test enrolment, filled by the step's content) inside a transaction
 * that is rolled back: what the customer would get, addressed to `to`. A string says
 * why it cannot be sent.
 */
function renderForTest(
  db: StoreDb,
  project: Project,
  journey: Journey,
  step: SendStep,
  variant: string | null,
  to: string,
  customer: string,
  now: number,
  addressField: ReturnType<ReturnType<typeof compileOptionsFor>['channelAddress']>,
  builder: OutgoingBuilder,
): OutgoingMessage | string {
  return withRolledBack(db, (inner) => {
    const [split, name] = variant ? variant.split('/') : [];
    const set = insertPreviewEnrolment(inner, { journeyId: journey.id, customerId: customer, stepId: step.id, variants: split && name ? { [split]: name } : null, now });
    insertOutbox(inner, set, {
      journeyId: journey.id,
      stepId: step.id,
      channel: step.channel,
      provider: step.provider ?? project.config.channels[step.channel]?.provider ?? step.channel,
      template: step.template,
      addressField,
      testRecipients: [to],
      data: step.data,
      now,
    });
    fillContent(inner, project, journey, step, set, now, { testCopy: true });
    const [row] = writtenMessages(inner, set, journey.id, step.id);
    if (!row) return 'the customer has no address to render a message for';
    if (row.failed) return row.failed;
    const built = builder.message(row);
    // a key of its own: a test send is never the customer's message
    return typeof built === 'string' ? built : { ...built, idempotencyKey: `send-test:${journey.id}:${step.id}:${customer}:${now}` };
  });
}

/** The journey's send steps in written order, each with the split variant that holds it. */
export function sendSteps(journey: Journey): { step: SendStep; variant: string | null }[] {
  const variantOf = new Map<string, string>();
  const mark = (target: Target | null, label: string) => {
    if (target?.kind !== 'steps') return;
    const walk = (steps: Step[]) => {
      for (const s of steps) {
        if (!variantOf.has(s.id)) variantOf.set(s.id, label);
        if (s.kind === 'branch') {
          s.cases.forEach((c) => c.then.kind === 'steps' && walk(c.then.steps));
          if (s.otherwise?.kind === 'steps') walk(s.otherwise.steps);
        }
        if (s.kind === 'split') s.variants.forEach((v) => v.then?.kind === 'steps' && walk(v.then.steps));
      }
    };
    walk(target.steps);
  };
  const graph = buildStepGraph(journey);
  for (const s of graph.order) if (s.kind === 'split') for (const v of s.variants) mark(v.then, `${s.id}/${v.name}`);
  for (const s of graph.order) {
    if (s.kind !== 'split') continue;
    // a variant that jumps to a step elsewhere sends that step's message: labelled too
    for (const v of s.variants) if (v.then?.kind === 'goto' && !variantOf.has(v.then.step)) variantOf.set(v.then.step, `${s.id}/${v.name}`);
  }
  return graph.order.filter((s): s is SendStep => s.kind === 'send').map((step) => ({ step, variant: variantOf.get(step.id) ?? null }));
}
