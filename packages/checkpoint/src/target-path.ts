/**
 * The checkpoint target path: `.` components are dropped (so `./backup` and `backup` are the same
 * target), `..` is kept, and a path that names no component at all is refused, because the directory it
 * would claim is the current one.
 *
 * @module
 */
import { fsError } from "@talus/fs";

export function normalizeTarget(target: string): string {
  if (typeof target !== "string") throw new TypeError("the checkpoint target must be a path string");
  const absolute = target.startsWith("/");
  const parts = target.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.length === 0) {
    const error = fsError("EINVAL", "checkpoint", target);
    error.message = `EINVAL: checkpoint target "${target}" must name at least one path component`;
    throw error;
  }
  return `${absolute ? "/" : ""}${parts.join("/")}`;
}

/** The parent directory of a normalised target (`.` for a bare relative name: it must be synced too). */
export function parentOf(target: string): string {
  const cut = target.lastIndexOf("/");
  if (cut < 0) return ".";
  return cut === 0 ? "/" : target.slice(0, cut);
}
