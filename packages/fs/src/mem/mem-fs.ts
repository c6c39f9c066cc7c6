import { Volume } from "memfs";
import { posix } from "node:path";
import { newMemoryBackendId } from "../backend-id.ts";
import { fsError, hasCode } from "../errors.ts";
import { handleAccess, openFlags, validateOpenOptions } from "../open-options.ts";
import type { Fs, FsDirEntry, FsFile, FsLock, FsMetadata, FsOpenOptions, FsReadRequest } from "../types.ts";
import { MemFile } from "./mem-file.ts";

interface Kind {
  readonly isDir: boolean;
}

/**
 * An in-memory filesystem over a memfs `Volume`, for tests and ephemeral trees.
 *
 * It behaves like {@link StdFs} on Linux wherever the engine could tell: memfs alone would rename a
 * file onto a directory, hard-link or unlink a directory and write through a read-only handle; here
 * each of those fails with the errno Linux gives. Hard links share contents, as on disk. Paths are
 * POSIX; relative ones are taken from `/`. Syncs are no-ops (nothing here survives the process; the
 * power-loss model is testkit's `CrashFs`). Every instance is its own volume with its own `backendId`,
 * so two instances never hard-link into each other.
 *
 * @example
 * ```ts
 * import { MemFs } from "@talus/fs";
 * const fs = new MemFs();
 * fs.createDir("/db");
 * const f = fs.open("/db/a", { read: true, write: true, createNew: true });
 * f.write(new Uint8Array([1, 2, 3]));
 * const out = new Uint8Array(3);
 * f.readAt(out, 0); // 3
 * f.close();
 * ```
 */
export class MemFs implements Fs {
  /** The memfs volume underneath, for tests that want to inspect or seed it directly. */
  readonly volume: Volume;
  readonly #backendId = newMemoryBackendId("memfs");
  /** Paths (resolved) locked through {@link tryLock}: the volume's own, so volumes never see each other's locks. */
  readonly #locks = new Set<string>();

  constructor() {
    this.volume = new Volume();
  }

  open(path: string, options: FsOpenOptions): FsFile {
    validateOpenOptions(path, options);
    const p = resolve(path);
    const kind = this.#kind(p, "open", path);
    // Linux checks O_CREAT|O_EXCL before the file type: an existing directory is EEXIST, not EISDIR.
    if (kind !== undefined && options.createNew === true) throw fsError("EEXIST", "open", path);
    if (kind?.isDir === true) throw fsError("EISDIR", "open", path);
    const fd = this.volume.openSync(p, openFlags(options), 0o644);
    return new MemFile(this.volume, fd, handleAccess(options));
  }

  createDir(path: string): void {
    this.volume.mkdirSync(resolve(path));
  }

