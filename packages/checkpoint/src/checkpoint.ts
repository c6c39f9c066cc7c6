/**
 * `createCheckpoint`: a consistent snapshot of an open tree, made of hard links (O(1) per file), that
 * opens as an independent tree. The basis of point-in-time-recovery backups.
 *
 * The algorithm, in order, and why each step is where it is:
 * 1. Claim the target already marked as unfinished: create a fresh directory under a private hidden name
 *    beside it (`.talus-checkpoint-<random>`), create its `tables/` and fsync it, then rename it to the
 *    target. The target therefore never exists without `tables/`, the mark `Tree.open` refuses with
 *    `INVALID_DATA` while `current` is missing: a directory created in place would be empty until its
 *    `tables/` was made, and a process killed in between left a directory that opens as a fresh, empty
 *    tree. An existing target is refused with `EEXIST` and left untouched (checked first, and again by the
 *    rename, which fails on anything but a missing target or an empty directory, so two checkpoints can
 *    never write into one directory). A kill before the rename leaves no target, only the hidden directory.
 * 2. Hold the tree's deletion pause for the whole operation: a compaction that finishes meanwhile may
 *    make captured tables obsolete, and their files must still be there when we link them.
 * 3. Sample the visible seqno, THEN flush the active memtable with GC watermark 0: every record with a
 *    seqno below the sample was in a memtable or a table before the flush, so it is in the captured
 *    version; watermark 0 because a checkpoint must never drop history the source still serves.
 * 4. Capture the current version and link (or copy) every table of every level and every routed folder
 *    into the checkpoint's own `tables/` (routes are flattened: the checkpoint opens without them), and,
 *    for a blob tree, every blob file the version lists into `blobs/` (created with `tables/` at the claim).
 * 5. fsync `tables/` (and `blobs/`), then write the captured version from memory as `v<id>` and `current` last: the live version file may be
 *    replaced meanwhile, and a checkpoint without `current` is refused on open, so a crash before this
 *    point can never pass for a complete checkpoint.
 * 6. fsync the target and its parent, so the whole checkpoint is durable (`tables/` was synced before
 *    `current` was written, so a durable `current` never names links that are not).
 * Any failure after the claim renames the partial target back to its hidden name (one step, so the target
 * is never emptied in place) and removes it there, so a retry into the same path works; the source is
 * never modified beyond the flush.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { fsError, hasCode, type Fs } from "@talus/fs";
import type { Tree } from "@talus/lsm-core";
import { linkOrCopy } from "./link-or-copy.ts";
import { normalizeTarget, parentOf } from "./target-path.ts";

/** What a checkpoint captured. */
export interface CheckpointInfo {
  /** Table files linked or copied. */
  readonly sstFiles: number;
  /** Blob files linked or copied (0 for a standard tree). */
  readonly blobFiles: number;
  /** Bytes of the captured files (hard links share them with the source; far more than expected means copies). */
  readonly totalBytes: number;
  /** Id of the captured version (`v<id>` in the checkpoint). */
  readonly versionId: number;
  /** Every record with seqno `< seqno` is in the checkpoint; later ones may or may not be. */
  readonly seqno: number;
}

/** Options of {@link createCheckpoint}. */
export interface CheckpointOptions {
  /** The filesystem of the target (default: the tree's). Every directory, link and file of the checkpoint is made through it. */
  readonly fs?: Fs;
}

/**
 * Creates a checkpoint of `tree` in `targetPath` (which must not exist; its parent must).
 *
 * @example
 * ```ts
 * import { Tree, SequenceNumberCounter } from "@talus/lsm-core";
 * import { createCheckpoint } from "@talus/checkpoint";
 *
 * const seqno = new SequenceNumberCounter();
 * const tree = await Tree.open({ path: "/var/db/live", seqno });
 * tree.insert("k", "v", seqno.next());
 * const info = await createCheckpoint(tree, "/var/db/backup-2026-11-24");
 * const copy = await Tree.open({ path: "/var/db/backup-2026-11-24" }); // independent from now on
 * console.log(info.sstFiles, copy.get("k", info.seqno)); // 1, "v"
 * ```
 */
