/**
 * The blob file format: Talus' own (it shares no bytes with the reference engine's value log). A blob
 * file holds large values out of the LSM tree, appended once and never changed; a table entry of kind
 * `Indirection` holds a {@link BlobHandle} (../handle.ts) pointing at one record. The full specification
 * is docs/FORMAT.md, "Blob files and value handles".
 *
 * ```
 * +-------------+----------+-----+--------------+------------+-----------+
 * | file header | record 0 | ... | record n-1   | properties | tail      |
 * |    12 B     |          |     |              |  (P bytes) |   20 B    |
 * +-------------+----------+-----+--------------+------------+-----------+
 * 0             12                              ^ footer offset = file size - 20 - P
 *                                               \________ footer _________/
 *
 * file header := magic "TALUSBLB" (8 B) | format version: u32 (= 1)
 *
 * record      := record header (28 B) | key (k bytes) | stored value (s bytes)
 *
 *   offset size  field
 *    0     4     header CRC: u32        mask(CRC-32 of header bytes [4, 28))
 *    4     8     seqno: u64             < 2^53
 *   12     2     key length k: u16      1..65535
 *   14     1     codec: u8              0 = value stored as is, else the file's codec (lz4 = 1)
 *   15     1     reserved: u8           = 0
 *   16     4     uncompressed length: u32   <= 256 MiB
 *   20     4     stored length s: u32       = uncompressed when codec 0, else 1..uncompressed-1
 *   24     4     data CRC: u32          mask(CRC-32 of key ‖ stored value)
 *   28           RECORD_HEADER_SIZE
 * ```
 *
 * All integers little-endian; `mask` is LevelDB's CRC mask (../coding/checksum.ts). The footer
 * (properties and tail) is drawn in ./footer.ts.
 *
 * Why the record looks like this:
 * - The header has its own CRC, checked before any length in it is believed, so a scanner walking the
 *   records (garbage collection, `verify()`) detects garbage instead of following a random length, and a
 *   handle pointing into the middle of a record fails on the first 28 bytes.
 * - The header CRC covers the data CRC, so one record is one checksummed chain; the data CRC covers the
 *   *stored* bytes, so a record can be checked, and relocated to another file, without decompressing.
 * - Compression is decided per record: a value is stored compressed with the file's codec only when that
 *   makes it strictly smaller, and the record's codec byte says which happened. Incompressible values (a
 *   media file, already-compressed data) cost nothing, and a record copied from a file with the same
 *   codec keeps its bytes.
 * - The key is in the record so that garbage collection can ask the tree whether the record is still
 *   the live version of its key, and a reader can check that a handle leads to the key it was read for.
 *
 * @module
 */
import { checksum, maskChecksum } from "../coding/checksum.ts";
import { blobCorruption } from "../errors.ts";

/** "TALUSBLB" in ASCII: the first and the last 8 bytes of every blob file. */
export const BLOB_MAGIC: Uint8Array = new Uint8Array([0x54, 0x41, 0x4c, 0x55, 0x53, 0x42, 0x4c, 0x42]);

/** The blob file format this build writes and reads; anything an older reader would misread bumps it. */
export const BLOB_FORMAT_VERSION = 1;

/** magic (8) + format version (4). */
export const BLOB_FILE_HEADER_SIZE = 12;

/** The fixed part of every record, before its key. */
export const RECORD_HEADER_SIZE = 28;

/** Longest key a record holds (its length is a u16). */
export const MAX_BLOB_KEY_BYTES = 65_535;

/**
 * Longest value a blob file stores: 256 MiB (as large as a table block may be). A larger length field
 * can only be corruption, so a reader never allocates more than this for one value.
 */
export const MAX_BLOB_VALUE_BYTES = 256 * 1024 * 1024;

/** What a record header says. */
export interface RecordHeader {
  readonly seqno: number;
  readonly keyLength: number;
  /** 0 when the value is stored as is, else the id of the codec that compressed it. */
  readonly codecId: number;
  readonly uncompressedSize: number;
  readonly storedSize: number;
  /** The masked CRC of key ‖ stored value. */
  readonly dataChecksum: number;
}

/** The file header bytes. */
export function encodeBlobFileHeader(): Uint8Array {
  const out = new Uint8Array(BLOB_FILE_HEADER_SIZE);
  out.set(BLOB_MAGIC, 0);
  new DataView(out.buffer).setUint32(8, BLOB_FORMAT_VERSION, true);
  return out;
}

