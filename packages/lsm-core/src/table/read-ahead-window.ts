/**
 * Sequential read-ahead for scans that read a table once, in order, without the block cache:
 * compaction inputs. Instead of one positional read per data block (a 4 KiB `pread`, or one io_uring
 * round trip, each), a {@link ReadAheadWindow} holds a run of consecutive blocks read with one call, up
 * to its byte limit; the cursor decodes each block out of it as it enters the block.
 *
 * ```
 *   table file:  | block i | block i+1 | ... | block j-1 | block j | ...
 *                ^ start                                  ^ start + length (<= limit, at least block i)
 *   window:      one read of [start, start + length): blocks [first = i, end = j)
 * ```
 *
 * Each refill reads into a new buffer: blocks decoded from the previous one may still be held (a
 * cursor's current entry is a view of its block), so a buffer is never written twice. A compaction
 * starts with the first window of every input read together (`Table.fillReadAheadWindows`: one
 * `Fs.readMany` per filesystem, one io_uring submission on `IoUringFs`).
 *
 * Tables read through a memory map never use a window: the kernel reads ahead for maps.
 *
 * @module
 */
import { BLOCK_TRAILER_SIZE } from "./format.ts";
import type { IndexBlock } from "./index-block.ts";

/**
 * Bytes one compaction input reads per call. 256 KiB: 64 blocks of the default 4 KiB per read, so the
 * calls stop mattering, while an L0 compaction of 20 inputs holds 5 MiB of windows (RocksDB's
 * `compaction_readahead_size` is of the same order).
 */
export const COMPACTION_READ_AHEAD_BYTES = 256 * 1024;

/** A span of consecutive data blocks of one table to read in one call. */
export interface ReadAheadSpan {
  /** First block of the span. */
  readonly first: number;
  /** One past the last block. */
  readonly end: number;
  /** File offset of the first block. */
  readonly start: number;
  /** Bytes from `start` to the end of block `end - 1`, trailers included. */
  readonly length: number;
}

/**
 * Block `first` and the consecutive blocks after it whose end lies within `limit` bytes of its start,
 * stopping before block `stop` (default: the table's end): what one positional read takes. The first
 * block is in the span even when it alone is larger than `limit`.
 */
export function blockSpan(index: IndexBlock, first: number, limit: number, stop: number = index.count): ReadAheadSpan {
  const start = index.blockOffset(first);
  let end = first + 1;
  let length = index.blockSize(first) + BLOCK_TRAILER_SIZE;
  while (end < stop) {
    const blockEnd = index.blockOffset(end) + index.blockSize(end) + BLOCK_TRAILER_SIZE;
    if (blockEnd - start > limit) break;
    length = blockEnd - start;
    end++;
  }
  return { first, end, start, length };
}

/** The blocks one read brought in for a sequential cursor (see the module comment). */
export class ReadAheadWindow {
  /** Most bytes one read takes; a first block larger than that is read whole anyway. */
  readonly limit: number;
  #bytes: Uint8Array | null = null;
  /** Bytes of `#bytes` the read filled (less than its length only at a truncated file's end). */
  #filled = 0;
  #start = 0;
  #first = 0;
  #end = 0;

  constructor(limit: number = COMPACTION_READ_AHEAD_BYTES) {
    if (!Number.isSafeInteger(limit) || limit <= 0) throw new RangeError(`a read-ahead limit is a positive integer, got ${limit}`);
    this.limit = limit;
  }

  /** Whether block `i` was read by the last fill. */
  holds(i: number): boolean {
    return this.#bytes !== null && i >= this.#first && i < this.#end;
  }

  /** The span a fill for block `i` reads: block `i` and the blocks after it that fit in the limit. */
  spanFrom(index: IndexBlock, i: number): ReadAheadSpan {
    return blockSpan(index, i, this.limit);
  }

  /** Takes the bytes a read of `span` brought in: `filled` of `bytes` (a fresh buffer of `span.length`). */
  accept(span: ReadAheadSpan, bytes: Uint8Array, filled: number): void {
    this.#bytes = bytes;
    this.#filled = filled;
    this.#start = span.start;
    this.#first = span.first;
    this.#end = span.end;
  }

  /**
   * Lets go of the bytes read (the cursor using the window closed): a compaction keeps a window per
   * input table until it ends, and a run of many tables must not keep every table's last window alive.
   * Blocks decoded from them stay valid; the next use reads again.
   */
  release(): void {
    this.#bytes = null;
    this.#filled = 0;
  }

  /**
   * The framed bytes (block and trailer) of block `i`, which {@link holds} must be true of; shorter than
   * the block when the read came up short (the caller reports the truncation).
   */
  framed(index: IndexBlock, i: number): Uint8Array {
    const bytes = this.#bytes as Uint8Array;
    const from = index.blockOffset(i) - this.#start;
    const to = Math.min(from + index.blockSize(i) + BLOCK_TRAILER_SIZE, this.#filled);
    return bytes.subarray(from, Math.max(from, to));
  }
}
