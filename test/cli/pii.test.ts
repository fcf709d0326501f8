import { afterEach, describe, expect, it } from 'vitest';
import { maskEmail, maskPhone, setShowPii, shownAddress, shownRow, shownText } from '../../src/pii.js';

afterEach(() => setShowPii(false));

describe('addresses in output', () => {
  it('e-mails keep the first letters and the domain; phones the prefix and last three digits', () => {
    expect(maskEmail('jana.novak@example.test')).toBe('ja********@example.test');
    expect(maskEmail('a@shop.test')).toBe('a*@shop.test');
    expect(maskPhone('+420777123456')).toBe('+420******456');
    expect(maskPhone('whatsapp:+420777123456')).toBe('whatsapp:+420******456');
    expect(maskPhone('+4201')).toBe('*****');
  });

  it('are masked unless --show-pii', () => {
    expect(shownAddress('ann@shop.test')).toBe('a**@shop.test');
    expect(shownRow({ id: 'c1', email: 'ann@shop.test', phone: '+420601234567', city: 'Brno' })).toEqual({ id: 'c1', email: 'a**@shop.test', phone: '+420******567', city: 'Brno' });
    setShowPii(true);
    expect(shownAddress('ann@shop.test')).toBe('ann@shop.test');
    expect(shownRow({ email: 'ann@shop.test' })).toEqual({ email: 'ann@shop.test' });
  });

  it('free text (a provider error, an import error) has the addresses in it masked, and nothing else', () => {
    expect(shownText("HTTP 400: 'Ann.Smith@shop.test' bounced; +420 601 234 567 unknown; row 12, 2026-01-01")).toBe(
      "HTTP 400: 'An*******@shop.test' bounced; +420******567 unknown; row 12, 2026-01-01",
    );
  });

  it('free text with a long run of address characters and no address is scanned in linear time (a 100 KB flag value took 21 s)', () => {
    const long = `--sample '${'x'.repeat(100_000)}' is not a number; ${'a.'.repeat(50_000)}@ and ann@shop.test`;
    const started = performance.now();
    const shown = shownText(long);
    expect(performance.now() - started).toBeLessThan(500);
    expect(shown.endsWith('and a**@shop.test')).toBe(true);
  });
});
