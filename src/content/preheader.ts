/**
 * The preheader: the line an inbox shows beside or under the subject. Mail clients
 * take it from the first text of the body, so it goes there, hidden where the message
 * is read, followed by invisible characters that keep the inbox from running on into
 * the body's own first words ("Hello Ava, It has been a while...").
 */
import { escapeHtml } from './liquid.js';

/**
 * Combining grapheme joiners, zero-width non-joiners and no-break spaces: inboxes fill
 * the rest of the preview with them and show nothing. As characters, not entities: 280
 * bytes a message where the entities took 760.
 */
const FILLER = '\u034f\u200c\u00a0'.repeat(40);

const BODY = /<body\b[^>]*>/i;

/** The HTML with the preheader first in its body (or first, without a body tag). */
export function withPreheader(html: string, preheader: string): string {
  if (preheader === '') return html;
  const hidden = `<div style="display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;opacity:0;overflow:hidden;mso-hide:all" aria-hidden="true">${escapeHtml(preheader)}${FILLER}</div>`;
  const body = BODY.exec(html);
  if (!body) return hidden + html;
  const at = body.index + body[0].length;
  return html.slice(0, at) + hidden + html.slice(at);
}
