/**
 * What a tree directory holds, for the open decision, and the cleanup of version files that no pointer
 * names. The rule that matters: a directory without `current` is refused, never overwritten, if it may
 * hold data (a half-written checkpoint, a tree whose pointer was lost); only the exact leftovers of an
 * interrupted creation, which cannot hold any, are recreated (see {@link classifyTreeDir}).
 *
 * @module
 */
import { hasCode, type Fs, type FsDirEntry } from "@talus/fs";
import { LsmError } from "../errors.ts";
import { CURRENT_FILE_NAME, CURRENT_TMP_PREFIX } from "./current.ts";
import { joinPath, readWholeFile, removeIfExists } from "./file-io.ts";
import { parseVersionFileName, versionFileName } from "./persist.ts";
import { decodeVersionRecord } from "./version-record.ts";

/** Subdirectories whose presence means a tree was (being) created here. */
export const TABLES_DIR_NAME = "tables";
/** The subdirectory of a blob tree's directory that holds its blob files (`<path>/blobs/`). */
export const BLOBS_DIR_NAME = "blobs";
/** The journal directory inside a tree's directory (`<path>/journal/`). */
export const JOURNAL_DIR_NAME = "journal";

/**
 * The only version file a tree's creation writes: `v0`, listing nothing. An empty version is a few
 * hundred bytes (its comparator name is at most 256), so a larger file is something else and is not
 * read whole to find out.
 */
const CREATION_VERSION_ID = 0;
const MAX_CREATION_VERSION_BYTES = 4096;

/**
 * - `"missing"`: nothing at `dir`;
 * - `"empty"`: a directory without tree state (it may hold unrelated files, and the `LOCK` file that
 *   `Tree.open` takes before classifying): create a new tree;
 * - `"interrupted"`: what a creation cut short (a crash before its `current` was durable) leaves, and
 *   nothing else: create the tree again, after removing those leftovers;
 * - `"tree"`: `current` exists: recover.
 */
export type TreeDirState = "missing" | "empty" | "interrupted" | "tree";

/**
 * Classifies `dir` for open. Throws `LsmError("INVALID_DATA")`, naming `current`, when the directory
 * has no `current` but holds artifacts that may hold data. Filesystem errors other than a missing
 * directory (e.g. `ENOTDIR` when `dir` is a file) are thrown as they are.
 *
 * Invariant: a directory without `current` is `"interrupted"` (and may be recreated) only when it holds
 * nothing a tree's data could be in. Creation writes `v0` (listing no table, no blob file, no journal
 * floor) and publishes `current` before it makes `tables/`, `blobs/` or `journal/`, so its leftovers are
 * `v0`, whole or torn, and temp pointers, beside files that are not Talus's. Anything else is refused:
 * a `tables`, `blobs` or `journal` entry (even empty: a checkpoint claims its target with an empty
 * `tables/` before linking the tables in, so an empty `tables/` may be a half-made copy of a tree with
 * data), a version file other than `v0`, a `v0` that lists anything or records a journal floor, holds
 * another id, or is of a format this build cannot read. A torn `v0` counts as creation's: with no
 * tables, blob files or journal beside it, no version file could have led to data. The caller checks
 * level-route folders, which it alone knows, the same way before recreating.
 */
export function classifyTreeDir(fs: Fs, dir: string): TreeDirState {
  let entries: FsDirEntry[];
  try {
    entries = fs.readDir(dir);
  } catch (error) {
    if (hasCode(error, "ENOENT")) return "missing";
    throw error;
  }
  if (entries.some((entry) => entry.fileName === CURRENT_FILE_NAME)) return "tree";
  // A file named `tables` counts too: refusing is safe, guessing that it is unrelated is not.
  const dataDirs = entries.filter((entry) => entry.fileName === TABLES_DIR_NAME || entry.fileName === BLOBS_DIR_NAME || entry.fileName === JOURNAL_DIR_NAME);
  const versions = entries.filter((entry) => !entry.isDir && parseVersionFileName(entry.fileName) !== undefined);
  // A journal without `current` and without version files was never more than that: as before, the new
  // tree replays it rather than refusing, so it is not an artifact by itself.
  const artifacts = [...dataDirs.filter((entry) => entry.fileName !== JOURNAL_DIR_NAME || versions.length > 0), ...versions]
    .map((entry) => (entry.isDir ? `${entry.fileName}/` : entry.fileName))
    .sort();
  if (artifacts.length === 0) return "empty";
  if (dataDirs.length === 0 && versions.length === 1 && isCreationVersion(fs, dir, (versions[0] as FsDirEntry).fileName)) return "interrupted";
  throw new LsmError(
    "INVALID_DATA",
    `${dir}: the \`current\` pointer is missing but the directory still holds version artifacts (${artifacts.join(", ")}); ` +
      "it is probably a half-written checkpoint or a tree whose pointer was lost. Refusing to open or overwrite it: " +
      "delete the directory (or restore its `current`) and retry.",
  );
}

/** Whether `name` in `dir` is a version file a tree's creation may have left: see {@link classifyTreeDir}. */
function isCreationVersion(fs: Fs, dir: string, name: string): boolean {
  if (name !== versionFileName(CREATION_VERSION_ID)) return false;
  const path = joinPath(dir, name);
  if (fs.metadata(path).len > MAX_CREATION_VERSION_BYTES) return false;
  const bytes = readWholeFile(fs, path, MAX_CREATION_VERSION_BYTES);
  try {
    const record = decodeVersionRecord(bytes, path);
    return (
      record.id === CREATION_VERSION_ID &&
      record.levels.every((runs) => runs.length === 0) &&
      record.blobFiles.length === 0 &&
      record.journalFloor === undefined
    );
  } catch (error) {
    // Torn by the crash (its sync never completed). A file of a newer format may mean more than we can
    // read, so it stays refused.
    return error instanceof LsmError && error.code === "CORRUPTION";
  }
}

/** One version file in a tree directory. */
export interface VersionFileEntry {
  readonly id: number;
  readonly fileName: string;
  readonly path: string;
}

/** The version files (`v<digits>`, files only) in `dir`, by ascending id. */
export function listVersionFiles(fs: Fs, dir: string): VersionFileEntry[] {
  const out: VersionFileEntry[] = [];
  for (const entry of fs.readDir(dir)) {
    if (entry.isDir) continue;
    const id = parseVersionFileName(entry.fileName);
    if (id !== undefined) out.push({ id, fileName: entry.fileName, path: joinPath(dir, entry.fileName) });
  }
  return out.sort((a, b) => a.id - b.id);
}

/**
 * Removes every version file except `v<keepId>` (older ones no pointer names any more, and newer ones
 * left by a crash before their pointer was published, which would otherwise block that id with
 * `EEXIST`), plus leftover `current.tmp-*` files. Only exact `v<digits>` names are touched, unlike the
 * reference, which removed any root file starting with `v`: `vault.txt` stays. Returns the removed
 * file names; a file that vanished meanwhile is skipped, any other error is thrown. Call it only while
 * no version edit is in flight on `dir` (at open): it would take an in-progress temp pointer.
 */
export function removeStaleVersionFiles(fs: Fs, dir: string, keepId: number): string[] {
  const removed: string[] = [];
  for (const entry of fs.readDir(dir)) {
    if (entry.isDir) continue;
    const id = parseVersionFileName(entry.fileName);
    const stale = id !== undefined ? id !== keepId : entry.fileName.startsWith(CURRENT_TMP_PREFIX);
    if (stale && removeIfExists(fs, joinPath(dir, entry.fileName))) removed.push(entry.fileName);
  }
  return removed.sort();
}
