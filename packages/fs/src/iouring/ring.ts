/**
 * The io_uring part of this package's addon (native/talus_iouring.c): whether it can be used here
 * ({@link ioUringUnavailableReason}), and {@link Ring}, one ring and its thread, with results turned into
 * node-style errors.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { getSystemErrorMap, getSystemErrorName } from "node:util";
import { fsError, type FsError } from "../errors.ts";
import { nativeAddon } from "../native-addon.ts";

/** The environment variable that turns io_uring off (any value but empty or `0`). */
export const NO_IOURING_ENV = "TALUS_NO_IOURING";

/** How many operations the ring thread has submitted, as {@link IoUringFs.ringStats} reports it. */
export interface RingStats {
  /** `io_uring_enter` calls that submitted at least one operation. */
  readonly submits: number;
  /** Submission queue entries those calls submitted (a continued short read counts again). */
  readonly sqes: number;
  /** The most entries one `io_uring_enter` submitted. */
  readonly maxBatch: number;
  /** Entries completed. */
  readonly completions: number;
}

type RingHandle = object;

/** The functions talus_iouring.c adds to the addon's exports. */
interface IoUringAddon {
  iouringProbe(): string | undefined;
  iouringCreate(entries: number, spinMicros: number): RingHandle;
  iouringInfo(ring: RingHandle): { entries: number; unlinkAt: boolean };
  iouringStats(ring: RingHandle): RingStats;
  iouringRead(ring: RingHandle, fd: number, buffer: Uint8Array, position: number): number;
  iouringWrite(ring: RingHandle, fd: number, buffer: Uint8Array, position: number): number;
  iouringFsync(ring: RingHandle, fd: number, datasync: boolean): number;
  iouringFsyncAsync(ring: RingHandle, fd: number, datasync: boolean): Promise<number>;
  iouringUnlinkAsync(ring: RingHandle, path: string): Promise<number>;
  iouringReadMany(ring: RingHandle, fds: Int32Array, buffers: Uint8Array[], positions: Float64Array, results: Float64Array): void;
  iouringClose(ring: RingHandle): void;
  iouringLiveThreads(): number;
}

function ioUringAddon(): IoUringAddon | null {
  const addon = nativeAddon();
  return addon !== null && typeof addon.iouringCreate === "function" ? (addon as unknown as IoUringAddon) : null;
}

/** The probe's answer, once per thread: `null` when io_uring works. */
let probed: string | null | undefined;

/**
 * Why {@link IoUringFs} cannot be used here, or `undefined` when it can: io_uring turned off by
 * `TALUS_NO_IOURING`, not Linux, no addon or one built without liburing, io_uring disabled by the kernel
 * (`kernel.io_uring_disabled`), refused (seccomp: `EPERM` / `ENOSYS`) or too old (Linux 5.6 or newer is
 * needed). Never throws.
 */
export function ioUringUnavailableReason(): string | undefined {
  const forced = process.env[NO_IOURING_ENV];
  if (forced !== undefined && forced !== "" && forced !== "0") return `io_uring is turned off by ${NO_IOURING_ENV}=${forced}`;
  if (probed === undefined) probed = probe();
  return probed ?? undefined;
}

/** Whether {@link IoUringFs} works here; see {@link ioUringUnavailableReason} for why not. Never throws. */
export function isIoUringAvailable(): boolean {
  return ioUringUnavailableReason() === undefined;
}

function probe(): string | null {
  if (process.platform !== "linux") return `io_uring is Linux-only (this is ${process.platform})`;
  const addon = ioUringAddon();
  if (addon === null) {
    return nativeAddon() === null
      ? "the @talus/fs native addon is not built here (no prebuild and no compiler at install)"
      : "the @talus/fs native addon was built without liburing (install liburing-dev and reinstall)";
  }
  try {
    if (readFileSync("/proc/sys/kernel/io_uring_disabled", "utf8").trim() === "2") return "io_uring is disabled by the kernel (kernel.io_uring_disabled = 2)";
  } catch {
    // Kernels before 6.6 have no such switch.
  }
  try {
    return addon.iouringProbe() ?? null;
  } catch (error) {
    return `probing io_uring failed: ${(error as Error).message}`;
  }
}

/** Ring threads running in this process, over all rings and threads (0 without the addon). */
export function liveRingThreads(): number {
  return ioUringAddon()?.iouringLiveThreads() ?? 0;
}

const systemErrors = getSystemErrorMap();