/** Whether `data[start, start + 8)` is the blob file magic. */
export function isBlobMagicAt(data: Uint8Array, start: number): boolean {
  for (let i = 0; i < BLOB_MAGIC.length; i++) {
    if (data[start + i] !== BLOB_MAGIC[i]) return false;
  }
  return true;
}

/** Checks the 12 header bytes of the file at `path`; CORRUPTION when they are not a v1 blob file header. */
export function checkBlobFileHeader(bytes: Uint8Array, path: string): void {
  if (bytes.length !== BLOB_FILE_HEADER_SIZE || !isBlobMagicAt(bytes, 0)) throw blobCorruption(path, "bad magic in the file header");
  const version = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  // The footer's version was already accepted; a header that disagrees is damage, not another format.
  if (version !== BLOB_FORMAT_VERSION) throw blobCorruption(path, `file header says format version ${version}, the footer ${BLOB_FORMAT_VERSION}`);
}

/** The masked data CRC of a record: over its key, then its stored value bytes. */
export function recordDataChecksum(key: Uint8Array, stored: Uint8Array): number {
  return maskChecksum(checksum(stored, checksum(key)));
}

/** Writes the 28-byte header of `header` into `out[at, at + 28)`. */
export function encodeRecordHeader(header: RecordHeader, out: Uint8Array, at: number): void {
  const view = new DataView(out.buffer, out.byteOffset + at, RECORD_HEADER_SIZE);
  view.setUint32(4, header.seqno % 0x1_0000_0000, true);
  view.setUint32(8, Math.floor(header.seqno / 0x1_0000_0000), true);
  view.setUint16(12, header.keyLength, true);
  view.setUint8(14, header.codecId);
  view.setUint8(15, 0);
  view.setUint32(16, header.uncompressedSize, true);
  view.setUint32(20, header.storedSize, true);
  view.setUint32(24, header.dataChecksum, true);
  view.setUint32(0, headerChecksum(out, at), true);
}

/**
 * Decodes and checks the record header at `bytes[at, at + 28)`, the record at file offset `offset` of
 * the file `path`: its CRC, the reserved byte, and that its lengths obey the format's rules. Every
 * failure is CORRUPTION naming the file and the offset.
 */
export function decodeRecordHeader(bytes: Uint8Array, at: number, path: string, offset: number): RecordHeader {
  const where = `record at offset ${offset}`;
  if (bytes.length - at < RECORD_HEADER_SIZE) throw blobCorruption(path, `${where}: header is truncated`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, RECORD_HEADER_SIZE);
  if (view.getUint32(0, true) !== headerChecksum(bytes, at)) throw blobCorruption(path, `${where}: header checksum mismatch (not a record, or damaged)`);
  const seqnoHigh = view.getUint32(8, true);
  const header: RecordHeader = {
    seqno: seqnoHigh * 0x1_0000_0000 + view.getUint32(4, true),
    keyLength: view.getUint16(12, true),
    codecId: view.getUint8(14),
    uncompressedSize: view.getUint32(16, true),
    storedSize: view.getUint32(20, true),
    dataChecksum: view.getUint32(24, true),
  };
  // Past the CRC these can only be wrong if a writer was: still refused, so a reader never trusts them.
  if (seqnoHigh > 0x1f_ffff) throw blobCorruption(path, `${where}: seqno exceeds 2^53`);
  if (view.getUint8(15) !== 0) throw blobCorruption(path, `${where}: reserved byte is ${view.getUint8(15)}`);
  if (header.keyLength === 0) throw blobCorruption(path, `${where}: empty key`);
  if (header.uncompressedSize > MAX_BLOB_VALUE_BYTES) throw blobCorruption(path, `${where}: value length ${header.uncompressedSize} exceeds ${MAX_BLOB_VALUE_BYTES}`);
  const storedOk = header.codecId === 0 ? header.storedSize === header.uncompressedSize : header.storedSize > 0 && header.storedSize < header.uncompressedSize;
  if (!storedOk) {
    throw blobCorruption(path, `${where}: stored length ${header.storedSize} does not fit codec ${header.codecId} and value length ${header.uncompressedSize}`);
  }
  return header;
}

/** Bytes a record with a key of `keyLength` and `storedSize` stored value bytes takes in the file. */
export function recordSize(keyLength: number, storedSize: number): number {
  return RECORD_HEADER_SIZE + keyLength + storedSize;
}

function headerChecksum(bytes: Uint8Array, at: number): number {
  return maskChecksum(checksum(bytes.subarray(at + 4, at + RECORD_HEADER_SIZE)));
}
