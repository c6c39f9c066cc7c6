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
 * Invariant (the caller's to keep, see ./table.ts): a buffer is given back only when nothing can read
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

export class BlockBufferPool {
  /** Size class (capacity / CLASS_BYTES) → free buffers of that capacity. */
  readonly #free = new Map<number, ArrayBuffer[]>();
  #bytes = 0;

  /** Bytes held for reuse. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * `length` bytes of uninitialised memory (stale bytes of a dropped block, or never zeroed): the caller
   * overwrites all of them before reading any. The view starts at offset 0 of its buffer, whose capacity
   * is {@link capacityFor}`(length)` when pooled-size.
   */
  take(length: number): Uint8Array {
    if (length > POOLED_MAX_BYTES) return new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
    const capacity = capacityFor(length);
    const buffer = this.#free.get(capacity / CLASS_BYTES)?.pop();
    if (buffer === undefined) return new Uint8Array(Buffer.allocUnsafeSlow(capacity).buffer, 0, length);
    this.#bytes -= capacity;
    return new Uint8Array(buffer, 0, length);
  }

  /** Hands back a buffer `take` returned (a view's `.buffer`) that nothing will read again. */
  give(buffer: ArrayBufferLike): void {
    const capacity = buffer.byteLength;
    if (!(buffer instanceof ArrayBuffer) || capacity === 0 || capacity > POOLED_MAX_BYTES || capacity % CLASS_BYTES !== 0) return;
    if (this.#bytes + capacity > POOL_MAX_BYTES) return;
    const key = capacity / CLASS_BYTES;
    let list = this.#free.get(key);
    if (list === undefined) {
      list = [];
      this.#free.set(key, list);
    }
    list.push(buffer);
    this.#bytes += capacity;
  }
}

/** The capacity of the buffer that holds `length` bytes. */
export function capacityFor(length: number): number {
  return length > POOLED_MAX_BYTES ? length : Math.ceil(length / CLASS_BYTES) * CLASS_BYTES;
}

/** The pool every table of the process shares (JavaScript runs one read at a time). */
export const BLOCK_BUFFERS = new BlockBufferPool();
