import type { Fs, FsFile } from "./types.ts";

/** Bytes moved per read/write while copying: large enough to amortise calls, small enough to stay in cache. */
export const COPY_CHUNK_BYTES = 64 * 1024;

/**
 * Copies the file `src` of `from` to the new file `dst` of `to` and makes the copy durable.
 *
 * `dst` is created exclusively (`EEXIST` if it exists, which is never overwritten), written in
 * {@link COPY_CHUNK_BYTES} chunks and synced before this returns. If anything fails after `dst` was
 * created, the partial copy is removed, so a failed copy leaves no file that looks complete.
 * This is the fallback of `hardLink` across devices and the copy path of cross-backend checkpoints.
 *
 * @returns the number of bytes copied.
 * @example
 * ```ts
 * import { MemFs, StdFs, copyFileAcross } from "@talus/fs";
 * const mem = new MemFs();
 * mem.open("/a", { write: true, create: true }).close();
 * copyFileAcross(mem, "/a", new MemFs(), "/a"); // 0 bytes, durable
 * ```
 */
export function copyFileAcross(from: Fs, src: string, to: Fs, dst: string): number {
  const input = from.open(src, { read: true });
  let output: FsFile | undefined;
  try {
    output = to.open(dst, { write: true, createNew: true });
    const chunk = new Uint8Array(COPY_CHUNK_BYTES);
    let position = 0;
    for (;;) {
      const n = input.readAt(chunk, position);
      if (n === 0) break;
      output.write(n === chunk.length ? chunk : chunk.subarray(0, n));
      position += n;
      if (n < chunk.length) break;
    }
    output.sync();
    output.close();
    output = undefined;
    return position;
  } catch (error) {
    if (output !== undefined) {
      try {
        output.close();
      } catch {
        // The copy already failed; that error is the one worth reporting.
      }
      removeQuietly(to, dst);
    }
    throw error;
  } finally {
    input.close();
  }
}

function removeQuietly(fs: Fs, path: string): void {
  try {
    fs.removeFile(path);
  } catch {
    // Best effort: the caller is already propagating the error that made the copy fail.
  }
}
