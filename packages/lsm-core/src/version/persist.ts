/**
 * Publishing and loading versions, in the order DESIGN.md section 4 prescribes: the new version file is
 * written whole with exclusive create, synced, its directory synced, and only then is `current`
 * atomically repointed (temp file, sync, rename, directory sync). A crash at any point leaves `current`
 * naming either the old or the new version, and whichever it names is complete.
 *
 * @module
 */
import type { Fs } from "@talus/fs";
import { hasCode } from "@talus/fs";
import { checksum } from "../coding/checksum.ts";
import { corruption, LsmError } from "../errors.ts";
import { readCurrent, writeCurrentSteps, type CurrentPointer, type PointerProgress } from "./current.ts";
import { runAsync, runBlocking, type DurableSteps } from "./durable-steps.ts";
import { joinPath, readWholeFile, removeQuietly, writeNewFileSteps } from "./file-io.ts";
import { decodeVersionRecord, encodeVersionRecord, type VersionRecord } from "./version-record.ts";

/** The name of version `id`'s file: `v<id>` in decimal, no leading zeros. */
export function versionFileName(id: number): string {
  return `v${id}`;
}

/** The id of a canonical version file name (`v0`, `v17`, ...), or `undefined` for any other name. */
export function parseVersionFileName(name: string): number | undefined {
  if (!/^v(?:0|[1-9][0-9]*)$/.test(name)) return undefined;
  const id = Number(name.slice(1));
  return Number.isSafeInteger(id) ? id : undefined;
}

/**
 * The checksum `current` records for a version file: CRC-32 of every byte but the last 4, which is the
 * value of the file's own trailer. Not the CRC of the whole file: a CRC-32 over a message followed by
 * its own CRC is the same constant for every message, so it could not tell one version file from another.
 */
export function versionFileChecksum(bytes: Uint8Array): number {
  return checksum(bytes.subarray(0, Math.max(0, bytes.length - 4)));
}

/** What {@link persistVersion} wrote. */
export interface PersistedVersion {
  /** The version's number ({@link VersionRecord.id}): the file written is `v<id>`, and `current` now names it. */
  readonly id: number;
  /** Full path of the version file. */
  readonly path: string;
  /** {@link versionFileChecksum} of the file, as recorded in `current`. */
  readonly checksum: number;
  /** Length of the version file in bytes. */
  readonly size: number;
}

/**
 * Writes `record` as `<dir>/v<id>` and makes it the current version.
 *
 * Failure contract:
 * - before the rename of `current` (create, write, sync, close, directory sync, temp pointer): the
 *   partial `v<id>` is removed (best effort), `current` still names the old, intact version, and the
 *   error is rethrown;
 * - in the final directory sync after the rename: `current` in the live directory names the new
 *   version, which is complete, so `v<id>` is kept; whether the pointer survives a crash is unknown
 *   (either version opens). The caller must not reuse the id.
 *
 * `v<id>` must not exist: exclusive create refuses to overwrite (`EEXIST`), so recovery removes stale
 * version files (see `removeStaleVersionFiles`) before the next id is persisted.
 */
export function persistVersion(fs: Fs, dir: string, record: VersionRecord): PersistedVersion {
  return runBlocking(fs, persistSteps(fs, dir, record));
}

/**
 * {@link persistVersion} with its syncs off the event loop where the filesystem offers async syncs
 * (the same steps, order and failure contract). The caller must not let another version be persisted
 * into `dir` until this settles.
 */
export function persistVersionAsync(fs: Fs, dir: string, record: VersionRecord): Promise<PersistedVersion> {
  return runAsync(fs, persistSteps(fs, dir, record));
}

function* persistSteps(fs: Fs, dir: string, record: VersionRecord): DurableSteps<PersistedVersion> {
  const bytes = encodeVersionRecord(record);
  const sum = versionFileChecksum(bytes);
  const path = joinPath(dir, versionFileName(record.id));
  yield* writeNewFileSteps(fs, path, bytes);
  const progress: PointerProgress = { renamed: false };
  try {
    // The new name must be durable before any pointer can name it.
    yield { dir };
    yield* writeCurrentSteps(fs, dir, record.id, sum, progress);
  } catch (error) {
    if (!progress.renamed) removeQuietly(fs, path);
    throw error;
  }
  return { id: record.id, path, checksum: sum, size: bytes.length };
}

/** The live version of a tree directory. */
export interface LoadedVersion {
  readonly pointer: CurrentPointer;
  readonly record: VersionRecord;
  /** Full path of the version file. */
  readonly path: string;
}

/**
 * Reads `current` and the version file it names. `undefined` when there is no `current`; `CORRUPTION`
 * (naming the file) when `current` is damaged, or the version file is missing, damaged, not the one
 * `current` recorded (CRC differs) or carries another id.
 */
export function loadLatestVersion(fs: Fs, dir: string): LoadedVersion | undefined {
  const pointer = readCurrent(fs, dir);
  if (pointer === undefined) return undefined;
  const path = joinPath(dir, versionFileName(pointer.versionId));
  let bytes: Uint8Array;
  try {
    bytes = readWholeFile(fs, path);
  } catch (error) {
    if (hasCode(error, "ENOENT")) {
      throw new LsmError("CORRUPTION", `corrupt file ${path}: missing, but current names version ${pointer.versionId}`, { cause: error });
    }
    throw error;
  }
  const actual = versionFileChecksum(bytes);
  if (actual !== pointer.versionChecksum) {
    throw corruption(path, `checksum ${actual.toString(16)} differs from ${pointer.versionChecksum.toString(16)} recorded in current (swapped or damaged)`);
  }
  const record = decodeVersionRecord(bytes, path);
  if (record.id !== pointer.versionId) throw corruption(path, `holds version ${record.id}, current names ${pointer.versionId}`);
  return { pointer, record, path };
}
