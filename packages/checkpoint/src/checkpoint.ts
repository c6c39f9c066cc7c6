/**
 * `createCheckpoint`: a consistent snapshot of an open tree, made of hard links (O(1) per file), that
 * opens as an independent tree. The basis of point-in-time-recovery backups.
 *
 * The algorithm, in order, and why each step is where it is:
 * 1. Claim the target with one atomic `createDir` (`EEXIST` leaves an existing target untouched, so two
 *    checkpoints can never write into one directory), then create `tables/`.
 * 2. Hold the tree's deletion pause for the whole operation: a compaction that finishes meanwhile may
 *    make captured tables obsolete, and their files must still be there when we link them.
 * 3. Sample the visible seqno, THEN flush the active memtable with GC watermark 0: every record with a
 *    seqno below the sample was in a memtable or a table before the flush, so it is in the captured
 *    version; watermark 0 because a checkpoint must never drop history the source still serves.
 * 4. Capture the current version and link (or copy) every table of every level and every routed folder
 *    into the checkpoint's own `tables/` (routes are flattened: the checkpoint opens without them).
 * 5. fsync `tables/`, then write the captured version from memory as `v<id>` and `current` last: the live version file may be
 *    replaced meanwhile, and a checkpoint without `current` is refused on open, so a crash before this
 *    point can never pass for a complete checkpoint.
 * 6. fsync the target and its parent, so the whole checkpoint is durable (`tables/` was synced before
 *    `current` was written, so a durable `current` never names links that are not).
 * Any failure after the claim removes the partial target, so a retry into the same path works; the
 * source is never modified beyond the flush.
 *
 * @module
 */
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
  claimTarget(fs, target, tablesDir);
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
    // The links must be durable before `current` can be: a crash must never leave a `current` whose
    // tables are missing (open would fail with UNRECOVERABLE instead of refusing with INVALID_DATA).
    fs.syncDirectory(tablesDir);
    tree.writeVersionInto(fs, target, version);
    fs.syncDirectory(target);
    fs.syncDirectory(parentOf(target));
    return { sstFiles, blobFiles: 0, totalBytes, versionId: version.id, seqno };
  } catch (error) {
    removePartial(fs, target);
    throw error;
  } finally {
    pause.release();
  }
}

/** Claims `target` atomically and creates its `tables/`; on failure nothing of ours is left behind. */
function claimTarget(fs: Fs, target: string, tablesDir: string): void {
  try {
    fs.createDir(target);
  } catch (error) {
    if (hasCode(error, "EEXIST")) {
      const e = fsError("EEXIST", "checkpoint", target);
      e.message = `EEXIST: checkpoint target ${target} already exists; refusing to overwrite it`;
      throw e;
    }
    throw error;
  }
  try {
    fs.createDir(tablesDir);
    // From here on the claim holds `tables/`, so a crash leaves a directory open refuses (no `current`)
    // rather than an empty one it would take for a new tree.
    fs.syncDirectory(target);
  } catch (error) {
    removePartial(fs, target);
    throw error;
  }
}

function removePartial(fs: Fs, target: string): void {
  try {
    fs.removeDirAll(target);
  } catch {
    // Best effort: the error that made the checkpoint fail is the one to report.
  }
}
