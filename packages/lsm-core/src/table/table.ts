/**
 * A table file opened for reading (format: ./format.ts, docs/FORMAT.md).
 *
 * `open` reads and validates the footer, the file header, the meta block, the metaindex, the index and
 * the filter; index and filter stay pinned in memory unless told otherwise (then they go through the
 * block cache). Data blocks are read on demand, one positional read per block through the shared
 * {@link FileDescriptorCache}, checked (CRC-32) and decoded once, then shared through the
 * {@link BlockCache}. Their memory comes from ./block-buffers.ts, and a block the cache drops goes back
 * there unless a table cursor is in it (see `recycleDropped`). Every mismatch is an `LsmError` naming the file: `CORRUPTION`, or
 * `UNSUPPORTED_FORMAT` for a format version or a required block this build does not know.
 *
 * @module
 */
import type { Fs, FsReadRequest } from "@talus/fs";
import { corruption, LsmError } from "../errors.ts";
import type { EntryCursor, PointLookup } from "../iter/cursor.ts";
import { BYTEWISE_COMPARATOR, type Comparator } from "../key/comparator.ts";
import type { BlockCache, CachedTable } from "../cache/block-cache.ts";
import type { FileDescriptorCache, FileLease } from "../cache/file-descriptor-cache.ts";
import { BlockCursor } from "./block-reader.ts";
import { decodeBlock, readBlockAt, readExactly } from "./block-framing.ts";
import { BLOCK_BUFFERS, capacityFor } from "./block-buffers.ts";
import { FOUND, layoutFor, UNDECIDED } from "./block-point-index.ts";
import { BloomFilter, keyHash, type PrefixExtractor } from "./bloom-filter.ts";
import { DataBlock } from "./data-block.ts";
import { decodeFooter, FOOTER_SIZE, type Footer } from "./footer.ts";
import { BLOCK_TRAILER_SIZE, FILE_HEADER_SIZE, isMagicAt } from "./format.ts";
import { IndexBlock } from "./index-block.ts";
import { KeyOrder } from "./keys.ts";
import { decodeProperties, type TableMeta } from "./meta.ts";
import { decodeMetaindex } from "./metaindex.ts";
import { blockSpan, type ReadAheadSpan, type ReadAheadWindow } from "./read-ahead-window.ts";
import { TableCursor } from "./table-cursor.ts";
import { verifyTable } from "./table-verify.ts";
import type { WrittenTable } from "./table-writer.ts";
import { decodeFragments, RANGE_TOMBSTONE_BLOCK } from "../range-tombstone/block.ts";
import type { Fragment } from "../range-tombstone/fragments.ts";

export interface TableOpenOptions {
  /** The id the caller knows the table by; must match the one in the file. */
  readonly tableId: number;
  /** Must have the name the table was written with (else COMPARATOR_MISMATCH). Default bytewise. */
  readonly comparator?: Comparator;
  readonly blockCache: BlockCache;
  readonly fileCache: FileDescriptorCache;
  /** The tree's block cache namespace (see `newCacheNamespace`); default 0. */
  readonly cacheNamespace?: number;
  /** Keep the decoded index in memory (default) rather than in the block cache. */
  readonly pinIndex?: boolean;
  /** Keep the filter in memory (default) rather than in the block cache. */
  readonly pinFilter?: boolean;
  /** Enables {@link Table.mayContainPrefix} when it has the name the table was written with. */
  readonly prefixExtractor?: PrefixExtractor;
  /** Read data blocks through a memory map where the filesystem offers one (`Fs.mapReadOnly`); default true. */
  readonly mapFile?: boolean;
}

export interface TableCursorOptions {
  /** Insert the blocks the cursor reads into the block cache (default true; false for compaction scans). */
  readonly fillCache?: boolean;
  /**
   * Read data blocks through this window, many consecutive blocks per read, rather than one read per
   * block (see read-ahead-window.ts); only with `fillCache: false`, for scans that read the table once
   * in order. Ignored for tables read through a memory map.
   */
  readonly readAhead?: ReadAheadWindow;
}

/**
 * Bytes a data block miss may read beyond its block while the cache has room (see `#readAhead`). 16 KiB,
 * measured against 64 KiB at 1M entries (`pnpm bench -- --workloads readrandom --cache-mb 64|256`): more
 * gets per second at both cache sizes and readrandom p99 24 µs instead of 56 µs, since a miss pays for
 * every neighbour it reads; readseq and seekrandom did not move beyond noise.
 */
