import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe } from "vitest";
import { ioUringUnavailableReason } from "../src/index.ts";

/** Set while a suite skipped by {@link describeIoUring} declares its nested suites. */
let insideSkipped = false;

/**
 * vitest's `describe` for suites that need io_uring. Where io_uring cannot be used here
 * (`ioUringUnavailableReason()`), the suite is skipped with the reason in its title, and the reason is
 * logged; suites it declares through this function again (the Fs contract's groups) are skipped with it
 * under their own names.
 */
export function describeIoUring(name: string, fn: () => void): void {
  const reason = ioUringUnavailableReason();
  if (reason === undefined) {
    describe(name, fn);
    return;
  }
  const declare = (): void => {
    const outer = insideSkipped;
    insideSkipped = true;
    try {
      fn();
    } finally {
      insideSkipped = outer;
    }
  };
  if (insideSkipped) {
    describe.skip(name, declare);
    return;
  }
  console.log(`${name}: skipped, ${reason}`);
  describe.skip(`${name} (skipped: io_uring is unavailable, ${reason})`, declare);
}

/** Whether the build could have linked liburing here (what binding.gyp asks at configure time). */
export function liburingInstalled(): boolean {
  const script = fileURLToPath(new URL("../scripts/find-liburing.mjs", import.meta.url));
  const env = { ...process.env };
  delete env.TALUS_FS_BUILD_IOURING;
  const found = spawnSync(process.execPath, [script], { encoding: "utf8", env });
  return found.status === 0 && found.stdout.trim() !== "";
}

/** Resolves when `condition` holds, polling; rejects after `ms`. */
export async function eventually(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
