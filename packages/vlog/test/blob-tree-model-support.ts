// The blob tree model test's target (blob-tree-model.test.ts): lsm-core's tree model driver opening
// BlobTrees, with checks of the blob files around every operation. What it checks, besides every read
// the model compares with its oracle:
//
// - after every operation: the version lists exactly the blob files its tables reference (a file no
//   table references leaves the version in the same change; no table references a file not listed),
//   and each of those files is on disk (files of old snapshots may linger there until released); no
//   file is referenced beyond what it holds, and `staleBlobBytes()` is what the tables leave unreferenced;
// - after every compaction step, ingestion and reopen: `tree.verify()` (every table and blob file);
// - after a foreground compaction that ran alone (no background job in flight before or after): if it
//   wrote blob files, it relocated (without a compaction filter nothing else makes a compaction write
//   blob files), and a file stale before it is gone from the version (for a major compaction, whose
//   second pass relocates what its first made stale: some file); counted;
// - after such a major compaction: no blob file is stale at the staleness threshold ("one major
//   compaction leaves no stale blob file"), so a file in which a single garbage value would reach the
//   threshold holds no garbage at all; with a low enough threshold that is `staleBlobBytes() === 0`.
//   (A file's garbage below the threshold may stay: that is the policy, not a leak.)
// - at every close: the blobs directory holds exactly the closed version's files (no orphan, none
//   missing), compared right away when nothing ran during the close and with the reopened tree's
//   version otherwise; after a reopen it holds exactly `blobFileCount()` files, the version's.
import { BLOBS_DIR_NAME, type Tree } from "@talus/lsm-core";
import type { ModelOp } from "../../lsm-core/test/model-regressions.ts";
import { CheckFailure, type Model, type ModelTarget, type OpInfo } from "../../lsm-core/test/tree-model-driver.ts";
import { BlobTree, type KvSeparationOptions } from "../src/index.ts";

/** kvSeparation with every field given: the checks need the thresholds. */
export type BlobSettings = Required<KvSeparationOptions>;

/** Custom counts a blob run keeps (summed over seeds by runConfig). */
export const COUNTS = {
  /** Most blob files a version listed at once. */
  maxBlobFiles: "maxBlobFiles",
  /** Separated values (indirections) and inline values in the tables, summed over the operations. */
  separated: "separatedSamples",
  inline: "inlineSamples",
  /**
   * Operations during which compactions relocated (blob files appeared with no flush or ingestion
   * running: foreground compactions and background ones finishing); of those, ones with a major
   * compaction running and ones with ordinary merges only (relocating the stale files only their
   * inputs reference).
   */
  relocations: "relocations",
  relocatingMajors: "relocatingMajors",
  relocatingMerges: "relocatingMerges",
  /** Foreground compactions, run alone, that relocated, and the files stale before them that they relocated. */
  relocatingCompactions: "relocatingCompactions",
  relocatedFiles: "relocatedFiles",
  /** Major compactions, run alone, that merged: checked to leave no stale file. */
  checkedMajors: "checkedMajors",
  /** Of those, ones that found stale bytes and left none (`staleBlobBytes()` dropped to 0). */
  majorsClearingStaleBytes: "majorsClearingStaleBytes",
  /** Closes whose directory was compared with the closed version right away, and reopens checked. */
  closesChecked: "closesChecked",
  reopensChecked: "reopensChecked",
  verifies: "verifies",
} as const;

const COMPACTIONS: ReadonlySet<ModelOp["op"]> = new Set(["leveled", "sizeTiered", "major"]);
const VERIFIED: ReadonlySet<ModelOp["op"]> = new Set(["leveled", "sizeTiered", "major", "ingest", "reopen"]);

type TreeVersion = ReturnType<Tree["currentVersion"]>;

/** What one run's checks carry from one hook to the next. */
interface RunState {
  /** Before a compaction step with nothing in flight: the version it starts from, and its staleBlobBytes(). */
  before?: TreeVersion | undefined;
  staleBytesBefore?: number;
  /** Before every operation: the version's blob files, and whether a background flush was in flight. */
  idsBefore?: ReadonlySet<number>;
  flushBefore?: boolean;
  /** A background major compaction was started and background jobs have not all ended since. */
  majorInFlight?: boolean;
  /** At a close: the version closed, when nothing was in flight (else undefined), and the files left on disk. */
  closedIds?: number[] | undefined;
  /** Whether that close flushes the memtables (its final flush may add blob files). */
  closingClean?: boolean;
  diskAfterClose?: number[];
}

