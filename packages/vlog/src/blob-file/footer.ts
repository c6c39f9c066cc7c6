/**
 * The footer of a blob file: its properties, then a fixed-size tail at the very end of the file.
 *
 * ```
 * properties (P bytes):
 *   offset size  field
 *    0     8     blob file id: u64
 *    8     8     record count: u64           >= 1
 *   16     8     uncompressed bytes: u64     sum of the records' value lengths
 *   24     8     stored bytes: u64           sum of their stored lengths (<= uncompressed bytes)
 *   32     8     created at: u64             milliseconds since the Unix epoch
 *   40     4     file checksum: u32          CRC-32 of the file header and each record header, in order
 *   44     1     codec: u8                   the codec the writer tried on every value (0 none, 1 lz4)
 *   45     2     min key length m: u16       1..65535
 *   47     m     min key                     the smallest key of the file, bytewise
 *   47+m   2     max key length n: u16       1..65535
 *   49+m   n     max key                     the largest key, bytewise
 *   49+m+n       P
 *
 * tail (20 bytes):
 *    0     4     properties length P: u32
 *    4     4     footer CRC: u32             CRC-32 of properties ‖ tail [0, 4) ‖ tail [8, 20)
 *    8     4     format version: u32         = 1
 *   12     8     magic "TALUSBLB"
 *   20           BLOB_FOOTER_TAIL_SIZE
 * ```
 *
 * A writer appends the footer last, after the last record, and only then syncs: a file without a valid
 * footer is *torn* (its writer never finished) and is refused whole, because nothing before the footer
 * says where the records end. The tail's last 16 bytes (footer CRC, version, magic) keep their place in
 * every future version, so a reader can tell a file it cannot read (`UNSUPPORTED_FORMAT`) from a
 * damaged or torn one (`CORRUPTION`).
 *
 * The file checksum is what a version file records for the blob file (lsm-core's `BlobFileRecord`).
 * It leaves the footer out because the footer holds it (and a CRC over data followed by its own CRC is
 * the same constant for every file); the footer has its own CRC.
 *
 * @module
 */
import { BYTEWISE_COMPARATOR, LsmError } from "@talus/lsm-core";
import { checksum } from "../coding/checksum.ts";
import { blobCorruption } from "../errors.ts";
import { blobCodecName, type BlobCodecName } from "./codecs.ts";
import { BLOB_FILE_HEADER_SIZE, BLOB_FORMAT_VERSION, BLOB_MAGIC, isBlobMagicAt, MAX_BLOB_KEY_BYTES, RECORD_HEADER_SIZE } from "./format.ts";

/** Bytes of the fixed-size tail at the end of every blob file. */
export const BLOB_FOOTER_TAIL_SIZE = 20;

/** Properties without their two keys. */
const FIXED_PROPERTIES_SIZE = 49;
const MAX_PROPERTIES_SIZE = FIXED_PROPERTIES_SIZE + 2 * MAX_BLOB_KEY_BYTES;
/** The smallest record: a header and a one-byte key, with an empty value. */
const MIN_RECORD_SIZE = RECORD_HEADER_SIZE + 1;

/**
 * What a finished blob file says about itself, from its footer.
 *
 * @example
 * ```ts
 * const meta = writer.finish();
 * console.log(`blob file ${meta.id}: ${meta.recordCount} values, ${meta.storedBytes} of ${meta.uncompressedBytes} bytes stored`);
 * ```
 */
