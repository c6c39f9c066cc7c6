/**
 * The boundary between Talus and the place its bytes live.
 *
 * Every byte the engine reads or writes goes through an {@link Fs}, so that an in-memory volume, a
 * fault-injecting wrapper or a power-loss simulator sees all of it. The interface is synchronous on
 * purpose: a point read that misses the block cache does one positional read, like better-sqlite3
 * and lmdb-js, instead of an async round-trip per block.
 *
 * Errors are thrown as `Error` objects carrying node's errno `code` (`ENOENT`, `EEXIST`, `EISDIR`,
 * `ENOTDIR`, `ENOTEMPTY`, `EBADF`, `EINVAL`, `EPERM`, `EXDEV`, `ENOTSUP`, ...) whichever backend
 * raised them, so callers branch on `err.code` and never on the backend.
 *
 * @module
 */

/** How {@link Fs.open} opens a file. All flags default to `false`; the combinations follow POSIX `open(2)`. */
export interface FsOpenOptions {
  /** Allow `readAt`. */
  readonly read?: boolean;
  /** Allow `write` and `setLen`. */
  readonly write?: boolean;
  /** Create the file if it is missing (needs `write` or `append`). */
  readonly create?: boolean;
  /** Create the file and fail with `EEXIST` if it exists (exclusive create; needs `write` or `append`). */
  readonly createNew?: boolean;
  /** Cut an existing file to length 0 (needs `write`, excludes `append`). */
  readonly truncate?: boolean;
  /** Every `write` goes to the current end of the file. Implies write access. */
  readonly append?: boolean;
}

/** What {@link Fs.metadata} reports of a path (symbolic links are followed). */
export interface FsMetadata {
  /** Size in bytes (of the target, for a symbolic link). */
  readonly len: number;
  /** Whether the path is a directory. */
  readonly isDir: boolean;
  /** Whether the path is a regular file. */
  readonly isFile: boolean;
}

/** One child of a directory, as listed by {@link Fs.readDir}. */
export interface FsDirEntry {
  /** The full path: the listed directory joined with `fileName`. */
  readonly path: string;
  /** The child's own name, without the directory. */
  readonly fileName: string;
  /** Whether the child is a directory. */
  readonly isDir: boolean;
}

/** One positional read of a batch given to {@link Fs.readMany}. */
export interface FsReadRequest {
  /** The handle to read from (opened with `read`). */
  readonly file: FsFile;
  /** Byte offset in the file. */
  readonly position: number;
  /** Filled from `position` on; its length is the number of bytes wanted. */
  readonly buffer: Uint8Array;
}

/**
 * An open file. Not shared between threads; one handle may be used by many readers because
 * `readAt` never moves a cursor.
 */
export interface FsFile {
  /**
   * Reads into `buffer` from `position`. Fill-or-EOF: the result is `buffer.length`, or less only when
   * the file ends first (0 at or past the end). Interrupted and short reads are retried inside.
   * Throws `EBADF` on a handle opened without `read`.
   */
  readAt(buffer: Uint8Array, position: number): number;
  /**
   * Writes all of `buffer` after what this handle wrote so far (at the file's end in append mode;
   * a fresh non-append handle starts at offset 0). Throws `EBADF` on a handle opened without write access.
   */
  write(buffer: Uint8Array): void;
  /** Makes data and metadata durable (`fsync`). */
  sync(): void;
  /** Makes data durable (`fdatasync`): enough for file contents, not for a changed size on every filesystem. */
  syncData(): void;
  /**
   * Optional: what {@link sync} does, without blocking the calling thread (`StdFs` runs the `fsync` on
   * libuv's threadpool), so a long writeback does not freeze the event loop. Same guarantee and errors
   * as `sync()`, reported as a rejection (`EBADF` on a closed handle). Closing the handle while the
   * promise is pending is allowed; the backend keeps the descriptor until the sync is done.
   *
   * A wrapper that intercepts `sync()` (to count, fail or model syncs) must either give this method the
   * same interception or not have it at all: callers that find it missing call `sync()` instead.
   *
   * @example
   * ```ts
   * const file = fs.open("/db/tables/1", { write: true, createNew: true });
   * file.write(bytes);
   * if (file.syncAsync !== undefined) await file.syncAsync();
   * else file.sync();
   * file.close();
   * ```
   */
  syncAsync?(): Promise<void>;
  /** The file's current length in bytes. */
  len(): number;
  /** Cuts or zero-extends the file to `length` bytes. Needs write access. */
  setLen(length: number): void;
  /** Releases the handle. Closing twice is a no-op; any other call after close throws `EBADF`. */
  close(): void;
}

