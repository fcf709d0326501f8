/**
 * How many SMS parts a text costs: GSM-7 when every character is in the GSM 03.38
 * alphabet (160 characters, or 153 per part of a longer message; the extension
 * characters such as € and [ take two), UCS-2 otherwise (70, or 67 per part, counted
 * in UTF-16 units, so an emoji takes two). Carriers bill per part. A character is never
 * split between parts (an extension character's escape stays with it, an emoji's two
 * halves stay together), so a part can end a unit short of 153 or 67.
 */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '^{}\\[~]|€\f';
const basic = new Set(GSM_BASIC);
const extension = new Set(GSM_EXTENSION);

export interface SmsSegments {
  encoding: 'GSM-7' | 'UCS-2';
  /** Characters as the encoding counts them (septets for GSM-7, UTF-16 units for UCS-2). */
  units: number;
  segments: number;
}

export function smsSegments(text: string): SmsSegments {
  const chars = [...text];
  const gsm = chars.every((ch) => basic.has(ch) || extension.has(ch));
  // Each character's units: an extension character is ESC + itself, a character outside the BMP a surrogate pair.
  const sizes = chars.map((ch) => (gsm ? (extension.has(ch) ? 2 : 1) : ch.length));
  const units = sizes.reduce((sum, n) => sum + n, 0);
  const [single, perPart] = gsm ? [160, 153] : [70, 67];
  return { encoding: gsm ? 'GSM-7' : 'UCS-2', units, segments: units <= single ? (units === 0 ? 0 : 1) : parts(sizes, perPart) };
}

/** Parts of a multi-part message: a character's units are never split, so a part closes when the next character does not fit. */
function parts(sizes: number[], perPart: number): number {
  let count = 1;
  let used = 0;
  for (const n of sizes) {
    if (used + n > perPart) {
      count++;
      used = 0;
    }
    used += n;
  }
  return count;
}
