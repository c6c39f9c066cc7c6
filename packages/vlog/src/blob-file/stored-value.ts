/**
 * A value as a record stores it: compressed with the file's codec when that makes it strictly smaller,
 * as is otherwise (docs/FORMAT.md, "Blob files and value handles").
 *
 * @module
 */
import { LsmError, type CompressionCodec } from "@talus/lsm-core";
import { blobCorruption } from "../errors.ts";
import { blobCodecById } from "./codecs.ts";

/** The bytes a record stores for a value, and how. */
export interface StoredValue {
  /** 0: `stored` is the value; else the id of the codec that compressed it. */
  readonly codecId: number;
  /**
   * The stored bytes. When compressed, a view of a buffer the codec reuses on its next call (LZ4 does):
   * write or copy it before compressing anything else.
   */
  readonly stored: Uint8Array;
}

/** Compresses `value` with `codec` when that saves at least one byte; otherwise stores it as is. */
export function encodeStoredValue(value: Uint8Array, codec: CompressionCodec): StoredValue {
  if (codec.id !== 0 && value.length > 0) {
    const packed = codec.compress(value);
    if (packed.length < value.length) return { codecId: codec.id, stored: packed };
  }
  return { codecId: 0, stored: value };
}

/**
 * The value of a record of the file `path` at `offset` whose stored bytes already passed their CRC:
 * `stored` itself when stored as is, else a fresh buffer of exactly `uncompressedSize` bytes. A codec
 * this build does not know is UNSUPPORTED_FORMAT; a failed decode or a wrong length is CORRUPTION.
 */
export function decodeStoredValue(stored: Uint8Array, codecId: number, uncompressedSize: number, path: string, offset: number): Uint8Array {
  if (codecId === 0) return stored;
  const codec = blobCodecById(codecId);
  if (codec === undefined) {
    throw new LsmError("UNSUPPORTED_FORMAT", `blob file ${path}: record at offset ${offset} uses compression codec ${codecId}, which blob files do not support`);
  }
  let value: Uint8Array;
  try {
    value = codec.decompress(stored, uncompressedSize);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw blobCorruption(path, `record at offset ${offset}: ${codec.name} decode failed (${detail})`, error);
  }
  if (value.length !== uncompressedSize) throw blobCorruption(path, `record at offset ${offset}: decoded ${value.length} bytes, expected ${uncompressedSize}`);
  return value;
}
