import * as nodeFs from "node:fs";
import { StdFs, openDescriptor } from "../std/std-fs.ts";
import type { FsOpenOptions, FsReadRequest, FsThreadShare } from "../types.ts";
import { IoUringFile, checkPosition } from "./iouring-file.ts";
import { Ring, closedError, errnoError, type RingStats } from "./ring.ts";

/** How {@link IoUringFs} is built. */
export interface IoUringFsOptions {
  /**
   * Submission queue entries of the ring (2 to 32768; the kernel rounds up to a power of two and
   * clamps to its maximum): how many operations one `io_uring_enter` submits at most. Default 256.
   */
  readonly ringSize?: number;
  /**
   * Microseconds the ring thread polls for more work once it has nothing to submit, and a blocked
   * caller polls for its completion, before they sleep (0 to 1000000; 0: never poll). A page-cache read
   * completes within microseconds, so polling spares back-to-back synchronous calls two thread wake-ups
   * (about 20 µs each) at the price of that much CPU time per pause. Default 10.
   */
  readonly spinMicros?: number;
}

/** The ring size {@link IoUringFs} uses unless told otherwise. */
export const DEFAULT_RING_SIZE = 256;

/** How long {@link IoUringFs} polls before sleeping unless told otherwise, in microseconds. */
export const DEFAULT_SPIN_MICROS = 10;

/**
 * The real disk with its data path on io_uring (Linux 5.6 or newer, through this package's addon,
 * liburing linked in statically).
 *
 * Reads, writes, `fsync`/`fdatasync` and directory syncs go through one ring per instance, owned by a
 * thread of the addon: operations are queued, submitted together (one `io_uring_enter` for everything
 * queued at once) and completed by id. The synchronous methods block their caller until the
 * completion, as `StdFs`'s do; {@link readMany} queues a whole batch of reads at once, and the async
 * forms (`syncAsync`, {@link syncDirectoryAsync}, {@link removeFileAsync}) complete through the ring
 * and resolve on the event loop without libuv's threadpool. Metadata operations (open, stat, readDir,
 * rename, unlink, mkdir, hardLink, tryLock, maps) are `StdFs`'s: plain system calls.
 *
 * It names the same files as `StdFs` (`backendId()` is `KERNEL_BACKEND_ID`: the two hard-link into each
 * other), and a worker thread makes its own through {@link threadShare}.
 *
 * Construction throws `ENOTSUP` (with the reason) where io_uring cannot be used: check
 * {@link isIoUringAvailable} first. {@link close} stops the ring's thread (garbage collection does too).
 *
 * @example
 * ```ts
 * import { IoUringFs, StdFs, isIoUringAvailable, type Fs } from "@talus/fs";
 *
 * const fs: Fs = isIoUringAvailable() ? new IoUringFs() : new StdFs();
 * ```
 */
export class IoUringFs extends StdFs {
  readonly #ring: Ring;
  readonly #options: Required<IoUringFsOptions>;

  /** Throws `ENOTSUP` (saying why) where io_uring cannot be used, `RangeError` for bad options. */
  constructor(options: IoUringFsOptions = {}) {
    super();
    const ringSize = options.ringSize ?? DEFAULT_RING_SIZE;
    const spinMicros = options.spinMicros ?? DEFAULT_SPIN_MICROS;
    if (!Number.isInteger(ringSize) || ringSize < 2 || ringSize > 32768) throw new RangeError(`IoUringFs: ringSize must be an integer from 2 to 32768, not ${ringSize}`);
    if (!Number.isInteger(spinMicros) || spinMicros < 0 || spinMicros > 1_000_000) throw new RangeError(`IoUringFs: spinMicros must be an integer from 0 to 1000000, not ${spinMicros}`);
    this.#options = { ringSize, spinMicros };
    this.#ring = new Ring(ringSize, spinMicros);
  }

  /** The ring's submission queue size (the requested size, rounded up to a power of two). */
  get ringSize(): number {
    return this.#ring.entries;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#ring.closed;
  }

  /** What the ring thread submitted so far: how well operations were batched. */
  ringStats(): RingStats {
    return this.#ring.stats();
  }

