import { constants } from "node:os";

/** An error shaped like the ones node:fs throws: `code`, `errno`, `syscall`, `path` (and `dest`). */
export interface FsErrorFields {
  /** The errno name callers branch on: `"ENOENT"`, `"EEXIST"`, `"EXDEV"`, ... */
  readonly code: string;
  /** The errno number, negative as node reports it (`-2` for `ENOENT` on Linux); 0 for a code the platform lacks. */
  readonly errno: number;
  /** The operation that failed, named after the system call: `"open"`, `"rename"`, `"link"`, ... */
  readonly syscall: string;
  /** The path the operation was about, when there is one. */
  readonly path?: string;
  /** The second path of a two-path operation (`rename`, `link`, `copyfile`): where to. */
  readonly dest?: string;
}

/**
 * The errors every `Fs` backend throws: an `Error` with node's errno fields, so `err.code === "ENOENT"` works
 * the same on `StdFs`, `MemFs` and any wrapper. Built by {@link fsError}; tested with {@link hasCode}.
 */
export type FsError = Error & FsErrorFields;

const DESCRIPTIONS: Readonly<Record<string, string>> = {
  EBADF: "bad file descriptor",
  EEXIST: "file already exists",
  EINVAL: "invalid argument",
  EISDIR: "illegal operation on a directory",
  ENOENT: "no such file or directory",
  ENOTDIR: "not a directory",
  ENOTEMPTY: "directory not empty",
  EPERM: "operation not permitted",
  EXDEV: "cross-device link not permitted",
  ENOTSUP: "operation not supported",
  EIO: "i/o error",
  ENOSPC: "no space left on device",
  EACCES: "permission denied",
  EINTR: "interrupted system call",
};

/**
 * Builds an error that callers cannot tell apart from node's own, so that code written against
 * `StdFs` (`err.code === "ENOENT"`) works unchanged on every backend.
 */
export function fsError(code: string, syscall: string, path?: string, dest?: string): FsError {
  const where = path === undefined ? "" : dest === undefined ? ` '${path}'` : ` '${path}' -> '${dest}'`;
  const error = new Error(`${code}: ${DESCRIPTIONS[code] ?? "error"}, ${syscall}${where}`) as Error & {
    -readonly [K in keyof FsErrorFields]: FsErrorFields[K];
  };
  error.code = code;
  error.errno = -((constants.errno as Record<string, number>)[code] ?? 0);
  error.syscall = syscall;
  if (path !== undefined) error.path = path;
  if (dest !== undefined) error.dest = dest;
  return error;
}

/** Whether `error` carries the errno `code` (works for node's errors and {@link fsError}'s). */
export function hasCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}
