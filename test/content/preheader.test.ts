import { describe, expect, it } from 'vitest';
import { withPreheader } from '../../src/content/preheader.js';

const HIDDEN = /<div style="display:none[^"]*" aria-hidden="true">(.*?)(?:\u034f\u200c\u00a0)+<\/div>/;

describe('the preheader in the HTML', () => {
  it('goes first in the body, after a body tag with attributes', () => {
    const html = withPreheader('<!DOCTYPE html><html><head><title>x</title></head><BODY class="m"><p>Hello</p></BODY></html>', '15% off to welcome you back');
    expect(html.startsWith('<!DOCTYPE html><html><head><title>x</title></head><BODY class="m"><div style="display:none')).toBe(true);
    expect(HIDDEN.exec(html)?.[1]).toBe('15% off to welcome you back');
    expect(html.endsWith('</div><p>Hello</p></BODY></html>')).toBe(true);
  });

  it('goes first in HTML without a body tag, its text escaped (it is rendered as text)', () => {
    const html = withPreheader('<p>Hello</p>', 'Tom & Jerry <3 "you"');
    expect(HIDDEN.exec(html)?.[1]).toBe('Tom &amp; Jerry &lt;3 &quot;you&quot;');
    expect(html.endsWith('</div><p>Hello</p>')).toBe(true);
  });

  it('leaves HTML as it is for an empty preheader', () => {
    expect(withPreheader('<p>Hello</p>', '')).toBe('<p>Hello</p>');
  });
});