  createDirAll(path: string): void {
    const p = resolve(path);
    if (this.#kind(p, "mkdir", path)?.isDir === false) throw fsError("EEXIST", "mkdir", path);
    this.volume.mkdirSync(p, { recursive: true });
  }

  readDir(path: string): FsDirEntry[] {
    return this.volume.readdirSync(resolve(path), { withFileTypes: true }).map((entry) => {
      const dirent = entry as { name: string | Buffer; isDirectory(): boolean };
      const fileName = String(dirent.name);
      return { path: posix.join(path, fileName), fileName, isDir: dirent.isDirectory() };
    });
  }

  removeFile(path: string): void {
    const p = resolve(path);
    if (this.#kind(p, "unlink", path)?.isDir === true) throw fsError("EISDIR", "unlink", path);
    this.volume.unlinkSync(p);
  }

  /** {@link removeFile}, done before returning (nothing in memory is slow to free), as a promise. */
  removeFileAsync(path: string): Promise<void> {
    try {
      this.removeFile(path);
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve();
  }

  removeDirAll(path: string): void {
    const p = resolve(path);
    const kind = this.#kind(p, "rmdir", path);
    if (kind === undefined) throw fsError("ENOENT", "rmdir", path);
    if (!kind.isDir) throw fsError("ENOTDIR", "rmdir", path);
    this.volume.rmSync(p, { recursive: true });
  }

  rename(from: string, to: string): void {
    const source = resolve(from);
    const target = resolve(to);
    const sourceKind = this.#kind(source, "rename", from, to);
    if (sourceKind === undefined) throw fsError("ENOENT", "rename", from, to);
    this.#requireParentDir(target, "rename", from, to);
    // The checks run in the order Linux makes them, so each conflict gets the errno the kernel gives.
    if (sourceKind.isDir && target.startsWith(`${source}/`)) throw fsError("EINVAL", "rename", from, to);
    const targetKind = this.#kind(target, "rename", from, to);
    if (targetKind !== undefined && source !== target) {
      // Two names of one inode: POSIX says rename does nothing and succeeds.
      if (this.volume.statSync(source).ino === this.volume.statSync(target).ino) return;
      if (targetKind.isDir && this.volume.readdirSync(target).length > 0) throw fsError("ENOTEMPTY", "rename", from, to);
      if (!sourceKind.isDir && targetKind.isDir) throw fsError("EISDIR", "rename", from, to);
      if (sourceKind.isDir && !targetKind.isDir) throw fsError("ENOTDIR", "rename", from, to);
    }
    this.volume.renameSync(source, target);
  }

  exists(path: string): boolean {
    try {
      return this.#kind(resolve(path), "stat", path) !== undefined;
    } catch (error) {
      if (hasCode(error, "ENOTDIR")) return false;
      throw error;
    }
  }

  metadata(path: string): FsMetadata {
    const stat = this.volume.statSync(resolve(path));
    return { len: Number(stat.size), isDir: stat.isDirectory(), isFile: stat.isFile() };
  }

  syncDirectory(path: string): void {
    const kind = this.#kind(resolve(path), "open", path);
    if (kind === undefined) throw fsError("ENOENT", "open", path);
    if (!kind.isDir) throw fsError("ENOTDIR", "open", path);
  }

  /** Nothing to wait for in memory: {@link syncDirectory}'s checks, as a promise. */
  syncDirectoryAsync(path: string): Promise<void> {
    try {
      this.syncDirectory(path);
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve();
  }

  hardLink(src: string, dst: string): void {
    const source = resolve(src);
    const target = resolve(dst);
    const sourceKind = this.#kind(source, "link", src, dst);
    if (sourceKind === undefined) throw fsError("ENOENT", "link", src, dst);
    // memfs would hang the new name under a file node (a child nobody can list); Linux says ENOTDIR.
    this.#requireParentDir(target, "link", src, dst);
    if (this.#kind(target, "link", src, dst) !== undefined) throw fsError("EEXIST", "link", src, dst);
    if (sourceKind.isDir) throw fsError("EPERM", "link", src, dst);
    this.volume.linkSync(source, target);
  }

  backendId(): string | undefined {
    return this.#backendId;
  }

  readMany(requests: readonly FsReadRequest[]): number[] {
    return requests.map((request) => request.file.readAt(request.buffer, request.position));
  }

  /**
   * Locks are this volume's: a second `tryLock` of a path while the first is held is refused, on this
   * instance only (another `MemFs` is another machine). The file is created as `open` with `create`
   * would, with its errors. A lock belongs to the path, not to the file under it: the engine never
   * renames or removes a file it locked.
   */
  tryLock(path: string): FsLock | undefined {
    this.open(path, { write: true, create: true }).close();
    const p = resolve(path);
    if (this.#locks.has(p)) return undefined;
    this.#locks.add(p);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#locks.delete(p);
      },
    };
  }

  /**
   * What is at `p` (after following links), or `undefined` when nothing is. A path that runs through a
   * file throws `ENOTDIR` as the kernel would, naming the caller's syscall and paths.
   */
  #kind(p: string, syscall: string, path: string, dest?: string): Kind | undefined {
    try {
      const stat = this.volume.statSync(p, { throwIfNoEntry: false });
      return stat === undefined ? undefined : { isDir: stat.isDirectory() };
    } catch (error) {
      if (hasCode(error, "ENOENT")) return undefined;
      if (hasCode(error, "ENOTDIR")) throw fsError("ENOTDIR", syscall, path, dest);
      throw error;
    }
  }

  /** The directory that would hold `p` must exist and be a directory (`ENOENT` / `ENOTDIR`). */
  #requireParentDir(p: string, syscall: string, path: string, dest?: string): void {
    const parent = this.#kind(posix.dirname(p), syscall, path, dest);
    if (parent === undefined) throw fsError("ENOENT", syscall, path, dest);
    if (!parent.isDir) throw fsError("ENOTDIR", syscall, path, dest);
  }
}

function resolve(path: string): string {
  return posix.resolve("/", path);
}
