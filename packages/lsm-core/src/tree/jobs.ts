/**
 * The asynchronous jobs that change which tables a tree has: flush, compaction (merge, move, drop) and
 * clear. Each one reads its inputs, writes new tables off to the side (yielding to the event loop as it
 * goes), then installs the result as one version change.
 *
 * Concurrency rules, each enforced where noted:
 * - one flush or clear at a time (`flushLock`): both rewrite the set of sealed memtables;
 * - one version change at a time, planned against the version current when it gets the lock
 *   (`TreeState.commit`): publishing awaits syncs, so a plan made before would be stale;
 * - a table is in at most one compaction (`busy`): strategies skip busy tables, and a merge marks its
 *   inputs busy until it is installed or abandoned;
 * - a job installs only if its inputs are still in the current version (a concurrent drop or clear may
 *   have removed them); otherwise its outputs are deleted and it reports that it did nothing;
 * - inputs stay readable meanwhile: the job pins the super version it read them from.
 *
 * @module
 */
import type { TreeVersion } from "./tree-version.ts";
import { CompactionStream } from "../compaction/compaction-stream.ts";
import type { CompactionChoice } from "../compaction/strategies/index.ts";
import type { EntryCursor } from "../iter/cursor.ts";
import { MergingCursor } from "../iter/merging-cursor.ts";
import { RunCursor } from "../iter/run-cursor.ts";
import { LEVEL_COUNT, type Version } from "../version/index.ts";
import { mergeFragmentLists, pruneFragments } from "../range-tombstone/fragments.ts";
import { FilteredCursor } from "../compaction/compaction-filter.ts";
import type { TableFile } from "./table-file.ts";
import type { BlobFile } from "./blob-file.ts";
import { isStale } from "./blob-usage.ts";
import type { Fragment } from "../range-tombstone/fragments.ts";
import type { TreeState } from "./tree-state.ts";
import { describeFlushJob, describeMergeJob, mergeOnWorker, type MergePlan } from "./worker-merge.ts";
import type { Memtable } from "../memtable/memtable.ts";
import { Table } from "../table/table.ts";
import { COMPACTION_READ_AHEAD_BYTES, ReadAheadWindow } from "../table/read-ahead-window.ts";

/** What a compaction step did. */
export interface CompactionResult {
  /** What the step did: nothing (no work, or its tables changed meanwhile), rewrote tables, relinked them a level down, or deleted them. */
  readonly action: "nothing" | "merged" | "moved" | "dropped";
  /** The level the tables went to, for a merge or a move. */
  readonly destLevel?: number;
  /** Tables the step took out of the tree. */
  readonly tablesIn: number;
  /** Tables it put in (a move puts back the ones it took; a drop none). */
  readonly tablesOut: number;
}

const NOTHING: CompactionResult = { action: "nothing", tablesIn: 0, tablesOut: 0 };

/**
 * Flushes every sealed memtable into new L0 tables, garbage-collecting versions below `gcWatermark`.
 * Returns the flushed memtables' approximate size, or 0 if there was nothing to flush. The active
 * memtable is not sealed here: callers seal it when they decide to flush (`flushActiveMemtable` at the
 * call), so writes made after that decision stay out of the flush.
 */
export async function flush(state: TreeState, gcWatermark: number): Promise<number> {
  return settled(state, await flushLocked(state, gcWatermark));
}

/**
 * What a job returns, once the removals its version change started are done: deletion runs off the
 * event loop, but a caller who awaited a flush or compaction expects the obsolete files gone.
 */
async function settled<T>(state: TreeState, result: T): Promise<T> {
  await state.pause.idle();
  await state.journal?.idle();
  return result;
}

function flushLocked(state: TreeState, gcWatermark: number): Promise<number> {
  return state.flushLock.run(async () => {
    // Accepted before close() began: it runs to completion (its data exists nowhere else).
    state.checkNotClosed();
    const sealed = state.latest.sealed;
    if (sealed.length === 0) return 0;
    const cmp = state.options.comparator;
    const tombstones = mergeFragmentLists(cmp, sealed.map((m) => m.rangeTombstones()));
    // With no table at all, nothing older lies below the flush, so operands below the watermark merge
    // fully (a table installed meanwhile can only be newer). Deletions stay, as a flush's always do.
    const plan: MergePlan = {
      ids: [],
      destLevel: 0,
      policyLevel: 0,
      targetSize: state.options.flushTableSize,
      gcWatermark,
      evictTombstones: false,
      nothingBelow: state.latest.version.tableCount === 0,
      tombstones,
      outputTombstones: pruneFragments(cmp, tombstones, gcWatermark, false),
    };
    // The sealed memtables stay listed (so their arenas stay alive) until the commit below drops them.
    const job = describeFlushJob(state, sealed, plan);
    const { tables: outputs, blobs: blobOutputs } = job === undefined ? await flushInline(state, sealed, plan) : { tables: await mergeOnWorker(state, job, 0), blobs: [] };
    await state.commit(() => {
      const current = state.latest.version;
      const next = withBlobFiles(outputs.length > 0 ? current.withNewL0Run(outputs) : current.withRemovedTables([]), blobOutputs);
      return { next, outputs, blobOutputs, change: { flushedMemtables: new Set(sealed.map((m) => m.id)), preservesReads: true, gcWatermark } };
    });
    return sealed.reduce((sum, m) => sum + m.approximateSize(), 0);
  });
}

