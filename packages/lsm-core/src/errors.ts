/**
 * Every failure the engine reports on its own account is an {@link LsmError} with a stable string
 * `code`; callers branch on the code, never on the message. Filesystem errors pass through unchanged
 * with node's errno `code` (`ENOENT`, `EEXIST`, `EACCES`, `EXDEV`, `ENOTSUP`, ...).
 *
 * @module
 */

/** The stable codes. Never rename one: users match on them. */
export type LsmErrorCode =
  /** A directory or file that is not a Talus artifact in a usable state (e.g. version files without `current`). */
  | "INVALID_DATA"
  /** A checksum or structure mismatch inside a file; the message names the file. */
  | "CORRUPTION"
  /** State the engine cannot continue from (a table the version lists is missing, a tree of the other kind). */
  | "UNRECOVERABLE"
  /** The tree was written with another comparator than the one supplied. */
  | "COMPARATOR_MISMATCH"
  /** Tables are missing from levels whose routes changed since the tree was written. */
  | "ROUTE_MISMATCH"
  /** A write batch names one key with two different kinds of operation. */
  | "MIXED_OPERATION_BATCH"
  /** The merge operator failed, or the tree's tables were written under another one. */
  | "MERGE_OPERATOR"
  /** The compaction filter failed (the compaction did nothing). */
  | "COMPACTION_FILTER"
  /** The tree (or an iterator) is closed. */
  | "CLOSED"
  /** The on-disk format is newer (or older) than this build reads. */
  | "UNSUPPORTED_FORMAT"
  /**
   * The tree directory (or one of its level-route directories) is open elsewhere, in this process or
   * another: its `LOCK` file is held. Close the other tree first; nothing was read or changed.
   */
  | "LOCKED"
  /**
   * The worker thread running a job died (or could not start) before reporting: the job did nothing,
   * the tree is as it was, and the next job gets a fresh thread. The thread's error is the cause.
   */
  | "WORKER_FAILED"
  /** A write, flush, compaction or other change was asked of a tree opened with `readOnly`. */
  | "READ_ONLY";

const CODES: ReadonlySet<string> = new Set<LsmErrorCode>([
  "INVALID_DATA",
  "CORRUPTION",
  "UNRECOVERABLE",
  "COMPARATOR_MISMATCH",
  "ROUTE_MISMATCH",
  "MIXED_OPERATION_BATCH",
  "MERGE_OPERATOR",
  "COMPACTION_FILTER",
  "CLOSED",
  "UNSUPPORTED_FORMAT",
  "LOCKED",
  "WORKER_FAILED",
  "READ_ONLY",
]);

/** Whether `code` is one of the engine's stable codes. */
export function isLsmErrorCode(code: unknown): code is LsmErrorCode {
  return typeof code === "string" && CODES.has(code);
}

/**
 * An engine error with a stable {@link LsmErrorCode}.
 *
 * @example
 * ```ts
 * import { LsmError, Tree } from "@talus/lsm-core";
 * try {
 *   await Tree.open({ path: "/half/written/checkpoint" });
 * } catch (error) {
 *   if (error instanceof LsmError && error.code === "INVALID_DATA") console.log(error.message);
 * }
 * ```
 */
export class LsmError extends Error {
  /** What went wrong, as a stable code to branch on (the message is for people and may change). */
  readonly code: LsmErrorCode;

  constructor(code: LsmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LsmError";
    this.code = code;
  }
}

/** A `CORRUPTION` error that names the file and what did not match. */
export function corruption(file: string, what: string): LsmError {
  return new LsmError("CORRUPTION", `corrupt file ${file}: ${what}`);
}
