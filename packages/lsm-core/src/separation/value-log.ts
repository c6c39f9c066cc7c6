/**
 * The hook through which a tree keeps large values out of its tables (key-value separation). lsm-core
 * never looks inside a blob file or a handle: `@talus/vlog` implements {@link ValueLog} and passes it to
 * `Tree.open` as `valueLog`; the tree then
 *
 * - separates: whenever it writes tables (flush, compaction, ingestion), every value of at least
 *   `separationThreshold` bytes goes to the value log, and the table stores the handle it gets back as
 *   an `Indirection` entry (values already separated move through compactions as handles);
 * - resolves: reads turn an `Indirection` into the value through {@link ValueLog.read}, and `sizeOf`
 *   answers from {@link ValueLog.valueSize} without reading the blob;
 * - collects garbage: a blob file's live part is what the tables of the current version reference
 *   (../tree/blob-usage.ts); a file nothing references leaves the version; a merge compaction whose
 *   inputs hold the only references to a stale file relocates them into new files;
 * - owns the files' lifecycle: the blob files a job wrote join the version in the same change as the
 *   job's tables; a blob file the current version no longer lists is deleted once no snapshot can
 *   reach it (through the tree's `DeletionPause`, like tables); recovery checks that every listed file
 *   is the one recorded and removes orphans from `<path>/blobs/`.
 *
 * A tree opened with a value log is a *blob tree* (its version files say so); opening one kind of tree
 * as the other fails with `UNRECOVERABLE`.
 *
 * @module
 */

/** A blob file as a version lists it; what recovery checks the file against. */
export interface BlobFileInfo {
  /** The blob file's number, unique in its tree (its file name under `<path>/blobs/`). */
  readonly id: number;
  /** The file's length in bytes. */
  readonly fileSize: number;
  /** A checksum that identifies the file's contents (the value log decides what it covers). */
  readonly fileChecksum: number;
  /** Records in the file. */
  readonly itemCount: number;
  /** Sum of the values' uncompressed lengths. */
  readonly valueBytes: number;
  /** Sum of the values' stored (maybe compressed) lengths. */
  readonly storedBytes: number;
}

/** What one indirection entry points at, for garbage accounting. */
export interface BlobReference {
  /** The blob file the value lives in. */
  readonly blobFileId: number;
  /** The value's uncompressed length. */
  readonly valueBytes: number;
  /** The value's stored length in the blob file. */
  readonly storedBytes: number;
}

/**
 * The blob files of one job being written. Values go in with {@link add}; {@link finish} makes the
 * files durable (each file synced, then the blobs directory) before any version may list them.
 */
export interface BlobWriter {
  /** Appends `value` and returns the handle to store in its place. */
  add(key: Uint8Array, seqno: number, value: Uint8Array): Uint8Array;
  /**
   * Copies the record `handle` points at (stored bytes as they are, no recompression) into this
   * writer's files and returns its new handle: relocation out of a stale blob file.
   */
  relocate(key: Uint8Array, seqno: number, handle: Uint8Array): Uint8Array;
  /** Bytes written so far (for table sizing and progress). */
  readonly bytesWritten: number;
  /** Finishes and syncs every file started (none when nothing was added). */
  finish(): Promise<readonly BlobFileInfo[]>;
  /** Removes every file started. Safe after a failed `add` or `finish`; idempotent. */
  abort(): void;
}

/**
 * Key-value separation as a tree sees it: where values of at least `separationThreshold` bytes go, how a
 * handle reads back, and what garbage collection needs to know. `@talus/vlog`'s `BlobValueLog` is the
 * implementation; `BlobTree.open` passes it to `Tree.open` as `valueLog` (see the module comment for what
 * the tree does with it).
 */
export interface ValueLog {
  /** Values of at least this many bytes are separated (at most `MAX_TABLE_VALUE_BYTES`). */
  readonly separationThreshold: number;
  /** The largest value a blob file can hold: a blob tree accepts values up to this size. */
  readonly maxValueBytes: number;
  /**
   * A blob file whose garbage reaches this fraction of its value bytes is *stale*: merge compactions
   * relocate its live values into new files (then it is dead and goes).
   */
  readonly stalenessThreshold: number;
  /**
   * Which stale files a compaction relocates: the oldest `ageCutoff` fraction of its candidates
   * (rounded up, so one candidate is enough), oldest first, in (0, 1].
   */
  readonly ageCutoff: number;
  /** Starts the blob files of one job; new file ids come from `nextId`. */
  newWriter(nextId: () => number): BlobWriter;
  /**
   * The value `handle` stands for (a copy the caller may keep). A blob that fails its checksum, or a
   * handle that points outside its file, throws `LsmError` `CORRUPTION` naming the blob file.
   */
  read(key: Uint8Array, handle: Uint8Array): Uint8Array;
  /** The uncompressed length of the value behind `handle`, without reading it. */
  valueSize(handle: Uint8Array): number;
  /** Which file `handle` points into, and how many bytes it accounts for there. */
  reference(handle: Uint8Array): BlobReference;
  /**
   * Describes the existing blob file `id` (recovery compares it with the version's record). Throws
   * `CORRUPTION` naming the file when it is torn or damaged, `ENOENT` (fs error) when it is missing.
   */
  describe(id: number): BlobFileInfo;
  /** Checks every record of blob file `id` (for `verify()`); throws `CORRUPTION` naming it. */
  verifyFile(id: number): void;
  /** Blob file `id` was deleted: forget what is cached of it. */
  forget(id: number): void;
  /** The tree is closing: release every open file. */
  close(): void;
}
