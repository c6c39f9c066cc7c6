import * as nodeFs from "node:fs";
import { fsError } from "../errors.ts";
import type { FsFile } from "../types.ts";
import type { Ring } from "./ring.ts";

/**
 * A kernel file descriptor whose reads, writes and syncs go through an {@link IoUringFs}'s ring; `len`,
 * `setLen` and `close` are plain system calls. The kernel enforces access modes (`EBADF` for a write
 * through a read-only handle), as for `StdFile`.
 */
export class IoUringFile implements FsFile {
  #fd: number | undefined;
  #writePosition = 0;
  readonly #append: boolean;
  /** The ring of the IoUringFs that opened this handle. */
  readonly ring: Ring;
  /** Async syncs in the ring with the descriptor. */
  #inFlight = 0;
  /** close() was called while syncs were in flight: the last one to finish closes this descriptor. */
  #closeWhenIdle: number | undefined;

  constructor(ring: Ring, fd: number, append: boolean) {
    this.ring = ring;
    this.#fd = fd;
    this.#append = append;
  }

  readAt(buffer: Uint8Array, position: number): number {
    const fd = this.#open();
    checkPosition(position);
    if (buffer.length === 0) return 0;
    return this.ring.read(fd, buffer, position);
  }

  write(buffer: Uint8Array): void {
    const fd = this.#open();
    if (buffer.length === 0) return;
    // In append mode the file is O_APPEND: the kernel writes at its end whatever the position (-1 says so).
    this.ring.write(fd, buffer, this.#append ? -1 : this.#writePosition);
    this.#writePosition += buffer.length;
  }

  sync(): void {
    this.ring.fsync(this.#open(), false);
  }

  syncData(): void {
    this.ring.fsync(this.#open(), true);
  }

  syncAsync(): Promise<void> {
    let fd: number;
    try {
      fd = this.#open();
    } catch (error) {
      return Promise.reject(error);
    }
    this.#inFlight++;
    return this.ring.fsyncAsync(fd, false).then(
      () => this.#settled(),
      (error: unknown) => {
        this.#settled();
        throw error;
      },
    );
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
    // A descriptor closed under a pending fsync could be reused by the next open, and the fsync would
    // then sync someone else's file: it stays open until the syncs are done.
    if (this.#inFlight > 0) this.#closeWhenIdle = fd;
    else nodeFs.closeSync(fd);
  }

  /** The descriptor for a read of `IoUringFs.readMany`: `EBADF` when closed. */
  descriptor(): number {
    return this.#open();
  }

  #settled(): void {
    this.#inFlight--;
    if (this.#inFlight > 0 || this.#closeWhenIdle === undefined) return;
    const fd = this.#closeWhenIdle;
    this.#closeWhenIdle = undefined;
    try {
      nodeFs.closeSync(fd);
    } catch {
      // close(2) of a descriptor whose writes all reached the kernel does not fail in practice; if it
      // does, there is no caller left to tell.
    }
  }

  #open(): number {
    if (this.#fd === undefined) throw fsError("EBADF", "closed handle");
    return this.#fd;
  }
}

/** Positions are byte offsets: a non-negative safe integer, `EINVAL` otherwise. */
export function checkPosition(position: number): void {
  if (!Number.isSafeInteger(position) || position < 0) throw fsError("EINVAL", "read");
}
