/**
 * Key comparison over byte ranges, so that block searches compare keys where they lie in a block without
 * copying them. With the built-in bytewise order this allocates nothing; a custom comparator needs views.
 *
 * @module
 */
import { compareBytes } from "../key/bytewise.ts";
import { isBytewise, type Comparator } from "../key/comparator.ts";

export { compareBytes };

/** A comparator plus the range comparisons the table code needs. */
export class KeyOrder {
  readonly comparator: Comparator;
  readonly bytewise: boolean;

  constructor(comparator: Comparator) {
    this.comparator = comparator;
    this.bytewise = isBytewise(comparator);
  }

  /** Compares the user key `data[start, end)` with `key`. */
  compareAt(data: Uint8Array, start: number, end: number, key: Uint8Array): number {
    if (this.bytewise) return compareBytes(data, start, end, key, 0, key.length);
    return this.comparator.compare(data.subarray(start, end), key);
  }

  compare(a: Uint8Array, b: Uint8Array): number {
    if (this.bytewise) return compareBytes(a, 0, a.length, b, 0, b.length);
    return this.comparator.compare(a, b);
  }

  /**
   * Compares internal keys: user key ascending, then seqno descending. `data[start, end)` with `seqno`
   * against `(key, keySeqno)`.
   */
  compareInternalAt(data: Uint8Array, start: number, end: number, seqno: number, key: Uint8Array, keySeqno: number): number {
    const c = this.compareAt(data, start, end, key);
    if (c !== 0) return c;
    return seqno > keySeqno ? -1 : seqno < keySeqno ? 1 : 0;
  }
}
