/**
 * `@talus/vlog`: key-value separation for Talus. Large values live in append-only blob files; the LSM
 * tree keeps a small {@link BlobHandle} per value (a table entry of kind `Indirection`).
 *
 * - {@link BlobFileWriter} writes one blob file; {@link RotatingBlobWriter} writes as many as a stream
 *   of values needs, rotating at a target size.
 * - {@link BlobFile} reads values by handle, scans records for garbage collection and verifies a file.
 * - {@link encodeBlobHandle} / {@link decodeBlobHandle}: the handle as a table stores it.
 *
 * The format is specified in docs/FORMAT.md ("Blob files and value handles").
 *
 * @module
 */
export {
  BLOB_FILE_HEADER_SIZE,
  BLOB_FOOTER_TAIL_SIZE,
  BLOB_FORMAT_VERSION,
  BLOB_MAGIC,
  BlobFile,
  blobFilePath,
  BlobFileWriter,
  DEFAULT_BLOB_FILE_SIZE,
  MAX_BLOB_KEY_BYTES,
  MAX_BLOB_VALUE_BYTES,
  RECORD_HEADER_SIZE,
  RotatingBlobWriter,
  type BlobCodecName,
  type BlobFileMeta,
  type BlobFileOpenOptions,
  type BlobFileWriterOptions,
  type BlobRecord,
  type RotatingBlobWriterOptions,
  type StoredBlob,
} from "./blob-file/index.ts";
export { checkBlobHandle, decodeBlobHandle, encodeBlobHandle, MAX_BLOB_HANDLE_BYTES, type BlobHandle } from "./handle.ts";
export { BlobTree, type BlobTreeOptions } from "./blob-tree/blob-tree.ts";
export { BlobValueLog, MAX_OPEN_BLOB_FILES } from "./blob-tree/blob-value-log.ts";
export { DEFAULT_AGE_CUTOFF, DEFAULT_SEPARATION_THRESHOLD, DEFAULT_STALENESS_THRESHOLD, type KvSeparationOptions } from "./blob-tree/options.ts";
/**
 * {@link KvSeparationOptions} with every default filled in: what a {@link BlobValueLog} runs with.
 *
 * @property separationThreshold - Values of at least this many bytes go to blob files.
 * @property fileTargetSize - A blob file is finished once it reaches this size.
 * @property stalenessThreshold - Garbage fraction of value bytes at which a blob file is stale.
 * @property ageCutoff - The oldest fraction of a compaction's stale candidates it relocates.
 * @property compression - Blob value compression.
 */
export type { ResolvedKvSeparation } from "./blob-tree/options.ts";
