/**
 * Whole-file reads and writes through an {@link Fs}, for small files (pointers, test fixtures, surgery
 * on a file in a corruption test): everything else streams through handles.
 *
 * @module
 */
import type { Fs } from "./types.ts";

/**
 * Every byte of the file at `path`.
 *
 * @example
 * ```ts
 * import { MemFs, readFileBytes, writeFileBytes } from "@talus/fs";
 * const fs = new MemFs();
 * writeFileBytes(fs, "/a", new Uint8Array([1, 2, 3]));
 * readFileBytes(fs, "/a"); // Uint8Array [1, 2, 3]
 * ```
 */
export function readFileBytes(fs: Fs, path: string): Uint8Array {
  const file = fs.open(path, { read: true });
  try {
    const out = new Uint8Array(file.len());
    const n = file.readAt(out, 0);
    return n === out.length ? out : out.subarray(0, n);
  } finally {
    file.close();
  }
}

/** Makes `bytes` the whole content of `path` (created, or truncated first); `sync` makes it durable. */
export function writeFileBytes(fs: Fs, path: string, bytes: Uint8Array, options: { readonly sync?: boolean } = {}): void {
  const file = fs.open(path, { write: true, create: true, truncate: true });
  try {
    file.write(bytes);
    if (options.sync === true) file.sync();
  } finally {
    file.close();
  }
}
