/**
 * How every block of a table sits in the file (data, filter, index, meta and metaindex blocks alike):
 *
 * ```
 * +---------------------------+-----------+-------------+
 * | payload (size bytes)      | codec: u8 | crc32: u32  |      trailer = 1 + 4 = 5 bytes
 * +---------------------------+-----------+-------------+
 *
 * payload, codec 0       := the block contents as is
 * payload, codec 1..255  := decoded length: varint | compressed contents
 * crc32                  := mask(CRC-32 (IEEE) of payload ‖ codec byte), little-endian
 * mask(c)                := ((c >>> 15) | (c << 17)) + 0xa282ead8  (mod 2^32, as LevelDB)
 * ```
 *
 * Why masked: CRC-32 of a message followed by its own CRC is a constant, so an unmasked block would add
 * the same to the file checksum (computed over whole blocks) whatever its contents, and the file checksum
 * could not catch a block that was replaced together with a matching CRC. Masking breaks that identity.
 *
 * A handle `(offset, size)` points at the payload; the trailer follows it. The CRC covers the codec byte
 * so a flipped codec cannot send good bytes through the wrong decompressor. Invariant (enforced by
 * {@link appendBlock}): a block is stored compressed only when that makes it strictly smaller.
 *
 * @module
 */
import type { FsFile } from "@talus/fs";
import { ByteReader, DecodeError } from "../coding/byte-reader.ts";
import { varintLength, type ByteWriter } from "../coding/byte-writer.ts";
import { checksum } from "../coding/checksum.ts";
import { corruption, LsmError } from "../errors.ts";
import { codecById, type CompressionCodec } from "./codec.ts";
import { BLOCK_TRAILER_SIZE, MAX_BLOCK_BYTES, type BlockHandle } from "./format.ts";

/**
 * Appends `contents` as one framed block (compressed with `codec` when that saves space) and returns the
 * payload size for its handle.
 */
export function appendBlock(out: ByteWriter, contents: Uint8Array, codec: CompressionCodec): number {
  if (contents.length > MAX_BLOCK_BYTES) throw new RangeError(`a block of ${contents.length} bytes exceeds the limit of ${MAX_BLOCK_BYTES}`);
  const start = out.length;
  let codecId = 0;
  if (codec.id !== 0 && contents.length > 0) {
    const packed = codec.compress(contents);
    if (varintLength(contents.length) + packed.length < contents.length) {
      out.varint(contents.length).raw(packed);
      codecId = codec.id;
    }
  }
  if (codecId === 0) out.raw(contents);
  const size = out.length - start;
  out.u8(codecId);
  out.u32(maskChecksum(checksum(out.bytes().subarray(start))));
  return size;
}

/** The stored form of a block CRC (see the layout above). */
export function maskChecksum(crc: number): number {
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/**
 * Checks and decodes one framed block (`framed` = payload ‖ trailer, as read from the file) into its
 * contents: a view of `framed` when stored uncompressed, else a fresh buffer. `what` and `offset` name the
 * block in errors.
 */
export function decodeBlock(framed: Uint8Array, file: string, offset: number, what: string, verified = false): Uint8Array {
  const where = `${what} block at offset ${offset}`;
  if (framed.length < BLOCK_TRAILER_SIZE) throw corruption(file, `${where}: ${framed.length} bytes cannot hold a block trailer`);
  const size = framed.length - BLOCK_TRAILER_SIZE;
  const codecId = framed[size] as number;
  const stored =
    ((framed[size + 1] as number) | ((framed[size + 2] as number) << 8) | ((framed[size + 3] as number) << 16) | ((framed[size + 4] as number) << 24)) >>>
    0;
  // `verified`: these very bytes (a memory-mapped immutable file) passed this check before.
  if (!verified && maskChecksum(checksum(framed.subarray(0, size + 1))) !== stored) throw corruption(file, `${where}: checksum mismatch`);
  if (codecId === 0) return framed.subarray(0, size);
  const codec = codecById(codecId);
  if (codec === undefined) {
    throw new LsmError("UNSUPPORTED_FORMAT", `file ${file}: ${where} uses compression codec ${codecId}, which is not registered`);
  }
  let rawLength: number;
  let packed: Uint8Array;
  try {
    const reader = new ByteReader(framed, 0, size);
    rawLength = reader.varint();
    packed = framed.subarray(reader.position, size);
  } catch (error) {
    if (error instanceof DecodeError) throw corruption(file, `${where}: bad length prefix (${error.message})`);
    throw error;
  }
  if (rawLength > MAX_BLOCK_BYTES) throw corruption(file, `${where}: decoded length ${rawLength} exceeds ${MAX_BLOCK_BYTES}`);
  let contents: Uint8Array;
  try {
    contents = codec.decompress(packed, rawLength);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new LsmError("CORRUPTION", `corrupt file ${file}: ${where}: ${codec.name} decode failed (${detail})`, { cause: error });
  }
  if (contents.length !== rawLength) throw corruption(file, `${where}: decoded ${contents.length} bytes, expected ${rawLength}`);
  return contents;
}

/** Reads `length` bytes at `position` or throws CORRUPTION (the file ends too early). */
export function readExactly(file: FsFile, path: string, position: number, length: number, what: string): Uint8Array {
  const buffer = new Uint8Array(length);
  const n = file.readAt(buffer, position);
  if (n !== length) throw corruption(path, `${what} at offset ${position} is truncated (read ${n} of ${length} bytes)`);
  return buffer;
}

/** Reads, checks and decodes the block at `handle`. */
export function readBlockAt(file: FsFile, path: string, handle: BlockHandle, what: string): Uint8Array {
  return decodeBlock(readExactly(file, path, handle.offset, handle.size + BLOCK_TRAILER_SIZE, `${what} block`), path, handle.offset, what);
}
