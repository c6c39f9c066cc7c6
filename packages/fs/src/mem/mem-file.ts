import type { Volume } from "memfs";
import { fsError } from "../errors.ts";
import type { FsFile } from "../types.ts";

/**
 * A handle on a memfs volume. memfs lets any descriptor read, write and truncate; a real kernel does
 * not, and code that works on MemFs must not break on disk, so the access mode is enforced here with
 * the errors Linux gives (`EBADF`, and `EINVAL` for truncating a read-only handle).
 */
export class MemFile implements FsFile {
  readonly #volume: Volume;
  #fd: number | undefined;
  readonly #canRead: boolean;
  readonly #canWrite: boolean;
  readonly #append: boolean;
  #writePosition = 0;

  constructor(volume: Volume, fd: number, access: { read: boolean; write: boolean; append: boolean }) {
    this.#volume = volume;
    this.#fd = fd;
    this.#canRead = access.read;
    this.#canWrite = access.write;
    this.#append = access.append;
  }

  readAt(buffer: Uint8Array, position: number): number {
    const fd = this.#open();
    if (!this.#canRead) throw fsError("EBADF", "read");
    let filled = 0;
    while (filled < buffer.length) {
      const n = this.#volume.readSync(fd, buffer, filled, buffer.length - filled, position + filled);
      if (n === 0) break;
      filled += n;
    }
    return filled;
  }

  write(buffer: Uint8Array): void {
    const fd = this.#open();
    if (!this.#canWrite) throw fsError("EBADF", "write");
    let written = 0;
    while (written < buffer.length) {
      const position = this.#append ? this.len() : this.#writePosition + written;
      written += this.#volume.writeSync(fd, buffer, written, buffer.length - written, position);
    }
    this.#writePosition += written;
  }

  sync(): void {
    this.#open();
  }

  syncData(): void {
    this.#open();
  }

  /** Nothing to wait for in memory; only the handle is checked, as by {@link sync}. */
  syncAsync(): Promise<void> {
    try {
      this.#open();
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.resolve();
  }

  len(): number {
    return this.#volume.fstatSync(this.#open()).size as number;
  }

  setLen(length: number): void {
    const fd = this.#open();
    if (!this.#canWrite) throw fsError("EINVAL", "ftruncate");
    this.#volume.ftruncateSync(fd, length);
  }

  close(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    this.#volume.closeSync(fd);
  }

  #open(): number {
    if (this.#fd === undefined) throw fsError("EBADF", "closed handle");
    return this.#fd;
  }
}
