import type { ImportKind } from '../kinds.js';
import type { ColumnGetter, Getter, MappingSpec, Target } from '../mapping.js';
import { parseTimestamp, ZoneClock } from '../timestamps.js';
import { canonicalStatus } from '../values.js';

/**
 * Shopify's CSV exports (Admin > Customers / Orders / Products > Export).
 * The orders export has one row per line item; the order's own columns (Financial
 * Status, Total, ...) are filled on its first row only. Customers are known by e-mail
 * in it, so the customers preset records each e-mail as an alias.
 */
type Values = Parameters<Getter>[0];
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
 * One status from Shopify's two: cancellation and refunds win (a partial refund
 * too: the order is then worth less); then fulfillment (Shopify's "fulfilled" means
 * handed to the carrier: shipped); then payment.
 */
export function shopifyStatus(financial: string, fulfillment: string, cancelledAt: string): string {
  const pay = financial.toLowerCase().replace(/\s+/g, '_');
  const ship = fulfillment.toLowerCase().replace(/\s+/g, '_');
  if (cancelledAt !== '' || pay === 'voided') return 'canceled';
  if (pay === 'refunded') return 'refunded';
  if (pay === 'partially_refunded') return 'partially_refunded';
  if (ship === 'fulfilled' || ship === 'shipped') return 'shipped';
  if (ship === 'partial' || ship === 'partially_fulfilled') return 'processing';
  if (pay === 'paid' || pay === 'partially_paid') return 'processing';
  if (pay === 'pending' || pay === 'authorized' || pay === '') return 'pending';
  return canonicalStatus(pay, new Map()) ?? 'pending';
}

const UTC = new ZoneClock('UTC');
const MONEY = /^[+-]?(\d+\.?\d*|\.\d+)$/;

function ordersSpec(): Partial<MappingSpec> {
  // the status, its time and the estimate all read the status: one function per mapping,
  // which works it out once per row
  const statusFns = new WeakMap<ColumnGetter, (v: Values) => string>();
  const statusOf = (column: ColumnGetter) => {
    let fn = statusFns.get(column);
    if (fn) return fn;
    const [financial, fulfillment, cancelled] = [column('Financial Status'), column('Fulfillment Status'), column('Cancelled at')];
    let lastRow: Values | undefined;
    let lastStatus = '';
    fn = (v: Values) => {
      if (v !== lastRow) {
        lastStatus = shopifyStatus(text(financial, v), text(fulfillment, v), text(cancelled, v));
        lastRow = v;
      }
      return lastStatus;
    };
    statusFns.set(column, fn);
    return fn;
  };
  // when the current status began, where the export says: it never dates a refund (a
  // pending order's status began when it was placed)
  const exactStatusTime = (column: ColumnGetter) => {
    const status = statusOf(column);
    const [cancelled, paidAt, fulfilledAt, created] = [column('Cancelled at'), column('Paid at'), column('Fulfilled at'), column('Created at')];
    return (v: Values): string | null => {
      const s = status(v);
      const at = s === 'canceled' ? cancelled : s === 'shipped' ? fulfilledAt : s === 'processing' ? paidAt : s === 'pending' ? created : undefined;
      return at ? text(at, v) || null : null;
    };
  };
  return {
    columns: new Map<string, Target>([
      ['Name', field('id')],
      ['Created at', field('placed_at')],
      ['Currency', field('currency')],
      ['Refunded Amount', field('refunded')],
      ['Discount Code', bag('discount_code')],
      ['Source', bag('source')],
      ['Tags', bag('tags')],
      ['Shipping Method', bag('shipping_method')],
    ]),
    computedFrom: { customer_id: 'Email', status: 'Financial Status', total: 'Total', status_changed_at: 'Paid at' },
    computed: {
      customer_id: (column: ColumnGetter) => {
        const email = column('Email');
        return (v) => text(email, v).toLowerCase();
      },
      status: statusOf,
      // what the order is worth now: Total less what was refunded
      total: (column: ColumnGetter) => {
        const [total, refunded] = [column('Total'), column('Refunded Amount')];
        return (v) => {
          const [t, r] = [text(total, v), text(refunded, v)];
          if (t === '' || !MONEY.test(t) || r === '' || !MONEY.test(r)) return t;
          return Math.round((Number(t) - Number(r)) * 100) / 100;
        };
      },
      // when the current status began, where the export says: it never dates a refund
      status_changed_at: exactStatusTime,
      // otherwise the latest time the order's row holds: the change came after it
      status_changed_estimate: (column: ColumnGetter) => {
        const exact = exactStatusTime(column);
        const times = ['Created at', 'Paid at', 'Fulfilled at', 'Cancelled at'].map((c) => column(c));
        return (v) => {
          if (exact(v) !== null) return null;
          let latest: number | null = null;
          for (const get of times) {
            const t = text(get, v);
            const ms = t === '' ? undefined : parseTimestamp(t, { kind: 'iso' }, UTC);
            if (ms !== undefined && (latest === null || ms > latest)) latest = ms;
          }
          return latest;
        };
      },
    },
    skip: (column: ColumnGetter) => {
      const [financial, total] = [column('Financial Status'), column('Total')];
      return (v) => text(financial, v) === '' && text(total, v) === '';
    },
  };
}

