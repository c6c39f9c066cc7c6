import * as nodeFs from "node:fs";
import { join } from "node:path";
import { KERNEL_BACKEND_ID } from "../backend-id.ts";
import { copyFileAcross } from "../copy.ts";
import { fsError, hasCode } from "../errors.ts";
import { openFlags, validateOpenOptions } from "../open-options.ts";
import type { Fs, FsDirEntry, FsFile, FsLock, FsMetadata, FsOpenOptions, FsReadRequest, FsThreadShare } from "../types.ts";
import { StdFile } from "./std-file.ts";
import { evictFile, isMapAvailable, mapFile } from "./native-map.ts";
import { lockScope, takeFileLock, type LockScope } from "./std-lock.ts";

/**
 * Opens `path` as {@link Fs.open} does (flags validated, mode 0o644, `EISDIR` for a directory) and
 * returns the descriptor: the part of `open` that `StdFs` and `IoUringFs` share.
 */
export function openDescriptor(path: string, options: FsOpenOptions): number {
  validateOpenOptions(path, options);
  const fd = nodeFs.openSync(path, openFlags(options), 0o644);
  try {
    // The kernel lets a directory be opened read-only; no engine file is a directory, so say so early.
    if (nodeFs.fstatSync(fd).isDirectory()) throw fsError("EISDIR", "open", path);
  } catch (error) {
    nodeFs.closeSync(fd);
    throw error;
  }
  return fd;
}

/**
 * The real disk, through node:fs. Files are created with mode 0o644 and directories with 0o755 (less
 * the process umask).
 *
 * @example
 * ```ts
 * import { StdFs } from "@talus/fs";
 * import { mkdtempSync } from "node:fs";
 * import { tmpdir } from "node:os";
 * import { join } from "node:path";
 *
 * const fs = new StdFs();
 * const dir = mkdtempSync(join(tmpdir(), "talus-"));
 * fs.createDir(join(dir, "tables"));
 * console.log(fs.exists(join(dir, "tables"))); // true
 * fs.removeDirAll(dir);
 * ```
 */
export class StdFs implements Fs {
  /**
   * Who {@link tryLock} keeps out here: `"system"` when the `fs-native-extensions` addon loaded (every
   * process on the machine), `"process"` on a platform without its prebuild, where locks fall back to a
   * registry of real paths that only this process sees.
   */
  static lockScope(): LockScope {
    return lockScope();
  }

  open(path: string, options: FsOpenOptions): FsFile {
    return new StdFile(openDescriptor(path, options), options.append === true);
  }

  createDir(path: string): void {
    nodeFs.mkdirSync(path, { mode: 0o755 });
  }

  createDirAll(path: string): void {
    nodeFs.mkdirSync(path, { recursive: true, mode: 0o755 });
  }

  readDir(path: string): FsDirEntry[] {
    return nodeFs.readdirSync(path, { withFileTypes: true }).map((entry) => ({
      path: join(path, entry.name),
      fileName: entry.name,
      isDir: entry.isDirectory(),
    }));
  }

  removeFile(path: string): void {
    nodeFs.unlinkSync(path);
  }

  removeFileAsync(path: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      nodeFs.unlink(path, (error) => {
        if (error === null) resolve();
        else reject(error);
      });
    });
  }

  removeDirAll(path: string): void {
    const stat = nodeFs.statSync(path);
    if (!stat.isDirectory()) throw fsError("ENOTDIR", "rmdir", path);
    nodeFs.rmSync(path, { recursive: true });
  }

  rename(from: string, to: string): void {
    nodeFs.renameSync(from, to);
  }

  exists(path: string): boolean {
    try {
      return nodeFs.statSync(path, { throwIfNoEntry: false }) !== undefined;
    } catch (error) {
      if (hasCode(error, "ENOTDIR")) return false;
      throw error;
    }
  }

  metadata(path: string): FsMetadata {
    const stat = nodeFs.statSync(path);
    return { len: stat.size, isDir: stat.isDirectory(), isFile: stat.isFile() };
  }

  syncDirectory(path: string): void {
    const fd = nodeFs.openSync(path, nodeFs.constants.O_RDONLY | nodeFs.constants.O_DIRECTORY);
    try {
      nodeFs.fsyncSync(fd);
    } finally {
      nodeFs.closeSync(fd);
    }
  }

  syncDirectoryAsync(path: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      nodeFs.open(path, nodeFs.constants.O_RDONLY | nodeFs.constants.O_DIRECTORY, (openError, fd) => {
        if (openError !== null) {
          reject(openError);
          return;
        }
        nodeFs.fsync(fd, (syncError) => {
          nodeFs.close(fd, (closeError) => {
            const error = syncError ?? closeError;
            if (error === null) resolve();
            else reject(error);
          });
        });
      });
    });
  }

  hardLink(src: string, dst: string): void {
    try {
      this.linkFile(src, dst);
    } catch (error) {
      if (!hasCode(error, "EXDEV")) throw error;
      // Different devices cannot share an inode; an independent durable copy is the next best thing.
      copyFileAcross(this, src, this, dst);
    }
  }

  /** Whether {@link mapReadOnly} maps files here (this package's addon loaded), rather than returning `undefined`. */
  static mapsFiles(): boolean {
    return isMapAvailable();
  }

  /**
   * Drops the file's clean pages from the kernel's page cache (`posix_fadvise(POSIX_FADV_DONTNEED)`), so its
   * next reads come from the device: for benchmarks and tests of cold reads, which would otherwise need the
   * root-only `/proc/sys/vm/drop_caches`. Returns false, doing nothing, where this package's addon is not
   * loaded. Pages not yet written back stay cached; the file's contents never change.
   *
   * @example
   * ```ts
   * for (const table of tableFiles) StdFs.evictFromPageCache(table); // the next multiGet reads from disk
   * ```
   */
  static evictFromPageCache(path: string): boolean {
    return evictFile(path);
  }

  /** A memory map of the whole file, through this package's addon; `undefined` without it. See {@link Fs.mapReadOnly}. */
  mapReadOnly(path: string): Uint8Array | undefined {
    return mapFile(path);
  }

  /** The real disk is the same from every thread: a worker imports this module and makes its own `StdFs`. */
  threadShare(): FsThreadShare {
    return { module: import.meta.url, exportName: "StdFs" };
  }

  backendId(): string | undefined {
    return KERNEL_BACKEND_ID;
  }

  readMany(requests: readonly FsReadRequest[]): number[] {
    return requests.map((request) => request.file.readAt(request.buffer, request.position));
  }

  /**
   * An operating-system lock: on Linux an open-file-description lock (`fcntl(F_OFD_SETLK)`), on macOS a
   * `flock`, on Windows `LockFileEx`, through the `fs-native-extensions` addon. It belongs to an open
   * descriptor, so a second `tryLock` of the file in this process is refused as well, and the kernel
   * drops it when the process ends however it ends (SIGKILL included). The descriptor stays open until
   * `release()`. Where the addon has no prebuild ({@link StdFs.lockScope} is `"process"`) only other
   * `tryLock`s of this process are refused (by real path); other processes are not kept out. Locks on
   * network filesystems are as good as the server's.
   */
  tryLock(path: string): FsLock | undefined {
    return takeFileLock(path);
  }

  /** The link(2) call itself; a seam so tests can make it fail with `EXDEV` on a single device. */
  protected linkFile(src: string, dst: string): void {
    nodeFs.linkSync(src, dst);
  }
}