export async function createCheckpoint(tree: Tree, targetPath: string, options: CheckpointOptions = {}): Promise<CheckpointInfo> {
  const target = normalizeTarget(targetPath);
  const fs = options.fs ?? tree.fs;
  const tablesDir = `${target}/tables`;
  const blobsDir = `${target}/blobs`;
  const isBlobTree = tree.currentVersion().treeKind === "blob";
  const hidden = claimTarget(fs, target, isBlobTree);
  const pause = tree.deletionPause.acquire();
  try {
    const seqno = tree.visibleSeqnoCounter.get();
    await tree.flushActiveMemtable(0);
    const version = tree.currentVersion();
    let totalBytes = 0;
    let sstFiles = 0;
    for (const table of version.tables()) {
      totalBytes += linkOrCopy(table.fs, table.path, fs, `${tablesDir}/${table.id}`).bytes;
      sstFiles++;
    }
    // A blob tree's values: every blob file the captured version lists (the pause keeps even those a
    // relocation made obsolete meanwhile).
    let blobFiles = 0;
    for (const blob of version.blobFiles) {
      totalBytes += linkOrCopy(blob.fs, blob.path, fs, `${blobsDir}/${blob.id}`).bytes;
      blobFiles++;
    }
    // The links must be durable before `current` can be: a crash must never leave a `current` whose
    // tables are missing (open would fail with UNRECOVERABLE instead of refusing with INVALID_DATA).
    fs.syncDirectory(tablesDir);
    if (isBlobTree) fs.syncDirectory(blobsDir);
    tree.writeVersionInto(fs, target, version);
    fs.syncDirectory(target);
    fs.syncDirectory(parentOf(target));
    return { sstFiles, blobFiles, totalBytes, versionId: version.id, seqno };
  } catch (error) {
    removePartial(fs, target, hidden);
    throw error;
  } finally {
    pause.release();
  }
}

/** Names of the private directories a checkpoint is prepared in (and removed through) beside its target. */
const HIDDEN_PREFIX = ".talus-checkpoint-";

/**
 * Claims `target`: a directory holding a durable, empty `tables/` appears there in one rename, so no crash
 * or kill can leave it empty. Returns the hidden name it was prepared under, which is ours until we remove
 * it. On failure nothing of ours is left behind.
 */
function claimTarget(fs: Fs, target: string, withBlobs: boolean): string {
  if (fs.exists(target)) throw targetExists(target);
  const hidden = createHiddenDir(fs, parentOf(target));
  try {
    fs.createDir(`${hidden}/tables`);
    if (withBlobs) fs.createDir(`${hidden}/blobs`);
    // The rename makes the target durable whenever the parent's entries are written back; `tables/` must
    // be durable by then, or a crash could still show the target without it.
    fs.syncDirectory(hidden);
    try {
      fs.rename(hidden, target);
    } catch (error) {
      // Something appeared at the target since the check: rename fails on a file or a non-empty directory
      // (a checkpoint's target never is empty). It replaces an empty directory, as rename(2) does.
      if (["EEXIST", "ENOTEMPTY", "ENOTDIR", "EISDIR"].some((code) => hasCode(error, code))) throw targetExists(target);
      throw error;
    }
  } catch (error) {
    removeQuietly(fs, hidden);
    throw error;
  }
  return hidden;
}

/** Creates a fresh directory with an unused hidden name in `parent` and returns its path. */
function createHiddenDir(fs: Fs, parent: string): string {
  for (let attempt = 0; ; attempt++) {
    const name = `${HIDDEN_PREFIX}${randomBytes(8).toString("hex")}`;
    const path = parent === "." ? name : parent === "/" ? `/${name}` : `${parent}/${name}`;
    try {
      fs.createDir(path);
      return path;
    } catch (error) {
      if (!hasCode(error, "EEXIST") || attempt >= 8) throw error;
    }
  }
}

function targetExists(target: string): Error {
  const e = fsError("EEXIST", "checkpoint", target);
  e.message = `EEXIST: checkpoint target ${target} already exists; refusing to overwrite it`;
  return e;
}

/**
 * Takes the partial target away in one step, back to its hidden name, and removes it there: removing it in
 * place would empty it name by name, and a crash or kill meanwhile would leave a bare directory that opens
 * as a fresh tree. The rename is made durable before the removal starts, for the same reason. When either
 * fails, what is left (the target, or the hidden directory) still holds `tables/`: it is refused on open,
 * or opens complete if `current` was already in place.
 */
function removePartial(fs: Fs, target: string, hidden: string): void {
  try {
    fs.rename(target, hidden);
    fs.syncDirectory(parentOf(target));
  } catch {
    // Best effort: the error that made the checkpoint fail is the one to report.
    return;
  }
  removeQuietly(fs, hidden);
}

function removeQuietly(fs: Fs, path: string): void {
  try {
    fs.removeDirAll(path);
  } catch {
    // Best effort: the error that made the checkpoint fail is the one to report.
  }
}
