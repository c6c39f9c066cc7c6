/**
 * Memory for data blocks read from disk, recycled from blocks the block cache dropped. A fresh
 * ArrayBuffer per block read costs about as much as the read itself (off-heap allocation, external
 * memory accounting, and the sweeping of every dropped block by the garbage collector), and a cache
 * that misses often reads one block for every block it drops.
 *
 * Buffers come in size classes (multiples of {@link CLASS_BYTES}), so a dropped block's buffer fits the
 * next block of about its size. The pool holds at most {@link POOL_MAX_BYTES}; what does not fit is left
 * to the garbage collector.
 *
 * A buffer is a piece of a larger slab rather than an ArrayBuffer of its own: creating an ArrayBuffer
 * costs about 1.3 µs whatever its size (as much as a third of a block read from the page cache), and
 * while the cache fills nothing is dropped that could be reused. Slabs are small ({@link SLAB_BYTES}) so
 * that a slab kept alive by one cached block holds little else.
 *
 * Invariant (the caller's to keep, see ./table.ts): a piece is given back only when nothing can read
 * it any more; what `take` returns is then never visible through an older view that is still read.
 *
 * @module
 */

/** Size-class granularity. */
const CLASS_BYTES = 64;
/** Largest pooled buffer: bigger blocks are rare and get their own memory. */
const POOLED_MAX_BYTES = 64 * 1024;
/** Bytes the pool may hold. */
const POOL_MAX_BYTES = 1024 * 1024;
/** Size of the slabs pieces are carved from. */
const SLAB_BYTES = 128 * 1024;
/** Largest piece carved from a slab (a bigger one gets an ArrayBuffer of its own). */
const SLAB_PIECE_MAX_BYTES = SLAB_BYTES / 4;

export class BlockBufferPool {
  /** Size class (capacity / CLASS_BYTES) → free pieces, each a view of exactly its capacity. */
  readonly #free = new Map<number, Uint8Array[]>();
  #bytes = 0;
  #slab: ArrayBuffer | null = null;
  #slabUsed = 0;

  /** Bytes held for reuse. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * `length` bytes of uninitialised memory (stale bytes of a dropped block, or never zeroed): the caller
   * overwrites all of them before reading any. The view starts at the start of a piece whose capacity
   * is {@link capacityFor}`(length)`; hand it back with {@link give} and that capacity.
   */
  take(length: number): Uint8Array {
    if (length > POOLED_MAX_BYTES) return new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
    const capacity = capacityFor(length);
    const piece = this.#free.get(capacity / CLASS_BYTES)?.pop();
    if (piece !== undefined) {
      this.#bytes -= capacity;
      return new Uint8Array(piece.buffer, piece.byteOffset, length);
    }
    if (capacity > SLAB_PIECE_MAX_BYTES) return new Uint8Array(Buffer.allocUnsafeSlow(capacity).buffer, 0, length);
    let slab = this.#slab;
    if (slab === null || this.#slabUsed + capacity > slab.byteLength) {
      // The rest of the old slab (less than one piece) is left unused.
      slab = Buffer.allocUnsafeSlow(SLAB_BYTES).buffer as ArrayBuffer;
      this.#slab = slab;
      this.#slabUsed = 0;
    }
    const view = new Uint8Array(slab, this.#slabUsed, length);
    this.#slabUsed += capacity;
    return view;
  }

  /**
   * Hands back the piece that starts where `view` starts and holds `capacity` bytes (as `take` sized it)
   * once nothing will read it again. Anything else (not sized by the pool, or past the pool's bound) is
   * left to the garbage collector.
   */
  give(view: Uint8Array, capacity: number): void {
    const buffer = view.buffer;
    if (!(buffer instanceof ArrayBuffer) || capacity <= 0 || capacity > POOLED_MAX_BYTES || capacity % CLASS_BYTES !== 0) return;
    if (view.byteOffset + capacity > buffer.byteLength) return;
    if (this.#bytes + capacity > POOL_MAX_BYTES) return;
    const key = capacity / CLASS_BYTES;
    let list = this.#free.get(key);
    if (list === undefined) {
      list = [];
      this.#free.set(key, list);
    }
    list.push(new Uint8Array(buffer, view.byteOffset, capacity));
    this.#bytes += capacity;
  }
}

/** The capacity of the buffer that holds `length` bytes. */
export function capacityFor(length: number): number {
  return length > POOLED_MAX_BYTES ? length : Math.ceil(length / CLASS_BYTES) * CLASS_BYTES;
}

/** The pool every table of the process shares (JavaScript runs one read at a time). */
export const BLOCK_BUFFERS = new BlockBufferPool();
