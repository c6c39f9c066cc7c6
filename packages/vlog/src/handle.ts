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
  const fields = [handle.blobFileId, handle.offset, handle.storedSize, handle.uncompressedSize];
  const out = new Uint8Array(fields.reduce((sum, field) => sum + varintLength(field), 0));
  let at = 0;
  for (const field of fields) at = putVarint(out, at, field);
  return out;
}

/**
 * Decodes the handle in `bytes` (all of them). Malformed bytes (a truncated or overlong varint, bytes
 * left over, sizes out of range) throw `LsmError` code `CORRUPTION`; `where` (say, the table and key
 * the handle was read from) goes into its message.
 *
 * @example
 * ```ts
 * decodeBlobHandle(Uint8Array.of(3, 12, 100, 100)); // { blobFileId: 3, offset: 12, storedSize: 100, uncompressedSize: 100 }
 * decodeBlobHandle(Uint8Array.of(3, 12, 100), "table 9"); // throws LsmError CORRUPTION: "corrupt blob handle (table 9): ..."
 * ```
 */
export function decodeBlobHandle(bytes: Uint8Array, where?: string): BlobHandle {
  const fail = (what: string): LsmError => new LsmError("CORRUPTION", `corrupt blob handle${where === undefined ? "" : ` (${where})`}: ${what}`);
  if (bytes.length > MAX_BLOB_HANDLE_BYTES) throw fail(`${bytes.length} bytes, at most ${MAX_BLOB_HANDLE_BYTES}`);
  const fields: number[] = [];
  let at = 0;
  for (let i = 0; i < 4; i++) {
    const decoded = getVarint(bytes, at);
    if (typeof decoded === "string") throw fail(decoded);
    fields.push(decoded.value);
    at = decoded.next;
  }
  if (at !== bytes.length) throw fail(`${bytes.length - at} bytes after the last field`);
  const [blobFileId, offset, storedSize, uncompressedSize] = fields as [number, number, number, number];
  const handle: BlobHandle = { blobFileId, offset, storedSize, uncompressedSize };
  const problem = handleProblem(handle);
  if (problem !== undefined) throw fail(problem);
  return handle;
}

/** Throws `RangeError` unless `handle` is one a reader would accept (the rules of {@link decodeBlobHandle}). */
export function checkBlobHandle(handle: BlobHandle): void {
  const fields = { blobFileId: handle.blobFileId, offset: handle.offset, storedSize: handle.storedSize, uncompressedSize: handle.uncompressedSize };
  for (const [name, value] of Object.entries(fields)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`blob handle ${name} must be a non-negative safe integer, got ${String(value)}`);
  }
  const problem = handleProblem(handle);
  if (problem !== undefined) throw new RangeError(`invalid blob handle: ${problem}`);
}

/** What is wrong with a handle of integer fields, or undefined. */
function handleProblem(handle: BlobHandle): string | undefined {
  if (handle.offset < BLOB_FILE_HEADER_SIZE) return `offset ${handle.offset} lies inside the file header`;
  if (handle.uncompressedSize > MAX_BLOB_VALUE_BYTES) return `uncompressed size ${handle.uncompressedSize} exceeds ${MAX_BLOB_VALUE_BYTES}`;
  if (handle.storedSize > handle.uncompressedSize) return `stored size ${handle.storedSize} exceeds uncompressed size ${handle.uncompressedSize}`;
  return undefined;
}