/** Per blob file of `version`: the value and stored bytes its tables reference, and how many values. */
function liveOf(version: TreeVersion): Map<number, { count: number; valueBytes: number; storedBytes: number }> {
  const live = new Map<number, { count: number; valueBytes: number; storedBytes: number }>();
  for (const table of version.tables()) {
    for (const ref of table.table.meta.blobReferences) {
      const sum = live.get(ref.blobFileId) ?? { count: 0, valueBytes: 0, storedBytes: 0 };
      sum.count += ref.count;
      sum.valueBytes += ref.valueBytes;
      sum.storedBytes += ref.storedBytes;
      live.set(ref.blobFileId, sum);
    }
  }
  return live;
}

/** Garbage (value bytes no table references) per blob file of `version`, computed here from the tables. */
function garbageOf(version: TreeVersion): Map<number, { valueBytes: number; storedBytes: number; total: number }> {
  const live = liveOf(version);
  const out = new Map<number, { valueBytes: number; storedBytes: number; total: number }>();
  for (const blob of version.blobFiles) {
    const l = live.get(blob.id);
    out.set(blob.id, { valueBytes: blob.info.valueBytes - (l?.valueBytes ?? 0), storedBytes: blob.info.storedBytes - (l?.storedBytes ?? 0), total: blob.info.valueBytes });
  }
  return out;
}

/** Ids of the files of `version` that are stale at `threshold` (some garbage, not all, at least that fraction). */
function staleIds(version: TreeVersion, threshold: number): Set<number> {
  const out = new Set<number>();
  for (const [id, g] of garbageOf(version)) if (g.total > 0 && g.valueBytes < g.total && g.valueBytes / g.total >= threshold) out.add(id);
  return out;
}

const idsOf = (version: TreeVersion): number[] => version.blobFiles.map((b) => b.id).sort((a, b) => a - b);

/** Blob file ids on disk under `<path>/blobs`; with `exact`, any other name there is an error. */
function diskIds(model: Model, exact: boolean): number[] {
  const dir = `${model.path}/${BLOBS_DIR_NAME}`;
  if (!model.fs.exists(dir)) return [];
  const ids: number[] = [];
  for (const entry of model.fs.readDir(dir)) {
    if (/^(0|[1-9][0-9]*)$/.test(entry.fileName) && !entry.isDir) ids.push(Number(entry.fileName));
    else if (exact) throw new CheckFailure("unexpected-entry", `blob tree: unexpected ${entry.isDir ? "directory" : "file"} ${entry.fileName} in ${BLOBS_DIR_NAME}/`);
  }
  return ids.sort((a, b) => a - b);
}

const list = (ids: readonly number[]): string => `[${ids.join(", ")}]`;

/** The blob files on disk are exactly `want`: none left over (orphans), none missing. */
function expectSameFiles(when: string, disk: readonly number[], want: readonly number[], message: string): void {
  const orphans = disk.filter((id) => !want.includes(id));
  const missing = want.filter((id) => !disk.includes(id));
  if (orphans.length === 0 && missing.length === 0) return;
  const what = [orphans.length > 0 ? "orphans" : "", missing.length > 0 ? "missing" : ""].filter((w) => w !== "").join("+");
  throw new CheckFailure(`${when}-${what}`, `blob tree: ${message} (orphans ${list(orphans)}, missing ${list(missing)})`);
}

/**
 * The version's blob files are exactly those its tables reference, and each is on disk. Also samples
 * how many values the tables hold separated and inline.
 */
