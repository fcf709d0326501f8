/**
 * Made-up customers a template is rendered for before anything is sent: validate
 * renders every template with each of them for every step that sends it, so that a
 * template that cannot render (or prints a gap where a value is missing) fails CI
 * rather than a customer's inbox. They are the awkward cases: no orders and no first
 * name, a name in another script, another locale and currency.
 */
import { Drop } from 'liquidjs';
import type { Config, Journey, Scalar, Step } from '../project/model.js';
import { unsignedLink } from './links.js';
import type { MessageVariables, OrderVariable, ProductVariable } from './variables.js';

/**
 * A made-up customer's attributes: every name is one a real customer may lack, so each
 * answers null. A template that prints one bare then prints a gap for them (an error
 * at the step), and one that asks with `| default:` or `{% if %}` renders.
 */
class AnyAttributes extends Drop {
  override liquidMethodMissing(): null {
    return null;
  }
}

export interface SampleCustomer {
  id: string;
  first_name: string | null;
  last_name: string | null;
  locale: string;
  timezone: string;
  country: string | null;
  city: string | null;
  /** The currency of the customer's orders, or null for none. */
  currency: string | null;
  hasOrders: boolean;
}

export const SAMPLE_CUSTOMERS: readonly SampleCustomer[] = [
  { id: 'sample-jana', first_name: 'Jana', last_name: 'Nováková', locale: 'cs-CZ', timezone: 'Europe/Prague', country: 'CZ', city: 'Brno', currency: 'CZK', hasOrders: true },
  { id: 'sample-no-name', first_name: null, last_name: null, locale: 'en', timezone: 'UTC', country: null, city: null, currency: null, hasOrders: false },
  { id: 'sample-yuki', first_name: '由紀', last_name: '佐藤', locale: 'ja-JP', timezone: 'Asia/Tokyo', country: 'JP', city: '大阪', currency: 'JPY', hasOrders: true },
  { id: 'sample-ola', first_name: 'Ola', last_name: 'Nordmann', locale: 'nb-NO', timezone: 'Europe/Oslo', country: 'NO', city: 'Bergen', currency: 'NOK', hasOrders: true },
];

const NOW = Date.UTC(2026, 5, 1, 9, 0);

function sampleProducts(n: number, currency: string): ProductVariable[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `p${i + 1}`,
    title: `Sample product ${i + 1}`,
    url: `https://shop.example/products/p${i + 1}`,
    image: `https://shop.example/images/p${i + 1}.jpg`,
    price: 19.9 + i * 10,
    currency,
    category: 'sample',
    reason: 'sample',
  }));
}

function sampleOrder(c: SampleCustomer, currency: string): OrderVariable {
  return {
    id: `${c.id}-order`,
    placed_at: new Date(NOW - 10 * 86_400_000).toISOString(),
    status: 'delivered',
    total: 1290.5,
    currency,
    items: [
      { product_id: 'p9', sku: 'SKU-9', title: 'Linen pillow case', quantity: 2, price: 495.25, url: 'https://shop.example/products/p9', image: 'https://shop.example/images/p9.jpg' },
      { product_id: 'p8', sku: null, title: 'Mug', quantity: 1, price: 300, url: null, image: null },
    ],
  };
}

/** Where in a journey a template is sent, as the sample variables need it. */
export interface SendContext {
  journey: Journey;
  step: Extract<Step, { kind: 'send' }>;
  /** The name of a split variant the step is inside, if any. */
  variant: string | null;
  /** The trigger gives an order (order triggers). */
  orderTrigger: boolean;
}

/** The variables a sample customer's message would have at this step. */
export function sampleVariables(config: Config, c: SampleCustomer, at: SendContext | null): MessageVariables {
  const currency = c.currency ?? config.currency;
  const order = c.hasOrders ? sampleOrder(c, currency) : null;
  const coupon = at?.step.coupon ? config.coupons[at.step.coupon] : undefined;
  const recs = at?.step.recommendations;
  return {
    customer: {
      id: c.id,
      first_name: c.first_name,
      last_name: c.last_name,
      email: `${c.id}@example.test`,
      phone: '+420700000001',
      locale: c.locale,
      timezone: c.timezone,
      country: c.country,
      city: c.city,
      attributes: new AnyAttributes() as unknown as Record<string, unknown>,
    },
    order: at?.orderTrigger ? order : null,
    last_order: order,
    journey: { id: at?.journey.id ?? 'sample-journey', name: at?.journey.name ?? 'Sample journey' },
    step: { id: at?.step.id ?? 'sample-step' },
    variant: at?.variant ?? null,
    coupon: coupon ? { code: 'K7M2QX9P', discount: coupon.discount, expires_at: coupon.validFor ? new Date(NOW + 14 * 86_400_000).toISOString() : null } : null,
    recommendations: recs ? sampleProducts(recs.count, currency) : [],
    vars: { ...config.vars },
    unsubscribe_url: config.links?.unsubscribe ? unsignedLink(config.links.unsubscribe, c.id, 'sample') : null,
    preferences_url: config.links?.preferences ? unsignedLink(config.links.preferences, c.id, 'sample') : null,
    currency,
    data: { ...(at?.step.data ?? {}) } as Record<string, Scalar>,
  };
}
