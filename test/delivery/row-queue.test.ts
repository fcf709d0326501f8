import { describe, expect, it } from 'vitest';
import { RowQueue } from '../../src/delivery/row-queue.js';

describe('RowQueue', () => {
  it('hands rows out in claim order across many batches, and drains the rest', () => {
    const q = new RowQueue<number>();
    const out: number[] = [];
    let next = 0;
    // batches arrive while rows are being taken, as the dispatcher prefetches
    for (let batch = 0; batch < 10; batch++) {
      q.push(Array.from({ length: 500 }, () => next++));
      for (let i = 0; i < 450; i++) out.push(q.shift()!);
    }
    expect(q.length).toBe(500);
    expect(out).toEqual(Array.from({ length: 4500 }, (_, i) => i));
    expect(q.drain()).toEqual(Array.from({ length: 500 }, (_, i) => 4500 + i));
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });
});
