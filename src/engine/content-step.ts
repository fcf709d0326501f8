/**
 * The content of a send step, filled for all the enrolments it sends to at once, in
 * the step's transaction: coupon codes issued (store/coupons.ts), recommendations
 * computed (store/recommendations.ts), the variables read in one query
 * (store/message-context.ts), each message rendered (content/render.ts), and the rows
 * written back. A message that cannot render is failed with the template's error,
 * never sent with a gap.
 */
import { signedLink, unsignedLink } from '../content/links.js';
import { renderTemplate, TemplateError, TemplateSet } from '../content/render.js';
import type { MessageVariables, OrderVariable, ProductVariable } from '../content/variables.js';
import { JourneyError } from '../errors.js';
import type { Config, Journey, Project, Scalar, Step } from '../project/model.js';
import { DEFAULT_ALPHABET, DEFAULT_LENGTH, issueCoupons } from '../store/coupons.js';
import type { StoreDb } from '../store/db.js';
import type { IdSet } from '../store/enrolments.js';
import { failMessages, messageContext, writeContent, type MessageContextRow } from '../store/message-context.js';
import { recommendFor } from '../store/recommendations.js';
import { approxMs } from '../project/duration.js';

const templateSets = new WeakMap<Config, TemplateSet>();

export function templatesOf(config: Config): TemplateSet {
  let set = templateSets.get(config);
  if (!set) templateSets.set(config, (set = new TemplateSet(config)));
  return set;
}

/** The link secret from its ${ENV} reference. */
export function linkSecret(config: Config, env: NodeJS.ProcessEnv = process.env): string | null {
  if (!config.links) return null;
  const name = /^\$\{([A-Z_][A-Z0-9_]*)\}$/.exec(config.links.secret)?.[1];
  const value = name ? env[name] : undefined;
  if (!value) {
    throw new JourneyError(`links.secret: the environment variable ${name ?? config.links.secret} is not set`, {
      hint: 'templates show signed unsubscribe and preference links; set the secret the shop checks them with',
    });
  }
  return value;
}

/** Issues the step's coupon codes; returns the enrolments left without one (the pool is empty). */
export function issueStepCoupons(db: StoreDb, project: Project, journey: Journey, step: Extract<Step, { kind: 'send' }>, set: IdSet, now: number): IdSet | null {
  const coupon = step.coupon ? project.config.coupons[step.coupon] : undefined;
  if (!coupon || coupon.code) return null;
  return issueCoupons(db, set, {
    coupon: step.coupon!,
    source: coupon.pool ? 'pool' : 'generated',
    prefix: coupon.prefix,
    length: coupon.length ?? DEFAULT_LENGTH,
    alphabet: coupon.alphabet ?? DEFAULT_ALPHABET,
    validFor: coupon.validFor ? { amount: coupon.validFor.amount, unit: coupon.validFor.unit } : null,
    journeyId: journey.id,
    stepId: step.id,
    now,
  });
}

/** Renders the step's new outbox rows. Returns how many could not be rendered (failed, with the reason). */
export function fillContent(db: StoreDb, project: Project, journey: Journey, step: Extract<Step, { kind: 'send' }>, set: IdSet, now: number, opts: { testCopy?: boolean } = {}): number {
  const config = project.config;
  const template = templatesOf(config).get(step.template);
  const r = step.recommendations;
  const recs = r
    ? recommendFor(db, set, { strategy: r.strategy, count: r.count, withinMs: r.within ? approxMs(r.within) : null, category: r.category, excludePurchased: r.excludePurchased, fallback: r.fallback, categoryMap: config.categoryMap }, now, 'tick_recs')
    : null;
  const rows = messageContext(db, set, { journeyId: journey.id, stepId: step.id, now, coupon: step.coupon, recommendations: recs });
  const secret = linkSecret(config);
  const out: { id: number; payload: string; content: string | null }[] = [];
  const failed: { id: number; error: string }[] = [];
  for (const row of rows) {
    const vars = variablesOf(row, config, journey, step, secret, opts.testCopy === true);
    if (!template) {
      failed.push({ id: row.outbox_id, error: `template '${step.template}' is not in the project` });
      continue;
    }
    let content: string | null = null;
    if (!template.providerTemplate || step.subject) {
      try {
        const m = renderTemplate(template, vars, { subject: step.subject });
        content = JSON.stringify(m);
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        failed.push({ id: row.outbox_id, error: `template ${template.name}: ${err.message}${err.file ? ` (${err.file}:${err.line}:${err.col})` : ''}` });
        continue;
      }
    }
    out.push({ id: row.outbox_id, payload: JSON.stringify(vars), content });
  }
  writeContent(db, out);
  failMessages(db, failed);
  if (recs) db.exec(`DROP TABLE IF EXISTS temp.${recs}`);
  return failed.length;
}

const parse = <T>(json: string | null): T | null => (json === null ? null : (JSON.parse(json) as T));

function order(json: string | null): OrderVariable | null {
  const o = parse<Omit<OrderVariable, 'placed_at'> & { placed_at: number }>(json);
  return o ? { ...o, placed_at: new Date(o.placed_at).toISOString() } : null;
}

/** A row of the step's messages as the documented variables. */
export function variablesOf(row: MessageContextRow, config: Config, journey: Journey, step: Extract<Step, { kind: 'send' }>, secret: string | null, testCopy = false): MessageVariables {
  // a test copy's links carry no valid signature: a click by the team must not
  // unsubscribe the real customer the copy was rendered for
  const link = (base: string | null | undefined): string | null =>
    base && secret ? (testCopy ? unsignedLink(base, row.customer_id, 'test') : signedLink(base, row.customer_id, secret)) : null;
  const trigger = order(row.trigger_order);
  const last = order(row.last_order);
  const coupon = step.coupon ? config.coupons[step.coupon] : undefined;
  const issued = parse<{ code: string; expires_at: number | null }>(row.coupon);
  const variants = parse<Record<string, string>>(row.variant);
  const variantNames = variants ? Object.values(variants) : [];
  let attributes: Record<string, unknown> = {};
  try {
    attributes = JSON.parse(row.attributes) as Record<string, unknown>;
  } catch {
    attributes = {};
  }
  return {
    customer: {
      id: row.customer_id,
      first_name: row.first_name || null,
      last_name: row.last_name || null,
      email: row.email,
      phone: row.phone,
      locale: row.locale || config.locale,
      timezone: row.timezone || config.timezone,
      country: row.country,
      city: row.city,
      attributes,
    },
    order: trigger,
    last_order: last,
    journey: { id: journey.id, name: journey.name },
    step: { id: step.id },
    variant: variantNames.length > 0 ? variantNames[variantNames.length - 1]! : null,
    coupon: coupon
      ? testCopy
        ? // a test copy shows what the code looks like without handing the team a real one
          { code: `TEST-${coupon.code ?? `${coupon.prefix ? `${coupon.prefix}-` : ''}SAMPLE`}`, discount: coupon.discount, expires_at: null }
        : coupon.code
        ? { code: coupon.code, discount: coupon.discount, expires_at: null }
        : issued
          ? { code: issued.code, discount: coupon.discount, expires_at: issued.expires_at === null ? null : new Date(issued.expires_at).toISOString() }
          : null
      : null,
    recommendations: parse<ProductVariable[]>(row.products) ?? [],
    vars: { ...config.vars } as Record<string, Scalar>,
    unsubscribe_url: link(config.links?.unsubscribe),
    preferences_url: link(config.links?.preferences),
    currency: trigger?.currency ?? last?.currency ?? config.currency,
    data: { ...step.data },
  };
}
