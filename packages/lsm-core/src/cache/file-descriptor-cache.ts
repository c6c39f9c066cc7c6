/**
 * A bounded least-recently-used set of open read-only file handles, keyed by (Fs instance, path), shared
 * between tables and trees so that a process with thousands of table files keeps at most
 * `maxOpenFiles` descriptors open.
 *
 * A handle is used while pinned: {@link FileDescriptorCache.withFile} and {@link FileDescriptorCache.readAt}
 * pin it for one synchronous call, {@link FileDescriptorCache.acquire} until the lease is released.
 *
 * Invariants: (1) a pinned handle is never closed; (2) the number of open handles never exceeds
 * `max(capacity, pinned handles)`: over capacity, the least recently used unpinned handles are closed
 * at once, and a handle that had to be opened beyond capacity because every other one was pinned is
 * closed as soon as it is unpinned; (3) `evict` forgets a path at once, so later acquires open it
 * afresh (or fail with ENOENT once it is deleted), and closes its handle when the last pin goes.
 *
 * @module
 */
import type { Fs, FsFile } from "@talus/fs";

/** Default bound on open handles. */
export const DEFAULT_MAX_OPEN_FILES = 256;

interface Entry {
  readonly fs: Fs;
  readonly path: string;
  readonly file: FsFile;
  pins: number;
  /** False once evicted or closed for capacity: then it is in no map and no list. */
  cached: boolean;
  older: Entry | null;
  newer: Entry | null;
}

/** A pinned handle; `release()` unpins it (idempotent). */
export interface FileLease {
  readonly file: FsFile;
  release(): void;
}

/**
 * A bounded set of open read-only table file handles, least recently used closed first. Every tree has
 * one; pass one instance as `fileCache` to several trees to bound their open descriptors together.
 *
 * @example
 * ```ts
 * import { FileDescriptorCache, Tree } from "@talus/lsm-core";
 *
 * const fileCache = new FileDescriptorCache(512); // at most 512 table files open for both trees
 * const a = await Tree.open({ path: "/db/a", fileCache });
 * const b = await Tree.open({ path: "/db/b", fileCache });
 * ```
 */
export class FileDescriptorCache {
  /** The most handles kept open (`maxOpenFiles` of the constructor); exceeded only while more are pinned. */
  readonly capacity: number;
  readonly #byFs = new Map<Fs, Map<string, Entry>>();
  #newest: Entry | null = null;
  #oldest: Entry | null = null;
  /** Open handles, including evicted ones still pinned. */
  #open = 0;
  #pinned = 0;
  #opens = 0;

  constructor(maxOpenFiles: number = DEFAULT_MAX_OPEN_FILES) {
    if (!Number.isInteger(maxOpenFiles) || maxOpenFiles < 1) throw new RangeError(`maxOpenFiles must be a positive integer, got ${maxOpenFiles}`);
    this.capacity = maxOpenFiles;
  }

  /** Open handles. */
  get size(): number {
    return this.#open;
  }

  /** Handles pinned right now. */
  get pinnedCount(): number {
    return this.#pinned;
  }

  /** How many times a file was opened (misses), for tests and metrics. */
  get openCount(): number {
    return this.#opens;
  }

  /** Runs `fn` with the handle of `path` on `fs` pinned (opened read-only on a miss). */
  withFile<T>(fs: Fs, path: string, fn: (file: FsFile) => T): T {
    const entry = this.#pin(fs, path);
    try {
      return fn(entry.file);
    } finally {
      this.#unpin(entry);
    }
  }

  /** `readAt` on the handle of `path`, pinned for the call; no closure, for the block read path. */
  readAt(fs: Fs, path: string, buffer: Uint8Array, position: number): number {
    const entry = this.#pin(fs, path);
    try {
      return entry.file.readAt(buffer, position);
    } finally {
      this.#unpin(entry);
    }
  }

  /**
   * Pins the handle of `path` until the lease is released.
   *
   * @internal
   */
  acquire(fs: Fs, path: string): FileLease {
    const entry = this.#pin(fs, path);
    let released = false;
    return {
      file: entry.file,
      release: () => {
        if (released) return;
        released = true;
        this.#unpin(entry);
      },
    };
  }

  /**
   * Forgets `path` (on `fs`, or on every Fs when omitted) and closes its handle, at once if unpinned,
   * else when the last pin goes. Call it before deleting a file. Returns how many handles it forgot.
   */
  evict(path: string, fs?: Fs): number {
    let evicted = 0;
    for (const [owner, byPath] of this.#byFs) {
      if (fs !== undefined && owner !== fs) continue;
      const entry = byPath.get(path);
      if (entry === undefined) continue;
      this.#forget(entry);
      evicted++;
      if (entry.pins === 0) this.#close(entry);
    }
    return evicted;
  }

  /** Closes every unpinned handle and forgets every path (pinned handles close on release). */
  closeAll(): void {
    for (const byPath of [...this.#byFs.values()]) {
      for (const entry of [...byPath.values()]) {
        this.#forget(entry);
        if (entry.pins === 0) this.#close(entry);
      }
    }
  }

  #pin(fs: Fs, path: string): Entry {
    let byPath = this.#byFs.get(fs);
    const found = byPath?.get(path);
    if (found !== undefined) {
      if (found.pins++ === 0) this.#pinned++;
      this.#unlink(found);
      this.#pushNewest(found);
      return found;
    }
    const file = fs.open(path, { read: true });
    this.#opens++;
    this.#open++;
    this.#pinned++;
    const entry: Entry = { fs, path, file, pins: 1, cached: true, older: null, newer: null };
    if (byPath === undefined) {
      byPath = new Map();
      this.#byFs.set(fs, byPath);
    }
    byPath.set(path, entry);
    this.#pushNewest(entry);
    this.#trim();
    return entry;
  }

  #unpin(entry: Entry): void {
    entry.pins--;
    if (entry.pins > 0) return;
    this.#pinned--;
    if (!entry.cached) this.#close(entry);
    else if (this.#open > this.capacity) this.#trim();
  }

  /** Closes least recently used unpinned handles until the count is within capacity (or all are pinned). */
  #trim(): void {
    let entry = this.#oldest;
    while (this.#open > this.capacity && entry !== null) {
      const newer: Entry | null = entry.newer;
      if (entry.pins === 0) {
        this.#forget(entry);
        this.#close(entry);
      }
      entry = newer;
    }
  }

  #forget(entry: Entry): void {
    if (!entry.cached) return;
    entry.cached = false;
    this.#unlink(entry);
    const byPath = this.#byFs.get(entry.fs);
    byPath?.delete(entry.path);
    if (byPath?.size === 0) this.#byFs.delete(entry.fs);
  }

  /**
   * Closes a handle the cache has already forgotten. A failure is ignored: the handle is read-only, so
   * nothing is lost, and the caller is usually a read of some other file that must not fail for it.
   */
  #close(entry: Entry): void {
    this.#open--;
    try {
      entry.file.close();
    } catch {
      // Nothing to recover: the descriptor is gone from the cache either way.
    }
  }

  #unlink(entry: Entry): void {
    if (entry.older !== null) entry.older.newer = entry.newer;
    else if (this.#oldest === entry) this.#oldest = entry.newer;
    if (entry.newer !== null) entry.newer.older = entry.older;
    else if (this.#newest === entry) this.#newest = entry.older;
    entry.older = null;
    entry.newer = null;
  }

  #pushNewest(entry: Entry): void {
    entry.older = this.#newest;
    entry.newer = null;
    if (this.#newest !== null) this.#newest.newer = entry;
    else this.#oldest = entry;
    this.#newest = entry;
  }
}
