/**
 * `@talus/vlog`: key-value separation for Talus. Large values live in append-only blob files; the LSM
 * tree keeps a small {@link BlobHandle} per value (a table entry of kind `Indirection`).
 *
 * - {@link encodeBlobHandle} / {@link decodeBlobHandle}: the handle as a table stores it.
 *
 * The format is specified in docs/FORMAT.md ("Blob files and value handles").
 *
 * @module
 */
export type { BlobCodecName } from "./blob-file/codecs.ts";
export { BLOB_FOOTER_TAIL_SIZE, type BlobFileMeta } from "./blob-file/footer.ts";
export { BLOB_FILE_HEADER_SIZE, BLOB_FORMAT_VERSION, BLOB_MAGIC, MAX_BLOB_KEY_BYTES, MAX_BLOB_VALUE_BYTES, RECORD_HEADER_SIZE } from "./blob-file/format.ts";
export { checkBlobHandle, decodeBlobHandle, encodeBlobHandle, MAX_BLOB_HANDLE_BYTES, type BlobHandle } from "./handle.ts";
