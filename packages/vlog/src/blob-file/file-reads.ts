/**
 * Positional reads of a blob file: exact reads that turn a short read into CORRUPTION naming the file,
 * and a read-ahead window for walking the records in order.
 *
 * @module
 */
import type { FsFile } from "@talus/fs";
import { blobCorruption } from "../errors.ts";

/** Reads `length` bytes at `position` into a fresh buffer, or throws CORRUPTION (the file ends too early). */
export function readExactly(file: FsFile, path: string, position: number, length: number, what: string): Uint8Array {
  const buffer = new Uint8Array(length);
  const n = length === 0 ? 0 : file.readAt(buffer, position);
  if (n !== length) throw blobCorruption(path, `${what} at offset ${position} is truncated (read ${n} of ${length} bytes)`);
  return buffer;
}

/** Bytes read ahead by a {@link ReadAheadWindow}. */
export const READ_AHEAD_BYTES = 1024 * 1024;

/**
 * Serves reads that move forward through a file from one buffer refilled {@link READ_AHEAD_BYTES} at a
 * time, so a scan over small records does one system call per megabyte rather than two per record.
 */
export class ReadAheadWindow {
  readonly #file: FsFile;
  readonly #path: string;
  /** Reads never reach past this offset (the footer). */
  readonly #end: number;
  readonly #buffer: Uint8Array;
  #start = 0;
  #length = 0;

  constructor(file: FsFile, path: string, end: number, windowBytes = READ_AHEAD_BYTES) {
    this.#file = file;
    this.#path = path;
    this.#end = end;
    this.#buffer = new Uint8Array(Math.max(1, Math.min(windowBytes, end)));
  }

  /**
   * The bytes `[position, position + length)` as a view that is valid until the next call. The caller
   * keeps `position + length` at or below the end given to the constructor.
   */
  view(position: number, length: number, what: string): Uint8Array {
    if (position >= this.#start && position + length <= this.#start + this.#length) {
      return this.#buffer.subarray(position - this.#start, position - this.#start + length);
    }
    if (length > this.#buffer.length) return readExactly(this.#file, this.#path, position, length, what);
    const fill = Math.min(this.#buffer.length, this.#end - position);
    const target = this.#buffer.subarray(0, fill);
    const n = this.#file.readAt(target, position);
    if (n !== fill) throw blobCorruption(this.#path, `${what} at offset ${position} is truncated (read ${n} of ${fill} bytes)`);
    this.#start = position;
    this.#length = fill;
    return this.#buffer.subarray(0, length);
  }

  /** The bytes `[position, position + length)` in a fresh buffer the caller owns. */
  copy(position: number, length: number, what: string): Uint8Array {
    if (length > this.#buffer.length) return readExactly(this.#file, this.#path, position, length, what);
    return this.view(position, length, what).slice();
  }
}
