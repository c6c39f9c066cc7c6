/**
 * An {@link FsFile} that forwards every required call to another one: the file-level counterpart of
 * `@talus/fs`'s `ForwardingFs`, the base for test wrappers that observe or slow down a few calls.
 *
 * @module
 */
import type { FsFile } from "@talus/fs";

/**
 * Forwards `readAt`, `write`, `sync`, `syncData`, `len`, `setLen` and `close` to `inner`. It has no
 * `syncAsync`: callers then call `sync()`, so a subclass that intercepts `sync()` adds a `syncAsync`
 * only with the same interception.
 */
export class ForwardingFile implements FsFile {
  /** The file every call not overridden goes to. */
  readonly inner: FsFile;

  constructor(inner: FsFile) {
    this.inner = inner;
  }

  readAt(buffer: Uint8Array, position: number): number {
    return this.inner.readAt(buffer, position);
  }

  write(buffer: Uint8Array): void {
    this.inner.write(buffer);
  }

  sync(): void {
    this.inner.sync();
  }

  syncData(): void {
    this.inner.syncData();
  }

  len(): number {
    return this.inner.len();
  }

  setLen(length: number): void {
    this.inner.setLen(length);
  }

  close(): void {
    this.inner.close();
  }
}