export const READ_AHEAD_BYTES = 16 * 1024;
/** Where read-ahead reads (JavaScript runs one read at a time); the blocks are copied out of it. */
let readAheadScratch: Uint8Array = new Uint8Array(0);
/** Where the read-ahead spans of a batch ({@link Table.fetchBlocks}) are read; the blocks are copied out of it. */
let readManyScratch: Uint8Array = new Uint8Array(0);
/** Free cache bytes below which a miss reads its block alone: read-ahead never makes the cache drop a block. */
const READ_AHEAD_ROOM = 4 * READ_AHEAD_BYTES;

// The TableBlockSource its cursors read blocks through (`new TableCursor(this, ...)` in `cursor()` checks
// that), without an `implements` clause: that would name the internal interface in the API reference.
export class Table {
  readonly path: string;
  readonly meta: TableMeta;
  /**
   * The key order the table was written in (its comparator).
   *
   * @internal
   */
  readonly order: KeyOrder;
  /** The table's range tombstones, fragmented (empty for most tables); kept in memory while open. */
  readonly rangeTombstones: readonly Fragment[];
  readonly #fs: Fs;
  readonly #blockCache: BlockCache;
  /** This table's blocks in the block cache. */
  readonly #cached: CachedTable;
  readonly #fileCache: FileDescriptorCache;
  readonly #namespace: number;
  readonly #footer: Footer;
  readonly #pinnedIndex: IndexBlock | null;
  readonly #pinnedFilter: BloomFilter | null;
  readonly #prefixFilterUsable: boolean;
  readonly #point: BlockCursor;
  /** A closed cursor to hand out again (see `cursorClosed`). */
  #spareCursor: TableCursor | null = null;
  #closed = false;
  /**
   * The whole file memory-mapped (where the filesystem maps files and the caller allows it), else null:
   * a data block miss is then a view of the map instead of a positional read into a buffer. Safe because
   * a table file never changes once written; dropped at close (the map itself goes with its last view).
   */
  #map: Uint8Array | null;
  /** Data blocks of the map whose checksum has been checked, one bit each: each is checked once, not per load. */
  readonly #verified: Uint8Array;
  /**
   * Data blocks a batch ({@link Table.fetchBlocks}) holds for the lookups of one `multiGet`, by offset,
   * until it is released; null when none. They went into the block cache too (or were found there), but
   * are kept here so that the batch's lookups find them even if the cache has no room for them or drops
   * them before their turn.
   */
  #fetched: Map<number, DataBlock> | null = null;

  private constructor(
    fs: Fs,
    path: string,
    options: TableOpenOptions,
    footer: Footer,
    meta: TableMeta,
    index: IndexBlock,
    filter: BloomFilter | null,
    rangeTombstones: readonly Fragment[],
  ) {
    this.path = path;
    this.rangeTombstones = rangeTombstones;
    this.meta = meta;
    this.order = new KeyOrder(options.comparator ?? BYTEWISE_COMPARATOR);
    this.#fs = fs;
    this.#blockCache = options.blockCache;
    this.#fileCache = options.fileCache;
    this.#namespace = options.cacheNamespace ?? 0;
    this.#cached = options.blockCache.forTable(this.#namespace, meta.tableId);
    this.#cached.dropped = recycleDropped;
    this.#footer = footer;
    this.#pinnedIndex = options.pinIndex === false ? null : index;
    this.#pinnedFilter = options.pinFilter === false ? null : filter;
    if (options.pinIndex === false) this.#cacheBlock(footer.index.offset, index, index.byteSize);
    if (options.pinFilter === false && filter !== null && footer.filter !== null) this.#cacheBlock(footer.filter.offset, filter, filter.byteSize);
    this.#prefixFilterUsable = meta.prefixExtractor !== null && meta.prefixExtractor === options.prefixExtractor?.name;
    this.#point = new BlockCursor(this.order);
    this.#map = options.mapFile === false ? null : mapTable(fs, path, meta.fileSize);
    this.#verified = new Uint8Array(this.#map === null ? 0 : (index.count + 7) >>> 3);
  }

