/**
 * The table's Bloom filter over user keys (and, optionally, over key prefixes).
 *
 * ```
 * filter payload := bits[m / 8] | probes: u8 | scheme: u8
 *
 *   bits    m bits, m = 8 * (payload length - 2); bit i is (bits[i >> 3] >> (i & 7)) & 1
 *   probes  k, the number of bits set per item, 1..30
 *   scheme  1 = murmur3-x86-32 with double hashing (below); other values are refused
 * ```
 *
 * Scheme 1: an item's 32-bit hash is `h1 = murmur3(bytes, seed)` with seed {@link KEY_SEED} for whole user
 * keys and {@link PREFIX_SEED} for prefixes, so a prefix never answers for a key of the same bytes. The
 * probe step is `h2 = fmix32(h1 ^ 0x9e3779b9) | 1` and probe `i` tests bit `(h1 + i * h2) mod 2^32 mod m`
 * (Kirsch–Mitzenmacher double hashing). At 10 bits per key (k = 7) the measured false-positive rate is
 * about 0.8% (test/table-filter.test.ts), the textbook optimum being 0.82%.
 *
 * @module
 */
import { corruption } from "../errors.ts";
import { fmix32, murmur3 } from "./hash.ts";

/** The only filter scheme this build writes and reads. */
export const BLOOM_SCHEME_MURMUR3 = 1;
/** Seed of the hash of whole user keys. */
export const KEY_SEED = 0xbc9f1d34;
/** Seed of the hash of key prefixes. */
export const PREFIX_SEED = 0x5bd1e995;

const MIN_BITS = 64;
/** Items laid out between two yields of {@link BloomFilterBuilder.finishInSteps}: about 1 ms of work. */
const HASHES_PER_STEP = 16384;
const MAX_PROBES = 30;

/**
 * Names the prefixes of a key that the filter also records, so that a prefix scan can skip tables
 * holding no key with that prefix. The name is stored in the table; a reader only probes prefixes with
 * an extractor of the same name.
 */
export interface PrefixExtractor {
  readonly name: string;
  /** The prefixes of `key` to record (may be empty; the same key must always give the same prefixes). */
  prefixes(key: Uint8Array): Iterable<Uint8Array>;
}

/** Hash of a whole user key, as the filter records it. */
export function keyHash(key: Uint8Array): number {
  return murmur3(key, 0, key.length, KEY_SEED);
}

/** Hash of a key prefix, as the filter records it. */
export function prefixHash(prefix: Uint8Array): number {
  return murmur3(prefix, 0, prefix.length, PREFIX_SEED);
}

/** The number of probes for `bitsPerKey`: `bitsPerKey * ln 2` minimises the false-positive rate. */
export function probesFor(bitsPerKey: number): number {
  return Math.max(1, Math.min(MAX_PROBES, Math.round(bitsPerKey * Math.LN2)));
}

/** Collects item hashes while a table is written, then lays out the bits once the count is known. */
export class BloomFilterBuilder {
  readonly bitsPerKey: number;
  #hashes = new Uint32Array(1024);
  #count = 0;
  #lastPrefixHash = -1;

  constructor(bitsPerKey: number) {
    if (!(bitsPerKey > 0 && bitsPerKey <= 64)) throw new RangeError(`bitsPerKey must be in (0, 64], got ${bitsPerKey}`);
    this.bitsPerKey = bitsPerKey;
  }

  /** Items recorded so far. */
  get count(): number {
    return this.#count;
  }

