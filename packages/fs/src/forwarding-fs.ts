/**
 * An {@link Fs} that forwards every call to another one: the base for wrappers that change or observe a
 * few operations (counting bytes, recording calls, slowing one step down) and pass the rest through.
 *
 * @module
 */
import type { Fs, FsDirEntry, FsFile, FsLock, FsMetadata, FsOpenOptions, FsReadRequest } from "./types.ts";

/**
 * Forwards every `Fs` call to `inner`. Subclass it and override what the wrapper is about.
 *
 * @example
 * ```ts
 * import { ForwardingFs, MemFs } from "@talus/fs";
 *
 * class SyncCounter extends ForwardingFs {
 *   syncs = 0;
 *   override syncDirectory(path: string): void {
 *     this.syncs++;
 *     super.syncDirectory(path);
 *   }
 * }
 * const fs = new SyncCounter(new MemFs());
 * fs.syncDirectory("/");
 * console.log(fs.syncs); // 1
 * ```
 */
export class ForwardingFs implements Fs {
  /** The filesystem every call not overridden goes to. */
  readonly inner: Fs;

  constructor(inner: Fs) {
    this.inner = inner;
  }

  open(path: string, options: FsOpenOptions): FsFile {
    return this.inner.open(path, options);
  }

  createDir(path: string): void {
    this.inner.createDir(path);
  }

  createDirAll(path: string): void {
    this.inner.createDirAll(path);
  }

  readDir(path: string): FsDirEntry[] {
    return this.inner.readDir(path);
  }

  removeFile(path: string): void {
    this.inner.removeFile(path);
  }

  removeDirAll(path: string): void {
    this.inner.removeDirAll(path);
  }

  rename(from: string, to: string): void {
    this.inner.rename(from, to);
  }

  exists(path: string): boolean {
    return this.inner.exists(path);
  }

  metadata(path: string): FsMetadata {
    return this.inner.metadata(path);
  }

  syncDirectory(path: string): void {
    this.inner.syncDirectory(path);
  }

  /** The inner backend's async removal while `removeFile` is not overridden (see {@link syncDirectoryAsync}). */
  removeFileAsync(path: string): Promise<void> {
    const innerAsync = this.inner.removeFileAsync;
    if (this.removeFile === ForwardingFs.prototype.removeFile && innerAsync !== undefined) return innerAsync.call(this.inner, path);
    try {
      this.removeFile(path);
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve();
  }

  /**
   * The inner backend's async directory sync, but only while `syncDirectory` is not overridden: a
   * subclass that intercepts `syncDirectory` (counting, failing, recording) sees every directory sync,
   * so then this calls `this.syncDirectory` (synchronously) instead. Files opened through the base
   * `open` are the inner backend's own, `syncAsync` included; a subclass that wraps files decides
   * for its wrapper.
   */
  syncDirectoryAsync(path: string): Promise<void> {
    const innerAsync = this.inner.syncDirectoryAsync;
    if (this.syncDirectory === ForwardingFs.prototype.syncDirectory && innerAsync !== undefined) return innerAsync.call(this.inner, path);
    try {
      this.syncDirectory(path);
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve();
  }

  hardLink(src: string, dst: string): void {
    this.inner.hardLink(src, dst);
  }

  backendId(): string | undefined {
    return this.inner.backendId();
  }

  readMany(requests: readonly FsReadRequest[]): number[] {
    return this.inner.readMany(requests);
  }

  tryLock(path: string): FsLock | undefined {
    return this.inner.tryLock(path);
  }
}
