import { describe, expect, it } from 'vitest';
import { parseDateFormat, parseTimestamp, ZoneClock, type DateFormat } from '../../src/store/import/timestamps.js';

const iso: DateFormat = { kind: 'iso' };
const at = (text: string, zone = 'UTC', format: DateFormat = iso) => {
  const ms = parseTimestamp(text, format, new ZoneClock(zone));
  return ms === undefined ? undefined : new Date(ms).toISOString();
};

describe('timestamps', () => {
  it('reads ISO 8601 with Z, offsets, or none (then in the given zone)', () => {
    expect(at('2024-03-05T14:22:10Z')).toBe('2024-03-05T14:22:10.000Z');
    expect(at('2024-03-05 14:22:10 -0800')).toBe('2024-03-05T22:22:10.000Z');
    expect(at('2024-06-30T23:00:00+02:00')).toBe('2024-06-30T21:00:00.000Z');
    expect(at('2024-03-05')).toBe('2024-03-05T00:00:00.000Z');
  });

  it('reads Olist local times as São Paulo time, summer time included (Brazil had DST until 2019)', () => {
    expect(at('2018-05-15 09:10:20', 'America/Sao_Paulo')).toBe('2018-05-15T12:10:20.000Z'); // UTC-3
    expect(at('2018-01-10 12:00:00', 'America/Sao_Paulo')).toBe('2018-01-10T14:00:00.000Z'); // UTC-2 in summer
  });

  it('rejects impossible dates instead of rolling them over', () => {
    expect(at('2024-13-01T00:00:00Z')).toBeUndefined();
    expect(at('2023-02-29T00:00:00Z')).toBeUndefined();
    expect(at('2100-02-29T00:00:00Z')).toBeUndefined();
    expect(at('2024-04-31T00:00:00Z')).toBeUndefined();
    expect(at('2024-12-32T00:00:00Z')).toBeUndefined();
    expect(at('yesterday')).toBeUndefined();
    // the last day of each month, leap days of leap years included
    expect(at('2024-02-29T00:00:00Z')).toBe('2024-02-29T00:00:00.000Z');
    expect(at('2000-02-29T00:00:00Z')).toBe('2000-02-29T00:00:00.000Z');
    expect(at('2024-04-30T00:00:00Z')).toBe('2024-04-30T00:00:00.000Z');
    expect(at('2023-12-31T00:00:00Z')).toBe('2023-12-31T00:00:00.000Z');
  });

  it('rejects UTC offsets that no place uses', () => {
    expect(at('2024-03-05T14:22:10+99:00')).toBeUndefined();
    expect(at('2024-03-05T14:22:10-12:60')).toBeUndefined();
    expect(at('2024-03-05T14:22:10+15:00')).toBeUndefined();
    expect(at('2024-03-05T14:22:10+14:00')).toBe('2024-03-05T00:22:10.000Z'); // Kiribati
    expect(at('2024-03-05T14:22:10-12:00')).toBe('2024-03-06T02:22:10.000Z');
  });

  it('reads day-first patterns and epoch numbers', () => {
    const dayFirst = parseDateFormat('DD/MM/YYYY HH:mm');
    expect(typeof dayFirst).not.toBe('string');
    expect(at('31/01/2024 14:30', 'Europe/Paris', dayFirst as DateFormat)).toBe('2024-01-31T13:30:00.000Z');
    expect(at('1717232400', 'UTC', { kind: 'epoch_s' })).toBe('2024-06-01T09:00:00.000Z');
    expect(parseDateFormat('MM/YYYY')).toBe('a date format needs DD');
  });
});
