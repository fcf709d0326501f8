/**
 * The plain-text part of an HTML e-mail, made from the rendered HTML: mail clients
 * that show text, and spam filters that compare the two parts, get the same words.
 * Links keep their address after the label; block ends become line breaks, table
 * cells are apart by a space; what a browser does not show (head, style, script,
 * comments) is left out. Entities are decoded as a browser decodes them (the
 * `entities` package, which htmlparser2 and markdown-it use): all of HTML's named
 * ones, and a number that names no character becomes U+FFFD instead of an error.
 *
 * One pass over the HTML, tag by tag: text and link addresses are decoded apart (an
 * address as an attribute), and a '<' that starts no tag stays text, which a chain of
 * replacements over the whole message could not tell. (As fast as that chain was:
 * 10-11 µs a message.)
 */
import { decodeHTML, decodeHTMLAttribute } from 'entities';

/** Elements whose content a reader never sees. */
const HIDDEN = new Set(['head', 'style', 'script', 'title']);
/** Elements whose end ends a line. */
const BLOCK_ENDS = new Set(['p', 'div', 'tr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'li', 'table', 'section', 'ul', 'ol']);
/** Elements whose end separates what follows by a space (table cells: "Mug" and "€12" are not "Mug€12"). */
const CELL_ENDS = new Set(['td', 'th']);

const HREF = /\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')/i;
const ALT = /<img\b[^>]*?\balt\s*=\s*(?:"([^"]*)"|'([^']*)')/i;

interface Tag {
  /** Lower case; '!' for a comment or declaration. */
  name: string;
  closing: boolean;
  /** Where the name ends (the attributes follow). */
  nameEnd: number;
  /** Where the text after the tag starts. */
  end: number;
}

const isNameChar = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);

/** The tag at html[at] (a '<'), or null where the '<' is text (not followed by a letter, '/' and a letter, or '!'). */
function tagAt(html: string, at: number): Tag | null {
  let from = at + 1;
  const closing = html.charCodeAt(from) === 47; // '/'
  if (closing) from++;
  const first = html.charCodeAt(from);
  if (first === 33 /* ! */ && !closing) {
    const comment = html.startsWith('<!--', at);
    const close = comment ? html.indexOf('-->', at + 4) : html.indexOf('>', from);
    return { name: '!', closing, nameEnd: from + 1, end: close === -1 ? html.length : close + (comment ? 3 : 1) };
  }
  if (!isNameChar(first) || first <= 57) return null;
  let to = from + 1;
  while (to < html.length && isNameChar(html.charCodeAt(to))) to++;
  const gt = html.indexOf('>', to);
  if (gt === -1) return null;
  return { name: html.slice(from, to).toLowerCase(), closing, nameEnd: to, end: gt + 1 };
}

/** Each element's end tag, as an expression made once. */
const ends = new Map<string, RegExp>();

/** Where the element named `name` that starts before `from` ends (after its end tag), or -1 without one. */
function endOf(html: string, name: string, from: number): number {
  let close = ends.get(name);
  if (!close) ends.set(name, (close = new RegExp(`</${name}\\s*>`, 'gi')));
  close.lastIndex = from;
  const m = close.exec(html);
  return m ? m.index + m[0].length : -1;
}

/** Text with its entities decoded (most text has none). */
const decoded = (text: string) => (text.includes('&') ? decodeHTML(text) : text);

/** A link's label (its tags left out) and address, as the text part shows it. */
function link(label: string, href: string): string {
  let text = '';
  for (let i = 0; i < label.length; ) {
    const lt = label.indexOf('<', i);
    if (lt === -1) {
      text += label.slice(i);
      break;
    }
    text += label.slice(i, lt);
    const tag = tagAt(label, lt);
    if (tag) i = tag.end;
    else {
      text += '<';
      i = lt + 1;
    }
  }
  text = decoded(text).trim();
  const address = href.includes('&') ? decodeHTMLAttribute(href) : href;
  if (text === '' && label.includes('<')) {
    // a link that is an image: its alt text is its label; alt="" says the image is decoration
    // (a product's picture beside its named link), and the text part leaves it out
    const alt = ALT.exec(label);
    if (alt) text = decodeHTMLAttribute(alt[1] ?? alt[2] ?? '').trim();
    if (alt && text === '') return '';
  }
  if (!address || address.startsWith('#')) return text;
  return text && text !== address ? `${text} (${address})` : address;
}

export function htmlToText(html: string): string {
  let out = '';
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt === -1) {
      out += decoded(html.slice(i));
      break;
    }
    out += decoded(html.slice(i, lt));
    const tag = tagAt(html, lt);
    if (!tag) {
      out += '<';
      i = lt + 1;
      continue;
    }
    i = tag.end;
    if (tag.closing) {
      if (BLOCK_ENDS.has(tag.name)) out += '\n';
      else if (CELL_ENDS.has(tag.name)) out += ' ';
      continue;
    }
    if (HIDDEN.has(tag.name)) {
      const end = endOf(html, tag.name, tag.end);
      if (end !== -1) i = end;
    } else if (tag.name === 'br') {
      out += '\n';
    } else if (tag.name === 'li') {
      out += '- ';
    } else if (tag.name === 'a') {
      const href = HREF.exec(html.slice(tag.nameEnd, tag.end - 1));
      const end = href ? endOf(html, 'a', tag.end) : -1;
      if (href && end !== -1) {
        out += link(html.slice(tag.end, html.lastIndexOf('<', end - 1)), href[1] ?? href[2] ?? '');
        i = end;
      }
    }
  }
  return tidy(out);
}

/** Spaces collapsed and lines trimmed, at most one empty line in a row. */
function tidy(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/[ \t\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