/** A flush on the main thread, in slices (blob trees separate their large values here). */
async function flushInline(state: TreeState, sealed: readonly Memtable[], plan: MergePlan): Promise<{ tables: TableFile[]; blobs: BlobFile[] }> {
  const cmp = state.options.comparator;
  const cursor = new MergingCursor(cmp, [...sealed].reverse().map((m) => m.cursor()));
  try {
    const stream = new CompactionStream(cursor, {
      comparator: cmp,
      gcWatermark: plan.gcWatermark,
      evictTombstones: false,
      ...(plan.nothingBelow === undefined ? {} : { nothingBelow: plan.nothingBelow }),
      tombstones: plan.tombstones,
      mergeOperator: state.options.mergeOperator,
      readBlob: readBlobOf(state),
    });
    return await writeOutputs(state, stream, 0, plan.targetSize, 0, plan.outputTombstones);
  } finally {
    cursor.close();
  }
}

/** Carries out a strategy's decision. */
export async function executeChoice(state: TreeState, choice: CompactionChoice, gcWatermark: number): Promise<CompactionResult> {
  return settled(state, await executeChoiceNow(state, choice, gcWatermark));
}

async function executeChoiceNow(state: TreeState, choice: CompactionChoice, gcWatermark: number): Promise<CompactionResult> {
  state.checkNotClosed();
  const version = state.latest.version;
  switch (choice.kind) {
    case "nothing":
      return NOTHING;
    case "drop": {
      const dropped = await state.commit(() => {
        // Planned against the version current once the lock is held, not the one the choice was made on.
        const current = state.latest.version;
        const tables = choice.tableIds.map((id) => current.getTable(id)).filter((t): t is TableFile => t !== undefined);
        if (tables.length === 0 || tables.some((t) => state.busy.has(t.id))) return undefined;
        return { next: current.withRemovedTables(choice.tableIds), tables, change: { preservesReads: false, gcWatermark, obsolete: tables } };
      });
      return dropped === undefined ? NOTHING : { action: "dropped", tablesIn: dropped.tables.length, tablesOut: 0 };
    }
    case "move": {
      const dest = state.store.folderFor(choice.destLevel);
      const tables = choice.tableIds.map((id) => version.getTable(id) as TableFile);
      // A move that would change folders (level routes) must rewrite the tables into the new folder.
      const sameFolder = tables.every((t) => {
        const src = state.store.folderFor(version.levelOf(t.id) ?? 0);
        return src.fs === dest.fs && src.dir === dest.dir;
      });
      // Rewritten at the size of the largest moved table, so the move keeps the run's granularity.
      const targetSize = Math.max(1, ...tables.map((t) => t.size));
      if (!sameFolder) return merge(state, choice.tableIds, choice.destLevel, targetSize, gcWatermark, choice.destLevel);
      const moved = await state.commit(() => {
        const current = state.latest.version;
        if (choice.tableIds.some((id) => state.busy.has(id) || current.getTable(id) === undefined)) return undefined;
        return { next: current.withMovedTables(choice.tableIds, choice.destLevel), change: { preservesReads: true, gcWatermark } };
      });
      return moved === undefined ? NOTHING : { action: "moved", destLevel: choice.destLevel, tablesIn: tables.length, tablesOut: tables.length };
    }
    case "merge":
      return merge(state, choice.tableIds, choice.destLevel, choice.targetSize, gcWatermark, choice.canonicalLevel, choice.relocateAllStale === true);
  }
}

/**
 * Rewrites the input tables into `destLevel`'s folder, written with the per-level options of
 * `policyLevel` (the strategy's canonical level: L6 acting as L1 is written like L1).
 */
