/**
 * One writer per tree directory. Two trees open on one directory, in two processes or in one, would
 * each take the other's new tables for orphans and delete them, and publish versions over each other:
 * the directory would be corrupt. So `Tree.open` locks `<path>/LOCK` (through {@link Fs.tryLock}) before
 * it reads or cleans anything, and `<route.path>/LOCK` for every distinct level-route directory, each on
 * its own filesystem; `close()` releases them last.
 *
 * The `LOCK` file is empty and means nothing by its contents or its presence: it is created if missing,
 * never removed, and every scan of a tree directory (open's classification, orphan-table and
 * stale-version cleanup) ignores it, as checkpoints do (they copy only tables, the version and
 * `current`). On `StdFs` the lock is the kernel's, so a process that dies, even by SIGKILL, leaves the
 * directory openable at once.
 *
 * @module
 */
import { resolve } from "node:path";
import type { Fs, FsLock } from "@talus/fs";
import { LsmError } from "../errors.ts";
import { joinPath } from "../version/index.ts";
import type { ResolvedOptions } from "./options.ts";

/** The lock file in a tree directory and in every level-route directory. */
export const LOCK_FILE_NAME = "LOCK";

/** The locks of one open tree. */
export class DirLock {
  readonly #locks: FsLock[];

  constructor(locks: FsLock[]) {
    this.#locks = locks;
  }

  /** Releases every lock, the last taken first. Idempotent. */
  release(): void {
    let failure: unknown;
    while (this.#locks.length > 0) {
      try {
        this.#locks.pop()?.release();
      } catch (error) {
        // Release the others anyway; report the first failure.
        failure ??= error;
      }
    }
    if (failure !== undefined) throw failure;
  }
}

/** A directory to lock, and the filesystem it is on. */
interface LockTarget {
  readonly fs: Fs;
  readonly dir: string;
  /** How the directory appears in a LOCKED message. */
  readonly role: string;
}

/**
 * Locks the tree directory (created first if missing, unless the tree is opened read-only) and every
 * distinct level-route directory. Throws
 * `LsmError("LOCKED")` naming the directory when one is held elsewhere, after releasing those already
 * taken; any other failure (e.g. an I/O error creating a directory) also releases them and is rethrown.
 */
export function lockTreeDirs(options: ResolvedOptions): DirLock {
  const targets: LockTarget[] = [{ fs: options.fs, dir: options.path, role: "tree directory" }];
  for (const route of options.routes) {
    if (!targets.some((known) => sameDir(known, route.fs, route.path))) {
      targets.push({ fs: route.fs, dir: route.path, role: `level route directory (levels ${route.levels[0]}..${route.levels[1] - 1})` });
    }
  }
  const taken: FsLock[] = [];
  const held = new DirLock(taken);
  try {
    for (const { fs, dir, role } of targets) {
      if (!options.readOnly) fs.createDirAll(dir);
      else if (!fs.exists(dir)) throw new LsmError("INVALID_DATA", `${dir} does not exist (opened readOnly, nothing is created)`);
      const lock = fs.tryLock(joinPath(dir, LOCK_FILE_NAME));
      if (lock === undefined) {
        throw new LsmError(
          "LOCKED",
          `${dir} is locked: this ${role} is open in another tree, in this process or another (its ${LOCK_FILE_NAME} file is held); ` +
            "close that tree first",
        );
      }
      taken.push(lock);
    }
  } catch (error) {
    try {
      held.release();
    } catch {
      // The failure to lock is the error to report.
    }
    throw error;
  }
  return held;
}

/**
 * Whether `fs`/`dir` names the directory of `known`: the same path on the same filesystem object, or
 * on another object over the same namespace (equal `backendId`, e.g. two `StdFs`, or a wrapper and
 * what it wraps), which takes its locks from the same place and would refuse the second lock.
 */
function sameDir(known: LockTarget, fs: Fs, dir: string): boolean {
  if (resolve(known.dir) !== resolve(dir)) return false;
  if (known.fs === fs) return true;
  const id = fs.backendId();
  return id !== undefined && id === known.fs.backendId();
}
