import { describe, expect, it } from 'vitest';
import { htmlToText } from '../../src/content/html-text.js';

describe('the text part of an HTML e-mail', () => {
  it('reads as the HTML does: paragraphs, breaks, list items, links with their address', () => {
    const html = `<!DOCTYPE html><html><head><title>Offer</title><style>p { color: red }</style></head><body>
<!-- tracking pixel below -->
<p>Hello <b>Jana</b>,</p><p>Line one<br>line two<br/>line three</p>
<ul><li>Mug</li><li>Linen pillow case</li></ul>
<p><a href="https://shop.test/offer"><img src="x.png" alt="">  See the offer </a> · <a href="#top">top</a> · <a href='https://shop.test'>https://shop.test</a></p>
<script>track()</script></body></html>`;
    expect(htmlToText(html)).toBe(
      ['Hello Jana,', 'Line one', 'line two', 'line three', '', '- Mug', '- Linen pillow case', '', 'See the offer (https://shop.test/offer) · top · https://shop.test'].join('\n'),
    );
  });

  it('keeps table cells apart: a product and its price are not one word', () => {
    const html = '<table><tr><td><a href="https://shop.test/p/1">Mug</a></td><td>€12.00</td></tr><tr><th>Total</th><th>€12.00</th></tr></table>';
    expect(htmlToText(html)).toBe('Mug (https://shop.test/p/1) €12.00\nTotal €12.00');
  });

  it('decodes every entity HTML names, and a number that names no character as U+FFFD instead of failing the message', () => {
    expect(htmlToText('<p>&copy; 2026 Shop &amp; Co &mdash; &euro;5&nbsp;&nbsp;off&hellip; &#x1F381; &#39;gift&#39; &#x110000;</p>')).toBe('© 2026 Shop & Co — €5 off… 🎁 \'gift\' \uFFFD');
  });

  it('decodes a link address as an attribute: a query parameter named like an entity stays itself', () => {
    expect(htmlToText('<a href="https://shop.test/?a=1&amp;copy=2&lang=en">Shop</a>')).toBe('Shop (https://shop.test/?a=1&copy=2&lang=en)');
  });

  it('keeps a "<" that starts no tag as text, and an entity for a tag as text', () => {
    expect(htmlToText('<p>2 < 3 and 5 > 4, <b>bold</b> &lt;i&gt;not a tag&lt;/i&gt;</p>')).toBe('2 < 3 and 5 > 4, bold <i>not a tag</i>');
  });

  it('reads an image link by its alt text, and leaves out one whose image is decoration (alt=""): a product picture beside its named link is not a bare address line', () => {
    expect(htmlToText('<table><tr><td><a href="https://shop.test/p/1"><img src="p1.jpg" alt="" width="96"></a></td><td><a href="https://shop.test/p/1">Mug</a> €12</td></tr></table>')).toBe('Mug (https://shop.test/p/1) €12');
    expect(htmlToText('<p><a href="https://shop.test/sale"><img src="b.png" alt="Summer sale &amp; more"></a></p>')).toBe('Summer sale & more (https://shop.test/sale)');
    // without an alt there is nothing to say what it is: the address stays
    expect(htmlToText('<p><a href="https://shop.test/x"><img src="b.png"></a></p>')).toBe('https://shop.test/x');
  });
});
