/**
 * The variables every message template sees: one documented set (README, "Message
 * content"), the same for Liquid templates and as the data of a provider-side template
 * (SendGrid dynamic templates, Postmark templates). Every key is always present, null
 * when the store has no value, so that strict rendering tells a misspelt name (an
 * error) from a missing value (null, which `| default:` handles).
 */
import type { Scalar } from '../project/model.js';
import type { ProductRow } from '../store/message-context.js';

/** A recommended product: the store's row of it (id, title, url, image, price, currency, category) and why it was chosen. */
export interface ProductVariable extends ProductRow {
  /** Why the product was chosen (the strategy, and its evidence). */
  reason: string | null;
}

export interface OrderItemVariable {
  product_id: string | null;
  sku: string | null;
  title: string | null;
  quantity: number;
  price: number | null;
  url: string | null;
  image: string | null;
}

export interface OrderVariable {
  id: string;
  placed_at: string;
  status: string;
  total: number | null;
  currency: string | null;
  items: OrderItemVariable[];
}

export interface CouponVariable {
  code: string;
  /** As configured: 10% or 5 EUR. */
  discount: string;
  /** ISO 8601, or null when the coupon does not expire. */
  expires_at: string | null;
}

export interface MessageVariables {
  customer: {
    id: string;
    first_name: string | null;
    last_name: string | null;
    email: string | null;
    phone: string | null;
    locale: string;
    timezone: string;
    country: string | null;
    city: string | null;
    attributes: Record<string, unknown>;
  };
  /** The order that started the journey (order triggers), else null. */
  order: OrderVariable | null;
  /** The customer's latest order, whatever started the journey; null for a customer who never ordered. */
  last_order: OrderVariable | null;
  journey: { id: string; name: string };
  step: { id: string };
  /** The variant of the journey's split the customer is in (the last one reached), else null. */
  variant: string | null;
  coupon: CouponVariable | null;
  recommendations: ProductVariable[];
  /** Project-level values from journey.config.yaml `vars` (shop_url, brand, ...). */
  vars: Record<string, Scalar>;
  /** Signed per-customer links (journey.config.yaml `links`), null when not configured. */
  unsubscribe_url: string | null;
  preferences_url: string | null;
  /** The currency money is shown in: the order's, else the project's default. */
  currency: string;
  /** The step's `send.data`. */
  data: Record<string, Scalar>;
}

/** The top-level names, as the README documents them. */
export const VARIABLE_NAMES = [
  'customer',
  'order',
  'last_order',
  'journey',
  'step',
  'variant',
  'coupon',
  'recommendations',
  'vars',
  'unsubscribe_url',
  'preferences_url',
  'currency',
  'data',
] as const satisfies readonly (keyof MessageVariables)[];