/**
 * An exclusive lock held on a file, as {@link Fs.tryLock} hands it out. The lock lasts until
 * {@link release} is called (or, for a lock the operating system holds, until the process ends).
 */
export interface FsLock {
  /**
   * Gives the lock up, so the next {@link Fs.tryLock} of the file succeeds. Idempotent: calls after the
   * first do nothing. The locked file itself stays where it is.
   */
  release(): void;
}

/**
 * How another thread (a `worker_threads` worker) opens the same filesystem as an {@link Fs}: the
 * module to import (an absolute URL or a package name), the name of the class it exports, and the
 * arguments to construct it with. See {@link Fs.threadShare}.
 */
export interface FsThreadShare {
  /** What the worker imports: an absolute URL or a package name (`"@talus/fs"`). */
  readonly module: string;
  /** The name of the class `module` exports (`"StdFs"`), constructed with {@link args}. */
  readonly exportName: string;
  /**
   * Constructor arguments, structured-cloneable (a `SharedArrayBuffer` among them is shared, not
   * copied: a wrapper can keep counters both threads update). Default none.
   */
  readonly args?: readonly unknown[];
}

/**
 * A filesystem backend. Paths are strings in the backend's own namespace.
 *
 * @example
 * ```ts
 * import { MemFs } from "@talus/fs";
 *
 * const fs = new MemFs();
 * fs.createDirAll("/db/tables");
 * const file = fs.open("/db/tables/1", { write: true, createNew: true });
 * file.write(new TextEncoder().encode("hello"));
 * file.sync();
 * file.close();
 * fs.syncDirectory("/db/tables");
 * console.log(fs.metadata("/db/tables/1").len); // 5
 * ```
 */
