/**
 * This package's own Node-API addon (native/talus_fs.c, plus native/talus_iouring.c where the build found
 * liburing), built at install or shipped prebuilt, loaded once per thread. `null` where it cannot be
 * loaded (no prebuild for the platform and no compiler at install, Windows): callers then fall back.
 *
 * @module
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

let addon: Record<string, unknown> | null | undefined;

/** The addon's exports, or `null` when there is no addon here. */
export function nativeAddon(): Record<string, unknown> | null {
  if (addon === undefined) {
    try {
      const require = createRequire(import.meta.url);
      const load = require("node-gyp-build") as (dir: string) => unknown;
      // The package root: this module is src/ or dist/ in it.
      const loaded = load(fileURLToPath(new URL("..", import.meta.url)));
      addon = typeof loaded === "object" && loaded !== null ? (loaded as Record<string, unknown>) : null;
    } catch {
      addon = null;
    }
  }
  return addon;
}
