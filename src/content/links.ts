/**
 * Signed per-customer links: the address, then ?c=<customer id>&t=<HMAC-SHA256 of the
 * id with the secret, hex>. The shop's unsubscribe page recomputes t to know the link
 * was ours and names that customer, without a login.
 */
import { createHmac } from 'node:crypto';

export function signedLink(base: string, customerId: string, secret: string): string {
  return customerLink(base, customerId, createHmac('sha256', secret).update(customerId).digest('hex'));
}

/** The link of a test copy or a sample: the shape of a signed one, with a word for t that no shop page accepts. */
export function unsignedLink(base: string, customerId: string, why: 'test' | 'sample'): string {
  return customerLink(base, customerId, why);
}

function customerLink(base: string, customerId: string, t: string): string {
  return `${base}${base.includes('?') ? '&' : '?'}c=${encodeURIComponent(customerId)}&t=${t}`;
}
