import type { StageRow } from './mapping.js';

/**
 * The customers a Shopify orders export names, merged by e-mail over the whole file,
 * to be written once at its end (see shopify-orders.ts): each value from the latest
 * order that gives one, so that a blank phone on another order never wipes a known one;
 * a consent from the latest order that gives one for its channel.
 *
 * Kept out of the JavaScript heap: each row is JSON in one growing buffer, found by
 * its slot. As objects (a row, its fields and consents, a string per value) the
 * 132,556 customers of the 1,000,000-row bench took ~400 bytes each of live heap, and
 * V8 let the heap grow to ~250 MB around them (peak memory 340 -> 510 MB). JSON keeps
 * every value as it was (any text, numbers, null) and copies it: no value keeps the
 * input chunk it was cut from alive.
 */
export class FileCustomers {
  private readonly slots = new Map<string, number>();
  private placedAt = new Float64Array(1024);
  /** Which values a customer has (see bitsOf); -1: not known (too many channels to tell apart). */
  private bits = new Int32Array(1024);
  private start = new Float64Array(1024);
  private length = new Uint32Array(1024);
  private arena = Buffer.allocUnsafe(1 << 20);
  private used = 0;
  private readonly channelBits = new Map<string, number>();

  get size(): number {
    return this.slots.size;
  }

  /** Merges a customer row from an order placed at placedAt; true when its key (e-mail) is new. */
  merge(row: StageRow, placedAt: number): boolean {
    const key = String(row.fields[0]);
    const slot = this.slots.get(key);
    const bits = this.bitsOf(row);
    if (slot === undefined) {
      const next = this.slots.size;
      if (next === this.placedAt.length) this.growSlots();
      // a copy of the key: the parsed string may be a slice that would keep its whole input chunk alive
      this.slots.set(Buffer.from(key, 'utf8').toString('utf8'), next);
      this.placedAt[next] = placedAt;
      this.bits[next] = bits;
      this.store(next, row);
      return true;
    }
    const newer = placedAt > this.placedAt[slot]!;
    const known = this.bits[slot]!;
    // an older order only fills blanks: one that gives no value the customer lacks changes
    // nothing (most of an export's repeats: it lists the newest orders first)
    if (!newer && bits !== -1 && known !== -1 && (bits & ~known) === 0) return false;
    const merged = this.row(slot);
    row.fields.forEach((value, i) => {
      if (value !== null && (newer || merged.fields[i] === null)) merged.fields[i] = value;
    });
    for (const [channel, granted] of row.consents) {
      const at = merged.consents.findIndex(([c]) => c === channel);
      if (at < 0) merged.consents.push([channel, granted]);
      else if (newer) merged.consents[at] = [channel, granted];
    }
    if (newer) this.placedAt[slot] = placedAt;
    this.bits[slot] = bits === -1 || known === -1 ? -1 : known | bits;
    this.store(slot, merged);
    return false;
  }

  /** The keys (e-mails) merged so far. */
  keys(): IterableIterator<string> {
    return this.slots.keys();
  }

  /** The merged row of a key. */
  get(key: string): StageRow | undefined {
    const slot = this.slots.get(key);
    return slot === undefined ? undefined : this.row(slot);
  }

  private row(slot: number): StageRow {
    const from = this.start[slot]!;
    const [rowNo, alias, fields, consents] = JSON.parse(this.arena.toString('utf8', from, from + this.length[slot]!)) as [
      number,
      string | null,
      StageRow['fields'],
      StageRow['consents'],
    ];
    return { rowNo, alias, fields, consents };
  }

  /** Appends the row's JSON (a changed row is appended again: the arena grows by what changed). */
  private store(slot: number, row: StageRow): void {
    const json = JSON.stringify([row.rowNo, row.alias, row.fields, row.consents]);
    // room for the longest UTF-8 the text can take (3 bytes per UTF-16 unit): no need to measure it first
    if (this.used + json.length * 3 > this.arena.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.arena.length * 2, this.used + json.length * 3));
      this.arena.copy(bigger, 0, 0, this.used);
      this.arena = bigger;
    }
    const bytes = this.arena.write(json, this.used, 'utf8');
    this.start[slot] = this.used;
    this.length[slot] = bytes;
    this.used += bytes;
  }

  private growSlots(): void {
    const size = this.placedAt.length * 2;
    const grown = <T extends Float64Array | Int32Array | Uint32Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(size);
      b.set(a);
      return b;
    };
    this.placedAt = grown(this.placedAt, Float64Array);
    this.bits = grown(this.bits, Int32Array);
    this.start = grown(this.start, Float64Array);
    this.length = grown(this.length, Uint32Array);
  }

  /** The values a row holds, as bits: its fields (0-15), its consent channels (16-29), its alias (30); -1 past 14 channels. */
  private bitsOf(row: StageRow): number {
    if (row.fields.length > 16) return -1;
    let bits = row.alias === null ? 0 : 1 << 30;
    for (let i = 0; i < row.fields.length; i++) if (row.fields[i] !== null) bits |= 1 << i;
    for (const [channel] of row.consents) {
      let bit = this.channelBits.get(channel);
      if (bit === undefined) this.channelBits.set(channel, (bit = 16 + this.channelBits.size));
      if (bit > 29) return -1;
      bits |= 1 << bit;
    }
    return bits;
  }
}