  /** Opens like `StdFs.open`; the handle's reads, writes and syncs go through the ring. `EBADF` after {@link close}. */
  override open(path: string, options: FsOpenOptions): IoUringFile {
    if (this.#ring.closed) throw closedError("open", path);
    return new IoUringFile(this.#ring, openDescriptor(path, options), options.append === true);
  }

  /** Opens the directory (a plain system call) and fsyncs it through the ring. */
  override syncDirectory(path: string): void {
    if (this.#ring.closed) throw closedError("fsync", path);
    const fd = openDirectory(path);
    try {
      this.#ring.fsync(fd, false, path);
    } finally {
      nodeFs.closeSync(fd);
    }
  }

  /** Opens the directory (a plain system call) and fsyncs it through the ring, without blocking the thread. */
  override syncDirectoryAsync(path: string): Promise<void> {
    let fd: number;
    try {
      if (this.#ring.closed) throw closedError("fsync", path);
      fd = openDirectory(path);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#ring.fsyncAsync(fd, false, path).then(
      () => nodeFs.closeSync(fd),
      (error: unknown) => {
        try {
          nodeFs.closeSync(fd);
        } catch {
          // The sync's error is the one to report.
        }
        throw error;
      },
    );
  }

  /**
   * Unlinks through the ring (`IORING_OP_UNLINKAT`, Linux 5.11 or newer); on older kernels, or after
   * {@link close}, like `StdFs` (libuv's threadpool).
   */
  override removeFileAsync(path: string): Promise<void> {
    if (!this.#ring.unlinkAt || this.#ring.closed) return super.removeFileAsync(path);
    return this.#ring.unlinkAsync(path);
  }

  /**
   * All reads of handles this instance opened are queued at once, so that one `io_uring_enter` submits
   * them (as many as the ring holds; the rest follow as completions free room) and the kernel reads them
   * in parallel. Requests for other handles (another backend's) are read one by one with their `readAt`.
   * A closed handle (`EBADF`) or a bad position (`EINVAL`) fails the call before anything is read; a
   * failed read fails it after every read finished (the first failure in request order is thrown).
   */
  override readMany(requests: readonly FsReadRequest[]): number[] {
    const count = requests.length;
    const results = new Array<number>(count).fill(0);
    if (count === 0) return results;
    if (this.#ring.closed) throw closedError("read");
    const batch: number[] = [];
    const others: number[] = [];
    for (let i = 0; i < count; i++) {
      const request = requests[i] as FsReadRequest;
      if (!(request.buffer instanceof Uint8Array)) throw new TypeError(`readMany: request ${i} has no Uint8Array buffer`);
      if (request.file instanceof IoUringFile && request.file.ring === this.#ring) {
        request.file.descriptor();
        checkPosition(request.position);
        batch.push(i);
      } else {
        others.push(i);
      }
    }
    let failure: { index: number; errno: number } | undefined;
    if (batch.length > 0) {
      const fds = new Int32Array(batch.length);
      const buffers: Uint8Array[] = [];
      const positions = new Float64Array(batch.length);
      const counts = new Float64Array(batch.length);
      batch.forEach((index, k) => {
        const request = requests[index] as FsReadRequest;
        fds[k] = (request.file as IoUringFile).descriptor();
        buffers.push(request.buffer);
        positions[k] = request.position;
      });
      this.#ring.readMany(fds, buffers, positions, counts);
      batch.forEach((index, k) => {
        const n = counts[k] as number;
        if (n < 0) failure ??= { index, errno: -n };
        else results[index] = n;
      });
    }
    for (const index of others) {
      if (failure !== undefined && failure.index < index) break;
      const request = requests[index] as FsReadRequest;
      results[index] = request.file.readAt(request.buffer, request.position);
    }
    if (failure !== undefined) throw errnoError(failure.errno, "read");
    return results;
  }

  /**
   * A worker imports this module and makes its own `IoUringFs` (its own ring and thread) with the same
   * options. With the default options the share has no arguments, so a worker may keep one instance for
   * all its jobs.
   */
  override threadShare(): FsThreadShare {
    const share = { module: import.meta.url, exportName: "IoUringFs" };
    const { ringSize, spinMicros } = this.#options;
    if (ringSize === DEFAULT_RING_SIZE && spinMicros === DEFAULT_SPIN_MICROS) return share;
    return { ...share, args: [{ ringSize, spinMicros }] };
  }

  /**
   * Stops the ring: operations already queued complete (pending promises settle), the ring thread is
   * joined and the ring freed. Afterwards `open` and every read, write and sync of this instance and its
   * handles throw `EBADF` (handles still close); metadata operations keep working. Idempotent. Without a
   * call, garbage collection of the instance and all its handles does the same.
   */
  close(): void {
    this.#ring.close();
  }

  /** {@link close}, for `using fs = new IoUringFs()`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function openDirectory(path: string): number {
  return nodeFs.openSync(path, nodeFs.constants.O_RDONLY | nodeFs.constants.O_DIRECTORY);
}
