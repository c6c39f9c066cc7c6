import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

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
