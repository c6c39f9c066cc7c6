/**
 * The memtable's byte arena: append-only chunks that key and value bytes are copied into.
 *
 * Copying is required because callers may reuse their buffers after `insert`. Chunks are never moved,
 * grown, or overwritten once written, so every view handed out (cursor keys and values, point-lookup
 * values) stays valid for as long as anything references it — this is why the arena is chunked
 * rather than one doubling array, whose growth would strand earlier views on a stale copy.
 *
 * Placement rules:
 * - An entry (key bytes immediately followed by value bytes) never straddles chunks, so one
 *   (chunk, offset) pair locates both.
 * - Shared chunks start at {@link FIRST_CHUNK_BYTES} and double up to {@link MAX_CHUNK_BYTES}, so a tiny
 *   memtable stays tiny and a large one does not pay per-chunk costs often.
 * - An entry that does not fit the current chunk and is larger than {@link DEDICATED_THRESHOLD_BYTES}
 *   gets a chunk of exactly its size and the current chunk stays open for small entries; otherwise the
 *   current chunk's tail is abandoned and a new shared chunk opened. The abandoned tail is smaller than
 *   the entry that did not fit, hence at most a quarter of a full-size chunk.
 *
 * A memtable whose flush may run on a worker thread keeps its chunks in shared memory
 * (`SharedArrayBuffer`): a sealed memtable is never written again, so the worker reads the same bytes
 * without a copy (see {@link Arena.frozen}).
 *
 * @module
 */

import type { ArenaChunkPool } from "./chunk-pool.ts";

/** `size` zeroed bytes, in shared memory when `shared`. */
export function newBytes(size: number, shared: boolean): Uint8Array {
  return shared ? new Uint8Array(new SharedArrayBuffer(size)) : new Uint8Array(size);
}

/** Size of the first shared chunk. */
export const FIRST_CHUNK_BYTES = 8 * 1024;
/** Size shared chunks double up to. */
export const MAX_CHUNK_BYTES = 1024 * 1024;
/** Entries above this size that do not fit the current chunk get a chunk of their own. */
export const DEDICATED_THRESHOLD_BYTES = MAX_CHUNK_BYTES / 4;

export class Arena {
  /** Chunk i as a plain byte array. Starts with an empty chunk 0 so that a zero-byte entry always "fits". */
  #chunks: Uint8Array[] = [new Uint8Array(0)];
  readonly #pool: ArenaChunkPool | undefined;
  readonly #shared: boolean;
  #current = 0;
  #pos = 0;
  #end = 0;
  #nextSize = FIRST_CHUNK_BYTES;
  #allocated = 0;

  /**
   * With a pool, full-size chunks come from it and go back to it on {@link recycle}. `shared`: every
   * chunk in shared memory (a pool's chunks must be too).
   */
  constructor(pool?: ArenaChunkPool, shared = false) {
    this.#pool = pool !== undefined && pool.chunkBytes === MAX_CHUNK_BYTES && pool.shared === shared ? pool : undefined;
    this.#shared = shared;
  }

  /**
   * A read-only arena over the chunks of another's {@link chunks} (a worker thread reading a sealed
   * memtable): `bytes` works, `append` fails.
   */
  static frozen(chunks: readonly Uint8Array[]): Arena {
    const arena = new Arena();
    arena.#chunks = [...chunks];
    // No room anywhere and no pool: an append would need a chunk, which a frozen arena refuses below.
    arena.#frozen = true;
    return arena;
  }

  #frozen = false;

  /** Every chunk, in order (shared memory for a shared arena; another thread may read them). */
  chunks(): readonly Uint8Array[] {
    return this.#chunks;
  }

  /** Where the last {@link append} put its key: chunk index. */
  lastChunk = 0;
  /** Where the last {@link append} put its key: byte offset in the chunk (the value follows the key). */
  lastOffset = 0;

  /** Copies `key` then `value` contiguously into one chunk; read the location from {@link lastChunk}/{@link lastOffset}. */
  append(key: Uint8Array, value: Uint8Array): void {
    const keyLength = key.length;
    const n = keyLength + value.length;
    let chunk: number;
    let offset: number;
    if (n <= this.#end - this.#pos) {
      chunk = this.#current;
      offset = this.#pos;
      this.#pos += n;
    } else if (this.#chunks.length === 0 || this.#frozen) {
      throw new Error(this.#frozen ? "Arena.append on a frozen arena: a sealed memtable is read-only" : "Arena.append after recycle(): the memtable was retired");
    } else if (n > DEDICATED_THRESHOLD_BYTES) {
      chunk = this.#addChunk(n);
      offset = 0;
    } else {
      let size = this.#nextSize;
      while (size < n) size *= 2;
      chunk = this.#addChunk(size);
      offset = 0;
      this.#current = chunk;
      this.#pos = n;
      this.#end = size;
      this.#nextSize = Math.min(MAX_CHUNK_BYTES, size * 2);
    }
    // TypedArray.set measured faster than a JS byte loop even for 16-byte keys.
    const bytes = this.#chunks[chunk] as Uint8Array;
    bytes.set(key, offset);
    if (value.length !== 0) bytes.set(value, offset + keyLength);
    this.lastChunk = chunk;
    this.lastOffset = offset;
  }

  /** Chunk `index` as a plain byte array. */
  bytes(index: number): Uint8Array {
    return this.#chunks[index] as Uint8Array;
  }

  /** Bytes of chunk memory allocated so far (including abandoned tails). */
  allocatedBytes(): number {
    return this.#allocated;
  }

  /**
   * Gives the full-size chunks to the pool and forgets every chunk: the arena must not be read or
   * written again (a read of a forgotten chunk fails loudly rather than seeing another memtable's
   * bytes). REQUIRES: no view of its bytes is read any more.
   */
  recycle(): void {
    const pool = this.#pool;
    if (pool !== undefined) for (const chunk of this.#chunks) pool.give(chunk);
    this.#chunks = [];
    this.#pos = this.#end = 0;
  }

  #addChunk(size: number): number {
    // Zeroed memory (pooled chunks are zeroed when taken): allocUnsafe would be marginally faster, but
    // a bug that handed out unwritten bytes would then leak other data of the process.
    const bytes = size === MAX_CHUNK_BYTES && this.#pool !== undefined ? this.#pool.take() : newBytes(size, this.#shared);
    this.#chunks.push(bytes);
    this.#allocated += size;
    return this.#chunks.length - 1;
  }
}
