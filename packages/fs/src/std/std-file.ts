import * as nodeFs from "node:fs";
import { Descriptor } from "../descriptor.ts";
import { hasCode } from "../errors.ts";
import type { FsFile } from "../types.ts";

/**
 * A kernel file descriptor. The kernel enforces access modes (`EBADF` for a write through a read-only
 * handle), so this class only adds the fill-or-EOF read loop and the per-handle write cursor.
 */
export class StdFile implements FsFile {
  readonly #fd: Descriptor;
  #writePosition = 0;
  readonly #append: boolean;

  constructor(fd: number, append: boolean) {
    this.#fd = new Descriptor(fd);
    this.#append = append;
  }

  readAt(buffer: Uint8Array, position: number): number {
    const fd = this.#fd.get();
    let filled = 0;
    while (filled < buffer.length) {
      let n: number;
      try {
        n = nodeFs.readSync(fd, buffer, filled, buffer.length - filled, position + filled);
      } catch (error) {
        if (hasCode(error, "EINTR") || hasCode(error, "EAGAIN")) continue;
        throw error;
      }
      if (n === 0) break;
      filled += n;
    }
    return filled;
  }

  write(buffer: Uint8Array): void {
    const fd = this.#fd.get();
    let written = 0;
    while (written < buffer.length) {
      try {
        // In append mode O_APPEND makes the kernel ignore the position; passing null says so.
        written += nodeFs.writeSync(fd, buffer, written, buffer.length - written, this.#append ? null : this.#writePosition + written);
      } catch (error) {
        if (hasCode(error, "EINTR") || hasCode(error, "EAGAIN")) continue;
        throw error;
      }
    }
    this.#writePosition += written;
  }

  sync(): void {
    nodeFs.fsyncSync(this.#fd.get());
  }

  syncData(): void {
    nodeFs.fdatasyncSync(this.#fd.get());
  }

  syncAsync(): Promise<void> {
    // On libuv's threadpool.
    return this.#fd.track(
      (fd) =>
        new Promise<void>((resolve, reject) => {
          nodeFs.fsync(fd, (error) => (error === null ? resolve() : reject(error)));
        }),
    );
  }

  len(): number {
    return this.#fd.len();
  }

  setLen(length: number): void {
    this.#fd.setLen(length);
  }

  close(): void {
    this.#fd.close();
  }
}
