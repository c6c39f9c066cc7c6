/**
 * The footer: the fixed-size record at the end of a table that locates everything else.
 *
 * ```
 * offset size  field
 *   0     8    data end: u64           first byte after the last data block
 *   8     8    filter offset: u64      \  size 0 (and offset 0) = no filter
 *  16     4    filter size: u32        /
 *  20     8    index offset: u64
 *  28     4    index size: u32
 *  32     8    meta offset: u64
 *  40     4    meta size: u32
 *  44     8    metaindex offset: u64
 *  52     4    metaindex size: u32
 *  56     4    file checksum: u32      CRC-32 of every byte before the footer
 *  60     4    footer checksum: u32    CRC-32 of footer bytes [0, 60) ‖ [64, 76)
 *  64     4    format version: u32     = 1
 *  68     8    magic "TALUSSST"
 *  76          FOOTER_SIZE = 8 + 2 * (8 + 4) * 2 + 4 + 4 + 4 + 4 + 8
 * ```
 *
 * All integers little-endian; sizes are payload sizes (each block's 5-byte trailer follows it). The
 * last 16 bytes (footer checksum, format version, magic) keep their place in every future version, so
 * any reader can tell a file it cannot read (UNSUPPORTED_FORMAT) from a damaged one (CORRUPTION).
 *
 * @module
 */
import { ByteWriter } from "../coding/byte-writer.ts";
import { checksum } from "../coding/checksum.ts";
import { corruption, LsmError } from "../errors.ts";
import { BLOCK_TRAILER_SIZE, FILE_HEADER_SIZE, isMagicAt, MAX_BLOCK_BYTES, TABLE_FORMAT_VERSION, TABLE_MAGIC, type BlockHandle } from "./format.ts";

export const FOOTER_SIZE = 8 + 4 * (8 + 4) + 4 + 4 + 4 + 8;

const CHECKSUM_AT = 60;
const VERSION_AT = 64;
const MAGIC_AT = 68;

export interface Footer {
  readonly dataEnd: number;
  readonly filter: BlockHandle | null;
  readonly index: BlockHandle;
  readonly meta: BlockHandle;
  readonly metaindex: BlockHandle;
  readonly fileChecksum: number;
  readonly formatVersion: number;
}

export function encodeFooter(footer: Footer): Uint8Array {
  const out = new ByteWriter(FOOTER_SIZE);
  out.u64(footer.dataEnd);
  out.u64(footer.filter?.offset ?? 0).u32(footer.filter?.size ?? 0);
  for (const handle of [footer.index, footer.meta, footer.metaindex]) out.u64(handle.offset).u32(handle.size);
  out.u32(footer.fileChecksum);
  out.u32(0);
  out.u32(footer.formatVersion);
  out.raw(TABLE_MAGIC);
  const bytes = out.toBytes();
  new DataView(bytes.buffer).setUint32(CHECKSUM_AT, footerChecksum(bytes), true);
  return bytes;
}

/** Decodes and validates the footer `bytes` of a file of `fileSize` bytes named `file`. */
export function decodeFooter(bytes: Uint8Array, fileSize: number, file: string): Footer {
  if (bytes.length !== FOOTER_SIZE) throw corruption(file, `footer is ${bytes.length} bytes, expected ${FOOTER_SIZE}`);
  if (!isMagicAt(bytes, MAGIC_AT)) throw corruption(file, "bad magic at the end of the file (not a Talus table, or truncated)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(VERSION_AT, true);
  if (version !== TABLE_FORMAT_VERSION) {
    throw new LsmError("UNSUPPORTED_FORMAT", `file ${file}: table format version ${version}; this build reads version ${TABLE_FORMAT_VERSION}`);
  }
  if (view.getUint32(CHECKSUM_AT, true) !== footerChecksum(bytes)) throw corruption(file, "footer checksum mismatch");
  const u64 = (at: number): number => {
    const high = view.getUint32(at + 4, true);
    if (high > 0x1f_ffff) throw corruption(file, `footer field at ${at} exceeds 2^53`);
    return high * 0x1_0000_0000 + view.getUint32(at, true);
  };
  const footerOffset = fileSize - FOOTER_SIZE;
  const dataEnd = u64(0);
  if (dataEnd <= FILE_HEADER_SIZE || dataEnd > footerOffset) throw corruption(file, `footer: data end ${dataEnd} is outside the file`);
  const handle = (at: number, name: string): BlockHandle => {
    const offset = u64(at);
    const size = view.getUint32(at + 8, true);
    if (offset < dataEnd || size > MAX_BLOCK_BYTES + 16 || offset + size + BLOCK_TRAILER_SIZE > footerOffset) {
      throw corruption(file, `footer: ${name} block (${offset}, ${size}) is outside [${dataEnd}, ${footerOffset})`);
    }
    return { offset, size };
  };
  const filterSize = view.getUint32(16, true);
  const filter = filterSize === 0 && u64(8) === 0 ? null : handle(8, "filter");
  return {
    dataEnd,
    filter,
    index: handle(20, "index"),
    meta: handle(32, "meta"),
    metaindex: handle(44, "metaindex"),
    fileChecksum: view.getUint32(56, true),
    formatVersion: version,
  };
}

function footerChecksum(bytes: Uint8Array): number {
  return checksum(bytes.subarray(VERSION_AT, FOOTER_SIZE), checksum(bytes.subarray(0, CHECKSUM_AT)));
}
