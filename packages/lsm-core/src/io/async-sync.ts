/**
 * Syncs that keep the event loop free when the filesystem can: the optional `FsFile.syncAsync` and
 * `Fs.syncDirectoryAsync` (StdFs runs them on libuv's threadpool) when offered, the blocking ones
 * otherwise. Either way the caller awaits, so the code path (and its interleaving with other jobs) is
 * the same on every backend, and a wrapper that intercepts syncs without offering the async form
 * (FaultFs, CrashFs) still sees every one of them.
 *
 * @module
 */
import type { Fs, FsFile } from "@talus/fs";

/** `file.syncAsync()` when offered, else `file.sync()` now; failures reject either way. */
export function syncFile(file: FsFile): Promise<void> {
  if (file.syncAsync !== undefined) return file.syncAsync();
  try {
    file.sync();
  } catch (error) {
    return Promise.reject(error);
  }
  return Promise.resolve();
}

/** `fs.syncDirectoryAsync(path)` when offered, else `fs.syncDirectory(path)` now; failures reject either way. */
export function syncDirectory(fs: Fs, path: string): Promise<void> {
  if (fs.syncDirectoryAsync !== undefined) return fs.syncDirectoryAsync(path);
  try {
    fs.syncDirectory(path);
  } catch (error) {
    return Promise.reject(error);
  }
  return Promise.resolve();
}
