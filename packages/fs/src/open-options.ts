import { constants } from "node:fs";
import { fsError } from "./errors.ts";
import type { FsOpenOptions } from "./types.ts";

/**
 * Rejects flag sets that POSIX (and Rust's `OpenOptions`, which the reference engine used) call
 * contradictory, with `EINVAL`, before any backend touches the path. Every backend calls this so that
 * they agree on what is legal.
 */
export function validateOpenOptions(path: string, options: FsOpenOptions): void {
  const writes = options.write === true || options.append === true;
  const invalid =
    (options.read !== true && !writes) ||
    (options.truncate === true && options.append === true) ||
    (options.truncate === true && options.write !== true) ||
    ((options.create === true || options.createNew === true) && !writes);
  if (invalid) throw fsError("EINVAL", "open", path);
}

/** The `open(2)` flags for a validated option set. */
export function openFlags(options: FsOpenOptions): number {
  const writes = options.write === true || options.append === true;
  let flags = options.read === true && writes ? constants.O_RDWR : writes ? constants.O_WRONLY : constants.O_RDONLY;
  if (options.createNew === true) flags |= constants.O_CREAT | constants.O_EXCL;
  else if (options.create === true) flags |= constants.O_CREAT;
  if (options.truncate === true) flags |= constants.O_TRUNC;
  if (options.append === true) flags |= constants.O_APPEND;
  return flags;
}

/** What a handle opened with `options` may do; backends that do not enforce modes themselves check these. */
export function handleAccess(options: FsOpenOptions): {
  /** `readAt` is allowed. */
  readonly read: boolean;
  /** `write` and `setLen` are allowed (`append` implies it). */
  readonly write: boolean;
  /** Every `write` goes to the end of the file. */
  readonly append: boolean;
} {
  return {
    read: options.read === true,
    write: options.write === true || options.append === true,
    append: options.append === true,
  };
}
