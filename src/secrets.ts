/**
 * Text that may be a secret is never repeated in what journey prints: an API key pasted
 * where a key or a value goes would otherwise come back in an error, and validate's
 * errors land in CI logs. Values at places that hold secrets are never shown at all
 * (project/schema-messages.ts); this is the last line, for any message: tokens shaped
 * like the providers' keys, or long random-looking tokens, are replaced.
 */
const PROVIDER_KEY = /(?:SG\.[A-Za-z0-9_-]{6,}(?:\.[A-Za-z0-9_-]+)?|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{8,}|key-[0-9a-f]{16,}|xox[abpr]-[A-Za-z0-9-]{10,})/g;
// 32+ characters of letters and digits both, with no spaces: a token, not a word
const RANDOM_TOKEN = /\b(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{32,}\b/g;

export const NOT_SHOWN = '(not shown: it may be a secret)';

export function withoutSecrets(text: string): string {
  return text.replace(PROVIDER_KEY, NOT_SHOWN).replace(RANDOM_TOKEN, NOT_SHOWN);
}
