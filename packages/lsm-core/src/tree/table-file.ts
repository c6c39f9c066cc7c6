/**
 * A table as the tree holds it: the open reader, where its file lives, and how many snapshots
 * (super versions) still reference it.
 *
 * Deleted only once obsolete and unreferenced (./file-lifetime.ts holds the invariant), through the
 * tree's {@link DeletionPause}.
 *
 * @module
 */
import type { Fs } from "@talus/fs";
import type { EntryCursor, PointLookup } from "../iter/cursor.ts";
import type { Table } from "../table/index.ts";
import type { ReadAheadWindow } from "../table/read-ahead-window.ts";
import type { DeletionPause, TableHandle } from "../version/index.ts";
import type { Fragment } from "../range-tombstone/fragments.ts";
import { GlobalSeqnoCursor } from "../iter/global-seqno-cursor.ts";
import { FileLifetime } from "./file-lifetime.ts";

// Also a run cursor's CursorSource (min/max key, cursor()): checked where runs are built, not declared
// here, so the internal interface stays out of the public API reference.
/**
 * One table file of a tree: its open reader, where the file lives, and its lifetime (deleted once no
 * version lists it and no snapshot, iterator or job references it). What a tree's versions hold; tools and
 * strategies read its bounds and size.
 */
export class TableFile implements TableHandle {
  /** The table's id, unique in its tree (also its file name). */
  readonly id: number;
  /** The open reader of the file. */
  readonly table: Table;
  /** The filesystem the file is on (the tree's, or a level route's). */
  readonly fs: Fs;
  /** The file's path. */
  readonly path: string;
  /** The level whose folder holds the file (a moved table keeps its folder). */
  readonly folderLevel: number;
  readonly #lifetime: FileLifetime;
  /** The seqno every entry reads as (an ingested table), or 0: entries carry their own. */
  #globalSeqno = 0;

  constructor(table: Table, fs: Fs, path: string, folderLevel: number, pause: DeletionPause) {
    this.id = table.meta.tableId;
    this.table = table;
    this.fs = fs;
    this.path = path;
    this.folderLevel = folderLevel;
    this.#lifetime = new FileLifetime(() => {
      // The release of a reader or a job must not fail because a handle could not be closed or a file
      // deleted: the file is an orphan then, and the next open removes it.
      try {
        table.close();
      } catch {
        // Unlinking below does not need the handle closed.
      }
      // Off the event loop where the filesystem can; a failure leaves an orphan for the next open.
      pause.deleteInBackgroundOrDefer(fs, path);
    });
  }

  /** The smallest key the table holds. */
  get minKey(): Uint8Array {
    return this.table.meta.minKey;
  }

  /** The largest key the table holds. */
  get maxKey(): Uint8Array {
    return this.table.meta.maxKey;
  }

  /** The file's length: what it costs on disk and what level targets count. */
  get size(): number {
    return this.table.meta.fileSize;
  }

  /** The table's range tombstones, fragmented (usually none). */
  get rangeTombstones(): readonly Fragment[] {
    return this.table.rangeTombstones;
  }

  /** Stored bytes in blob files that this table's indirections reference (FIFO credits them on a drop). */
  get referencedBlobBytes(): number {
    let sum = 0;
    for (const ref of this.table.meta.blobReferences) sum += ref.storedBytes;
    return sum;
  }

  /** How many range tombstone fragments the table holds. */
  get rangeTombstoneCount(): number {
    return this.table.rangeTombstones.length;
  }

  /** The lowest seqno of the table's entries (the global seqno, for an ingested table). */
  get minSeqno(): number {
    return this.#globalSeqno > 0 ? this.#globalSeqno : this.table.meta.minSeqno;
  }

  /** The highest seqno of the table's entries (the global seqno, for an ingested table). */
  get maxSeqno(): number {
    return this.#globalSeqno > 0 ? this.#globalSeqno : this.table.meta.maxSeqno;
  }

  /** The seqno every entry reads as, or 0 (see {@link setGlobalSeqno}). */
  get globalSeqno(): number {
    return this.#globalSeqno;
  }

  /**
   * Makes every entry read as written at `seqno` (an ingested table: its entries are written with seqno 0
   * and get theirs when the ingestion is installed). Only before the table is in a version.
   */
  setGlobalSeqno(seqno: number): void {
    this.#globalSeqno = seqno;
  }

  /** When the table's data was written, in ms since the epoch (FIFO's TTL ages tables by it). */
  get createdAtMs(): number {
    return this.table.meta.createdAtMs;
  }

  /**
   * The newest entry of `key` with a seqno below `readSeqno`, written into `out` (tombstones included, with
   * their kind); false if the table holds none. `out.value` is a view into a data block: copy it before the
   * next read.
   *
   * @internal
   */
  get(key: Uint8Array, readSeqno: number, out: PointLookup): boolean {
    const global = this.#globalSeqno;
    if (global === 0) return this.table.get(key, readSeqno, out);
    // Entries are stored at seqno 0 and one per key: the stored entry is the answer when `global` is visible.
    if (global >= readSeqno || !this.table.get(key, 1, out)) return false;
    out.seqno = global;
    return true;
  }

  /**
   * The data block {@link get} would read for `key` at `readSeqno` (see `Table.pointBlock`), or -1 when
   * the table rules the key out without one.
   *
   * @internal
   */
  pointBlock(key: Uint8Array, readSeqno: number): number {
    const global = this.#globalSeqno;
    if (global === 0) return this.table.pointBlock(key, readSeqno);
    return global >= readSeqno ? -1 : this.table.pointBlock(key, 1);
  }

  /**
   * A cursor over every entry of the table, in key order (newest version of a key first).
   *
   * @internal
   */
  cursor(): EntryCursor {
    const cursor = this.table.cursor();
    return this.#globalSeqno === 0 ? cursor : new GlobalSeqnoCursor(cursor, this.#globalSeqno);
  }

  /**
   * A cursor for compaction input: sequential, reading many blocks per call through `window` (see
   * read-ahead-window.ts), and it does not fill the block cache with data no reader asked for.
   *
   * @internal
   */
  scanCursor(window: ReadAheadWindow): EntryCursor {
    const cursor = this.table.cursor({ fillCache: false, readAhead: window });
    return this.#globalSeqno === 0 ? cursor : new GlobalSeqnoCursor(cursor, this.#globalSeqno);
  }

  /** Adds a reference (a snapshot, iterator or job that may read the file): the file is not deleted while one is held. */
  ref(): void {
    this.#lifetime.ref();
  }

  /** Drops a reference taken with {@link ref}; the last one of an obsolete table deletes its file. */
  unref(): void {
    this.#lifetime.unref();
  }

  /** The current version no longer lists this table; delete it once nothing references it. */
  markObsolete(): void {
    this.#lifetime.markObsolete();
  }

  /** Whether the file was handed to deletion (obsolete and unreferenced; a held `DeletionPause` may still defer the unlink). */
  get isDeleted(): boolean {
    return this.#lifetime.isDeleted;
  }

  /** Releases the reader without deleting the file (the tree is closing). */
  closeReader(): void {
    this.table.close();
  }
}