async function merge(
  state: TreeState,
  ids: readonly number[],
  destLevel: number,
  targetSize: number,
  gcWatermark: number,
  policyLevel: number,
  relocateAllStale = false,
): Promise<CompactionResult> {
  const pinned = state.latest;
  const version = pinned.version;
  if (ids.length === 0 || ids.some((id) => state.busy.has(id) || version.getTable(id) === undefined)) return NOTHING;
  for (const id of ids) state.busy.add(id);
  const release = pinned.pin();
  const inputs = new Set(ids);
  const filter = state.options.compactionFilter;
  try {
    const cmp = state.options.comparator;
    const tombstones = mergeFragmentLists(
      cmp,
      ids.map((id) => (version.getTable(id) as TableFile).rangeTombstones),
    );
    // At the bottom of the tree, range tombstones below the watermark go too (with what they cover).
    const evict = nothingBelow(state, version, destLevel, inputs);
    const plan: MergePlan = { ids, destLevel, policyLevel, targetSize, gcWatermark, evictTombstones: evict, tombstones, outputTombstones: pruneFragments(cmp, tombstones, gcWatermark, evict) };
    const job = describeMergeJob(state, version, plan);
    const { tables: outputs, blobs: blobOutputs } =
      job === undefined ? await mergeInline(state, version, inputs, plan, relocateAllStale) : { tables: await mergeOnWorker(state, job, destLevel), blobs: [] };
    const merged = await state.commit(() => {
      const current = state.latest.version;
      if (ids.some((id) => current.getTable(id) === undefined)) {
        // A drop or clear removed inputs meanwhile: installing would bring their data back.
        discard(outputs, blobOutputs);
        return undefined;
      }
      const obsolete = ids.map((id) => current.getTable(id) as TableFile);
      const next = withBlobFiles(current.withReplacedTables(ids, outputs, destLevel), blobOutputs);
      // A filter changes what reads return: older snapshots keep the super version from before it.
      return { next, outputs, blobOutputs, change: { preservesReads: filter === undefined, gcWatermark, obsolete } };
    });
    if (merged === undefined) return NOTHING;
    return { action: "merged", destLevel, tablesIn: ids.length, tablesOut: outputs.length };
  } finally {
    release();
    for (const id of ids) state.busy.delete(id);
  }
}

/** A merge on the main thread, in slices: the only way for blob trees and callbacks a worker cannot load. */
async function mergeInline(state: TreeState, version: TreeVersion, inputs: ReadonlySet<number>, plan: MergePlan, relocateAllStale: boolean): Promise<{ tables: TableFile[]; blobs: BlobFile[] }> {
  const cursor = inputCursor(state, version, inputs);
  try {
    const filter = state.options.compactionFilter;
    const readBlob = readBlobOf(state);
    const filtered = filter === undefined ? undefined : new FilteredCursor(cursor, filter, plan.evictTombstones, readBlob);
    const stream = new CompactionStream(filtered ?? cursor, {
      comparator: state.options.comparator,
      gcWatermark: plan.gcWatermark,
      evictTombstones: plan.evictTombstones,
      tombstones: plan.tombstones,
      mergeOperator: state.options.mergeOperator,
      readBlob,
    });
    const relocate = relocationCandidates(state, version, inputs, relocateAllStale);
    const outputs = await writeOutputs(state, stream, plan.destLevel, plan.targetSize, plan.policyLevel, plan.outputTombstones, relocate);
    try {
      filtered?.finish();
    } catch (error) {
      discard(outputs.tables, outputs.blobs);
      throw error;
    }
    return outputs;
  } finally {
    cursor.close();
  }
}

/** Empties the tree: a new empty version, fresh memtables. Old reads keep the data until pruned. */
export async function clear(state: TreeState): Promise<void> {
  await state.flushLock.run(async () => {
    state.checkNotClosed();
    await state.commit(() => {
      const version = state.latest.version;
      const tables = [...version.tables()];
      return { next: version.withRemovedTables(tables.map((t) => t.id)), change: { freshMemtables: true, preservesReads: false, gcWatermark: 0, obsolete: tables } };
    });
  });
  await state.pause.idle();
}

/** The merged input of a compaction: one run cursor per (level, run) holding inputs, newest first. */
function inputCursor(state: TreeState, version: TreeVersion, inputs: ReadonlySet<number>): EntryCursor {
  const children: EntryCursor[] = [];
  // The first window of each run's first table is read before the merge starts, all in one Fs.readMany.
  const firstWindows: { table: Table; window: ReadAheadWindow; block: number }[] = [];
  for (const level of version.levels) {
    for (const run of level.runs) {
      const tables = run.tables.filter((t) => inputs.has(t.id));
      if (tables.length === 0) continue;
      const sources = tables.map((t, k) => {
        const window = new ReadAheadWindow(COMPACTION_READ_AHEAD_BYTES);
        if (k === 0) firstWindows.push({ table: t.table, window, block: 0 });
        return { minKey: t.minKey, maxKey: t.maxKey, cursor: () => t.scanCursor(window) };
      });
      children.push(new RunCursor(state.options.comparator, sources));
    }
  }
  Table.fillReadAheadWindows(firstWindows);
  return new MergingCursor(state.options.comparator, children);
}

