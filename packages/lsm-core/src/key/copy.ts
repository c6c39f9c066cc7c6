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
 * off-heap memory, which costs ~10x more to allocate and to sweep.
 */
const ON_HEAP_BYTES = 64;
/** Copies up to this size are carved from a shared slab, as `Buffer.allocUnsafe` carves from its pool. */
const SLAB_COPY_MAX_BYTES = 1024;
/** A slab: large enough to amortise its allocation, small enough that one kept copy pins little. */
const SLAB_BYTES = 16 * 1024;

// A view over the whole slab: its `subarray` makes a copy's view faster than `new Uint8Array(buffer, ...)`.
let slab = new Uint8Array(SLAB_BYTES);
let slabUsed = 0;

/**
 * A copy handed to a caller (a read result): its bytes are the caller's and never change, but a copy of
 * 65 to {@link SLAB_COPY_MAX_BYTES} bytes may share its `buffer` with other such copies, each in its own
 * disjoint range. Invariant: slab ranges are handed out once, from `slabUsed` upward, and a full slab is
 * replaced, never reset, so no range is ever given twice.
 */
export function copyForCaller(bytes: Uint8Array): Uint8Array {
  const length = bytes.length;
  if (length <= ON_HEAP_BYTES || length > SLAB_COPY_MAX_BYTES) return new Uint8Array(bytes);
  if (slabUsed + length > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + length);
  // 8-byte alignment, as Buffer's pool keeps, so a caller may lay a wider typed array over the copy.
  slabUsed += (length + 7) & ~7;
  out.set(bytes);
  return out;
}
