/**
 * Integer stand-ins for sorted keys, so binary searches under the bytewise order compare integers and
 * look at key bytes only on a tie. Sorted keys share the prefix their first and last key share; the
 * fingerprint of a key is the 4 bytes after that prefix:
 *
 * ```
 * key         := shared prefix (s bytes) | b0 b1 b2 b3 | rest
 * fingerprint := (b0 b1 b2 b3 as a big-endian u32, missing bytes as 0) - 2^31   (an int32: small integer arithmetic)
 * ```
 *
 * Invariant: for keys with the shared prefix, `a < b` implies `fingerprint(a) <= fingerprint(b)`; so
 * differing fingerprints order their keys, and equal ones (equal 4 bytes, or a key and the same key
 * with zero bytes added) decide nothing.
 *
 * @module
 */

/** The fingerprint of the key `data[start - shared, end)`, i.e. of the bytes from `start` on. */
export function fingerprintAt(data: Uint8Array, start: number, end: number): number {
  let f = 0;
  for (let i = 0; i < 4; i++) f = f * 256 + (start + i < end ? (data[start + i] as number) : 0);
  return (f - 0x80000000) | 0;
}

/** How many leading bytes `a[aStart, aEnd)` and `b[bStart, bEnd)` have in common. */
export function commonPrefixLength(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const n = Math.min(aEnd - aStart, bEnd - bStart);
  let i = 0;
  while (i < n && a[aStart + i] === b[bStart + i]) i++;
  return i;
}

/** Where `key` falls against keys that all start with the `shared` bytes at `data[prefixStart]`. */
export const BEFORE_ALL = -1;
export const AFTER_ALL = 1;
export const WITHIN = 0;

export function placeAgainstPrefix(data: Uint8Array, prefixStart: number, shared: number, key: Uint8Array): number {
  const n = key.length < shared ? key.length : shared;
  for (let i = 0; i < n; i++) {
    const d = (data[prefixStart + i] as number) - (key[i] as number);
    if (d !== 0) return d > 0 ? BEFORE_ALL : AFTER_ALL;
  }
  // A proper prefix of the shared prefix is shorter than every key, so it sorts first.
  return key.length < shared ? BEFORE_ALL : WITHIN;
}
