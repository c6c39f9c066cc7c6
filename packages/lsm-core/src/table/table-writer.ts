/**
 * Writes one table file, entries in, in internal-key order. The file it produces:
 *
 * ```
 * +--------+--------------+-----+----------------+----------------+-------------+------------+-----------------+--------+
 * | header | data block 0 | ... | data block n-1 | [filter block] | index block | [range tombstone block] | meta block | metaindex block | footer |
 * +--------+--------------+-----+----------------+----------------+-------------+-------------------------+------------+-----------------+--------+
 *   12 B     (./block-builder.ts, framed by ./block-framing.ts)                     ../range-tombstone/block.ts                                 76 B
 * ```
 *
 * A data block is cut once its contents reach `blockSize` (before the next entry is added, unless that
 * entry repeats the last internal key), so blocks slightly exceed the target and versions of one user
 * key may span blocks (the index keys are internal keys for
 * that reason). Bytes are written through a 256 KiB buffer; the CRC-32 of everything before the footer
 * is computed on the way (the footer's file checksum). `finish()` syncs and closes the file
 * (`finishAsync()` does the same in pieces, with a non-blocking sync where the filesystem has one);
 * making its directory entry durable is the caller's job (it syncs the directory once per flush or
 * compaction).
 *
 * @module
 */
import type { Fs, FsFile } from "@talus/fs";
import { ByteWriter } from "../coding/byte-writer.ts";
import { checksum } from "../coding/checksum.ts";
import { BYTEWISE_COMPARATOR, type Comparator } from "../key/comparator.ts";
import { MAX_KEY_BYTES } from "../key/validate.ts";
import { isValueKind, ValueKind } from "../key/value-kind.ts";
import { BlockBuilder } from "./block-builder.ts";
import { appendBlock } from "./block-framing.ts";
import { BloomFilterBuilder, type PrefixExtractor } from "./bloom-filter.ts";
import { NONE_CODEC, type CompressionCodec } from "./codec.ts";
import { encodeFooter, FOOTER_SIZE, type Footer } from "./footer.ts";
import { encodeFileHeader, FILE_HEADER_SIZE, MAX_BLOCK_BYTES, TABLE_FORMAT_VERSION, type BlockHandle } from "./format.ts";
import { IndexBlockBuilder } from "./index-block.ts";
import { KeyOrder } from "./keys.ts";
import { addBlobReference, encodeProperties, type BlobReferenceSums, type TableMeta, type TableProperties } from "./meta.ts";
import { encodeMetaindex } from "./metaindex.ts";
import { syncFile } from "../io/async-sync.ts";
import { copyBytes } from "../key/copy.ts";
import { encodeFragments, RANGE_TOMBSTONE_BLOCK } from "../range-tombstone/block.ts";
import { seqnoSpan, type Fragment } from "../range-tombstone/fragments.ts";

/**
 * Asked between pieces of work by {@link TableWriter.finishAsync}: a promise to wait for (the caller's
 * time slice is used up) or `undefined` to go on.
 */
export type PausePoint = () => Promise<void> | undefined;

/**
 * What a finished writer still holds of its table, for opening it without reading it back
 * (`Table.fromWriter`): the footer it wrote, the metadata, and the decoded contents of the index and
 * filter blocks, byte for byte what went (framed and maybe compressed) into the synced file.
 */
export interface WrittenTable {
  readonly path: string;
  readonly footer: Footer;
  readonly meta: TableMeta;
  readonly index: Uint8Array;
  readonly filter: Uint8Array | null;
  /** The range tombstones written (empty for most tables). */
  readonly rangeTombstones: readonly Fragment[];
}

export interface TableWriterOptions {
  /** Recorded in the meta block; readers check it. */
  readonly tableId: number;
  /** Default bytewise. */
  readonly comparator?: Comparator;
  /** Target decoded size of a data block; default 4096. */
  readonly blockSize?: number;
  /** Entries between restart points in data blocks; default 16. */
  readonly restartInterval?: number;
  /** Codec tried on data and index blocks; default none. */
  readonly codec?: CompressionCodec;
  /** Bloom filter bits per distinct user key, an integer 0..64; 0 = no filter; default 10. */
  readonly filterBitsPerKey?: number;
  /** Name of the tree's merge operator, recorded in the meta block (tables holding its results need it). */
  readonly mergeOperator?: string;
  /**
   * A blob tree's: which blob file an indirection's handle points into and how many bytes it holds
   * there; the writer sums them per file into the meta block's blob references.
   */
  readonly blobReference?: (handle: Uint8Array) => { readonly blobFileId: number; readonly valueBytes: number; readonly storedBytes: number };
  /** Also records these prefixes of each key in the filter. */
  readonly prefixExtractor?: PrefixExtractor;
  /** Creation time recorded in the meta block; default `Date.now()` at `finish()`. */
  readonly createdAtMs?: number;
  /**
   * Start a non-blocking sync (`FsFile.syncAsync`, where the filesystem offers it) every this many
   * bytes written, one at a time, like RocksDB's `bytes_per_sync`: the data goes to disk while the
   * table is still being written, so the final sync has little left to wait for. Only for writers
   * finished with {@link TableWriter.finishAsync}, which waits for them and fails if one failed
   * (`finish()` throws when this is set). Default: none.
   */
  readonly backgroundSyncBytes?: number;
}

