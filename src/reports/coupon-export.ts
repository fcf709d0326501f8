/**
 * The issued codes of a coupon, written for the shop system that must accept them at
 * checkout. Shopify documents one way to add codes to an existing code discount: the
 * Admin GraphQL mutation `discountRedeemCodeBulkAdd`, at most 250 codes a request, so
 * `shopify-graphql` writes those requests, ready to post; the CSVs are for spreadsheets
 * and bulk-code apps.
 */
import type { IssuedCode } from '../store/coupons.js';

export type CouponExportFormat = 'csv' | 'codes' | 'shopify-graphql';

/** Shopify's limit per `discountRedeemCodeBulkAdd` request (its Admin GraphQL reference). */
export const SHOPIFY_CODES_PER_REQUEST = 250;

/** A Shopify code discount's global id, as its admin URL and the API name it. */
export const SHOPIFY_DISCOUNT_ID = /^gid:\/\/shopify\/DiscountCodeNode\/\d+$/;

export const SHOPIFY_BULK_ADD_MUTATION =
  'mutation discountRedeemCodeBulkAdd($discountId: ID!, $codes: [DiscountRedeemCodeInput!]!) { ' +
  'discountRedeemCodeBulkAdd(discountId: $discountId, codes: $codes) { bulkCreation { id } userErrors { code field message } } }';

export const PLAIN_COLUMNS = ['code', 'coupon', 'customer_id', 'journey_id', 'step_id', 'issued_at', 'expires_at', 'redeemed_order_id', 'redeemed_at'] as const;

export interface ExportOptions {
  coupon: string;
  /** Required by `shopify-graphql`: the code discount the codes join. */
  discountId?: string;
  /** Codes a request for `shopify-graphql`, 1..250 (some older API versions took 100). */
  perRequest?: number;
}

export function exportCodes(format: CouponExportFormat, codes: readonly IssuedCode[], options: ExportOptions): string {
  switch (format) {
    case 'csv':
      return plainCsv(options.coupon, codes);
    case 'codes':
      return codesCsv(codes);
    case 'shopify-graphql':
      return shopifyBulkAddRequests(codes, options.discountId ?? '', options.perRequest ?? SHOPIFY_CODES_PER_REQUEST);
    default: {
      const never: never = format;
      throw new Error(`unknown export format ${String(never)}`);
    }
  }
}

const CRLF = '\r\n';
/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
const field = (v: string | number | null) => {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const line = (values: (string | number | null)[]) => values.map(field).join(',') + CRLF;
const isoOf = (t: number | null) => (t === null ? null : new Date(t).toISOString());

/** One code a row under a `Code` header. */
export function codesCsv(codes: readonly IssuedCode[]): string {
  return line(['Code']) + codes.map((c) => line([c.code])).join('');
}

/** Every issued code with whom and where it went and whether an order redeemed it; times in ISO 8601 UTC. No addresses: the customer id names the person. */
export function plainCsv(coupon: string, codes: readonly IssuedCode[]): string {
  return (
    line([...PLAIN_COLUMNS]) +
    codes.map((c) => line([c.code, coupon, c.customer_id, c.journey_id, c.step_id, isoOf(c.issued_at), isoOf(c.expires_at), c.redeemed_order_id, isoOf(c.redeemed_at)])).join('')
  );
}

/** JSON Lines: each line one request body for Shopify's Admin GraphQL endpoint. */
export function shopifyBulkAddRequests(codes: readonly IssuedCode[], discountId: string, perRequest: number): string {
  let out = '';
  for (let i = 0; i < codes.length; i += perRequest) {
    const chunk = codes.slice(i, i + perRequest).map((c) => ({ code: c.code }));
    out += JSON.stringify({ query: SHOPIFY_BULK_ADD_MUTATION, variables: { discountId, codes: chunk } }) + '\n';
  }
  return out;
}
