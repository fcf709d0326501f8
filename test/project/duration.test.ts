import { describe, expect, it } from 'vitest';
import { parseDuration, shift } from '../../src/project/duration.js';

const at = (iso: string) => new Date(iso);

describe('durations', () => {
  it('reads every unit of the language and rejects everything else', () => {
    expect(['30m', '12h', '3d', '2w', '6mo', '1y'].map((t) => parseDuration(t)?.unit)).toEqual(['m', 'h', 'd', 'w', 'mo', 'y']);
    expect(['3 days', '0d', '10', 'd3', '1.5d', '3D'].map((t) => parseDuration(t))).toEqual([null, null, null, null, null, null]);
  });

  it('counts months and years on the calendar, clamping to the month end', () => {
    expect(shift(at('2026-03-31T10:00:00Z'), parseDuration('1mo')!, -1).toISOString()).toBe('2026-02-28T10:00:00.000Z');
    expect(shift(at('2024-03-31T10:00:00Z'), parseDuration('1mo')!, -1).toISOString()).toBe('2024-02-29T10:00:00.000Z');
    expect(shift(at('2026-11-25T00:00:00Z'), parseDuration('10mo')!, -1).toISOString()).toBe('2026-01-25T00:00:00.000Z');
    expect(shift(at('2024-02-29T12:00:00Z'), parseDuration('1y')!, 1).toISOString()).toBe('2025-02-28T12:00:00.000Z');
  });

  it('counts days as 24-hour blocks (rolling windows)', () => {
    expect(shift(at('2026-11-25T08:00:00Z'), parseDuration('3d')!, -1).toISOString()).toBe('2026-11-22T08:00:00.000Z');
    expect(shift(at('2026-11-25T08:00:00Z'), parseDuration('90m')!, 1).toISOString()).toBe('2026-11-25T09:30:00.000Z');
  });
});
