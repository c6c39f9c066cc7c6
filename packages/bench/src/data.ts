/**
 * Deterministic keys and values for the workloads. Every generator is a pure function of a seed and an
 * op index, so a child process can produce the same key stream as its parent (and as a later run with
 * the same seed) without shipping keys across processes.
 *
 * @module
 */

/** Hashes (seed, index, word) to 32 well-mixed bits: murmur3's finaliser over a golden-ratio step. */
export function hash32(seed: number, index: number, word = 0): number {
  let h = Math.imul(index >>> 0, 0x9e3779b1) ^ Math.imul((index / 0x100000000) >>> 0, 0x85ebca77);
  h = (h + Math.imul(seed >>> 0, 0xc2b2ae3d) + Math.imul(word + 1, 0x27d4eb2f)) | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform integer in [0, n) for op `index` (modulo bias is below 1e-4 for n up to 2^18 and irrelevant here). */
export function pick(seed: number, index: number, n: number): number {
  return ((hash32(seed, index, 7) * 0x100000 + (hash32(seed, index, 8) >>> 12)) % n) >>> 0;
}

/**
 * The sequential key of db_bench: `index` as a big-endian 64-bit integer, zero-padded to the key size,
 * so byte order equals index order.
 */
export function sequentialKeyInto(index: number, out: Uint8Array): void {
  out.fill(0);
  const hi = Math.floor(index / 0x100000000);
  const lo = index >>> 0;
  out[0] = hi >>> 24;
  out[1] = (hi >>> 16) & 0xff;
  out[2] = (hi >>> 8) & 0xff;
  out[3] = hi & 0xff;
  out[4] = lo >>> 24;
  out[5] = (lo >>> 16) & 0xff;
  out[6] = (lo >>> 8) & 0xff;
  out[7] = lo & 0xff;
}

/** A random key: every byte drawn from the seeded hash, so keys land uniformly over the key space. */
export function randomKeyInto(seed: number, index: number, out: Uint8Array): void {
  for (let w = 0; w * 4 < out.length; w++) {
    const h = hash32(seed, index, w);
    for (let b = 0; b < 4 && w * 4 + b < out.length; b++) out[w * 4 + b] = (h >>> (b * 8)) & 0xff;
  }
}

/** Prefixes of the prefixscan workload: a big-endian u16 (0..255) followed by a big-endian u16 suffix. */
export const PREFIX_COUNT = 256;
export const PREFIX_BYTES = 2;

/** Key `index` of the prefixscan data set: entries are spread round-robin over the 256 prefixes. */
export function prefixKeyInto(index: number, out: Uint8Array): void {
  out.fill(0);
  const prefix = index % PREFIX_COUNT;
  const suffix = Math.floor(index / PREFIX_COUNT);
  out[0] = prefix >>> 8;
  out[1] = prefix & 0xff;
  out[2] = (suffix >>> 8) & 0xff;
  out[3] = suffix & 0xff;
}

/**
 * The order the prefixscan data set is written in: the same keys as {@link prefixKeyInto} over indexes
 * `[0, num)` (prefix `p` holds suffixes `0..` while `suffix * 256 + p < num`), but **prefix by prefix**, the
 * prefixes in a seeded shuffled order, each one's suffixes ascending. A stretch of writes (a Talus memtable,
 * so a table) then holds a few whole prefixes scattered over the key space, as tenants' data loaded in turns
 * would: its key range overlaps prefixes it does not hold, which only a prefix filter can rule out.
 */
export function prefixFillKeyStream(keySize: number, seed: number, num: number): KeyStream & { prefixOrder: readonly number[] } {
  const order = Array.from({ length: PREFIX_COUNT }, (_, p) => p);
  for (let i = order.length - 1; i > 0; i--) {
    const j = pick(seed + 4242, i, i + 1);
    [order[i], order[j]] = [order[j] as number, order[i] as number];
  }
  // starts[k]: index of the first write of the k-th prefix in the shuffled order.
  const starts = new Float64Array(PREFIX_COUNT + 1);
  for (let k = 0; k < PREFIX_COUNT; k++) {
    const p = order[k] as number;
    starts[k + 1] = (starts[k] as number) + (p < num ? Math.floor((num - 1 - p) / PREFIX_COUNT) + 1 : 0);
  }
  return {
    keySize,
    prefixOrder: order,
    keyInto(index: number, out: Uint8Array): void {
      let lo = 0;
      let hi = PREFIX_COUNT - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if ((starts[mid] as number) <= index) lo = mid;
        else hi = mid - 1;
      }
      const p = order[lo] as number;
      prefixKeyInto((index - (starts[lo] as number)) * PREFIX_COUNT + p, out);
    },
  };
}

/** The largest data set prefixscan's 4-byte key layout can address without repeating keys. */
export const PREFIX_MAX_NUM = PREFIX_COUNT * 65536;

export function prefixOf(p: number): Uint8Array {
  return Uint8Array.of(p >>> 8, p & 0xff);
}

/**
 * A pool of values: the first half of each is seeded random bytes, the second half one repeated byte,
 * so a block of values compresses to about half (like the data db_bench users tend to store, rather
 * than db_bench's own all-`0x42` values that flatter any compressor).
 */
export class ValuePool {
  readonly size: number;
  readonly #values: Uint8Array[];
  readonly #mask: number;

  constructor(size: number, seed: number, count = 4096) {
    if ((count & (count - 1)) !== 0) throw new RangeError("the value pool size must be a power of two");
    this.size = size;
    this.#mask = count - 1;
    this.#values = [];
    const randomBytes = Math.ceil(size / 2);
    for (let v = 0; v < count; v++) {
      const value = new Uint8Array(size).fill(0x61 + (v % 26));
      const random = new Uint8Array(randomBytes);
      randomKeyInto(seed ^ 0x5bd1e995, v, random);
      value.set(random.subarray(0, Math.min(randomBytes, size)));
      this.#values.push(value);
    }
  }

