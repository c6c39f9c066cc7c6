/**
 * Failures of blob files are `LsmError`s from `@talus/lsm-core`, with its stable codes, so a blob tree
 * reports them exactly as a standard tree reports damaged tables: `CORRUPTION` naming the file,
 * `UNSUPPORTED_FORMAT` for a file of another format generation, `CLOSED` after close.
 *
 * @module
 */
import { LsmError } from "@talus/lsm-core";

/** A `CORRUPTION` error that names the blob file and what did not match. */
export function blobCorruption(path: string, what: string, cause?: unknown): LsmError {
  return new LsmError("CORRUPTION", `corrupt blob file ${path}: ${what}`, cause === undefined ? undefined : { cause });
}