/**
 * Tombstones may be evicted only when nothing older can lie below the output: no table outside the
 * inputs, in the destination level or deeper, overlaps the inputs' key range. (L0 outside the inputs
 * holds only newer data when the destination is deeper; intra-L0 output never evicts.)
 */
function nothingBelow(state: TreeState, version: TreeVersion, destLevel: number, inputs: ReadonlySet<number>): boolean {
  if (destLevel === 0) return false;
  const cmp = state.options.comparator;
  let min: Uint8Array | undefined;
  let max: Uint8Array | undefined;
  for (const id of inputs) {
    const t = version.getTable(id) as TableFile;
    if (min === undefined || cmp.compare(t.minKey, min) < 0) min = t.minKey;
    if (max === undefined || cmp.compare(t.maxKey, max) > 0) max = t.maxKey;
  }
  if (min === undefined || max === undefined) return false;
  for (let level = destLevel; level < LEVEL_COUNT; level++) {
    for (const t of version.level(level).tables()) {
      if (!inputs.has(t.id) && cmp.compare(t.minKey, max) <= 0 && cmp.compare(t.maxKey, min) >= 0) return false;
    }
  }
  return true;
}

function discard(outputs: readonly TableFile[], blobs: readonly BlobFile[] = []): void {
  for (const table of outputs) table.markObsolete();
  for (const blob of blobs) blob.markObsolete();
}

/**
 * The blob files a merge of `inputs` relocates (spec 5.4, with its rounding quirk fixed): stale but not
 * dead files that the inputs reference and no table outside them does (else the old file would stay
 * live anyway), the oldest `ageCutoff` of them rounded up (all of them for a major compaction). Relocating them in this compaction leaves
 * them unreferenced: they leave the version in the same change.
 */
function relocationCandidates(state: TreeState, version: TreeVersion, inputs: ReadonlySet<number>, all: boolean): ReadonlySet<number> {
  const log = state.options.valueLog;
  if (log === undefined || version.blobFiles.length === 0) return new Set();
  const referenced = new Set<number>();
  const outside = new Set<number>();
  for (const table of version.tables()) {
    const into = inputs.has(table.id) ? referenced : outside;
    for (const ref of table.table.meta.blobReferences) into.add(ref.blobFileId);
  }
  const stale = version.blobFiles
    .filter((blob) => referenced.has(blob.id) && !outside.has(blob.id) && isStale(version, blob, log.stalenessThreshold))
    .map((blob) => blob.id)
    .sort((a, b) => a - b);
  return new Set(all ? stale : stale.slice(0, Math.ceil(stale.length * log.ageCutoff)));
}

/** A blob tree's way of reading a separated value (for merges and filters), else undefined. */
function readBlobOf(state: TreeState): ((key: Uint8Array, handle: Uint8Array) => Uint8Array) | undefined {
  const log = state.options.valueLog;
  return log === undefined ? undefined : (key, handle) => log.read(key, handle);
}

/** `version` with `blobs` added (itself when there are none). */
export function withBlobFiles(version: TreeVersion, blobs: readonly BlobFile[]): TreeVersion {
  return blobs.length === 0 ? version : version.withBlobFiles(blobs);
}

/**
 * Writes a job's output: `stream` into tables of `level` and, in a blob tree, its large values into new
 * blob files (see `TableStore.write`). Both are synced when this resolves; on failure nothing of either
 * remains.
 */
async function writeOutputs(
  state: TreeState,
  stream: CompactionStream,
  level: number,
  targetSize: number,
  policyLevel: number,
  tombstones: readonly Fragment[],
  relocate?: ReadonlySet<number>,
): Promise<{ tables: TableFile[]; blobs: BlobFile[] }> {
  const store = state.store;
  const blobWriter = store.blobs?.newWriter();
  let tables: TableFile[];
  try {
    tables = await store.write(stream, level, targetSize, policyLevel, tombstones, blobWriter, relocate);
  } catch (error) {
    blobWriter?.abort();
    throw error;
  }
  if (blobWriter === undefined || store.blobs === undefined) return { tables, blobs: [] };
  try {
    return { tables, blobs: store.blobs.adopt(await blobWriter.finish()) };
  } catch (error) {
    blobWriter.abort();
    discard(tables);
    throw error;
  }
}
