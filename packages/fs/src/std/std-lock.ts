/**
 * File locks for {@link StdFs.tryLock}: an operating-system lock through the `fs-native-extensions`
 * addon, or, where the addon cannot be loaded, a registry that only this process sees.
 *
 * The addon takes, on Linux, an exclusive open-file-description lock (`fcntl(F_OFD_SETLK)`), on macOS
 * and the BSDs a `flock(LOCK_EX | LOCK_NB)`, on Windows `LockFileEx`. All three belong to the open file,
 * not to the process: a second open of the same file in this process is refused like another process,
 * and the kernel drops the lock when the descriptor is closed or the process ends, however it ends
 * (SIGKILL, a crash, power loss), so a dead holder never locks the file forever. The descriptor stays
 * open while the lock is held; `release()` unlocks and closes it.
 *
 * @module
 */
import * as nodeFs from "node:fs";
import { createRequire } from "node:module";
import { hasCode } from "../errors.ts";
import type { FsLock } from "../types.ts";

/** The part of `fs-native-extensions` used here (the package ships no type declarations). */
interface NativeLocks {
  /** Exclusive, non-blocking; false when another open file holds a conflicting lock. */
  tryLock(fd: number): boolean;
  unlock(fd: number): void;
}

/** Who a {@link StdFs} lock keeps out: every process (the addon loaded) or only this one (fallback). */
export type LockScope = "system" | "process";

let native: NativeLocks | null | undefined;

/** The addon, loaded on first use; `null` when this platform has no prebuild (or loading fails otherwise). */
function nativeLocks(): NativeLocks | null {
  if (native === undefined) {
    try {
      const loaded = createRequire(import.meta.url)("fs-native-extensions") as Partial<NativeLocks>;
      native = typeof loaded.tryLock === "function" && typeof loaded.unlock === "function" ? (loaded as NativeLocks) : null;
    } catch {
      native = null;
    }
  }
  return native;
}

/** Whether {@link takeFileLock} takes operating-system locks here, or falls back to the in-process registry. */
export function lockScope(): LockScope {
  return nativeLocks() === null ? "process" : "system";
}

/**
 * Opens (creating, never truncating) `path` and takes an exclusive lock on it: the {@link StdFs.tryLock}
 * behind the interface. `undefined` when another holder has it.
 */
export function takeFileLock(path: string): FsLock | undefined {
  const addon = nativeLocks();
  if (addon === null) return processLocks.take(path);
  // Write access: an exclusive fcntl lock needs a descriptor opened for writing (EBADF otherwise).
  const fd = nodeFs.openSync(path, nodeFs.constants.O_RDWR | nodeFs.constants.O_CREAT, 0o644);
  let locked: boolean;
  try {
    locked = addon.tryLock(fd);
  } catch (error) {
    nodeFs.closeSync(fd);
    // POSIX lets a conflicting fcntl lock fail with EACCES as well as EAGAIN; both mean "held".
    if (hasCode(error, "EAGAIN") || hasCode(error, "EACCES")) return undefined;
    throw error;
  }
  if (!locked) {
    nodeFs.closeSync(fd);
    return undefined;
  }
  return new OsLock(addon, fd);
}

/** A lock the kernel holds for as long as the descriptor is open. */
class OsLock implements FsLock {
  readonly #addon: NativeLocks;
  #fd: number | undefined;

  constructor(addon: NativeLocks, fd: number) {
    this.#addon = addon;
    this.#fd = fd;
  }

  release(): void {
    const fd = this.#fd;
    if (fd === undefined) return;
    this.#fd = undefined;
    try {
      this.#addon.unlock(fd);
    } catch {
      // Closing the descriptor below drops the lock all the same.
    }
    nodeFs.closeSync(fd);
  }
}

/**
 * The fallback: the real paths of the files locked by this process. It refuses a second lock of a file
 * in this process (under any of its names: symbolic links and `..` resolve to one real path) but cannot
 * see other processes, and a hard link under another name is another entry.
 */
export class ProcessLockRegistry {
  readonly #held = new Set<string>();

  /** Creates `path` if missing, then locks its real path; `undefined` when this registry already holds it. */
  take(path: string): FsLock | undefined {
    nodeFs.closeSync(nodeFs.openSync(path, nodeFs.constants.O_RDWR | nodeFs.constants.O_CREAT, 0o644));
    const real = nodeFs.realpathSync(path);
    if (this.#held.has(real)) return undefined;
    this.#held.add(real);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.#held.delete(real);
      },
    };
  }
}

/** The registry every `StdFs` of this process shares when the addon is missing. */
const processLocks = new ProcessLockRegistry();