/** A node-style error for `-errno` (as the addon reports it): `code`, negative `errno`, `syscall`, `path`. */
export function errnoError(errno: number, syscall: string, path?: string): FsError {
  const [code, description] = systemErrors.get(-errno) ?? [safeName(errno), "unknown error"];
  const error = new Error(`${code}: ${description}, ${syscall}${path === undefined ? "" : ` '${path}'`}`) as Error & {
    code: string;
    errno: number;
    syscall: string;
    path?: string;
  };
  error.code = code;
  error.errno = -errno;
  error.syscall = syscall;
  if (path !== undefined) error.path = path;
  return error as FsError;
}

function safeName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return "EIO";
  }
}

/** `EBADF` for an operation on a closed ring. */
export function closedError(syscall: string, path?: string): FsError {
  const error = fsError("EBADF", syscall, path);
  error.message += " (the IoUringFs is closed)";
  return error;
}

/**
 * One io_uring and the addon thread that owns it. Every method that does I/O runs on that thread;
 * the synchronous ones block until their operation completed. After {@link close} every method fails
 * with `EBADF`.
 */
export class Ring {
  readonly #addon: IoUringAddon;
  readonly #handle: RingHandle;
  #closed = false;
  /** The submission queue's real size (the kernel rounds up to a power of two). */
  readonly entries: number;
  /** Whether unlinks go through the ring (`IORING_OP_UNLINKAT`, Linux 5.11). */
  readonly unlinkAt: boolean;

  /** Throws `ENOTSUP` when io_uring cannot be used here, with the reason. */
  constructor(entries: number, spinMicros: number) {
    const reason = ioUringUnavailableReason();
    const addon = ioUringAddon();
    if (reason !== undefined || addon === null) {
      const error = fsError("ENOTSUP", "io_uring_setup");
      error.message = `ENOTSUP: IoUringFs is not available here: ${reason ?? "no io_uring addon"}. Use StdFs (isIoUringAvailable() tells beforehand).`;
      throw error;
    }
    this.#addon = addon;
    this.#handle = addon.iouringCreate(entries, spinMicros);
    const info = addon.iouringInfo(this.#handle);
    this.entries = info.entries;
    this.unlinkAt = info.unlinkAt;
  }

  /** Whether {@link close} was called: every I/O method then fails with `EBADF`. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Fill-or-EOF read at `position` (a non-negative safe integer); the byte count. */
  read(fd: number, buffer: Uint8Array, position: number): number {
    if (this.#closed) throw closedError("read");
    return check(this.#addon.iouringRead(this.#handle, fd, buffer, position), "read");
  }

  /** Writes all of `buffer` at `position`, or at the end of an `O_APPEND` file when `position` is -1. */
  write(fd: number, buffer: Uint8Array, position: number): void {
    if (this.#closed) throw closedError("write");
    check(this.#addon.iouringWrite(this.#handle, fd, buffer, position), "write");
  }

  /**
   * Flushes `fd` to stable storage through the ring, blocking until the kernel completed it: `fdatasync`
   * (data and the metadata needed to read it back) when `datasync`, else `fsync`. `path` only names the
   * file in an error.
   */
  fsync(fd: number, datasync: boolean, path?: string): void {
    const syscall = datasync ? "fdatasync" : "fsync";
    if (this.#closed) throw closedError(syscall, path);
    check(this.#addon.iouringFsync(this.#handle, fd, datasync), syscall, path);
  }

  /** An fsync completed through the ring and resolved on this thread's event loop; never throws. */
  async fsyncAsync(fd: number, datasync: boolean, path?: string): Promise<void> {
    const syscall = datasync ? "fdatasync" : "fsync";
    if (this.#closed) throw closedError(syscall, path);
    check(await this.#addon.iouringFsyncAsync(this.#handle, fd, datasync), syscall, path);
  }

  /** An unlink through the ring (only where {@link unlinkAt}); never throws. */
  async unlinkAsync(path: string): Promise<void> {
    if (this.#closed) throw closedError("unlink", path);
    check(await this.#addon.iouringUnlinkAsync(this.#handle, path), "unlink", path);
  }

  /**
   * Runs the reads as one batch (queued together: one `io_uring_enter` submits as many as the ring
   * holds). `results[i]` becomes the byte count of read `i`, or -errno.
   */
  readMany(fds: Int32Array, buffers: Uint8Array[], positions: Float64Array, results: Float64Array): void {
    if (this.#closed) throw closedError("read");
    this.#addon.iouringReadMany(this.#handle, fds, buffers, positions, results);
  }

  /** A snapshot of the ring's counters, cumulative since it was created (see {@link RingStats}). */
  stats(): RingStats {
    return this.#addon.iouringStats(this.#handle);
  }

  /** Completes what is queued, stops and joins the ring thread, settles every pending promise. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#addon.iouringClose(this.#handle);
  }
}

function check(result: number, syscall: string, path?: string): number {
  if (result < 0) throw errnoError(-result, syscall, path);
  return result;
}
