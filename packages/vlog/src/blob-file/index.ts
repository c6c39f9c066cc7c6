/**
 * Blob files: append-only files of large values, each record checksummed, with a footer that makes a
 * file whole. Format: ./format.ts and docs/FORMAT.md.
 *
 * @module
 */
export { BlobFile, type BlobFileOpenOptions, type BlobRecord } from "./blob-reader.ts";
export { BlobFileWriter, type BlobFileWriterOptions, type StoredBlob } from "./blob-writer.ts";
export type { BlobCodecName } from "./codecs.ts";
export { BLOB_FOOTER_TAIL_SIZE, type BlobFileMeta } from "./footer.ts";
export { BLOB_FILE_HEADER_SIZE, BLOB_FORMAT_VERSION, BLOB_MAGIC, MAX_BLOB_KEY_BYTES, MAX_BLOB_VALUE_BYTES, RECORD_HEADER_SIZE } from "./format.ts";
export { blobFilePath, DEFAULT_BLOB_FILE_SIZE, RotatingBlobWriter, type RotatingBlobWriterOptions } from "./rotating-writer.ts";