export interface BlobFileMeta {
  /** The blob file id the writer was given. */
  readonly id: number;
  /** The format version the file was written in ({@link BLOB_FORMAT_VERSION} for this build). */
  readonly formatVersion: number;
  /** Length of the file in bytes, footer included. */
  readonly fileSize: number;
  /** CRC-32 of the file's bytes before the footer (what a version file records for it). */
  readonly fileChecksum: number;
  /** Records (values) in the file. */
  readonly recordCount: number;
  /** Sum of the value lengths, as the caller wrote them. */
  readonly uncompressedBytes: number;
  /** Sum of the stored value lengths (compressed where that saved space); keys and headers not counted. */
  readonly storedBytes: number;
  /** The smallest key in the file, bytewise. */
  readonly minKey: Uint8Array;
  /** The largest key in the file, bytewise. */
  readonly maxKey: Uint8Array;
  /** The codec the writer tried on every value. */
  readonly codec: BlobCodecName;
  /** Milliseconds since the Unix epoch. */
  readonly createdAtMs: number;
}

/** Encodes the footer (properties and tail) of a file described by `meta` (size and version aside). */
export function encodeBlobFooter(meta: Omit<BlobFileMeta, "fileSize" | "formatVersion">, codecId: number): Uint8Array {
  const propertiesSize = FIXED_PROPERTIES_SIZE + meta.minKey.length + meta.maxKey.length;
  const out = new Uint8Array(propertiesSize + BLOB_FOOTER_TAIL_SIZE);
  const view = new DataView(out.buffer);
  const u64 = (at: number, value: number): void => {
    view.setUint32(at, value % 0x1_0000_0000, true);
    view.setUint32(at + 4, Math.floor(value / 0x1_0000_0000), true);
  };
  u64(0, meta.id);
  u64(8, meta.recordCount);
  u64(16, meta.uncompressedBytes);
  u64(24, meta.storedBytes);
  u64(32, meta.createdAtMs);
  view.setUint32(40, meta.fileChecksum, true);
  view.setUint8(44, codecId);
  view.setUint16(45, meta.minKey.length, true);
  out.set(meta.minKey, 47);
  const maxAt = 47 + meta.minKey.length;
  view.setUint16(maxAt, meta.maxKey.length, true);
  out.set(meta.maxKey, maxAt + 2);
  view.setUint32(propertiesSize, propertiesSize, true);
  view.setUint32(propertiesSize + 8, BLOB_FORMAT_VERSION, true);
  out.set(BLOB_MAGIC, propertiesSize + 12);
  view.setUint32(propertiesSize + 4, footerChecksum(out, propertiesSize), true);
  return out;
}

/**
 * Checks the tail (the last 20 bytes of a file of `fileSize` bytes) and returns the length of the
 * properties before it. CORRUPTION for a torn or damaged file, UNSUPPORTED_FORMAT for another version.
 */
export function decodeBlobFooterTail(tail: Uint8Array, fileSize: number, path: string): number {
  if (fileSize < BLOB_FILE_HEADER_SIZE + BLOB_FOOTER_TAIL_SIZE || tail.length !== BLOB_FOOTER_TAIL_SIZE) {
    throw blobCorruption(path, `${fileSize} bytes cannot hold a blob file (torn: its writer never finished)`);
  }
  if (!isBlobMagicAt(tail, 12)) throw blobCorruption(path, "no footer magic at the end of the file (torn: its writer never finished, or truncated)");
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  const version = view.getUint32(8, true);
  if (version !== BLOB_FORMAT_VERSION) {
    throw new LsmError("UNSUPPORTED_FORMAT", `blob file ${path}: format version ${version}; this build reads version ${BLOB_FORMAT_VERSION}`);
  }
  const propertiesSize = view.getUint32(0, true);
  const room = fileSize - BLOB_FOOTER_TAIL_SIZE - BLOB_FILE_HEADER_SIZE - MIN_RECORD_SIZE;
  if (propertiesSize < FIXED_PROPERTIES_SIZE + 2 || propertiesSize > MAX_PROPERTIES_SIZE || propertiesSize > room) {
    throw blobCorruption(path, `footer: properties length ${propertiesSize} does not fit a file of ${fileSize} bytes`);
  }
  return propertiesSize;
}

