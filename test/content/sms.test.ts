import { describe, expect, it } from 'vitest';
import { smsSegments } from '../../src/content/sms.js';

const A = (n: number) => 'A'.repeat(n);
const HIRA = (n: number) => 'あ'.repeat(n);

describe('SMS parts, GSM-7', () => {
  it('an empty body costs nothing', () => {
    expect(smsSegments('')).toEqual({ encoding: 'GSM-7', units: 0, segments: 0 });
  });

  it('160 characters are one message, 161 are two parts', () => {
    expect(smsSegments(A(160))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments(A(161))).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
  });

  it('an extension character takes two septets, within the single-message limit', () => {
    expect(smsSegments(A(158) + '€')).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSegments(A(159) + '€')).toEqual({ encoding: 'GSM-7', units: 161, segments: 2 });
  });

  it('an extension character that would straddle two parts starts the next part', () => {
    // 152 A's leave one septet in the first part: ESC and € go together into the second.
    expect(smsSegments(A(152) + '€' + A(152))).toEqual({ encoding: 'GSM-7', units: 306, segments: 3 });
    for (const ch of '[]{}\\~^|') expect(smsSegments(A(152) + ch + A(152)).segments).toBe(3);
  });

  it('an extension character that exactly ends a part does not open another', () => {
    expect(smsSegments(A(151) + '€' + A(153))).toEqual({ encoding: 'GSM-7', units: 306, segments: 2 });
  });
});

describe('SMS parts, UCS-2', () => {
  it('70 UTF-16 units are one message, 71 are two parts', () => {
    expect(smsSegments(HIRA(70))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsSegments(HIRA(71))).toEqual({ encoding: 'UCS-2', units: 71, segments: 2 });
  });

  it('an emoji takes two units, within the single-message limit', () => {
    expect(smsSegments(HIRA(68) + '😀')).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(smsSegments(HIRA(69) + '😀')).toEqual({ encoding: 'UCS-2', units: 71, segments: 2 });
  });

  it('an emoji that would straddle two parts starts the next part', () => {
    // 66 characters leave one unit in the first part: both halves of the emoji go into the second.
    expect(smsSegments(HIRA(66) + '😀' + HIRA(66))).toEqual({ encoding: 'UCS-2', units: 134, segments: 3 });
    // a body of emoji only: 33 fit in a part (66 units), so 134 units take three parts
    expect(smsSegments('😀'.repeat(67))).toEqual({ encoding: 'UCS-2', units: 134, segments: 3 });
  });

  it('an emoji that exactly ends a part does not open another', () => {
    expect(smsSegments(HIRA(65) + '😀' + HIRA(67))).toEqual({ encoding: 'UCS-2', units: 134, segments: 2 });
  });

  it('one character outside GSM-7 makes the whole body UCS-2', () => {
    expect(smsSegments(A(70) + 'あ')).toEqual({ encoding: 'UCS-2', units: 71, segments: 2 });
  });
});
