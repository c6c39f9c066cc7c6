/**
 * MurmurHash3 x86_32 over a byte range, allocation-free, for Bloom filters. It is part of the table
 * format (filter bits depend on it): never change its output. Test vectors are in test/table-filter.test.ts.
 *
 * @module
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** MurmurHash3 x86_32 of `data[start, end)` with `seed`, as an unsigned 32-bit integer. */
export function murmur3(data: Uint8Array, start: number, end: number, seed: number): number {
  let h = seed | 0;
  const length = end - start;
  const blocksEnd = start + (length & ~3);
  let i = start;
  for (; i < blocksEnd; i += 4) {
    let k =
      (data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24);
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = length & 3;
  if (tail !== 0) {
    let k = 0;
    if (tail === 3) k ^= (data[i + 2] as number) << 16;
    if (tail >= 2) k ^= (data[i + 1] as number) << 8;
    k ^= data[i] as number;
    k = Math.imul(k, C1);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, C2);
    h ^= k;
  }
  h ^= length;
  return fmix32(h);
}

/** The murmur3 finaliser: a bijective avalanche of 32 bits. */
export function fmix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
