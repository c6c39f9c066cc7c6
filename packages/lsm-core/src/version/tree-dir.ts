/**
 * What a tree directory holds, for the open decision, and the cleanup of version files that no pointer
 * names. The rule that matters: a directory with version artifacts but no `current` is a half-written
 * checkpoint or an interrupted creation, and is refused, never overwritten.
 *
 * @module
 */
import { hasCode, type Fs, type FsDirEntry } from "@talus/fs";
import { LsmError } from "../errors.ts";
import { CURRENT_FILE_NAME, CURRENT_TMP_PREFIX } from "./current.ts";
import { joinPath, removeIfExists } from "./file-io.ts";
import { parseVersionFileName } from "./persist.ts";

/** Subdirectories whose presence means a tree was (being) created here. */
export const TABLES_DIR_NAME = "tables";
/** The subdirectory of a blob tree's directory that holds its blob files (`<path>/blobs/`). */
export const BLOBS_DIR_NAME = "blobs";

/**
 * - `"missing"`: nothing at `dir`;
 * - `"empty"`: a directory without tree state (it may hold unrelated files, and the `LOCK` file that
 *   `Tree.open` takes before classifying): create a new tree;
 * - `"tree"`: `current` exists: recover.
 */
export type TreeDirState = "missing" | "empty" | "tree";

/**
 * Classifies `dir` for open. Throws `LsmError("INVALID_DATA")`, naming `current`, when the directory
 * has a `tables` or `blobs` entry or a `v<digits>` file but no `current`. Filesystem errors other than a
 * missing directory (e.g. `ENOTDIR` when `dir` is a file) are thrown as they are.
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
  const artifacts = entries
    .filter(
      (entry) =>
        entry.fileName === TABLES_DIR_NAME ||
        entry.fileName === BLOBS_DIR_NAME ||
        (!entry.isDir && parseVersionFileName(entry.fileName) !== undefined),
    )
    .map((entry) => (entry.isDir ? `${entry.fileName}/` : entry.fileName))
    .sort();
  if (artifacts.length > 0) {
    throw new LsmError(
      "INVALID_DATA",
      `${dir}: the \`current\` pointer is missing but the directory still holds version artifacts (${artifacts.join(", ")}); ` +
        "it is probably a half-written checkpoint or an interrupted tree creation. Refusing to open or overwrite it: " +
        "delete the directory (or restore its `current`) and retry.",
    );
  }
  return "empty";
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
