/**
 * Real copies of bytes. `Buffer#slice` returns a view of the same memory (unlike `Uint8Array#slice`),
 * and callers hand us Buffers, so "copy with slice()" silently aliases their memory; every copy the
 * engine means to own goes through here.
 *
 * @module
 */

/** A copy in an ArrayBuffer of its own. */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/**
 * Copies of at most this many bytes are typed arrays V8 keeps on its own heap (its
 * `typed_array_max_size_in_heap`): cheap to make and to collect. Larger ones need an ArrayBuffer with
 * off-heap memory, which costs ~10x more to allocate and to sweep (about 2 µs for 4 KiB, measured with
 * a loop of `slice()`s: more than copying the bytes).
 */
const ON_HEAP_BYTES = 64;

/**
 * Where copies for callers are carved from, as `Buffer.allocUnsafe` carves from its pool: small copies
 * from small slabs, values of a few KiB (large values in blob trees, documents) from larger ones. Each
 * slab is large enough to amortise its allocation over many copies and small enough that one kept copy
 * pins little: at most 16 KiB per kept copy of up to 1 KiB, 64 KiB per kept copy of up to 8 KiB.
 */
class Slabs {
  readonly maxCopy: number;
  readonly #slabBytes: number;
  // A view over the whole slab: its `subarray` makes a copy's view faster than `new Uint8Array(buffer, ...)`.
  #slab: Uint8Array;
  #used = 0;

  constructor(maxCopy: number, slabBytes: number) {
    this.maxCopy = maxCopy;
    this.#slabBytes = slabBytes;
    this.#slab = new Uint8Array(slabBytes);
  }

  /**
   * Invariant: slab ranges are handed out once, from `#used` upward, and a full slab is replaced, never
   * reset, so no range is ever given twice.
   */
  copy(bytes: Uint8Array): Uint8Array {
    const length = bytes.length;
    if (this.#used + length > this.#slabBytes) {
      this.#slab = new Uint8Array(this.#slabBytes);
      this.#used = 0;
    }
    const out = this.#slab.subarray(this.#used, this.#used + length);
    // 8-byte alignment, as Buffer's pool keeps, so a caller may lay a wider typed array over the copy.
    this.#used += (length + 7) & ~7;
    out.set(bytes);
    return out;
  }
}

const SMALL = new Slabs(1024, 16 * 1024);
const MEDIUM = new Slabs(8 * 1024, 64 * 1024);

/**
 * A copy handed to a caller (a read result): its bytes are the caller's and never change, but a copy of
 * 65 bytes to 8 KiB may share its `buffer` with other such copies, each in its own disjoint range (as
 * Buffers from `Buffer.allocUnsafe` share Node's pool). Copies larger than that, and of up to 64 bytes,
 * have a buffer of their own.
 *
 * @example
 * ```ts
 * const value = copyForCaller(viewIntoABlock); // safe to keep after the block is recycled
 * ```
 */
export function copyForCaller(bytes: Uint8Array): Uint8Array {
  const length = bytes.length;
  if (length <= ON_HEAP_BYTES || length > MEDIUM.maxCopy) return new Uint8Array(bytes);
  return length <= SMALL.maxCopy ? SMALL.copy(bytes) : MEDIUM.copy(bytes);
}