function checkVersion(model: Model, tree: Tree, context: string): void {
  const version = tree.currentVersion();
  const live = liveOf(version);
  const listed = new Set(version.blobFiles.map((b) => b.id));
  for (const [id, l] of live) {
    if (!listed.has(id)) throw new CheckFailure("unlisted-reference", `blob tree (${context}): tables reference blob file ${id} (${l.count} values), which the version does not list ${list(idsOf(version))}`);
  }
  for (const blob of version.blobFiles) {
    if ((live.get(blob.id)?.count ?? 0) === 0) throw new CheckFailure("unreferenced-file", `blob tree (${context}): the version lists blob file ${blob.id}, which no table references`);
  }
  let garbage = 0;
  for (const [id, g] of garbageOf(version)) {
    if (g.valueBytes < 0 || g.storedBytes < 0) throw new CheckFailure("over-referenced", `blob tree (${context}): tables reference more of blob file ${id} than it holds (garbage ${g.valueBytes} value bytes, ${g.storedBytes} stored)`);
    garbage += g.storedBytes;
  }
  if (tree.staleBlobBytes() !== garbage) throw new CheckFailure("stale-bytes", `blob tree (${context}): staleBlobBytes() ${tree.staleBlobBytes()}, the tables leave ${garbage} stored bytes unreferenced`);
  if (tree.blobFileCount() !== version.blobFiles.length) throw new CheckFailure("blob-file-count", `blob tree (${context}): blobFileCount() ${tree.blobFileCount()}, the version lists ${version.blobFiles.length}`);
  const onDisk = new Set(diskIds(model, false));
  const missing = idsOf(version).filter((id) => !onDisk.has(id));
  if (missing.length > 0) throw new CheckFailure("missing-on-disk", `blob tree (${context}): blob files ${list(missing)} of the version are missing from disk (on disk: ${list([...onDisk])})`);
  const custom = model.stats.custom;
  custom[COUNTS.maxBlobFiles] = Math.max(custom[COUNTS.maxBlobFiles] ?? 0, version.blobFiles.length);
  let separated = 0;
  let inline = 0;
  for (const table of version.tables()) {
    const m = table.table.meta;
    separated += m.indirectionCount;
    inline += m.entryCount - m.tombstoneCount - m.weakTombstoneCount - m.mergeOperandCount - m.indirectionCount;
  }
  add(model, COUNTS.separated, separated);
  add(model, COUNTS.inline, inline);
}

function add(model: Model, name: string, n = 1): void {
  model.stats.custom[name] = (model.stats.custom[name] ?? 0) + n;
}