  /**
   * Opens and validates the table at `path`. Filesystem errors (ENOENT, ...) pass through.
   *
   * @internal
   */
  static open(fs: Fs, path: string, options: TableOpenOptions): Table {
    const order = new KeyOrder(options.comparator ?? BYTEWISE_COMPARATOR);
    const lease = options.fileCache.acquire(fs, path);
    try {
      const file = lease.file;
      const fileSize = file.len();
      if (fileSize < FILE_HEADER_SIZE + FOOTER_SIZE) throw corruption(path, `file is ${fileSize} bytes, too short for a table`);
      const footer = decodeFooter(readExactly(file, path, fileSize - FOOTER_SIZE, FOOTER_SIZE, "footer"), fileSize, path);
      const header = readExactly(file, path, 0, FILE_HEADER_SIZE, "file header");
      const headerVersion = new DataView(header.buffer, header.byteOffset, header.byteLength).getUint32(8, true);
      if (!isMagicAt(header, 0) || headerVersion !== footer.formatVersion) throw corruption(path, "file header does not match the footer");
      const props = decodeProperties(readBlockAt(file, path, footer.meta, "meta"), path, footer.meta.offset);
      if (props.tableId !== options.tableId) throw corruption(path, `the file holds table ${props.tableId}, expected table ${options.tableId}`);
      if (props.comparator !== order.comparator.name) {
        throw new LsmError("COMPARATOR_MISMATCH", `table ${path} was written with comparator "${props.comparator}", opened with "${order.comparator.name}"`);
      }
      if ((footer.filter !== null) !== props.filterBitsPerKey > 0) throw corruption(path, "the filter block and the meta block disagree");
      const named = decodeMetaindex(readBlockAt(file, path, footer.metaindex, "metaindex"), path, footer.metaindex.offset);
      const rtHandle = named.get(RANGE_TOMBSTONE_BLOCK);
      const rangeTombstones = rtHandle === undefined ? [] : decodeFragments(readBlockAt(file, path, rtHandle, "range tombstone"), order.comparator, path, rtHandle.offset);
      if (rangeTombstones.length !== props.rangeTombstoneCount) {
        throw corruption(path, `the range tombstone block holds ${rangeTombstones.length} fragments, the meta block says ${props.rangeTombstoneCount}`);
      }
      const index = new IndexBlock(readBlockAt(file, path, footer.index, "index"), path, footer.index.offset, order, footer.dataEnd);
      if (index.count !== props.dataBlockCount) throw corruption(path, `the index lists ${index.count} data blocks, the meta block ${props.dataBlockCount}`);
      const filter = footer.filter === null ? null : new BloomFilter(readBlockAt(file, path, footer.filter, "filter"), path, footer.filter.offset);
      const meta: TableMeta = {
        ...props,
        formatVersion: footer.formatVersion,
        fileSize,
        fileChecksum: footer.fileChecksum,
        storedDataSize: footer.dataEnd - FILE_HEADER_SIZE,
        indexSize: footer.index.size,
        filterSize: footer.filter?.size ?? 0,
      };
      return new Table(fs, path, options, footer, meta, index, filter, rangeTombstones);
    } finally {
      lease.release();
    }
  }

  /**
   * Opens a table its writer just finished, from the parts the writer still holds (see
   * `TableWriter.written`), without reading the index and filter back, checking their CRCs and
   * decompressing them again: they are the very bytes that went into the synced file. The same
   * identity checks as {@link open} apply; the index and filter are decoded and validated as there.
   *
   * @internal
   */
  static fromWriter(fs: Fs, written: WrittenTable, options: TableOpenOptions): Table {
    const { path, footer, meta } = written;
    const order = new KeyOrder(options.comparator ?? BYTEWISE_COMPARATOR);
    if (meta.tableId !== options.tableId) throw corruption(path, `the writer wrote table ${meta.tableId}, expected table ${options.tableId}`);
    if (meta.comparator !== order.comparator.name) {
      throw new LsmError("COMPARATOR_MISMATCH", `table ${path} was written with comparator "${meta.comparator}", opened with "${order.comparator.name}"`);
    }
    if ((footer.filter !== null) !== (written.filter !== null)) throw corruption(path, "the filter block and the footer disagree");
    const index = new IndexBlock(written.index, path, footer.index.offset, order, footer.dataEnd);
    if (index.count !== meta.dataBlockCount) throw corruption(path, `the index lists ${index.count} data blocks, the meta block ${meta.dataBlockCount}`);
    const filter = footer.filter === null || written.filter === null ? null : new BloomFilter(written.filter, path, footer.filter.offset);
    return new Table(fs, path, options, footer, meta, index, filter, written.rangeTombstones);
  }

  get tableId(): number {
    return this.meta.tableId;
  }

  /**
   * The newest entry of `key` with seqno `< readSeqno`, written into `out` (tombstones included, with
   * their kind); false if the table holds none. `out.value` is a view into a data block, valid until the
   * next block read of any table (a dropped block's memory is recycled): copy it before.
   *
   * @internal
   */
  get(key: Uint8Array, readSeqno: number, out: PointLookup): boolean {
    this.#checkOpen();
    const meta = this.meta;
    if (meta.minSeqno >= readSeqno) return false;
    const order = this.order;
    if (order.compare(key, meta.minKey) < 0 || order.compare(key, meta.maxKey) > 0) return false;
    if (!this.mayContain(key)) return false;
    const index = this.index();
    const seqno = readSeqno - 1;
    const i = index.lowerBound(key, seqno);
    if (i >= index.count) return false;
    const cursor = this.#point;
    const block = this.dataBlock(index, i, true);
    const points = layoutFor(block, index, i, order.bytewise);
    if (points !== null) {
      const found = points.find(block, key, seqno, out);
      if (found !== UNDECIDED) return found === FOUND;
    }
    cursor.reset(block);
    cursor.seek(key, seqno);
    if (!cursor.valid() || cursor.compareKey(key) !== 0) return false;
    out.kind = cursor.kind();
    out.seqno = cursor.seqno();
    out.value = cursor.value();
    return true;
  }