const WRITE_BUFFER_BYTES = 256 * 1024;
/** What the meta block, metaindex and footer add, for the size estimate. */
const TAIL_ESTIMATE = 256 + FOOTER_SIZE;

export class TableWriter {
  readonly path: string;
  readonly #fs: Fs;
  readonly #options: TableWriterOptions;
  readonly #order: KeyOrder;
  readonly #blockSize: number;
  readonly #codec: CompressionCodec;
  readonly #file: FsFile;
  readonly #block: BlockBuilder;
  readonly #index = new IndexBlockBuilder();
  readonly #filter: BloomFilterBuilder | null;
  readonly #out = new ByteWriter(64 * 1024);
  #written = 0;
  #crc = 0;
  #state: "open" | "finished" | "aborted" = "open";
  /** The background sync in flight (settles without rejecting; failures land in #backgroundError). */
  #backgroundSync: Promise<void> | undefined;
  #backgroundError: { error: unknown } | undefined;
  #syncedUpTo = 0;
  /** finish has begun writing the tail; still "open" so that a failure can abort(). */
  #sealing = false;
  /** The seqno of the last entry (its key is the block builder's `lastKey`, a copy: callers reuse keys). */
  #lastSeqno = 0;
  #lastKind = -1;
  #minKey: Uint8Array | null = null;
  #stats = { entries: 0, distinct: 0, tombstones: 0, weak: 0, merges: 0, indirections: 0, keyBytes: 0, valueBytes: 0, dataSize: 0, blocks: 0 };
  /** Blob references by blob file id (a blob tree's tables). */
  readonly #blobRefs: BlobReferenceSums = new Map();
  #minSeqno = Number.MAX_SAFE_INTEGER;
  #maxSeqno = 0;
  #rangeTombstones: readonly Fragment[] = [];
  /** The max key the caller gave with the range tombstones (undefined: the last key added). */
  #maxKey: Uint8Array | undefined;
  /** Set by #seal; handed out by `written()` once the file is synced and closed. */
  #sealed: WrittenTable | undefined;

