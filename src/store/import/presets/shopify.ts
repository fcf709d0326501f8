import type { ImportKind } from '../kinds.js';
import type { ColumnGetter, Getter, MappingSpec, Target } from '../mapping.js';
import { canonicalStatus } from '../values.js';

/**
 * Shopify's CSV exports (Admin > Customers / Orders / Products > Export).
 * The orders export has one row per line item; the order's own columns (Financial
 * Status, Total, ...) are filled on its first row only. Customers are known by e-mail
 * in it, so the customers preset records each e-mail as an alias.
 */
const field = (name: string): Target => ({ kind: 'field', name });
const bag = (key: string): Target => ({ kind: 'bag', key });
const text = (get: Getter, values: Parameters<Getter>[0]): string => String(get(values) ?? '').trim();

/** Shopify writes ids as '1234 so that spreadsheets keep all digits. */
const stripQuote = (value: string): string => value.replace(/^'/, '');

/** The first non-blank of several columns (exports of different years name them differently). */
export const firstOf =
  (...names: string[]) =>
  (column: ColumnGetter): Getter => {
    const getters = names.map((n) => column(n));
    return (v) => {
      for (const get of getters) {
        const value = text(get, v);
        if (value !== '') return value;
      }
      return null;
    };
  };

/**
 * One status from Shopify's two: cancellation and refunds win; then fulfillment
 * (Shopify's "fulfilled" means handed to the carrier: shipped); then payment.
 */
export function shopifyStatus(financial: string, fulfillment: string, cancelledAt: string): string {
  const pay = financial.toLowerCase().replace(/\s+/g, '_');
  const ship = fulfillment.toLowerCase().replace(/\s+/g, '_');
  if (cancelledAt !== '' || pay === 'voided') return 'canceled';
  if (pay === 'refunded') return 'refunded';
  if (ship === 'fulfilled' || ship === 'shipped') return 'shipped';
  if (ship === 'partial' || ship === 'partially_fulfilled') return 'processing';
  if (pay === 'paid' || pay === 'partially_paid' || pay === 'partially_refunded') return 'processing';
  if (pay === 'pending' || pay === 'authorized' || pay === '') return 'pending';
  return canonicalStatus(pay, new Map()) ?? 'pending';
}

function ordersSpec(): Partial<MappingSpec> {
  return {
    columns: new Map<string, Target>([
      ['Name', field('id')],
      ['Created at', field('placed_at')],
      ['Total', field('total')],
      ['Currency', field('currency')],
      ['Discount Code', bag('discount_code')],
      ['Source', bag('source')],
      ['Tags', bag('tags')],
      ['Shipping Method', bag('shipping_method')],
    ]),
    computed: {
      customer_id: (column: ColumnGetter) => {
        const email = column('Email');
        return (v) => text(email, v).toLowerCase();
      },
      status: (column: ColumnGetter) => {
        const [financial, fulfillment, cancelled] = [column('Financial Status'), column('Fulfillment Status'), column('Cancelled at')];
        return (v) => shopifyStatus(text(financial, v), text(fulfillment, v), text(cancelled, v));
      },
      // when the current status began, as far as the export says
      status_changed_at: (column: ColumnGetter) => {
        const [financial, fulfillment, cancelled] = [column('Financial Status'), column('Fulfillment Status'), column('Cancelled at')];
        const [paidAt, fulfilledAt] = [column('Paid at'), column('Fulfilled at')];
        return (v) => {
          const status = shopifyStatus(text(financial, v), text(fulfillment, v), text(cancelled, v));
          const at = status === 'canceled' ? cancelled : status === 'shipped' ? fulfilledAt : status === 'processing' ? paidAt : undefined;
          return at ? text(at, v) || null : null;
        };
      },
    },
    skip: (column: ColumnGetter) => {
      const [financial, total] = [column('Financial Status'), column('Total')];
      return (v) => text(financial, v) === '' && text(total, v) === '';
    },
  };
}

export function shopifySpec(kind: ImportKind): Partial<MappingSpec> | undefined {
  switch (kind) {
    case 'customers':
      return {
        columns: new Map<string, Target>([
          ['First Name', field('first_name')],
          ['Last Name', field('last_name')],
          ['Email', field('email')],
          ['Default Address City', field('city')],
          ['Accepts Email Marketing', { kind: 'consent', channel: 'email' }],
          // the export before 2023: Accepts Marketing, City, Country (a name), Country Code
          ['Accepts Marketing', { kind: 'consent', channel: 'email' }],
          ['City', field('city')],
          ['Accepts SMS Marketing', { kind: 'consent', channel: 'sms' }],
          ['Tags', bag('tags')],
          ['Total Spent', bag('shopify_total_spent')],
          ['Total Orders', bag('shopify_total_orders')],
        ]),
        computed: {
          phone: firstOf('Phone', 'Default Address Phone'),
          // the code when the export has it, else the name (normalised to the code)
          country: firstOf('Default Address Country Code', 'Country Code', 'Default Address Country', 'Country'),
          // older exports have no Customer ID: the e-mail is the id then
          id: (column: ColumnGetter) => {
            const [id, email] = [column('Customer ID'), column('Email')];
            return (v) => stripQuote(text(id, v)) || text(email, v).toLowerCase();
          },
        },
        alias: (column: ColumnGetter) => {
          const email = column('Email');
          return (v) => text(email, v).toLowerCase();
        },
      };
    case 'orders':
      return ordersSpec();
    case 'order-items':
      return {
        columns: new Map<string, Target>([
          ['Name', field('order_id')],
          ['Lineitem quantity', field('quantity')],
          ['Lineitem name', field('title')],
          ['Lineitem price', field('price')],
          ['Lineitem sku', field('sku')],
        ]),
      };
    case 'products':
      return {
        columns: new Map<string, Target>([
          ['Handle', field('id')],
          ['Title', field('title')],
          ['Type', field('category')],
          ['Variant SKU', field('sku')],
          ['Variant Price', field('price')],
          ['Image Src', field('image_url')],
          ['Vendor', bag('vendor')],
          ['Tags', bag('tags')],
        ]),
        // further rows of a product carry only variants or images
        skip: (column: ColumnGetter) => {
          const title = column('Title');
          return (v) => text(title, v) === '';
        },
      };
    case 'events':
    case 'suppressions':
      return undefined;
  }
}
