/**
 * Recycled arena chunks. A memtable's arena takes fresh memory for every chunk, and memory fresh from
 * the system costs a page fault per 4 KiB on first write: with kilobyte values that, not the copy, is
 * most of an insert (measured: 4 KiB values copied into fresh 1 MiB chunks ran at 0.4-2 GB/s, into
 * reused ones at ~38 GB/s). A tree therefore hands the full-size chunks of a memtable nothing reads any
 * more to the next memtables.
 *
 * Invariant (enforced by {@link Memtable.unref}, which alone gives chunks back): a chunk is returned
 * only when no super version lists its memtable and no pinned reader or job can reach it. Every
 * caller-facing read copies out of the arena, so no view of a returned chunk survives outside.
 * Returned chunks are zeroed when taken, so an arena never holds bytes of an earlier memtable.
 *
 * @module
 */
import { newBytes } from "./arena.ts";

export class ArenaChunkPool {
  /** Size of the chunks the pool takes; others are left to the garbage collector. */
  readonly chunkBytes: number;
  /** At most this many idle chunks are kept (the rest go to the garbage collector). */
  readonly maxChunks: number;
  /** Whether its chunks live in shared memory (arenas a worker thread may read). */
  readonly shared: boolean;
  readonly #idle: Uint8Array[] = [];

  constructor(chunkBytes: number, maxChunks: number, shared = false) {
    this.chunkBytes = chunkBytes;
    this.maxChunks = maxChunks;
    this.shared = shared;
  }

  /** Idle chunks held. */
  get size(): number {
    return this.#idle.length;
  }

  /** A zeroed chunk of {@link chunkBytes}: a recycled one if any, else a new one. */
  take(): Uint8Array {
    const chunk = this.#idle.pop();
    return chunk === undefined ? newBytes(this.chunkBytes, this.shared) : chunk.fill(0);
  }

  /** Gives `chunk` back for reuse. REQUIRES: nothing reads it any more. */
  give(chunk: Uint8Array): void {
    if (chunk.length === this.chunkBytes && this.#idle.length < this.maxChunks) this.#idle.push(chunk);
  }

  /** Drops every idle chunk (the tree is closing). */
  clear(): void {
    this.#idle.length = 0;
  }
}
