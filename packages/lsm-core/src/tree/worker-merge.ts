/**
 * Merge compactions on worker threads: whether a merge can run there, its description as a
 * {@link MergeJob}, and the adoption of what the worker wrote as the tree's tables. The caller (the
 * merge in ./jobs.ts) installs them exactly as it installs tables it wrote itself.
 *
 * @module
 */
import type { FsThreadShare } from "@talus/fs";
import type { MergeJob, MergeJobInput } from "../executor/merge-job.ts";
import { JobClaims } from "../executor/shared-ids.ts";
import { runOnWorker } from "../executor/worker-pool.ts";
import type { Fragment } from "../range-tombstone/fragments.ts";
import { codecById, DEFLATE_CODEC, LZ4_CODEC, NONE_CODEC } from "../table/index.ts";
import { joinPath, removeQuietly } from "../version/index.ts";
import { BACKGROUND_SYNC_BYTES } from "./table-store.ts";
import type { TableFile } from "./table-file.ts";
import type { TreeState } from "./tree-state.ts";
import type { TreeVersion } from "./tree-version.ts";

/** Codecs every thread has: custom ones are registered in the main thread only. */
const BUILT_IN_CODECS: ReadonlySet<number> = new Set([NONE_CODEC.id, LZ4_CODEC.id, DEFLATE_CODEC.id]);

/** What the merge computed that the job carries over. */
export interface MergePlan {
  readonly ids: readonly number[];
  readonly destLevel: number;
  readonly policyLevel: number;
  readonly targetSize: number;
  readonly gcWatermark: number;
  readonly evictTombstones: boolean;
  readonly tombstones: readonly Fragment[];
  readonly outputTombstones: readonly Fragment[];
}

/**
 * The merge as a worker job, or undefined when it must run inline: no workers, a blob tree, a callback
 * a worker cannot load, a custom codec, or a table on a filesystem another thread cannot use.
 */
export function describeMergeJob(state: TreeState, version: TreeVersion, plan: MergePlan, claims: JobClaims): MergeJob | undefined {
  const o = state.options;
  const callbacks = o.workerCallbacks;
  if (o.workers === 0 || callbacks === undefined || o.valueLog !== undefined) return undefined;
  const codec = o.codec[plan.policyLevel];
  if (codec === undefined || !BUILT_IN_CODECS.has(codec.id)) return undefined;
  const folder = state.store.folderFor(plan.destLevel);
  const outputFs = folder.fs.threadShare?.();
  if (outputFs === undefined) return undefined;
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
  return {
    runs,
    callbacks,
    gcWatermark: plan.gcWatermark,
    evictTombstones: plan.evictTombstones,
    tombstones: plan.tombstones,
    outputTombstones: plan.outputTombstones,
    output: {
      fs: outputFs,
      dir: folder.dir,
      targetSize: plan.targetSize,
      format: {
        blockSize: o.blockSize[plan.policyLevel] as number,
        restartInterval: o.restartInterval[plan.policyLevel] as number,
        codec: codec.name,
        filterBitsPerKey: o.filterBitsPerKey[plan.policyLevel] as number,
        backgroundSyncBytes: BACKGROUND_SYNC_BYTES,
        createdAtMs: Date.now(),
      },
    },
    tableIds: state.store.ids.buffer,
    claims: claims.buffer,
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
export function claimsCapacity(state: TreeState, version: TreeVersion, plan: MergePlan): number {
  let bytes = 0;
  for (const id of plan.ids) bytes += version.getTable(id)?.size ?? 0;
  return Math.min(1 << 20, 64 + 4 * Math.ceil(bytes / Math.max(1, plan.targetSize)));
}

/**
 * Runs the job on the tree's workers and opens what it wrote as the tree's tables (from the index and
 * filter the worker sends back: nothing is read again). On failure every file the job claimed is gone
 * and the error (the job's own, or `WORKER_FAILED`) is rethrown.
 */
export async function mergeOnWorker(state: TreeState, job: MergeJob, claims: JobClaims, destLevel: number): Promise<TableFile[]> {
  const folder = state.store.folderFor(destLevel);
  let adopted: TableFile[] = [];
  try {
    const written = await runOnWorker(job, state.options.workers);
    for (const table of written) adopted.push(state.store.adopt(table, destLevel));
    return adopted;
  } catch (error) {
    for (const table of adopted) table.closeReader();
    adopted = [];
    // The worker removes what it wrote when it fails; a thread that died could not.
    for (const id of claims.ids()) removeQuietly(folder.fs, joinPath(folder.dir, String(id)));
    throw error;
  }
}
