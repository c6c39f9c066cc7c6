/**
 * memcmp order in JavaScript. `Buffer.compare` costs ~85 ns per call whatever the length (views,
 * argument checks, a call into C++), while a byte loop over a 16-byte key takes ~10 ns; the loop stops
 * paying off only past {@link LOOP_PREFIX_BYTES} equal bytes, where the rest goes to the native compare.
 *
 * @module
 */

/** Equal leading bytes compared in the loop before the rest goes to `Buffer.compare`. */
const LOOP_PREFIX_BYTES = 64;

/** memcmp of `a[aStart, aEnd)` and `b[bStart, bEnd)`, then shorter first. */
export function compareBytes(a: Uint8Array, aStart: number, aEnd: number, b: Uint8Array, bStart: number, bEnd: number): number {
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  const n = aLength < bLength ? aLength : bLength;
  const loop = n < LOOP_PREFIX_BYTES ? n : LOOP_PREFIX_BYTES;
  for (let i = 0; i < loop; i++) {
    const d = (a[aStart + i] as number) - (b[bStart + i] as number);
    if (d !== 0) return d;
  }
  if (n > LOOP_PREFIX_BYTES) {
    const c = Buffer.compare(a.subarray(aStart + LOOP_PREFIX_BYTES, aStart + n), b.subarray(bStart + LOOP_PREFIX_BYTES, bStart + n));
    if (c !== 0) return c;
  }
  return aLength - bLength;
}

/** memcmp of two whole keys, then shorter first. */
export function compareBytewise(a: Uint8Array, b: Uint8Array): number {
  return compareBytes(a, 0, a.length, b, 0, b.length);
}

/** Whether `key` begins with the bytes of `prefix`. */
export function startsWith(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}
