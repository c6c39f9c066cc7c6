import * as nodeFs from "node:fs";
import { fsError, hasCode } from "../errors.ts";
import type { FsFile } from "../types.ts";

/**
 * A kernel file descriptor. The kernel enforces access modes (`EBADF` for a write through a read-only
 * handle), so this class only adds the fill-or-EOF read loop and the per-handle write cursor.
 */
export class StdFile implements FsFile {
  #fd: number | undefined;
  #writePosition = 0;
  readonly #append: boolean;
  /** Async syncs running on the threadpool with the descriptor. */
  #inFlight = 0;
  /** close() was called while syncs were in flight: the last one to finish closes this descriptor. */
  #closeWhenIdle: number | undefined;

  constructor(fd: number, append: boolean) {
    this.#fd = fd;
    this.#append = append;
  }

  readAt(buffer: Uint8Array, position: number): number {
    const fd = this.#open();
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
    const fd = this.#open();
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
    nodeFs.fsyncSync(this.#open());
  }

  syncData(): void {
    nodeFs.fdatasyncSync(this.#open());
  }

  syncAsync(): Promise<void> {
    let fd: number;
    try {
      fd = this.#open();
    } catch (error) {
      return Promise.reject(error);
    }
    this.#inFlight++;
    return new Promise<void>((resolve, reject) => {
      nodeFs.fsync(fd, (error) => {
        this.#settled();
        if (error === null) resolve();
        else reject(error);
      });
    });
  }

  len(): number {
    return nodeFs.fstatSync(this.#open()).size;
  }

  setLen(length: number): void {
    nodeFs.ftruncateSync(this.#open(), length);
  }

  close(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    // A descriptor closed under a running fsync could be reused by the next open, and the fsync
    // would then report on (or sync) someone else's file: it stays open until the syncs are done.
    if (this.#inFlight > 0) this.#closeWhenIdle = fd;
    else nodeFs.closeSync(fd);
  }

  #settled(): void {
    this.#inFlight--;
    if (this.#inFlight > 0 || this.#closeWhenIdle === undefined) return;
    const fd = this.#closeWhenIdle;
    this.#closeWhenIdle = undefined;
    // close(2) of a descriptor whose writes all reached the kernel does not fail in practice; if it
    // does, there is no caller left to tell.
    nodeFs.close(fd, () => {});
  }

  #open(): number {
    if (this.#fd === undefined) throw fsError("EBADF", "closed handle");
    return this.#fd;
  }
}
