/**
 * Addresses in what journey prints. Terminal output, CI logs and pasted tickets are
 * not where a customer's e-mail or phone number should end up, so every command that
 * prints one (human or JSON) masks it, unless the global `--show-pii` asked to see
 * them. `journey export`, whose purpose is to hand a person their data, does not mask.
 *
 * The switch is per process (set once by main from the command line), like the
 * colour level: the console provider prints from inside the dispatcher, which knows
 * nothing of flags.
 */

let shown = false;

/** Called by main when --show-pii is on the command line. */
export function setShowPii(show: boolean): void {
  shown = show;
}

export function showPii(): boolean {
  return shown;
}

/** jana.novak@example.test → ja********@example.test: the domain stays (which provider, which typo). */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '*'.repeat(email.length);
  const local = email.slice(0, at);
  const keep = Math.min(2, Math.max(1, local.length - 2));
  return `${local.slice(0, keep)}${'*'.repeat(Math.max(1, local.length - keep))}${email.slice(at)}`;
}

/** +420777123456 → +420******456; whatsapp:+420777123456 → whatsapp:+420******456. */
export function maskPhone(phone: string): string {
  const prefix = /^[a-z]+:/i.exec(phone)?.[0] ?? '';
  const rest = phone.slice(prefix.length);
  if (rest.length <= 6) return prefix + '*'.repeat(rest.length);
  return `${prefix}${rest.slice(0, 4)}${'*'.repeat(rest.length - 7)}${rest.slice(-3)}`;
}

/** An address of either kind, masked; null stays null. */
export function maskAddress(address: string): string;
export function maskAddress(address: string | null): string | null;
export function maskAddress(address: string | null): string | null {
  if (address === null) return null;
  return address.includes('@') ? maskEmail(address) : maskPhone(address);
}

/** The address as output should show it: masked unless --show-pii. */
export function shownAddress(address: string): string;
export function shownAddress(address: string | null): string | null;
export function shownAddress(address: string | null): string | null {
  return shown || address === null ? address : maskAddress(address);
}

// starting only where a run of address characters starts: from every position of a long
// run without an @ (a pasted token, a 100 KB flag value) the scan is quadratic (21 s for 100 KB)
const EMAIL_IN_TEXT = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g;
// international numbers only (a leading +): dates, ids and row numbers are left alone
const PHONE_IN_TEXT = /\+[0-9][0-9 ]{6,}[0-9]/g;

/** Free text (a provider's error, a log line) with any e-mail or phone number in it masked, unless --show-pii. */
export function shownText(text: string): string {
  if (shown) return text;
  return text.replace(EMAIL_IN_TEXT, maskEmail).replace(PHONE_IN_TEXT, (p) => maskPhone(p.replace(/ /g, '')));
}

/** Fields of a row that hold addresses, masked unless --show-pii (segment samples, JSON rows). */
export function shownRow<T extends Record<string, unknown>>(row: T, fields: readonly string[] = ['email', 'phone', 'address', 'to']): T {
  if (shown) return row;
  const out: Record<string, unknown> = { ...row };
  for (const f of fields) if (typeof out[f] === 'string') out[f] = maskAddress(out[f] as string);
  return out as T;
}
