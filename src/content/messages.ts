/**
 * A step's messages from their rows of the store: each row's variables (variables.ts),
 * its template rendered from them, and both as the JSON the outbox row keeps. The same
 * code runs in the tick's thread and in the render thread (render-thread.ts), so it
 * imports nothing of the store or the engine; what it needs of the project comes as
 * plain data (MessageJob).
 */
import type { Config, Journey, Scalar, Step } from '../project/model.js';
import type { MessageContextRow, ProductRow } from '../store/message-context.js';
import { shift } from '../time/duration.js';
import { signedLink, unsignedLink } from './links.js';
import { renderTemplate, TemplateError, type CompiledTemplate, type PortableTemplate } from './render.js';
import type { MessageVariables, OrderVariable, ProductVariable } from './variables.js';

/** What a step's messages are made with, as plain data (it crosses to the render thread). */
export interface MessageJob {
  config: Pick<Config, 'coupons' | 'vars' | 'links' | 'locale' | 'timezone' | 'currency'>;
  journey: Pick<Journey, 'id' | 'name'>;
  step: Pick<Extract<Step, { kind: 'send' }>, 'id' | 'coupon' | 'data' | 'template' | 'subject'>;
  /** The step's template, or null when the project has none of that name (every message fails). */
  template: PortableTemplate | null;
  secret: string | null;
  testCopy: boolean;
  /** When the step sends: a test copy's coupon expires when a customer's issued now would. */
  now: number;
  /** The recommended products of the step by id (rows name theirs by id), or null without recommendations. */
  products: Map<string, ProductRow> | null;
}

export function messageJob(
  config: Config,
  journey: Journey,
  step: Extract<Step, { kind: 'send' }>,
  template: PortableTemplate | null,
  secret: string | null,
  testCopy: boolean,
  now: number,
  products: Map<string, ProductRow> | null,
): MessageJob {
  const { coupons, vars, links, locale, timezone, currency } = config;
  return {
    config: { coupons, vars, links, locale, timezone, currency },
    journey: { id: journey.id, name: journey.name },
    step: { id: step.id, coupon: step.coupon, data: step.data, template: step.template, subject: step.subject },
    template,
    secret,
    testCopy,
    now,
    products,
  };
}

/**
 * The rendered rows: `written` holds id, payload (the variables) and content (the
 * message, or null for a provider's template) three values a row, as the write-back
 * binds them; `failed` the rows whose template could not render, with the reason.
 */
export interface RenderedRows {
  written: (number | string | null)[];
  failed: { id: number; error: string }[];
}

/** Renders rows of the store with a job whose template is compiled (or null: not in the project). */
export function renderRows(job: MessageJob, template: CompiledTemplate | null, rows: readonly MessageContextRow[]): RenderedRows {
  const written: (number | string | null)[] = [];
  const failed: { id: number; error: string }[] = [];
  const { step } = job;
  for (const row of rows) {
    if (!template) {
      failed.push({ id: row.outbox_id, error: `template '${step.template}' is not in the project` });
      continue;
    }
    const vars = variablesOf(row, job);
    let content: string | null = null;
    // a provider's template renders itself, apart from a subject the step overrides and the variables it is given
    if (!template.providerTemplate || step.subject || template.parts.some((p) => p.name.startsWith('provider_variables.'))) {
      try {
        content = JSON.stringify(renderTemplate(template, vars, { subject: step.subject }));
      } catch (err) {
        if (!(err instanceof TemplateError)) throw err;
        failed.push({ id: row.outbox_id, error: `template ${template.name}: ${err.message}${err.file ? ` (${err.file}:${err.line}:${err.col})` : ''}` });
        continue;
      }
    }
    written.push(row.outbox_id, JSON.stringify(vars), content);
  }
  return { written, failed };
}

const parse = <T>(json: string | null): T | null => (json === null ? null : (JSON.parse(json) as T));

function order(json: string | null): OrderVariable | null {
  const o = parse<Omit<OrderVariable, 'placed_at'> & { placed_at: number }>(json);
  return o ? { ...o, placed_at: new Date(o.placed_at).toISOString() } : null;
}

/** A row's products in order, each a new object (a template may not change another message's). */
function recommended(json: string | null, products: MessageJob['products']): ProductVariable[] {
  const out: ProductVariable[] = [];
  for (const [id, reason] of parse<[string, string | null][]>(json) ?? []) {
    const p = products?.get(id);
    if (p) out.push({ id: p.id, title: p.title, url: p.url, image: p.image, price: p.price, currency: p.currency, category: p.category, reason });
  }
  return out;
}

/** A row of the step's messages as the documented variables. */
export function variablesOf(row: MessageContextRow, job: MessageJob): MessageVariables {
  const { config, journey, step, secret, testCopy, products } = job;
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
          // (and when it would expire: the message reads as the customer's does)
          { code: `TEST-${coupon.code ?? `${coupon.prefix ? `${coupon.prefix}-` : ''}SAMPLE`}`, discount: coupon.discount, expires_at: coupon.validFor && !coupon.code ? shift(new Date(job.now), coupon.validFor, 1).toISOString() : null }
        : coupon.code
        ? { code: coupon.code, discount: coupon.discount, expires_at: null }
        : issued
          ? { code: issued.code, discount: coupon.discount, expires_at: issued.expires_at === null ? null : new Date(issued.expires_at).toISOString() }
          : null
      : null,
    recommendations: recommended(row.products, products),
    vars: { ...config.vars } as Record<string, Scalar>,
    unsubscribe_url: link(config.links?.unsubscribe),
    preferences_url: link(config.links?.preferences),
    currency: trigger?.currency ?? last?.currency ?? config.currency,
    data: { ...step.data },
  };
}