  /** The value of op `index` (shared, never mutated: engines may keep a reference until a write completes). */
  value(index: number): Uint8Array {
    return this.#values[index & this.#mask] as Uint8Array;
  }
}

/** Where a workload's keys come from. */
export type KeyKind = "sequential" | "random" | "existing" | "prefix";

/**
 * The key stream of one workload: `keyInto(i, out)` writes op `i`'s key. "existing" keys are uniformly
 * chosen sequential keys of a data set of `num` entries (reads and overwrites hit what the prefill wrote).
 */
export interface KeyStream {
  readonly keySize: number;
  keyInto(index: number, out: Uint8Array): void;
}

export function keyStream(kind: KeyKind, keySize: number, seed: number, num: number): KeyStream {
  switch (kind) {
    case "sequential":
      return { keySize, keyInto: sequentialKeyInto };
    case "random":
      return { keySize, keyInto: (i, out) => randomKeyInto(seed, i, out) };
    case "existing":
      return { keySize, keyInto: (i, out) => sequentialKeyInto(pick(seed, i, num), out) };
    case "prefix":
      return prefixFillKeyStream(keySize, seed, num);
  }
}

/** The smallest byte string greater than every string starting with `prefix` (undefined for all-0xff). */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

/**
 * The ranges of a range-delete workload: op `i` covers `width` consecutive sequential keys of a data set
 * of `num` entries, from a uniformly chosen first key (so every range lies within the data set).
 */
export interface RangeStream {
  readonly keySize: number;
  /** Keys per range (at most `num`). */
  readonly width: number;
  /** Writes op `i`'s first key (inclusive) into `out`. */
  startInto(index: number, out: Uint8Array): void;
  /** Writes op `i`'s end key (exclusive: the key after its last) into `out`. */
  endInto(index: number, out: Uint8Array): void;
  /** Writes the `k`-th key (0 <= k < width) of op `i`'s range into `out`, for engines that delete key by key. */
  keyInto(index: number, k: number, out: Uint8Array): void;
}

export function rangeStream(keySize: number, seed: number, num: number, width: number): RangeStream {
  const w = Math.max(1, Math.min(width, num));
  const first = (i: number): number => pick(seed, i, num - w + 1);
  return {
    keySize,
    width: w,
    startInto: (i, out) => sequentialKeyInto(first(i), out),
    endInto: (i, out) => sequentialKeyInto(first(i) + w, out),
    keyInto: (i, k, out) => sequentialKeyInto(first(i) + k, out),
  };
}

/** Bytes of a counter value and of a merge operand: a little-endian 64-bit integer (Talus' `counterMerge`). */
export const COUNTER_BYTES = 8;

/** Writes `n` (an integer, |n| < 2^53) into `out[0..8)` as a little-endian two's-complement 64-bit integer. */
export function counterInto(n: number, out: Uint8Array): void {
  const lo = n >>> 0;
  const hi = Math.floor(n / 0x100000000) | 0;
  out[0] = lo & 0xff;
  out[1] = (lo >>> 8) & 0xff;
  out[2] = (lo >>> 16) & 0xff;
  out[3] = lo >>> 24;
  out[4] = hi & 0xff;
  out[5] = (hi >>> 8) & 0xff;
  out[6] = (hi >>> 16) & 0xff;
  out[7] = (hi >>> 24) & 0xff;
}

/** Reads a counter written by {@link counterInto} (or by `counterMerge`); exact for |n| < 2^53. */
export function readCounter(bytes: Uint8Array): number {
  if (bytes.length !== COUNTER_BYTES) throw new RangeError(`a counter is ${COUNTER_BYTES} bytes, got ${bytes.length}`);
  const lo = ((bytes[0] as number) | ((bytes[1] as number) << 8) | ((bytes[2] as number) << 16) | ((bytes[3] as number) << 24)) >>> 0;
  const hi = (bytes[4] as number) | ((bytes[5] as number) << 8) | ((bytes[6] as number) << 16) | ((bytes[7] as number) << 24);
  return hi * 0x100000000 + lo;
}

/** Largest increment of a merge op: increments are 1..MAX_INCREMENT. */
export const MAX_INCREMENT = 100;

/**
 * The merges of mergerandom: op `i` adds `delta(i)` (1..{@link MAX_INCREMENT}) to key `keyIndex(i)`, a
 * uniformly chosen sequential key of a key space of `keySpace` keys. `operand(i)` is the increment as
 * an 8-byte little-endian counter, shared and never mutated (engines may keep it until a write completes).
 */
export interface MergeStream {
  readonly keySize: number;
  readonly keySpace: number;
  keyIndex(index: number): number;
  keyInto(index: number, out: Uint8Array): void;
  delta(index: number): number;
  operand(index: number): Uint8Array;
}

export function mergeStream(keySize: number, seed: number, keySpace: number): MergeStream {
  const operands = Array.from({ length: MAX_INCREMENT + 1 }, (_, d) => {
    const out = new Uint8Array(COUNTER_BYTES);
    counterInto(d, out);
    return out;
  });
  const keyIndex = (i: number): number => pick(seed, i, keySpace);
  const delta = (i: number): number => 1 + (hash32(seed, i, 9) % MAX_INCREMENT);
  return {
    keySize,
    keySpace,
    keyIndex,
    keyInto: (i, out) => sequentialKeyInto(keyIndex(i), out),
    delta,
    operand: (i) => operands[delta(i)] as Uint8Array,
  };
}
