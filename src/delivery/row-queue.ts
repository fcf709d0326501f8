/**
 * The claimed rows of a lane, first in first out. Array.prototype.shift moves every
 * remaining element, and a lane's queue holds a claim batch or two (hundreds of rows)
 * that is shifted once per message: a head index keeps taking a row O(1).
 */
export class RowQueue<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(items: readonly T[]): void {
    // drop the taken rows now and then, so the array does not grow without end
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    for (const item of items) this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as T; // let it be collected
    return item;
  }

  /** The next row, left in the queue. */
  peek(): T | undefined {
    return this.head === this.items.length ? undefined : this.items[this.head];
  }

  /** Takes every row left. */
  drain(): T[] {
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }
}