  /** False only if the filter proves `key` absent (always true without a filter). */
  mayContain(key: Uint8Array): boolean {
    const filter = this.#filter();
    return filter === null || filter.mayContainHash(keyHash(key));
  }

  /**
   * False only if no key of the table has `prefix` among its extracted prefixes. Needs the filter and a
   * `prefixExtractor` of the name the table was written with; true (maybe) otherwise.
   */
  mayContainPrefix(prefix: Uint8Array): boolean {
    if (!this.#prefixFilterUsable) return true;
    const filter = this.#filter();
    return filter === null || filter.mayContainPrefix(prefix);
  }

  /**
   * The data block {@link get} would look `key` up in at `readSeqno`, or -1 when the table rules the key
   * out before reading one (seqno range, key range, filter, or the key sorts after the last block). The
   * same steps as `get` up to its block read: they read nothing but an unpinned index or filter.
   *
   * @internal
   */
  pointBlock(key: Uint8Array, readSeqno: number): number {
    this.#checkOpen();
    const meta = this.meta;
    if (meta.minSeqno >= readSeqno) return -1;
    const order = this.order;
    if (order.compare(key, meta.minKey) < 0 || order.compare(key, meta.maxKey) > 0) return -1;
    if (!this.mayContain(key)) return -1;
    const index = this.index();
    const i = index.lowerBound(key, readSeqno - 1);
    return i < index.count ? i : -1;
  }

  /** Whether data blocks are read through a memory map (a block read is then a memory load: nothing to batch). */
  get mapped(): boolean {
    return this.#map !== null;
  }

  /**
   * Whether data block `i` is at hand without a read: in the block cache, or held by a batch in progress
   * ({@link fetchBlocks}). Touches nothing (no cache statistics, no LRU order).
   *
   * @internal
   */
  hasBlock(i: number): boolean {
    this.#checkOpen();
    const offset = this.index().blockOffset(i);
    return this.#cached.blocks.has(offset) || this.#fetched?.has(offset) === true;
  }

  /**
   * Holds the data blocks `wanted` (table and block number; duplicates are skipped, and so are tables
   * read through a memory map) for the lookups of one batch, reading those that are not in the block
   * cache with one {@link Fs.readMany} per filesystem. Each block read is checked (CRC-32), decoded and
   * put in its table's block cache, as a read on a cache miss would; while the cache has room, each read
   * also takes the blocks after its block up to {@link READ_AHEAD_BYTES} (not past the next wanted
   * block), cached the same way. Until the returned batch is released, lookups of these tables find the
   * wanted blocks (read or found cached) without a read even if the cache drops them meanwhile, and their
   * memory is not recycled: the batch's lookups read each block once, in the batch.
   *
   * Errors are those of a single block read: a short read or a bad block is `CORRUPTION` naming the file
   * and offset (a damaged read-ahead neighbour is left out, to be reported when it is read itself), and
   * filesystem errors pass through. Nothing stays held when it throws.
   *
   * @internal
   */
  static fetchBlocks(wanted: readonly { readonly table: Table; readonly block: number }[]): FetchedBlocks {
    const batch = new FetchedBlocks((held) => Table.#forget(held));
    try {
      const byFs = new Map<Fs, Map<Table, number[]>>();
      for (const { table, block } of wanted) {
        table.#checkOpen();
        if (table.#map !== null) continue;
        const offset = table.index().blockOffset(block);
        if (table.#fetched?.has(offset) === true) continue;
        const cached = table.#cached.blocks.get(offset)?.value;
        if (cached instanceof DataBlock) {
          table.#hold(offset, cached, batch);
          continue;
        }
        let tables = byFs.get(table.#fs);
        if (tables === undefined) {
          tables = new Map();
          byFs.set(table.#fs, tables);
        }
        let blocks = tables.get(table);
        if (blocks === undefined) {
          blocks = [];
          tables.set(table, blocks);
        }
        blocks.push(block);
      }
      for (const [fs, tables] of byFs) Table.#fetchFrom(fs, tables, batch);
    } catch (error) {
      batch.release();
      throw error;
    }
    return batch;
  }

  /** Keeps `block` for the lookups of `batch` (see {@link fetchBlocks}). */
  #hold(offset: number, block: DataBlock, batch: FetchedBlocks): void {
    (this.#fetched ??= new Map()).set(offset, block);
    // Counted as a cursor would be: the cache may drop it before the batch's lookups, and its memory must not be recycled then.
    block.cursors++;
    batch.held.push({ table: this, offset, block });
  }

  /**
   * Lets go of a block a batch held: no longer counted, no longer found without the cache. A block the
   * cache does not hold (it had no room, or dropped it meanwhile) that no cursor is in goes back to the
   * buffer pool, as a dropped block would: nothing can read it any more (see `recycleDropped`).
   */
  static #forget(held: FetchedBlock): void {
    const { table, offset, block } = held;
    block.cursors--;
    const fetched = table.#fetched;
    if (fetched?.get(offset) === block) {
      fetched.delete(offset);
      if (fetched.size === 0) table.#fetched = null;
    }
    // Only where this table's entry in the cache is the one the cache lists (then its map is the whole truth).
    const cached = table.#cached;
    if (block.cursors === 0 && !table.#closed && cached.attached && cached.blocks.get(offset)?.value !== block) recycleDropped(block);
  }

  /** One `readMany` on `fs` for the wanted blocks of `tables` (block numbers, unsorted, maybe repeated). */
  static #fetchFrom(fs: Fs, tables: Map<Table, number[]>, batch: FetchedBlocks): void {
    // Read-ahead spends cache room; each cache's room is shared out among the batch's reads.
    const room = new Map<BlockCache, number>();
    let scratchBytes = 0;
    const planned: { table: Table; index: IndexBlock; first: number; end: number; start: number; length: number }[] = [];
    for (const [table, blocks] of tables) {
      const index = table.index();
      const sorted = [...new Set(blocks)].sort((a, b) => a - b);
      const cache = table.#blockCache;
      let free = room.get(cache) ?? cache.capacity - cache.size;
      for (let k = 0; k < sorted.length; k++) {
        const first = sorted[k] as number;
        const stop = k + 1 < sorted.length ? (sorted[k + 1] as number) : index.count;
        // A limit of 0 reads the wanted block alone.
        const { end, start, length } = blockSpan(index, first, free >= READ_AHEAD_ROOM + READ_AHEAD_BYTES ? READ_AHEAD_BYTES : 0, stop);
        if (end - first > 1) {
          free -= READ_AHEAD_BYTES;
          scratchBytes += length;
        }
        planned.push({ table, index, first, end, start, length });
      }
      room.set(cache, free);
    }
    if (readManyScratch.length < scratchBytes) readManyScratch = uninitializedBytes(scratchBytes);
    let scratchUsed = 0;
    const spans = planned.map((p) => {
      // A single block is read straight into its pool piece; a span into the scratch, copied out per block.
      let buffer: Uint8Array;
      if (p.end - p.first > 1) {
        buffer = readManyScratch.subarray(scratchUsed, scratchUsed + p.length);
        scratchUsed += p.length;
      } else {
        buffer = BLOCK_BUFFERS.take(p.length);
      }
      return { table: p.table, index: p.index, first: p.first, end: p.end, position: p.start, buffer };
    });
    const counts = Table.#readTogether(fs, spans);
    for (let k = 0; k < spans.length; k++) {
      const span = spans[k] as (typeof spans)[number];
      span.table.#acceptSpan(span, counts[k] as number, batch);
    }
  }

  /**
   * One `fs.readMany` of `reads` (each: a table of this filesystem, a position, a buffer to fill), with
   * the tables' file handles leased from their file caches for the call; the byte counts read.
   */
  static #readTogether(fs: Fs, reads: readonly { readonly table: Table; readonly position: number; readonly buffer: Uint8Array }[]): number[] {
    const leases = new Map<Table, FileLease>();
    try {
      const requests: FsReadRequest[] = reads.map(({ table, position, buffer }) => {
        let lease = leases.get(table);
        if (lease === undefined) {
          lease = table.#fileCache.acquire(fs, table.path);
          leases.set(table, lease);
        }
        return { file: lease.file, position, buffer };
      });
      return fs.readMany(requests);
    } finally {
      for (const lease of leases.values()) lease.release();
    }
  }

  /** Checks, decodes and caches the blocks one read of {@link fetchBlocks} brought in (`n` bytes of them). */
  #acceptSpan(span: { readonly index: IndexBlock; readonly first: number; readonly end: number; readonly position: number; readonly buffer: Uint8Array }, n: number, batch: FetchedBlocks): void {
    const { index, first, end } = span;
    const start = span.position;
    const firstLength = index.blockSize(first) + BLOCK_TRAILER_SIZE;
    if (n < firstLength) throw corruption(this.path, `data block at offset ${start} is truncated (read ${n} of ${firstLength} bytes)`);
    // A single block was read straight into its own pool piece; a span into the batch's scratch.
    const block = this.#splitSpan(index, first, end, start, span.buffer, n, end - first === 1);
    this.#hold(start, block, batch);
  }

  /**
   * Checks, decodes and caches blocks `[first, end)` that one read of `filled` bytes from `start` brought
   * into `bytes`, and returns block `first`. Each block gets a pool piece of its own, as a block read
   * alone does (the scratch is reused by the next read, and one buffer shared by many blocks would live
   * as long as the last of them), unless `ownsBytes` (a span of one block read into its pool piece). A
   * neighbour that is cached already, cut short, or damaged is left out (a damaged one is reported when it
   * is read itself); a damaged first block throws.
   */
  #splitSpan(index: IndexBlock, first: number, end: number, start: number, bytes: Uint8Array, filled: number, ownsBytes: boolean): DataBlock {
    let result: DataBlock | undefined;
    for (let b = first; b < end; b++) {
      const offset = index.blockOffset(b);
      const length = index.blockSize(b) + BLOCK_TRAILER_SIZE;
      const from = offset - start;
      if (b > first && (from + length > filled || this.#cached.blocks.has(offset))) continue;
      let framed: Uint8Array;
      if (ownsBytes) {
        framed = bytes;
      } else {
        framed = BLOCK_BUFFERS.take(length);
        framed.set(bytes.subarray(from, from + length));
      }
      let block: DataBlock;
      try {
        block = this.#pooledBlock(framed, offset);
      } catch (error) {
        if (b === first) throw error;
        continue;
      }
      this.#cacheBlock(offset, block, block.byteSize);
      if (b === first) result = block;
    }
    return result as DataBlock;
  }

  /**
   * A cursor over every entry; blocks load lazily. Close it when done, and then drop it: a closed cursor
   * may be handed out again by a later call (so a second `close()` would close its new owner's).
   *
   * @internal
   */
  cursor(options?: TableCursorOptions): EntryCursor {
    this.#checkOpen();
    const fillCache = options?.fillCache ?? true;
    const readAhead = options?.readAhead;
    if (readAhead !== undefined) {
      if (fillCache) throw new RangeError("a read-ahead window is for cursors that do not fill the block cache (fillCache: false)");
      return new TableCursor(this, false, readAhead);
    }
    const spare = this.#spareCursor;
    if (spare !== null && fillCache) {
      this.#spareCursor = null;
      spare.reopen();
      return spare;
    }
    return new TableCursor(this, fillCache);
  }

  /**
   * Keeps the last closed reader cursor for the next `cursor()`: a seek then allocates no cursor.
   *
   * @internal
   */
  cursorClosed(cursor: TableCursor): void {
    if (cursor.fillsCache && !this.#closed) this.#spareCursor = cursor;
  }

  /**
   * Reads the whole file and checks it end to end: the file checksum, the footer, every block's checksum
   * and decoding, entry order and the meta block's counts. Bypasses the block cache.
   */
  verify(): void {
    this.#checkOpen();
    const lease = this.#fileCache.acquire(this.#fs, this.path);
    try {
      verifyTable(lease.file, this.path, this.meta, this.#footer, this.order);
    } finally {
      lease.release();
    }
  }

  /** Releases the file handle and the cached blocks. Idempotent; open cursors keep working while the file exists. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#spareCursor = null;
    this.#map = null;
    this.#fileCache.evict(this.path, this.#fs);
    this.#blockCache.evictTable(this.#namespace, this.meta.tableId);
  }

  /**
   * The index (pinned, or fetched through the block cache).
   *
   * @internal
   */
  index(): IndexBlock {
    if (this.#pinnedIndex !== null) return this.#pinnedIndex;
    const handle = this.#footer.index;
    const cached = this.#blockCache.lookup(this.#cached, handle.offset);
    if (cached instanceof IndexBlock) return cached;
    const index = new IndexBlock(this.#read(handle.offset, handle.size, "index"), this.path, handle.offset, this.order, this.#footer.dataEnd);
    this.#cacheBlock(handle.offset, index, index.byteSize);
    return index;
  }

  /**
   * Data block `i` of `index`, through the block cache (inserting it when `fillCache`).
   *
   * @internal
   */
  dataBlock(index: IndexBlock, i: number, fillCache: boolean): DataBlock {
    const offset = index.blockOffset(i);
    const cached = this.#blockCache.lookup(this.#cached, offset);
    if (cached instanceof DataBlock) return cached;
    const fetched = this.#fetched?.get(offset);
    if (fetched !== undefined) {
      // Dropped from the cache since the batch read it: cached again, as a read would be.
      if (fillCache) this.#cacheBlock(offset, fetched, fetched.byteSize);
      return fetched;
    }
    const map = this.#map;
    if (map !== null) {
      const verified = this.#verified;
      const seen = ((verified[i >>> 3] as number) & (1 << (i & 7))) !== 0;
      const framed = map.subarray(offset, offset + index.blockSize(i) + BLOCK_TRAILER_SIZE);
      // Uncompressed, the block is a view of the map: nothing is read or copied, and caching it would
      // only spend cache room on what the page cache holds already. A decompressed block is cached.
      const contents = decodeBlock(framed, this.path, offset, "data", seen);
      const block = new DataBlock(contents, this.path, offset, "data");
      if (!seen) verified[i >>> 3] = (verified[i >>> 3] as number) | (1 << (i & 7));
      if (fillCache && contents.buffer !== map.buffer) this.#cacheBlock(offset, block, block.byteSize);
      return block;
    }
    if (fillCache && this.#blockCache.capacity - this.#blockCache.size >= READ_AHEAD_ROOM) {
      const block = this.#readAhead(index, i);
      if (block !== null) return block;
    }
    const framed = BLOCK_BUFFERS.take(index.blockSize(i) + BLOCK_TRAILER_SIZE);
    const n = this.#fileCache.readAt(this.#fs, this.path, framed, offset);
    if (n !== framed.length) throw corruption(this.path, `data block at offset ${offset} is truncated (read ${n} of ${framed.length} bytes)`);
    const block = this.#pooledBlock(framed, offset);
    if (fillCache) this.#cacheBlock(offset, block, block.byteSize);
    return block;
  }

  /**
   * Data block `i` for a scan that reads the table once, in order, without the block cache (compaction),
   * decoded out of `window`, which is refilled from block `i` on with one read when it does not hold the
   * block. A table read through a memory map reads the block from the map, as {@link dataBlock} does.
   * Errors are a single block read's.
   *
   * @internal
   */
  dataBlockAhead(index: IndexBlock, i: number, window: ReadAheadWindow): DataBlock {
    if (this.#map !== null) return this.dataBlock(index, i, false);
    if (!window.holds(i)) {
      const span = window.spanFrom(index, i);
      const bytes = uninitializedBytes(span.length);
      window.accept(span, bytes, this.#fileCache.readAt(this.#fs, this.path, bytes, span.start));
    }
    const offset = index.blockOffset(i);
    const framed = window.framed(index, i);
    const length = index.blockSize(i) + BLOCK_TRAILER_SIZE;
    if (framed.length !== length) throw corruption(this.path, `data block at offset ${offset} is truncated (read ${framed.length} of ${length} bytes)`);
    return new DataBlock(decodeBlock(framed, this.path, offset, "data"), this.path, offset, "data");
  }

  /**
   * Fills each window with the blocks of its table from `block` on, with one {@link Fs.readMany} per
   * filesystem for all of them (one io_uring submission on `IoUringFs`): how a compaction starts, each
   * input's first window read together. Windows that hold their block already, tables read through a
   * memory map and blocks past a table's end are left alone. Bytes are only read here: a short read or a
   * bad block is reported when a cursor enters the block.
   *
   * @internal
   */
  static fillReadAheadWindows(wanted: readonly { readonly table: Table; readonly window: ReadAheadWindow; readonly block: number }[]): void {
    const byFs = new Map<Fs, { table: Table; window: ReadAheadWindow; span: ReadAheadSpan }[]>();
    for (const { table, window, block } of wanted) {
      table.#checkOpen();
      if (table.#map !== null || window.holds(block)) continue;
      const index = table.index();
      if (block < 0 || block >= index.count) continue;
      let list = byFs.get(table.#fs);
      if (list === undefined) {
        list = [];
        byFs.set(table.#fs, list);
      }
      list.push({ table, window, span: window.spanFrom(index, block) });
    }
    for (const [fs, list] of byFs) {
      const reads = list.map(({ table, span }) => ({ table, position: span.start, buffer: uninitializedBytes(span.length) }));
      const counts = Table.#readTogether(fs, reads);
      for (let k = 0; k < list.length; k++) {
        const { window, span } = list[k] as { window: ReadAheadWindow; span: ReadAheadSpan };
        window.accept(span, (reads[k] as { buffer: Uint8Array }).buffer, counts[k] as number);
      }
    }
  }

  /** The data block whose framed bytes (read from the file) fill `framed`, a piece of the block buffer pool. */
  #pooledBlock(framed: Uint8Array, offset: number): DataBlock {
    const contents = decodeBlock(framed, this.path, offset, "data");
    const capacity = capacityFor(framed.length);
    const pooled = contents.buffer === framed.buffer;
    // Decompressed into a buffer of its own: the framed bytes are read no more.
    if (!pooled) BLOCK_BUFFERS.give(framed, capacity);
    return new DataBlock(contents, this.path, offset, "data", pooled ? capacity : 0);
  }

  /**
   * Block `i` and the blocks after it, up to {@link READ_AHEAD_BYTES}, in one positional read, each
   * checked and cached on its own (those already cached stay as they are); null when there is no block
   * after `i` or the read comes up short (the caller's single read then reports it). A damaged neighbour
   * is left out, to be reported when it is read itself. Only while the cache has room for them: while a
   * cache fills, reading one block per miss costs a system call per block, and the neighbours are likely
   * read later anyway; a full cache would drop blocks for them that are as likely to be read.
   */
  #readAhead(index: IndexBlock, i: number): DataBlock | null {
    const span = blockSpan(index, i, READ_AHEAD_BYTES);
    if (span.end - i < 2) return null;
    // At most READ_AHEAD_BYTES: past the first block the span stops there, and a first block alone returned above.
    if (readAheadScratch.length < span.length) readAheadScratch = uninitializedBytes(READ_AHEAD_BYTES);
    const bytes = readAheadScratch.subarray(0, span.length);
    if (this.#fileCache.readAt(this.#fs, this.path, bytes, span.start) !== bytes.length) return null;
    return this.#splitSpan(index, i, span.end, span.start, bytes, bytes.length, false);
  }


  #filter(): BloomFilter | null {
    if (this.#pinnedFilter !== null) return this.#pinnedFilter;
    const handle = this.#footer.filter;
    if (handle === null) return null;
    const cached = this.#blockCache.lookup(this.#cached, handle.offset);
    if (cached instanceof BloomFilter) return cached;
    const filter = new BloomFilter(this.#read(handle.offset, handle.size, "filter"), this.path, handle.offset);
    this.#cacheBlock(handle.offset, filter, filter.byteSize);
    return filter;
  }

  /** One positional read of a framed block, then checksum and decode. */
  #read(offset: number, size: number, what: string): Uint8Array {
    return this.#decode(uninitializedBytes(size + BLOCK_TRAILER_SIZE), offset, what);
  }

  /** Reads the framed block at `offset` into all of `framed`, then checksum and decode. */
  #decode(framed: Uint8Array, offset: number, what: string): Uint8Array {
    const n = this.#fileCache.readAt(this.#fs, this.path, framed, offset);
    if (n !== framed.length) throw corruption(this.path, `${what} block at offset ${offset} is truncated (read ${n} of ${framed.length} bytes)`);
    return decodeBlock(framed, this.path, offset, what);
  }

  #cacheBlock(offset: number, value: object, bytes: number): void {
    this.#blockCache.store(this.#cached, offset, value, bytes);
  }

  #checkOpen(): void {
    if (this.#closed) throw new LsmError("CLOSED", `table ${this.path} is closed`);
  }
}

/** A data block a batched read holds for its lookups. */
export interface FetchedBlock {
  readonly table: Table;
  readonly offset: number;
  readonly block: DataBlock;
}

/**
 * The data blocks one {@link Table.fetchBlocks} call holds for its lookups. `release()` (idempotent) lets
 * them go: afterwards they are only what the block cache keeps.
 */
export class FetchedBlocks {
  /** Each wanted block read, with its table. */
  readonly held: FetchedBlock[] = [];
  readonly #forget: (held: FetchedBlock) => void;
  #released = false;

  constructor(forget: (held: FetchedBlock) => void) {
    this.#forget = forget;
  }

  /** How many blocks the batch holds for its lookups (read or found cached; read-ahead neighbours not counted). */
  get count(): number {
    return this.held.length;
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const held of this.held) this.#forget(held);
  }
}

/**
 * Gives a dropped data block's memory back to the pool when nothing can read it any more. What could: a
 * table cursor on it (counted in `cursors`); the table's own point-lookup cursor, which is repositioned
 * before its next read; and the value view a point lookup hands out, which ../tree/reads.ts copies
 * before any other block is read. A block a batch holds (`Table.fetchBlocks`) is counted in `cursors`
 * until the batch is released.
 */
function recycleDropped(value: object): void {
  if (value instanceof DataBlock && value.pooled && value.cursors === 0) BLOCK_BUFFERS.give(value.data, value.pooledCapacity);
}

/**
 * `path` memory-mapped, when `fs` maps files and the map has the size the table's footer was read at;
 * null otherwise, also when mapping fails (out of address space, descriptors): reads then use pread.
 */
function mapTable(fs: Fs, path: string, fileSize: number): Uint8Array | null {
  if (fs.mapReadOnly === undefined) return null;
  try {
    const map = fs.mapReadOnly(path);
    return map !== undefined && map.length === fileSize ? map : null;
  } catch {
    return null;
  }
}

/**
 * A plain Uint8Array of `length` bytes over memory that is not zeroed first (the read overwrites all of
 * it, and a short read throws before anything looks at it): zeroing a block costs as much as reading it.
 */
function uninitializedBytes(length: number): Uint8Array {
  return new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
}
