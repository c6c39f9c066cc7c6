/**
 * Read-only memory maps for {@link StdFs.mapReadOnly}, through this package's own addon
 * (native/talus_fs.c, built at install or shipped prebuilt). Where the addon cannot be loaded (no
 * prebuild for the platform and no compiler at install, Windows) there is no map and callers read with
 * pread.
 *
 * @module
 */
import { nativeAddon } from "../native-addon.ts";

interface NativeFs {
  map(path: string): ArrayBuffer | undefined;
  /** Absent from addons built before it existed. */
  evict?(path: string): void;
}

function nativeFs(): NativeFs | null {
  const loaded = nativeAddon();
  return loaded !== null && typeof loaded.map === "function" ? (loaded as unknown as NativeFs) : null;
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

/**
 * Drops the clean pages of the file at `path` from the kernel's page cache; false (nothing done) without the
 * addon. Throws node-style errors like {@link mapFile}.
 */
export function evictFile(path: string): boolean {
  const addon = nativeFs();
  if (addon === null || typeof addon.evict !== "function") return false;
  try {
    addon.evict(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw Object.assign(new Error((error as Error).message), { code: typeof code === "string" ? code : "EIO", syscall: "posix_fadvise", path });
  }
  return true;
}
