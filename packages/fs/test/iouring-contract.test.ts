// The shared Fs contract (from testkit's sources: @talus/fs cannot depend on @talus/testkit, which
// depends on it) on IoUringFs, with the default ring and with a ring of 2 entries that never polls (every
// batch is chunked, every call wakes the ring thread).
// Skipped, saying why, only where io_uring cannot be used (TALUS_NO_IOURING, no liburing at build time,
// kernel too old or io_uring disabled); the availability test below fails if that happens on a machine
// that has everything.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { IoUringFs, NO_IOURING_ENV, ioUringUnavailableReason, isIoUringAvailable, type IoUringFsOptions } from "../src/index.ts";
import { fsContract, type FsUnderTest } from "../../testkit/src/fs-contract/index.ts";
import { describeIoUring, liburingInstalled } from "./iouring-helpers.ts";

const reason = ioUringUnavailableReason();

function ioUringFs(options: IoUringFsOptions): () => FsUnderTest {
  return () => {
    const dir = mkdtempSync(join(tmpdir(), "talus-iouring-contract-"));
    const fs = new IoUringFs(options);
    return {
      fs,
      root: dir,
      cleanup: () => {
        fs.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  };
}

const api = { describe: describeIoUring, it };
fsContract(api, "IoUringFs", ioUringFs({}));
fsContract(api, "IoUringFs with a ring of 2, no polling", ioUringFs({ ringSize: 2, spinMicros: 0 }));

describe("isIoUringAvailable", () => {
  it("is true here unless turned off, refused by the kernel, or liburing-dev is missing", () => {
    const forcedOff = (process.env[NO_IOURING_ENV] ?? "") !== "" && process.env[NO_IOURING_ENV] !== "0";
    if (forcedOff) {
      expect(isIoUringAvailable()).toBe(false);
      return;
    }
    if (reason !== undefined) {
      let disabled = "0";
      try {
        disabled = readFileSync("/proc/sys/kernel/io_uring_disabled", "utf8").trim();
      } catch {
        // no such switch before Linux 6.6
      }
      // Acceptable refusals: the kernel's (disabled, filtered by seccomp, too old), not Linux, or a build
      // without the io_uring part on a machine without liburing-dev. A build that left io_uring out where
      // liburing-dev is installed is a bug, and fails below.
      const kernel = /io_uring_setup failed|io_uring_enter failed|disabled by the kernel|Linux 5\.6|Linux-only/.test(reason);
      const noLiburing = /addon/.test(reason) && !liburingInstalled();
      if (kernel || noLiburing) {
        console.log(`io_uring unavailable here (io_uring_disabled = ${disabled}): ${reason}`);
        return;
      }
    }
    expect(reason).toBeUndefined();
    expect(isIoUringAvailable()).toBe(true);
  });
});