/**
 * The customers an orders export names, from its order rows: known by e-mail (the
 * export has no customer id), with the billing name, phone, country and city and the
 * e-mail consent the buyer gave at checkout. A customer the store already knows by
 * that e-mail keeps its id; another gets the e-mail as id (as the customers export
 * without Customer ID). Second-hand data: it only fills what the store does not know.
 */
export function shopifyOrderCustomersSpec(): Partial<MappingSpec> {
  const name = firstOf('Billing Name', 'Shipping Name');
  return {
    columns: new Map<string, Target>([
      ['Email', field('email')],
      ['Accepts Marketing', { kind: 'consent', channel: 'email' }],
      ['Accepts Email Marketing', { kind: 'consent', channel: 'email' }],
      ['Accepts SMS Marketing', { kind: 'consent', channel: 'sms' }],
    ]),
    computedFrom: { id: 'Email', first_name: 'Billing Name', last_name: 'Billing Name', phone: 'Phone', country: 'Billing Country', city: 'Billing City' },
    computed: {
      id: (column: ColumnGetter) => {
        const email = column('Email');
        return (v) => text(email, v).toLowerCase();
      },
      first_name: (column: ColumnGetter) => {
        const full = name(column);
        return (v) => String(full(v) ?? '').split(/\s+/)[0] || null;
      },
      last_name: (column: ColumnGetter) => {
        const full = name(column);
        return (v) => String(full(v) ?? '').split(/\s+/).slice(1).join(' ') || null;
      },
      phone: firstOf('Phone', 'Billing Phone', 'Shipping Phone'),
      country: firstOf('Billing Country', 'Shipping Country'),
      city: firstOf('Billing City', 'Shipping City'),
    },
    alias: (column: ColumnGetter) => {
      const email = column('Email');
      return (v) => text(email, v).toLowerCase();
    },
    // an order's first row holds its customer; the others only line items
    skip: ordersSpec().skip,
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
        computedFrom: { id: 'Customer ID', phone: 'Phone', country: 'Default Address Country Code' },
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
        computed: {
          // a fulfilled line item is handed to the carrier (as the order's own "fulfilled");
          // pending or empty: no status of its own, it follows the order's
          status: (column: ColumnGetter) => {
            const fulfillment = column('Lineitem fulfillment status');
            return (v) => (text(fulfillment, v).toLowerCase() === 'fulfilled' ? 'shipped' : null);
          },
        },
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
          // a draft or archived product, or one not on the online store, is not recommended (store/recommendations.ts)
          ['Status', bag('status')],
          ['Published', bag('published')],
        ]),
        // further rows of a product carry only variants or images
        skip: (column: ColumnGetter) => {
          const title = column('Title');
          return (v) => text(title, v) === '';
        },
      };
    case 'events':
    case 'suppressions':
    case 'payments':
      return undefined;
  }
}