export interface Fs {
  /** Opens (and maybe creates) a file. `EINVAL` for a contradictory flag set, `EISDIR` for a directory. */
  open(path: string, options: FsOpenOptions): FsFile;
  /**
   * Creates one directory atomically: `EEXIST` if anything exists at `path`, `ENOENT` if the parent is
   * missing. Checkpoints claim their target with this, so two racing creators cannot both win.
   */
  createDir(path: string): void;
  /** Creates a directory and its missing ancestors; no error if it exists as a directory. */
  createDirAll(path: string): void;
  /** Lists the direct children of a directory, in no particular order. */
  readDir(path: string): FsDirEntry[];
  /** Removes a file: `ENOENT` when missing, `EISDIR` for a directory. */
  removeFile(path: string): void;
  /**
   * Optional: what {@link removeFile} does, without blocking the calling thread (`StdFs` unlinks on
   * libuv's threadpool: unlinking a large cached file frees its page-cache pages, ~0.25 ms per MiB).
   * Same errors, reported as a rejection. A wrapper that intercepts `removeFile` must intercept this
   * too or not have it; callers that find it missing call `removeFile` instead.
   *
   * @example
   * ```ts
   * if (fs.removeFileAsync !== undefined) await fs.removeFileAsync("/db/tables/7");
   * else fs.removeFile("/db/tables/7");
   * ```
   */
  removeFileAsync?(path: string): Promise<void>;
  /** Removes a directory and everything below it: `ENOENT` when missing, `ENOTDIR` for a file. */
  removeDirAll(path: string): void;
  /**
   * Renames a file, atomically replacing an existing file at `to` (how `current` pointers are published).
   * Renaming onto a directory fails with `EISDIR`.
   */
  rename(from: string, to: string): void;
  /** Whether anything exists at `path`; throws when that cannot be determined (e.g. `EACCES`). */
  exists(path: string): boolean;
  /** Size and kind of `path`; `ENOENT` when missing. */
  metadata(path: string): FsMetadata;
  /** Makes a directory's entries (creations, renames, removals) durable. `ENOTDIR` for a file. */
  syncDirectory(path: string): void;
  /**
   * Optional: what {@link syncDirectory} does, without blocking the calling thread (`StdFs` opens and
   * syncs the directory on libuv's threadpool). Same guarantee and errors, reported as a rejection. As
   * with {@link FsFile.syncAsync}, a wrapper that intercepts `syncDirectory` must intercept this too or
   * not have it; callers that find it missing call `syncDirectory` instead.
   *
   * @example
   * ```ts
   * if (fs.syncDirectoryAsync !== undefined) await fs.syncDirectoryAsync("/db/tables");
   * else fs.syncDirectory("/db/tables");
   * ```
   */
  syncDirectoryAsync?(path: string): Promise<void>;
  /**
   * Gives the file `src` the new name `dst` (same contents, now and after later writes). `dst` must not
   * exist (`EEXIST`) and its parent must (`ENOENT`); linking a directory fails with `EPERM`. A backend
   * whose link(2) fails with `EXDEV` falls back to a durable byte copy.
   */
  hardLink(src: string, dst: string): void;
  /**
   * Names the path namespace of this backend. Two backends may hard-link between each other only when
   * both return the same string; `undefined` means "never link, always copy".
   */
  backendId(): string | undefined;
  /**
   * Runs many positional reads as one batch (one system call on io_uring). Returns the byte count
   * of each request in order, with the fill-or-EOF rule of {@link FsFile.readAt}.
   */
  readMany(requests: readonly FsReadRequest[]): number[];
  /**
   * Takes an exclusive lock on the file at `path`, or returns `undefined` when another holder has it:
   * another `tryLock` of the same file in this process (through this backend or, for `StdFs`, any other
   * instance), or another process. Never waits. The file is created if missing (its parent must exist:
   * `ENOENT` / `ENOTDIR` otherwise, `EISDIR` for a directory) and is never truncated or removed, by
   * taking the lock or by releasing it; its contents mean nothing to the lock.
   *
   * What "another process" means is the backend's business: `StdFs` holds an operating-system lock
   * (released by the kernel when the process dies, even by SIGKILL), in-memory backends keep one set of
   * held locks per volume. A lock is not durable state: after a crash or a reboot nothing is held.
   * Engines use it to keep a second writer out of a directory (Talus trees lock `<dir>/LOCK`).
   *
   * @example
   * ```ts
   * const lock = fs.tryLock("/db/LOCK");
   * if (lock === undefined) throw new Error("/db is open elsewhere");
   * try {
   *   // ... the directory is ours ...
   * } finally {
   *   lock.release();
   * }
   * ```
   */
  tryLock(path: string): FsLock | undefined;
  /**
   * How a worker thread gets a filesystem that sees the same files as this one; absent (or returning
   * `undefined`, for a wrapper whose answer depends on what it wraps) when there is none: an in-memory volume lives in one thread's heap, and a wrapper that must see every call
   * (fault injection, crash simulation, I/O counting) cannot let another thread go around it. Engines
   * run jobs on worker threads only for filesystems that have it, and inline otherwise.
   *
   * @example
   * ```ts
   * const share = fs.threadShare?.();
   * if (share !== undefined) {
   *   // in the worker:
   *   const module = await import(share.module);
   *   const sameFs: Fs = new module[share.exportName]();
   * }
   * ```
   */
  threadShare?(): FsThreadShare | undefined;
  /**
   * The whole file at `path` as a read-only view backed by the file itself (a memory map): reads are
   * memory loads, with no system call and no copy. `undefined` (or the method absent): read with
   * {@link FsFile.readAt}; an empty file also gives `undefined`.
   *
   * Only for files that never change while mapped, such as an engine's immutable tables: a file that
   * shrinks under a map kills the process at the next read past its new end (SIGBUS), and one written in
   * place changes under the view. The map holds the file's blocks (even after the file is removed)
   * until the view is garbage-collected.
   *
   * @example
   * ```ts
   * const bytes = fs.mapReadOnly?.("/db/tables/7");
   * const first = bytes === undefined ? readFileBytes(fs, "/db/tables/7")[0] : bytes[0];
   * ```
   */
  mapReadOnly?(path: string): Uint8Array | undefined;
}
