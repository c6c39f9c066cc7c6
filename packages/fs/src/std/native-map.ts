/**
 * Read-only memory maps for {@link StdFs.mapReadOnly}, through this package's own addon
 * (native/talus_fs.c, built at install or shipped prebuilt). Where the addon cannot be loaded (no
 * prebuild for the platform and no compiler at install, Windows) there is no map and callers read with
 * pread.
 *
 * @module
 */
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

interface NativeFs {
  map(path: string): ArrayBuffer | undefined;
}

let native: NativeFs | null | undefined;

function nativeFs(): NativeFs | null {
  if (native === undefined) {
    try {
      const require = createRequire(import.meta.url);
      const load = require("node-gyp-build") as (dir: string) => unknown;
      // The package root: this module is src/std/ or dist/std/ in it.
      const loaded = load(fileURLToPath(new URL("../..", import.meta.url))) as Partial<NativeFs>;
      native = typeof loaded.map === "function" ? (loaded as NativeFs) : null;
    } catch {
      native = null;
    }
  }
  return native;
}

/** Whether {@link mapFile} works here. */
export function isMapAvailable(): boolean {
  return nativeFs() !== null;
}

/**
 * The whole file at `path` mapped read-only, or `undefined` when there is no addon (or the file is
 * empty). Throws node-style errors (`code` set) when the file cannot be opened or mapped.
 */
export function mapFile(path: string): Uint8Array | undefined {
  const addon = nativeFs();
  if (addon === null) return undefined;
  let buffer: ArrayBuffer | undefined;
  try {
    buffer = addon.map(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw Object.assign(new Error((error as Error).message), { code: typeof code === "string" ? code : "EIO", syscall: "mmap", path });
  }
  return buffer === undefined ? undefined : new Uint8Array(buffer);
}
