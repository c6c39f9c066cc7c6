/**
 * Whole-file reads and durable exclusive writes through an {@link Fs}, shared by the version file and
 * the `current` pointer.
 *
 * @module
 */
import { hasCode, type Fs, type FsFile } from "@talus/fs";
import { corruption } from "../errors.ts";
import { runBlocking, type DurableSteps } from "./durable-steps.ts";

/**
 * Joins a directory and a file name with `/`, which every backend accepts (StdFs on Windows too), so
 * that MemFs and CrashFs paths look the same as disk paths in tests.
 */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") || dir.endsWith("\\") ? `${dir}${name}` : `${dir}/${name}`;
}

/**
 * Reads all of `path`. A file longer than `maxBytes` is reported as corrupt without being read, so a
 * damaged or foreign file cannot make us allocate its size.
 */
export function readWholeFile(fs: Fs, path: string, maxBytes = Number.MAX_SAFE_INTEGER): Uint8Array {
  const file = fs.open(path, { read: true });
  try {
    const length = file.len();
    if (length > maxBytes) throw corruption(path, `${length} bytes, at most ${maxBytes} expected`);
    const buffer = new Uint8Array(length);
    const read = file.readAt(buffer, 0);
    // A file that shrank under us reads short; the decoder reports the truncation.
    return read === length ? buffer : buffer.subarray(0, read);
  } finally {
    file.close();
  }
}

/**
 * Creates `path` exclusively and makes `bytes` durable in it: open(createNew), write, sync, close. On a
 * failure after the file was created, the partial file is removed (best effort) before the error is
 * rethrown; a failed create (e.g. `EEXIST`) leaves whatever was there alone, since it is not ours.
 * The directory entry is not synced here: the caller decides when the name must be durable.
 */
export function writeNewFile(fs: Fs, path: string, bytes: Uint8Array): void {
  runBlocking(fs, writeNewFileSteps(fs, path, bytes));
}

/** {@link writeNewFile} as durable steps (see ./durable-steps.ts). */
export function* writeNewFileSteps(fs: Fs, path: string, bytes: Uint8Array): DurableSteps<void> {
  const file = fs.open(path, { write: true, createNew: true });
  try {
    file.write(bytes);
    yield { file };
  } catch (error) {
    closeQuietly(file);
    removeQuietly(fs, path);
    throw error;
  }
  try {
    file.close();
  } catch (error) {
    removeQuietly(fs, path);
    throw error;
  }
}

/** Removes a file, ignoring every error: used on paths that are already failing. */
export function removeQuietly(fs: Fs, path: string): void {
  try {
    fs.removeFile(path);
  } catch {
    // Best effort: whatever is left (a version file, an orphan table) is garbage the next open removes.
  }
}

/** Removes a file; a missing file is fine (someone else already removed it). */
export function removeIfExists(fs: Fs, path: string): boolean {
  try {
    fs.removeFile(path);
    return true;
  } catch (error) {
    if (hasCode(error, "ENOENT")) return false;
    throw error;
  }
}

function closeQuietly(file: FsFile): void {
  try {
    file.close();
  } catch {
    // The write already failed; that error is the one worth reporting.
  }
}
