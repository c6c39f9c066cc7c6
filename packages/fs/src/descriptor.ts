/**
 * A kernel file descriptor shared by the kernel-backed handles (`StdFile`, `IoUringFile`): `EBADF` once
 * closed, and a close deferred while asynchronous syncs still use it.
 *
 * @module
 */
import * as nodeFs from "node:fs";
import { fsError } from "./errors.ts";

export class Descriptor {
  #fd: number | undefined;
  /** Async syncs running with the descriptor. */
  #inFlight = 0;
  /** close() was called while syncs were in flight: the last one to finish closes this descriptor. */
  #closeWhenIdle: number | undefined;

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** The open descriptor; `EBADF` once closed. */
  get(): number {
    if (this.#fd === undefined) throw fsError("EBADF", "closed handle");
    return this.#fd;
  }

  /** Runs an asynchronous operation on the descriptor, which stays open until it settles. */
  track(run: (fd: number) => Promise<void>): Promise<void> {
    let fd: number;
    try {
      fd = this.get();
    } catch (error) {
      return Promise.reject(error);
    }
    this.#inFlight++;
    return run(fd).finally(() => this.#settled());
  }

  len(): number {
    return nodeFs.fstatSync(this.get()).size;
  }

  setLen(length: number): void {
    nodeFs.ftruncateSync(this.get(), length);
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
}
