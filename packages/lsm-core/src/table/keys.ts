/**
 * Key comparison over byte ranges, so that block searches compare keys where they lie in a block without
 * copying them. With the built-in bytewise order this allocates nothing; a custom comparator needs views.
 *
 * @module
 */
import { isBytewise, type Comparator } from "../key/comparator.ts";

/** memcmp of `a[aStart, aEnd)` and `b[bStart, bEnd)`, then shorter first. */
export function compareBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  const n = aLength < bLength ? aLength : bLength;
  if (n > 64) {
    // Long keys: the native compare wins over the loop despite the two views.
    const c = Buffer.compare(a.subarray(aStart, aStart + n), b.subarray(bStart, bStart + n));
    return c !== 0 ? c : aLength - bLength;
  }
  for (let i = 0; i < n; i++) {
    const d = (a[aStart + i] as number) - (b[bStart + i] as number);
    if (d !== 0) return d;
  }
  return aLength - bLength;
}

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
