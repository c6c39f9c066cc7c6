/**
 * Errors in abstract-level's terms: an `Error` with an uppercase `code` (`LEVEL_...`) and the engine's
 * error as `cause`.
 *
 * | Talus | abstract-level |
 * |---|---|
 * | `LsmError` `LOCKED` (the directory is open in another tree) | `LEVEL_LOCKED` (so `open()` fails with `LEVEL_DATABASE_NOT_OPEN` whose cause has it, as classic-level's does) |
 * | `LsmError` `CORRUPTION` | `LEVEL_CORRUPTION` |
 * | `LsmError` `CLOSED` | `LEVEL_DATABASE_NOT_OPEN` |
 * | a filesystem error (`EIO`, `ENOSPC`, `EACCES`, ...) | `LEVEL_IO_ERROR` |
 * | a key too long for a tree (checked by the adapter) | `LEVEL_INVALID_KEY` |
 * | a value too large for the tree (checked by the adapter) | `LEVEL_INVALID_VALUE` |
 *
 * Other engine errors (`INVALID_DATA`, `UNRECOVERABLE`, `UNSUPPORTED_FORMAT`, ...) pass through unchanged,
 * with their own `code`.
 *
 * @module
 */
import { LsmError } from "@talus/lsm-core";

/** An error with an abstract-level `code`. */
export function levelError(message: string, code: string, cause?: unknown): Error & { code: string } {
  const error = cause === undefined ? new Error(message) : new Error(message, { cause });
  return Object.assign(error, { code });
}

/** `LEVEL_ABORTED`, named `AbortError` as the web platform's (abstract-level checks both). */
export function abortError(): Error & { code: string } {
  const error = levelError("Operation has been aborted", "LEVEL_ABORTED");
  error.name = "AbortError";
  return error;
}

/** `LEVEL_DATABASE_NOT_OPEN`. */
export function notOpen(what = "Database is not open"): Error & { code: string } {
  return levelError(what, "LEVEL_DATABASE_NOT_OPEN");
}

/** The abstract-level form of an error from the engine (see the table above); other errors as they are. */
export function toLevelError(error: unknown): unknown {
  if (error instanceof LsmError) {
    switch (error.code) {
      case "LOCKED":
        return levelError(error.message, "LEVEL_LOCKED", error);
      case "CORRUPTION":
        return levelError(error.message, "LEVEL_CORRUPTION", error);
      case "CLOSED":
        return levelError("Database is not open", "LEVEL_DATABASE_NOT_OPEN", error);
      default:
        return error;
    }
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z0-9]+$/.test(code)) return levelError(error.message, "LEVEL_IO_ERROR", error);
  }
  return error;
}
