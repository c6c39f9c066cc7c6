/**
 * The value handle: what a table entry of kind `Indirection` holds instead of a large value. It names
 * one record of one blob file.
 *
 * ```
 * blob handle := blob file id: varint | offset: varint | stored size: varint | uncompressed size: varint
 *
 *   blob file id       the file's id (the file is <tree>/blobs/<id>)
 *   offset             where the record starts in the file (its header), >= 12
 *   stored size        bytes of the stored value (compressed or not), <= uncompressed size
 *   uncompressed size  bytes of the value, <= 256 MiB
 * ```
 *
 * Varints are unsigned LEB128 in their shortest form, at most 8 bytes and 2^53 - 1 (../coding/varint.ts);
 * a handle is 4 to 32 bytes, usually about 10. Nothing may follow the last varint. The sizes are in the
 * handle so that a reader knows how much to read with one positional read, and can tell a value's size
 * (`sizeOf`) and account for space (garbage collection) without touching the blob file at all; the
 * record header repeats them and a reader checks that both agree.
 *
 * @module
 */
import { LsmError } from "@talus/lsm-core";
import { getVarint, putVarint, varintLength } from "./coding/varint.ts";
import { BLOB_FILE_HEADER_SIZE, MAX_BLOB_VALUE_BYTES } from "./blob-file/format.ts";

/**
 * Where a value lives: record `offset` of blob file `blobFileId`.
 *
 * @example
 * ```ts
 * const handle = writer.add(key, seqno, value);           // { blobFileId: 7, offset: 12, storedSize: 812, uncompressedSize: 4096 }
 * const bytes = encodeBlobHandle(handle);                  // the table value of an Indirection entry
 * const value = blobFile.read(decodeBlobHandle(bytes), key);
 * ```
 */
export interface BlobHandle {
  /** The blob file the value lives in. */
  readonly blobFileId: number;
  /** File offset of the record (its header). */
  readonly offset: number;
  /** Bytes of the value as stored (compressed, or as is). */
  readonly storedSize: number;
  /** Bytes of the value. */
  readonly uncompressedSize: number;
}

/** Longest encoded handle: four 8-byte varints. */
export const MAX_BLOB_HANDLE_BYTES = 32;

/**
 * Encodes `handle` for a table entry. Throws `RangeError` for a handle no reader would accept
 * (non-integer or negative fields, sizes out of range, an offset inside the file header).
 *
 * @example
 * ```ts
 * encodeBlobHandle({ blobFileId: 3, offset: 12, storedSize: 100, uncompressedSize: 100 }); // Uint8Array [3, 12, 100, 100]
 * ```
 */
export function encodeBlobHandle(handle: BlobHandle): Uint8Array {
  checkBlobHandle(handle);
  const { blobFileId, offset, storedSize, uncompressedSize } = handle;
  const out = new Uint8Array(varintLength(blobFileId) + varintLength(offset) + varintLength(storedSize) + varintLength(uncompressedSize));
  putVarint(out, putVarint(out, putVarint(out, putVarint(out, 0, blobFileId), offset), storedSize), uncompressedSize);
  return out;
}

/**
 * Decodes a handle, checking it the way a reader must before trusting it: four shortest-form varints
 * and nothing after them, an offset past the file header, sizes within the format's limits. Throws
 * `LsmError` code `CORRUPTION` otherwise (`where` says whose handle it was). Called for every
 * separated entry a compaction carries and every blob read, so it allocates only the result.
 */
export function decodeBlobHandle(bytes: Uint8Array, where?: string): BlobHandle {
  if (bytes.length > MAX_BLOB_HANDLE_BYTES) throw corruptHandle(where, `${bytes.length} bytes, at most ${MAX_BLOB_HANDLE_BYTES}`);
  const blobFileId = fieldAt(bytes, 0, where);
  const offset = fieldAt(bytes, fieldEnd, where);
  const storedSize = fieldAt(bytes, fieldEnd, where);
  const uncompressedSize = fieldAt(bytes, fieldEnd, where);
  if (fieldEnd !== bytes.length) throw corruptHandle(where, `${bytes.length - fieldEnd} bytes after the last field`);
  const handle: BlobHandle = { blobFileId, offset, storedSize, uncompressedSize };
  const problem = handleProblem(handle);
  if (problem !== undefined) throw corruptHandle(where, problem);
  return handle;
}

/** Where the field {@link fieldAt} decoded last ends (module state: decoding is synchronous). */
let fieldEnd = 0;

/** The varint at `at`, setting {@link fieldEnd}; one-byte fields (the common case) take the short path. */
function fieldAt(bytes: Uint8Array, at: number, where: string | undefined): number {
  const first = bytes[at];
  if (first !== undefined && first < 0x80) {
    fieldEnd = at + 1;
    return first;
  }
  const decoded = getVarint(bytes, at);
  if (typeof decoded === "string") throw corruptHandle(where, decoded);
  fieldEnd = decoded.next;
  return decoded.value;
}

function corruptHandle(where: string | undefined, what: string): LsmError {
  return new LsmError("CORRUPTION", `corrupt blob handle${where === undefined ? "" : ` (${where})`}: ${what}`);
}

/** Throws `RangeError` unless `handle` is one a reader would accept (the rules of {@link decodeBlobHandle}). */
export function checkBlobHandle(handle: BlobHandle): void {
  checkField("blobFileId", handle.blobFileId);
  checkField("offset", handle.offset);
  checkField("storedSize", handle.storedSize);
  checkField("uncompressedSize", handle.uncompressedSize);
  const problem = handleProblem(handle);
  if (problem !== undefined) throw new RangeError(`invalid blob handle: ${problem}`);
}

function checkField(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`blob handle ${name} must be a non-negative safe integer, got ${String(value)}`);
}

/** What is wrong with a handle of integer fields, or undefined. */
function handleProblem(handle: BlobHandle): string | undefined {
  if (handle.offset < BLOB_FILE_HEADER_SIZE) return `offset ${handle.offset} lies inside the file header`;
  if (handle.uncompressedSize > MAX_BLOB_VALUE_BYTES) return `uncompressed size ${handle.uncompressedSize} exceeds ${MAX_BLOB_VALUE_BYTES}`;
  if (handle.storedSize > handle.uncompressedSize) return `stored size ${handle.storedSize} exceeds uncompressed size ${handle.uncompressedSize}`;
  return undefined;
}