  /** Creates `path` exclusively (EEXIST if it exists). */
  constructor(fs: Fs, path: string, options: TableWriterOptions) {
    const blockSize = options.blockSize ?? 4096;
    const filterBits = options.filterBitsPerKey ?? 10;
    if (!Number.isSafeInteger(options.tableId) || options.tableId < 0) throw new RangeError(`tableId must be a non-negative integer, got ${options.tableId}`);
    if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > MAX_BLOCK_BYTES) throw new RangeError(`blockSize must be in 1..${MAX_BLOCK_BYTES}, got ${blockSize}`);
    if (!Number.isInteger(filterBits) || filterBits < 0 || filterBits > 64) throw new RangeError(`filterBitsPerKey must be an integer in 0..64, got ${filterBits}`);
    const every = options.backgroundSyncBytes;
    if (every !== undefined && !(Number.isSafeInteger(every) && every > 0)) throw new RangeError(`backgroundSyncBytes must be a positive integer, got ${every}`);
    this.path = path;
    this.#fs = fs;
    this.#options = options;
    this.#order = new KeyOrder(options.comparator ?? BYTEWISE_COMPARATOR);
    this.#blockSize = blockSize;
    this.#codec = options.codec ?? NONE_CODEC;
    this.#block = new BlockBuilder(options.restartInterval ?? 16);
    this.#filter = filterBits > 0 ? new BloomFilterBuilder(filterBits) : null;
    this.#file = fs.open(path, { write: true, createNew: true });
    this.#out.raw(encodeFileHeader());
  }

  /** Entries added so far. */
  get entryCount(): number {
    return this.#stats.entries;
  }

  /** Data blocks written so far: {@link estimatedSize} changes by more than an entry only when this does. */
  get dataBlockCount(): number {
    return this.#stats.blocks;
  }

  /** About the size the file would have if finished now: for rotating to a new table at a target size. */
  get estimatedSize(): number {
    return this.#written + this.#out.length + this.#block.estimatedSize + this.#index.estimatedSize + (this.#filter?.estimatedSize ?? 0) + TAIL_ESTIMATE;
  }

  /** A copy of the last user key added, or undefined before the first. */
  lastKey(): Uint8Array | undefined {
    return this.#stats.entries === 0 ? undefined : this.#block.lastKey.slice();
  }

  /** The last user key added as a view, valid until the next `add` (no copy, for per-entry checks). */
  lastKeyView(): Uint8Array | undefined {
    return this.#stats.entries === 0 ? undefined : this.#block.lastKey;
  }

  /**
   * Appends an entry. REQUIRES: `(key, seqno)` sorts strictly after the previous entry (user key
   * ascending, then seqno descending); throws otherwise. Tombstones carry no value.
   */
  add(key: Uint8Array, seqno: number, kind: ValueKind, value: Uint8Array): void {
    this.#checkOpen();
    if (key.length > MAX_KEY_BYTES) throw new RangeError(`key is ${key.length} bytes; the limit is ${MAX_KEY_BYTES}`);
    if (!Number.isSafeInteger(seqno) || seqno < 0) throw new RangeError(`seqno must be an integer in [0, 2^53), got ${seqno}`);
    if (!isValueKind(kind)) throw new RangeError(`unknown value kind ${String(kind)}`);
    if ((kind === ValueKind.Tombstone || kind === ValueKind.WeakTombstone) && value.length !== 0) throw new RangeError("a tombstone carries no value");
    if (key.length + value.length + 40 > MAX_BLOCK_BYTES) throw new RangeError(`an entry of ${key.length + value.length} bytes does not fit in a block; store large values in blob files`);
    const stats = this.#stats;
    let newKey = true;
    if (stats.entries > 0) {
      const c = this.#order.compare(key, this.#block.lastKey);
      // Merge operands of one key may share a seqno (a write batch merging a key twice); nothing else may.
      const sameSeqnoOk = c === 0 && seqno === this.#lastSeqno && kind === ValueKind.MergeOperand && this.#lastKind === ValueKind.MergeOperand;
      if (c < 0 || (c === 0 && seqno >= this.#lastSeqno && !sameSeqnoOk)) {
        throw new Error(`TableWriter.add: entry (key of ${key.length} bytes, seqno ${seqno}) is not after the previous one (seqno ${this.#lastSeqno}); entries must come in internal-key order`);
      }
      newKey = c !== 0;
      // A full block is cut before the next entry rather than right after the last one, so that a repeat of
      // the last (key, seqno) joins its block: index entries (each block's last internal key) must
      // strictly increase.
      if (this.#block.estimatedSize >= this.#blockSize && !sameSeqnoOk) this.#flushBlock();
    }
    this.#block.add(key, seqno, kind, value);
    this.#lastSeqno = seqno;
    this.#lastKind = kind;
    if (stats.entries === 0) this.#minKey = copyBytes(key);
    stats.entries++;
    stats.keyBytes += key.length;
    stats.valueBytes += value.length;
    if (kind === ValueKind.Tombstone) stats.tombstones++;
    else if (kind === ValueKind.WeakTombstone) stats.weak++;
    else if (kind === ValueKind.MergeOperand) stats.merges++;
    else if (kind === ValueKind.Indirection) {
      stats.indirections++;
      this.#referenceBlob(value);
    }
    if (seqno < this.#minSeqno) this.#minSeqno = seqno;
    if (seqno > this.#maxSeqno) this.#maxSeqno = seqno;
    if (newKey) {
      stats.distinct++;
      if (this.#filter !== null) {
        this.#filter.addKey(key);
        const extractor = this.#options.prefixExtractor;
        if (extractor !== undefined) for (const prefix of extractor.prefixes(key)) this.#filter.addPrefix(prefix);
      }
    }
  }

  /**
   * Gives the table range tombstones (a fragment list, ../range-tombstone/fragments.ts), written into a
   * block of their own when the table is finished. The table's min key becomes the smaller of its first
   * key and the first fragment's start; its max key becomes `maxKey` (the caller decides how far the
   * table's key range reaches: at least the last key added and every fragment's start), or the last
   * key when undefined. Their seqnos count in the table's seqno range.
   */
  setRangeTombstones(fragments: readonly Fragment[], maxKey: Uint8Array | undefined): void {
    this.#checkOpen();
    this.#rangeTombstones = fragments;
    this.#maxKey = maxKey === undefined ? undefined : copyBytes(maxKey);
  }

  /** Writes filter, index, meta, metaindex and footer, syncs and closes the file. Throws if nothing was added. */
  finish(): TableMeta {
    if (this.#options.backgroundSyncBytes !== undefined) throw new Error("TableWriter.finish: a writer with backgroundSyncBytes is finished with finishAsync()");
    const steps = this.#seal();
    let step = steps.next();
    while (step.done !== true) step = steps.next();
    this.#file.sync();
    return this.#close(step.value);
  }

  /**
   * {@link finish} without long blocking stretches: between pieces of work (a slice of the filter's
   * layout, the index, the tail) it asks `pause` and waits when it gets a promise, and the sync goes
   * through `FsFile.syncAsync` when the filesystem offers it. On failure the writer stays open for
   * {@link abort}.
   *
   * @example
   * ```ts
   * const meta = await writer.finishAsync(() => (tooLong() ? new Promise((r) => setImmediate(r)) : undefined));
   * ```
   */
  async finishAsync(pause: PausePoint): Promise<TableMeta> {
    const steps = this.#seal();
    let step = steps.next();
    while (step.done !== true) {
      const wait = pause();
      if (wait !== undefined) await wait;
      step = steps.next();
    }
    // A failed background sync may have left pages marked clean that never reached the disk (a later
    // fsync can succeed regardless): its failure is the table's failure.
    await this.#backgroundSync;
    if (this.#backgroundError !== undefined) throw this.#backgroundError.error;
    await syncFile(this.#file);
    return this.#close(step.value);
  }

  /**
   * Writes everything after the last entry, in pieces (yields between them); returns the table's
   * metadata. The file is not synced yet. Entries can no longer be added once this has started.
   */
  *#seal(): Generator<void, TableMeta, void> {
    this.#checkOpen();
    if (this.#stats.entries === 0) throw new Error("TableWriter.finish: no entries were added; abort() the writer instead");
    this.#sealing = true;
    if (this.#block.entryCount > 0) this.#flushBlock();
    const dataEnd = this.#written + this.#out.length;
    let filter: BlockHandle | null = null;
    let filterContents: Uint8Array | null = null;
    if (this.#filter !== null) {
      yield;
      filterContents = yield* this.#filter.finishInSteps();
      filter = this.#writeBlock(filterContents, NONE_CODEC);
    }
    yield;
    // A copy: the builder's buffer is larger than its contents, and the reader keeps this one.
    const indexContents = this.#index.finish().slice();
    const index = this.#writeBlock(indexContents, this.#codec);
    yield;
    const named = new Map<string, BlockHandle>();
    if (this.#rangeTombstones.length > 0) named.set(RANGE_TOMBSTONE_BLOCK, this.#writeBlock(encodeFragments(this.#rangeTombstones), NONE_CODEC));
    const props = this.#properties();
    const meta = this.#writeBlock(encodeProperties(props), NONE_CODEC);
    const metaindex = this.#writeBlock(encodeMetaindex(named), NONE_CODEC);
    this.#drain();
    const footer: Footer = { dataEnd, filter, index, meta, metaindex, fileChecksum: this.#crc, formatVersion: TABLE_FORMAT_VERSION };
    const footerBytes = encodeFooter(footer);
    this.#file.write(footerBytes);
    const tableMeta: TableMeta = {
      ...props,
      formatVersion: TABLE_FORMAT_VERSION,
      fileSize: this.#written + footerBytes.length,
      fileChecksum: this.#crc,
      storedDataSize: dataEnd - FILE_HEADER_SIZE,
      indexSize: index.size,
      filterSize: filter?.size ?? 0,
    };
    this.#sealed = { path: this.path, footer, meta: tableMeta, index: indexContents, filter: filterContents, rangeTombstones: this.#rangeTombstones };
    return tableMeta;
  }

  #close(meta: TableMeta): TableMeta {
    this.#file.close();
    this.#state = "finished";
    return meta;
  }

  /**
   * The parts of the finished table a reader needs (see {@link WrittenTable}). Only after `finish()` or
   * `finishAsync()` returned: before that the file is not synced, and a version must not name it.
   */
  written(): WrittenTable {
    if (this.#state !== "finished" || this.#sealed === undefined) throw new Error(`TableWriter for ${this.path} is ${this.#state}, not finished`);
    return this.#sealed;
  }

  /** Closes and removes the partial file. Safe to call after a failed `add`/`finish`; a no-op once finished or aborted. */
  abort(): void {
    if (this.#state !== "open") return;
    this.#state = "aborted";
    try {
      this.#file.close();
    } finally {
      try {
        this.#fs.removeFile(this.path);
      } catch (error) {
        if ((error as { code?: unknown }).code !== "ENOENT") throw error;
      }
    }
  }

  #properties(): TableProperties {
    const s = this.#stats;
    const fragments = this.#rangeTombstones;
    const span = seqnoSpan(fragments);
    const firstKey = this.#minKey ?? new Uint8Array(0);
    const firstStart = fragments[0]?.start;
    return {
      tableId: this.#options.tableId,
      createdAtMs: this.#options.createdAtMs ?? Date.now(),
      entryCount: s.entries,
      distinctKeyCount: s.distinct,
      tombstoneCount: s.tombstones,
      weakTombstoneCount: s.weak,
      mergeOperandCount: s.merges,
      indirectionCount: s.indirections,
      minSeqno: span === undefined ? this.#minSeqno : Math.min(this.#minSeqno, span.min),
      maxSeqno: span === undefined ? this.#maxSeqno : Math.max(this.#maxSeqno, span.max),
      minKey: firstStart !== undefined && this.#order.compare(firstStart, firstKey) < 0 ? copyBytes(firstStart) : firstKey,
      maxKey: this.#maxKey ?? this.#block.lastKey.slice(),
      keyBytes: s.keyBytes,
      valueBytes: s.valueBytes,
      dataSize: s.dataSize,
      dataBlockCount: s.blocks,
      restartInterval: this.#block.restartInterval,
      blockSize: this.#blockSize,
      codec: this.#codec.id,
      filterBitsPerKey: this.#filter?.bitsPerKey ?? 0,
      prefixExtractor: this.#filter !== null && this.#options.prefixExtractor !== undefined ? this.#options.prefixExtractor.name : null,
      comparator: this.#order.comparator.name,
      rangeTombstoneCount: fragments.length,
      mergeOperator: this.#options.mergeOperator ?? null,
      blobReferences: [...this.#blobRefs.values()].sort((a, b) => a.blobFileId - b.blobFileId),
    };
  }

  #referenceBlob(handle: Uint8Array): void {
    const describe = this.#options.blobReference;
    if (describe === undefined) return;
    const ref = describe(handle);
    addBlobReference(this.#blobRefs, ref.blobFileId, 1, ref.valueBytes, ref.storedBytes);
  }

  #flushBlock(): void {
    const contents = this.#block.finish();
    this.#stats.dataSize += contents.length;
    this.#stats.blocks++;
    const handle = this.#writeBlock(contents, this.#codec);
    this.#index.add(this.#block.lastKey, this.#lastSeqno, handle.offset, handle.size);
    this.#block.reset();
  }

  #writeBlock(contents: Uint8Array, codec: CompressionCodec): BlockHandle {
    const offset = this.#written + this.#out.length;
    const size = appendBlock(this.#out, contents, codec);
    if (this.#out.length >= WRITE_BUFFER_BYTES) this.#drain();
    return { offset, size };
  }

  /** Writes the buffer to the file, folding it into the running file checksum. */
  #drain(): void {
    const bytes = this.#out.bytes();
    if (bytes.length === 0) return;
    this.#crc = checksum(bytes, this.#crc);
    this.#file.write(bytes);
    this.#written += bytes.length;
    this.#out.reset();
    this.#maybeSyncInBackground();
  }

  #maybeSyncInBackground(): void {
    const every = this.#options.backgroundSyncBytes;
    // Not while sealing: the final sync follows at once.
    if (every === undefined || this.#sealing || this.#backgroundSync !== undefined || this.#written - this.#syncedUpTo < every) return;
    const file = this.#file;
    if (file.syncAsync === undefined) return;
    const upTo = this.#written;
    this.#backgroundSync = file.syncAsync().then(
      () => {
        this.#syncedUpTo = upTo;
        this.#backgroundSync = undefined;
      },
      (error: unknown) => {
        this.#backgroundError ??= { error };
        this.#backgroundSync = undefined;
      },
    );
  }

  #checkOpen(): void {
    if (this.#state !== "open") throw new Error(`TableWriter for ${this.path} is ${this.#state}`);
    // A finish that failed part-way leaves the file half-written: only abort() remains.
    if (this.#sealing) throw new Error(`TableWriter for ${this.path} is being finished`);
  }
}