  /** Bytes the finished filter would take now. */
  get estimatedSize(): number {
    return Math.ceil(Math.max(MIN_BITS, this.#count * this.bitsPerKey) / 8) + 2;
  }

  /** Records a user key (call once per distinct key). */
  addKey(key: Uint8Array): void {
    this.#push(keyHash(key));
  }

  /** Records a prefix; repeats of the previous prefix (common in sorted input) are dropped. */
  addPrefix(prefix: Uint8Array): void {
    const h = prefixHash(prefix);
    if (h === this.#lastPrefixHash) return;
    this.#lastPrefixHash = h;
    this.#push(h);
  }

  /** The filter payload. */
  finish(): Uint8Array {
    const steps = this.finishInSteps();
    for (;;) {
      const step = steps.next();
      if (step.done === true) return step.value;
    }
  }

  /**
   * {@link finish} in pieces of {@link HASHES_PER_STEP} items: the generator yields between pieces (so
   * the caller can give the event loop a turn; a big table's filter takes tens of milliseconds to lay
   * out) and returns the payload. Items added meanwhile are not included.
   */
  *finishInSteps(): Generator<void, Uint8Array, void> {
    const count = this.#count;
    const bits = Math.ceil(Math.max(MIN_BITS, count * this.bitsPerKey) / 8) * 8;
    const out = new Uint8Array(bits / 8 + 2);
    const probes = probesFor(this.bitsPerKey);
    const hashes = this.#hashes;
    for (let from = 0; from < count; from += HASHES_PER_STEP) {
      const to = Math.min(count, from + HASHES_PER_STEP);
      for (let i = from; i < to; i++) {
        let h = hashes[i] as number;
        const step = probeStep(h);
        for (let p = 0; p < probes; p++) {
          const bit = modulo(h, bits);
          out[bit >>> 3] = (out[bit >>> 3] as number) | (1 << (bit & 7));
          h = (h + step) >>> 0;
        }
      }
      if (to < count) yield;
    }
    out[bits / 8] = probes;
    out[bits / 8 + 1] = BLOOM_SCHEME_MURMUR3;
    return out;
  }

  #push(h: number): void {
    if (this.#count === this.#hashes.length) {
      const grown = new Uint32Array(this.#hashes.length * 2);
      grown.set(this.#hashes);
      this.#hashes = grown;
    }
    this.#hashes[this.#count++] = h;
  }
}

/** A decoded filter: probes never allocate. */
export class BloomFilter {
  readonly #bits: Uint8Array;
  readonly #bitCount: number;
  readonly #probes: number;

  /** Validates `payload` (a filter block's decoded payload); `file` and `offset` name it in errors. */
  constructor(payload: Uint8Array, file: string, offset: number) {
    const n = payload.length - 2;
    if (n < MIN_BITS / 8) throw corruption(file, `filter block at offset ${offset}: ${payload.length} bytes is too short`);
    const probes = payload[n] as number;
    const scheme = payload[n + 1] as number;
    if (scheme !== BLOOM_SCHEME_MURMUR3) throw corruption(file, `filter block at offset ${offset}: unknown filter scheme ${scheme}`);
    if (probes < 1 || probes > MAX_PROBES) throw corruption(file, `filter block at offset ${offset}: ${probes} probes`);
    this.#bits = payload.subarray(0, n);
    this.#bitCount = n * 8;
    this.#probes = probes;
  }

  /** Bytes of bit array. */
  get byteSize(): number {
    return this.#bits.length;
  }

  /** False only if the item with hash `h` (from {@link keyHash} / {@link prefixHash}) was never added. */
  mayContainHash(hash: number): boolean {
    let h = hash >>> 0;
    const step = probeStep(h);
    const bits = this.#bits;
    const m = this.#bitCount;
    for (let p = 0; p < this.#probes; p++) {
      const bit = modulo(h, m);
      if (((bits[bit >>> 3] as number) & (1 << (bit & 7))) === 0) return false;
      h = (h + step) >>> 0;
    }
    return true;
  }

  mayContainKey(key: Uint8Array): boolean {
    return this.mayContainHash(keyHash(key));
  }

  mayContainPrefix(prefix: Uint8Array): boolean {
    return this.mayContainHash(prefixHash(prefix));
  }
}

/**
 * `h mod m` for `h` in [0, 2^32) and `m` in [1, 2^32): V8 computes `%` on numbers outside the int32
 * range with a call to fmod, which costs about twice this. Exact: the quotient's rounding error is
 * below `1 / m`, the smallest distance from a non-integer quotient to the next integer.
 */
function modulo(h: number, m: number): number {
  return h - Math.floor(h / m) * m;
}

function probeStep(h: number): number {
  return (fmix32(h ^ 0x9e3779b9) | 1) >>> 0;
}