/**
 * Decodes the footer (`footer` = properties ‖ tail, the file's last bytes, the tail already accepted by
 * {@link decodeBlobFooterTail}) of the file `path` of `fileSize` bytes: checks its CRC and that every
 * property is consistent with the file. Returns the file's metadata.
 */
export function decodeBlobFooter(footer: Uint8Array, fileSize: number, path: string): BlobFileMeta {
  const propertiesSize = footer.length - BLOB_FOOTER_TAIL_SIZE;
  const view = new DataView(footer.buffer, footer.byteOffset, footer.byteLength);
  if (propertiesSize < FIXED_PROPERTIES_SIZE + 2 || view.getUint32(propertiesSize, true) !== propertiesSize) {
    throw blobCorruption(path, "footer: properties length does not match the tail");
  }
  if (view.getUint32(propertiesSize + 4, true) !== footerChecksum(footer, propertiesSize)) throw blobCorruption(path, "footer checksum mismatch");
  const u64 = (at: number, name: string): number => {
    const high = view.getUint32(at + 4, true);
    if (high > 0x1f_ffff) throw blobCorruption(path, `footer: ${name} exceeds 2^53`);
    return high * 0x1_0000_0000 + view.getUint32(at, true);
  };
  const minLength = view.getUint16(45, true);
  const maxAt = 47 + minLength;
  if (maxAt + 2 > propertiesSize) throw blobCorruption(path, `footer: min key length ${minLength} runs past the properties`);
  const maxLength = view.getUint16(maxAt, true);
  if (minLength === 0 || maxLength === 0 || FIXED_PROPERTIES_SIZE + minLength + maxLength !== propertiesSize) {
    throw blobCorruption(path, `footer: key lengths ${minLength} and ${maxLength} do not fill properties of ${propertiesSize} bytes`);
  }
  const codecId = view.getUint8(44);
  const codec = blobCodecName(codecId);
  if (codec === undefined) {
    throw new LsmError("UNSUPPORTED_FORMAT", `blob file ${path}: compression codec ${codecId} is not one blob files support`);
  }
  const meta: BlobFileMeta = {
    id: u64(0, "blob file id"),
    formatVersion: BLOB_FORMAT_VERSION,
    fileSize,
    fileChecksum: view.getUint32(40, true),
    recordCount: u64(8, "record count"),
    uncompressedBytes: u64(16, "uncompressed bytes"),
    storedBytes: u64(24, "stored bytes"),
    minKey: footer.slice(47, maxAt),
    maxKey: footer.slice(maxAt + 2, maxAt + 2 + maxLength),
    codec,
    createdAtMs: u64(32, "created at"),
  };
  const records = blobFooterOffset(meta.fileSize, propertiesSize) - BLOB_FILE_HEADER_SIZE;
  if (meta.recordCount < 1 || meta.recordCount * MIN_RECORD_SIZE + meta.storedBytes > records) {
    throw blobCorruption(path, `footer: ${meta.recordCount} records of ${meta.storedBytes} stored bytes do not fit in ${records} bytes`);
  }
  if (meta.storedBytes > meta.uncompressedBytes) throw blobCorruption(path, `footer: stored bytes ${meta.storedBytes} exceed uncompressed bytes ${meta.uncompressedBytes}`);
  if (BYTEWISE_COMPARATOR.compare(meta.minKey, meta.maxKey) > 0) throw blobCorruption(path, "footer: min key sorts after max key");
  return meta;
}

/** Where the footer of a file of `fileSize` bytes with `propertiesSize` bytes of properties starts. */
export function blobFooterOffset(fileSize: number, propertiesSize: number): number {
  return fileSize - BLOB_FOOTER_TAIL_SIZE - propertiesSize;
}

/** The footer CRC of `footer` = properties ‖ tail: everything but the CRC field itself. */
function footerChecksum(footer: Uint8Array, propertiesSize: number): number {
  const beforeField = checksum(footer.subarray(0, propertiesSize + 4));
  return checksum(footer.subarray(propertiesSize + 8), beforeField);
}
