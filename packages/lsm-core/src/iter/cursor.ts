/**
 * The internal cursor protocol every entry source speaks (memtable, data block, table, level, merge).
 *
 * Entries are ordered by internal key: user key ascending (by the tree's comparator), then seqno
 * DESCENDING, so the newest version of a key comes first. A cursor is a position in that order; it
 * allocates nothing per step, and `key()` / `value()` return views that stay valid only until the
 * cursor moves (copy them to keep them). This is LevelDB's Iterator, without Status: a cursor throws
 * (e.g. `CORRUPTION`) from the call that hit the problem.
 *
 * @module
 */
import type { ValueKind } from "../key/value-kind.ts";

export interface EntryCursor {
  /** Whether the cursor is on an entry. Every accessor below requires it. */
  valid(): boolean;
  /** The user key of the current entry (a view; valid until the cursor moves). */
  key(): Uint8Array;
  /** The seqno of the current entry. */
  seqno(): number;
  /** The kind of the current entry. */
  kind(): ValueKind;
  /** The value bytes of the current entry (empty for tombstones; a view, valid until the cursor moves). */
  value(): Uint8Array;
  /** Moves to the first entry (invalid if there is none). */
  seekToFirst(): void;
  /** Moves to the last entry: the oldest version of the largest key. */
  seekToLast(): void;
  /**
   * Moves to the first entry at or after the internal key `(key, seqno)`: a greater user key, or the
   * same user key with an entry seqno `<= seqno`. With the default seqno, the newest version of `key`
   * (or the next key). A read at snapshot `S` seeks `(key, S - 1)`.
   */
  seek(key: Uint8Array, seqno?: number): void;
  /** Moves to the last entry whose user key is `<= key` (the oldest version of that key). */
  seekForPrev(key: Uint8Array): void;
  /** Moves one entry forward (invalid past the end). */
  next(): void;
  /** Moves one entry backward (invalid before the start). */
  prev(): void;
  /** Releases what the cursor holds (file pins, cache references). Idempotent; nothing else may be called after. */
  close(): void;
}

/**
 * Where a point lookup writes its answer, so that a lookup allocates no result object: the caller keeps
 * one and passes it in.
 */
export interface PointLookup {
  kind: ValueKind;
  seqno: number;
  /**
   * The value: a view into the memtable or a data block. Copy it before the next read (a data block's
   * memory is reused once the block cache drops it) or write.
   */
  value: Uint8Array;
}

/** A fresh {@link PointLookup} to reuse across lookups. */
export function newPointLookup(): PointLookup {
  return { kind: 0, seqno: 0, value: EMPTY };
}

/** The shared empty byte array (tombstone values). */
export const EMPTY: Uint8Array = new Uint8Array(0);
