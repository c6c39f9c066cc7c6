/**
 * Flushes and merge compactions on worker threads: whether a job can run there, its description as a
 * {@link MergeJob}, and the adoption of what the worker wrote as the tree's tables. The callers (flush
 * and merge in ./jobs.ts) install them exactly as they install tables they wrote themselves.
 *
 * @module
 */
import type { FsThreadShare } from "@talus/fs";
import type { MergeJob, MergeJobInput, MergeJobSource, MergeRules } from "../executor/merge-job.ts";
import type { Memtable } from "../memtable/memtable.ts";
import type { SkipListSnapshot } from "../memtable/skiplist.ts";
import type { ResolvedOptions } from "./options.ts";
import { JobClaims } from "../executor/shared-ids.ts";
import { runOnWorker } from "../executor/worker-pool.ts";
import { codecById, DEFLATE_CODEC, LZ4_CODEC, NONE_CODEC } from "../table/index.ts";
import { joinPath, removeQuietly } from "../version/index.ts";
import type { TableStore } from "./table-store.ts";
import { tableFormatOf } from "../executor/table-format.ts";
import type { TableFile } from "./table-file.ts";
import type { TreeState } from "./tree-state.ts";
import type { TreeVersion } from "./tree-version.ts";

/** Codecs every thread has: custom ones are registered in the main thread only. */
const BUILT_IN_CODECS: ReadonlySet<number> = new Set([NONE_CODEC.id, LZ4_CODEC.id, DEFLATE_CODEC.id]);

/** What the job's caller computed that the job carries over. */
export interface MergePlan extends MergeRules {
  /** Input tables (a compaction); empty for a flush. */
  readonly ids: readonly number[];
  readonly destLevel: number;
  readonly policyLevel: number;
  readonly targetSize: number;
}

/**
 * Whether jobs writing tables into `level` can run on workers, whatever their inputs: workers on, not
 * a blob tree (its value log lives in this thread), every callback loadable there, a built-in codec for
 * the level, and a folder on a filesystem other threads can use.
 */
export function workersCanWrite(options: ResolvedOptions, store: TableStore, policyLevel: number, destLevel: number): boolean {
  if (options.workers === 0 || options.workerCallbacks === undefined || options.valueLog !== undefined) return false;
  const codec = options.codec[policyLevel];
  return codec !== undefined && BUILT_IN_CODECS.has(codec.id) && store.folderFor(destLevel).fs.threadShare?.() !== undefined;
}

/** The flush of `sealed` (oldest first) as a worker job, or undefined when it must run inline. */
export function describeFlushJob(state: TreeState, sealed: readonly Memtable[], plan: MergePlan): MergeJob | undefined {
  if (!workersCanWrite(state.options, state.store, 0, 0)) return undefined;
  // A memtable made before workers were possible (never, today) or by a pool without shared memory.
  if (!sealed.every((m) => m.shared)) return undefined;
  const memtables: SkipListSnapshot[] = [];
  for (let i = sealed.length - 1; i >= 0; i--) memtables.push((sealed[i] as Memtable).snapshot());
  const bytes = sealed.reduce((sum, m) => sum + m.approximateSize(), 0);
  return jobOf(state, { kind: "memtables", memtables }, plan, claimsCapacity(bytes, plan.targetSize));
}

/**
 * The merge as a worker job, or undefined when it must run inline: see {@link workersCanWrite}, and a
 * table on a filesystem another thread cannot use or in a custom codec.
 */
export function describeMergeJob(state: TreeState, version: TreeVersion, plan: MergePlan): MergeJob | undefined {
  if (!workersCanWrite(state.options, state.store, plan.policyLevel, plan.destLevel)) return undefined;
  const inputs = new Set(plan.ids);
  const runs: MergeJobInput[][] = [];
  for (const level of version.levels) {
    for (const run of level.runs) {
      const tables = run.tables.filter((t) => inputs.has(t.id));
      if (tables.length === 0) continue;
      const described: MergeJobInput[] = [];
      for (const table of tables) {
        const input = describeInput(table);
        if (input === undefined) return undefined;
        described.push(input);
      }
      runs.push(described);
    }
  }
  let bytes = 0;
  for (const id of plan.ids) bytes += version.getTable(id)?.size ?? 0;
  return jobOf(state, { kind: "tables", runs }, plan, claimsCapacity(bytes, plan.targetSize));
}

function jobOf(state: TreeState, source: MergeJobSource, plan: MergePlan, claimsRoom: number): MergeJob | undefined {
  const o = state.options;
  const folder = state.store.folderFor(plan.destLevel);
  const outputFs = folder.fs.threadShare?.();
  // Checked by workersCanWrite already; here for the types.
  if (outputFs === undefined || o.workerCallbacks === undefined) return undefined;
  return {
    source,
    callbacks: o.workerCallbacks,
    mapTables: o.mapTables,
    gcWatermark: plan.gcWatermark,
    evictTombstones: plan.evictTombstones,
    ...(plan.nothingBelow === undefined ? {} : { nothingBelow: plan.nothingBelow }),
    tombstones: plan.tombstones,
    outputTombstones: plan.outputTombstones,
    output: {
      fs: outputFs,
      dir: folder.dir,
      targetSize: plan.targetSize,
      format: tableFormatOf(o, plan.policyLevel, Date.now()),
    },
    tableIds: state.store.ids.buffer,
    claims: new JobClaims(claimsRoom).buffer,
  };
}

function describeInput(table: TableFile): MergeJobInput | undefined {
  const share: FsThreadShare | undefined = table.fs.threadShare?.();
  const codec = codecById(table.table.meta.codec);
  if (share === undefined || codec === undefined || !BUILT_IN_CODECS.has(codec.id)) return undefined;
  return { fs: share, path: table.path, tableId: table.id, minKey: table.minKey, maxKey: table.maxKey, globalSeqno: table.globalSeqno };
}

/**
 * Room for the ids a job takes: its tables are cut at the target size, so about its input's bytes
 * over that, with slack for a codec that writes more than the inputs took. A job that takes more
 * still runs; only the cleanup after a dead worker misses the extra files (the next open removes them).
 */
function claimsCapacity(inputBytes: number, targetSize: number): number {
  return Math.min(1 << 20, 64 + 4 * Math.ceil(inputBytes / Math.max(1, targetSize)));
}

/**
 * Runs the job on the tree's workers and opens what it wrote as the tree's tables (from the index and
 * filter the worker sends back: nothing is read again). On failure every file the job claimed is gone
 * and the error (the job's own, or `WORKER_FAILED`) is rethrown.
 */
export async function mergeOnWorker(state: TreeState, job: MergeJob, destLevel: number): Promise<TableFile[]> {
  const folder = state.store.folderFor(destLevel);
  let adopted: TableFile[] = [];
  try {
    const written = await runOnWorker(job, job.source.kind === "memtables" ? "flush" : "compaction", state.options.workers);
    for (const table of written) adopted.push(state.store.adopt(table, destLevel));
    return adopted;
  } catch (error) {
    for (const table of adopted) table.closeReader();
    adopted = [];
    // The worker removes what it wrote when it fails; a thread that died could not.
    for (const id of new JobClaims(job.claims).ids()) removeQuietly(folder.fs, joinPath(folder.dir, String(id)));
    throw error;
  }
}
