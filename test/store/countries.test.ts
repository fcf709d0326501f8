import { describe, expect, it } from 'vitest';
import { countryCode } from '../../src/store/import/countries.js';

describe('countries', () => {
  it('turns codes and names, in the languages exports are written in, into ISO 3166 alpha-2', () => {
    expect(countryCode('us')).toBe('US');
    expect(countryCode('United States')).toBe('US');
    expect(countryCode('United States of America')).toBe('US');
    expect(countryCode('USA')).toBe('US');
    expect(countryCode('UK')).toBe('GB');
    expect(countryCode('United Kingdom')).toBe('GB');
    expect(countryCode('Brasil')).toBe('BR');
    expect(countryCode('Deutschland')).toBe('DE');
    expect(countryCode("Côte d'Ivoire")).toBe('CI');
    expect(countryCode('the Netherlands')).toBe('NL');
  });

  it('names nothing that is not a country', () => {
    expect(countryCode('XX')).toBeUndefined();
    expect(countryCode('EU')).toBeUndefined();
    expect(countryCode('Atlantis')).toBeUndefined();
  });
});
