// The disk backends a per-backend test runs on: StdFs always, IoUringFs where io_uring is available
// (isIoUringAvailable(): Linux 5.6+, the addon built with liburing, not disabled or filtered, and
// TALUS_NO_IOURING unset). Where it is not, the IoUringFs variants are left out and a skipped test says
// why, so the report shows the gap instead of hiding it.
import { IoUringFs, ioUringUnavailableReason, isIoUringAvailable } from "@talus/fs";
import { it } from "vitest";

/** Why io_uring cannot be used here, or undefined when it can. */
export const IOURING_UNAVAILABLE: string | undefined = isIoUringAvailable() ? undefined : (ioUringUnavailableReason() ?? "unknown reason");

/** `rows` when io_uring is available, else none (see {@link noteIoUringSkipped}). */
export function ioUringRows<T>(rows: () => readonly T[]): readonly T[] {
  return IOURING_UNAVAILABLE === undefined ? rows() : [];
}

/** Registers a skipped test naming what does not run on IoUringFs and why; nothing when io_uring is available. */
export function noteIoUringSkipped(what: string): void {
  if (IOURING_UNAVAILABLE !== undefined) it.skip(`${what} on IoUringFs: skipped, io_uring is unavailable (${IOURING_UNAVAILABLE})`, () => {});
}

/**
 * A factory of IoUringFs instances that closes them after the file's tests (each owns a ring and a
 * thread; garbage collection would stop them too, later). Call at module level with vitest's `afterAll`.
 */
export function useIoUringFs(afterAll: (fn: () => void) => void): () => IoUringFs {
  const made: IoUringFs[] = [];
  afterAll(() => {
    for (const fs of made.splice(0)) fs.close();
  });
  return () => {
    const fs = new IoUringFs();
    made.push(fs);
    return fs;
  };
}