/** The model's target for blob trees with `settings`. */
export function blobTarget(settings: BlobSettings): ModelTarget {
  const states = new WeakMap<Model, RunState>();
  const stateOf = (model: Model): RunState => {
    let state = states.get(model);
    if (state === undefined) states.set(model, (state = {}));
    return state;
  };
  const verify = (model: Model): void => {
    model.tree.verify();
    add(model, COUNTS.verifies);
  };

  /** After a foreground compaction that ran alone: relocation, and a major's promise. */
  const afterCompaction = (model: Model, op: ModelOp, before: TreeVersion, staleBytesBefore: number): void => {
    const tree = model.tree;
    const after = tree.currentVersion();
    const beforeIds = new Set(idsOf(before));
    const afterIds = new Set(idsOf(after));
    const written = [...afterIds].filter((id) => !beforeIds.has(id));
    const gone = [...beforeIds].filter((id) => !afterIds.has(id));
    const staleBefore = staleIds(before, settings.stalenessThreshold);
    const relocatedFrom = gone.filter((id) => staleBefore.has(id));
    if (written.length > 0) {
      // Nothing but relocation makes a compaction write blob files (no filter, values already separated),
      // and a file relocated from leaves the version. A major compaction's second pass relocates files
      // its first pass made stale, so for it any file gone will do.
      if ((op.op === "major" ? gone : relocatedFrom).length === 0) {
        throw new CheckFailure("wrote-without-relocating", `blob tree: ${op.op} compaction wrote blob files ${list(written)} but no stale file left the version (stale before: ${list([...staleBefore])}, gone: ${list(gone)})`);
      }
      add(model, COUNTS.relocatingCompactions);
      add(model, COUNTS.relocatedFiles, relocatedFrom.length);
    }
    if (op.op !== "major") return;
    add(model, COUNTS.checkedMajors);
    // One major compaction leaves no stale blob file.
    const stale = staleIds(after, settings.stalenessThreshold);
    if (stale.size > 0) {
      const garbage = garbageOf(after);
      const detail = [...stale].map((id) => `${id}: ${garbage.get(id)?.valueBytes}/${garbage.get(id)?.total} bytes garbage`).join(", ");
      throw new CheckFailure("stale-after-major", `blob tree: stale blob files after a major compaction at threshold ${settings.stalenessThreshold}: ${detail}`);
    }
    // A file in which one garbage value (at least separationThreshold bytes) would make it stale has none.
    let allStrict = true;
    for (const [id, g] of garbageOf(after)) {
      if (g.total * settings.stalenessThreshold > settings.separationThreshold) {
        allStrict = false;
        continue;
      }
      if (g.valueBytes !== 0 || g.storedBytes !== 0) throw new CheckFailure("garbage-after-major", `blob tree: blob file ${id} keeps ${g.valueBytes} garbage bytes of ${g.total} after a major compaction`);
    }
    if (allStrict) {
      if (tree.staleBlobBytes() !== 0) throw new CheckFailure("stale-bytes-after-major", `blob tree: staleBlobBytes() is ${tree.staleBlobBytes()} after a major compaction, no file holding garbage`);
      if (staleBytesBefore > 0) add(model, COUNTS.majorsClearingStaleBytes);
    }
  };

  return {
    open: (options) => BlobTree.open({ ...options, kvSeparation: settings }),
    testFile: "test/blob-tree-model.test.ts",
    regressionsFile: "BLOB_MODEL_REGRESSIONS in test/blob-tree-model.test.ts",
    beforeOp(model, op) {
      const state = stateOf(model);
      state.before = COMPACTIONS.has(op.op) && model.backgroundJobs === 0 ? model.tree.currentVersion() : undefined;
      state.staleBytesBefore = model.tree.staleBlobBytes();
      state.idsBefore = new Set(idsOf(model.tree.currentVersion()));
      state.flushBefore = model.pendingFlush;
      if (model.backgroundJobs === 0) state.majorInFlight = false;
      if (op.op === "major" && op.background === true) state.majorInFlight = true;
    },
    afterOp(model, op, info: OpInfo) {
      const state = stateOf(model);
      const tree = model.tree;
      checkVersion(model, tree, `after ${op.op}`);
      if (VERIFIED.has(op.op)) verify(model);
      // Blob files that appeared while no flush or ingestion could write any: a compaction relocated.
      const idsBefore = state.idsBefore ?? new Set<number>();
      if (op.op !== "flush" && op.op !== "ingest" && op.op !== "reopen" && state.flushBefore === false && idsOf(tree.currentVersion()).some((id) => !idsBefore.has(id))) {
        add(model, COUNTS.relocations);
        add(model, op.op === "major" || state.majorInFlight === true ? COUNTS.relocatingMajors : COUNTS.relocatingMerges);
      }
      if (op.op === "reopen") {
        const ids = idsOf(tree.currentVersion());
        const closed = state.diskAfterClose ?? [];
        expectSameFiles("close", closed, ids, `after close, ${BLOBS_DIR_NAME}/ held ${list(closed)}; the reopened version lists ${list(ids)}`);
        const disk = diskIds(model, true);
        expectSameFiles("reopen", disk, ids, `after reopen, ${BLOBS_DIR_NAME}/ holds ${list(disk)}; the version lists ${list(ids)}`);
        if (disk.length !== tree.blobFileCount()) throw new CheckFailure("reopen-count", `blob tree: after reopen, ${disk.length} blob files on disk, blobFileCount() ${tree.blobFileCount()}`);
        add(model, COUNTS.reopensChecked);
      }
      const before = state.before;
      state.before = undefined;
      if (before !== undefined && info.compaction?.action === "merged" && info.jobsBefore === 0 && info.jobsAfter === 0) afterCompaction(model, op, before, state.staleBytesBefore ?? 0);
    },
    beforeClose(model) {
      const state = stateOf(model);
      // Nothing in flight: the version closed is this one, plus, after a clean close, the blob files of its
      // final flush (a flush only adds blob files, each with an id above every earlier one).
      state.closedIds = model.backgroundJobs === 0 ? idsOf(model.tree.currentVersion()) : undefined;
      state.closingClean = model.closingClean;
      if (model.backgroundJobs === 0) verify(model);
    },
    afterClose(model) {
      const state = stateOf(model);
      const disk = diskIds(model, true);
      state.diskAfterClose = disk;
      const closed = state.closedIds;
      if (closed === undefined) return;
      const highest = Math.max(-1, ...closed);
      const flushed = state.closingClean === true ? disk.filter((id) => id > highest) : [];
      expectSameFiles("close", disk, [...closed, ...flushed], `after close, ${BLOBS_DIR_NAME}/ holds ${list(disk)}; the closed version listed ${list(closed)}`);
      add(model, COUNTS.closesChecked);
    },
  };
}
