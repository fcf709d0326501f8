import type { ImportKind } from '../kinds.js';
import type { ColumnGetter, Getter, MappingSpec, Target } from '../mapping.js';

/**
 * The Olist Brazilian e-commerce data set. A customer_id is minted per order; the
 * person is customer_unique_id, so customers are keyed by it and every customer_id
 * becomes an alias that orders resolve through. Times are Brazilian local times.
 */
export const OLIST_TIME_ZONE = 'America/Sao_Paulo';

const field = (name: string): Target => ({ kind: 'field', name });
const bag = (key: string): Target => ({ kind: 'bag', key });
const text = (get: Getter, values: Parameters<Getter>[0]): string => String(get(values) ?? '').trim();

/** Brazil's states outside Brasília time. */
const STATE_ZONES: Readonly<Record<string, string>> = {
  AC: 'America/Rio_Branco',
  AM: 'America/Manaus',
  RR: 'America/Boa_Vista',
  RO: 'America/Porto_Velho',
  MT: 'America/Cuiaba',
  MS: 'America/Campo_Grande',
};

export function olistSpec(kind: ImportKind): Partial<MappingSpec> | undefined {
  switch (kind) {
    case 'customers':
      return {
        columns: new Map<string, Target>([
          ['customer_unique_id', field('id')],
          ['customer_id', { kind: 'alias' }],
          ['customer_city', field('city')],
          ['customer_zip_code_prefix', bag('zip_code_prefix')],
          ['customer_state', bag('state')],
        ]),
        computed: {
          country: () => () => 'BR',
          timezone: (column: ColumnGetter) => {
            const state = column('customer_state');
            return (v) => STATE_ZONES[text(state, v).toUpperCase()] ?? OLIST_TIME_ZONE;
          },
        },
      };
    case 'orders':
      return {
        columns: new Map<string, Target>([
          ['order_id', field('id')],
          ['customer_id', field('customer_id')],
          ['order_status', field('status')],
          ['order_purchase_timestamp', field('placed_at')],
          ['order_estimated_delivery_date', bag('estimated_delivery_date')],
        ]),
        computed: {
          currency: () => () => 'BRL',
          // the export dates the step each status stands for
          status_changed_at: (column: ColumnGetter) => {
            const [status, purchased, approved, carrier, delivered] = [
              column('order_status'),
              column('order_purchase_timestamp'),
              column('order_approved_at'),
              column('order_delivered_carrier_date'),
              column('order_delivered_customer_date'),
            ];
            return (v) => {
              switch (text(status, v).toLowerCase()) {
                case 'delivered':
                  return text(delivered, v) || null;
                case 'shipped':
                  return text(carrier, v) || null;
                case 'approved':
                case 'processing':
                case 'invoiced':
                  return text(approved, v) || null;
                case 'created':
                case 'pending':
                  return text(purchased, v) || null;
                default:
                  return null;
              }
            };
          },
          // when the export leaves that step undated: its latest date (a wall-clock text; all share one zone)
          status_changed_estimate: (column: ColumnGetter) => {
            const dates = ['order_purchase_timestamp', 'order_approved_at', 'order_delivered_carrier_date', 'order_delivered_customer_date'].map((c) => column(c));
            return (v) => dates.map((d) => text(d, v)).reduce((a, b) => (b > a ? b : a), '') || null;
          },
        },
      };
    case 'order-items':
      return {
        columns: new Map<string, Target>([
          ['order_id', field('order_id')],
          ['order_item_id', field('line')],
          ['product_id', field('product_id')],
          ['price', field('price')],
        ]),
      };
    case 'products':
      return {
        columns: new Map<string, Target>([
          ['product_id', field('id')],
          ['product_category_name', field('category')],
          ['product_weight_g', bag('weight_g')],
          ['product_photos_qty', bag('photos_qty')],
        ]),
      };
    case 'payments':
      return {
        columns: new Map<string, Target>([
          ['order_id', field('order_id')],
          ['payment_sequential', field('sequence')],
          ['payment_type', field('method')],
          ['payment_installments', field('installments')],
          ['payment_value', field('value')],
        ]),
      };
    case 'events':
    case 'suppressions':
      return undefined;
  }
}
