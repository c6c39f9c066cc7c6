/**
 * A merge of sorted inputs into new tables, described for another thread: a compaction (input tables)
 * or a flush (sealed memtables, read in place from shared memory). Plain data (structured-cloneable,
 * plus shared buffers), everything a worker needs to read the inputs and write the same tables the
 * main thread would have written. What the job leaves to the main thread: the version change, the deletion
 * pause, every file deletion of the tree's own (a failed job removes only its own partial outputs).
 *
 * @module
 */
import type { FsThreadShare } from "@talus/fs";
import type { Fragment } from "../range-tombstone/fragments.ts";
import type { WrittenTable } from "../table/index.ts";
import type { WorkerExport } from "./worker-export.ts";
import type { SkipListSnapshot } from "../memtable/skiplist.ts";

/** One input table. */
export interface MergeJobInput {
  readonly fs: FsThreadShare;
  readonly path: string;
  readonly tableId: number;
  readonly minKey: Uint8Array;
  readonly maxKey: Uint8Array;
  /** The seqno every entry reads as (an ingested table), or 0. */
  readonly globalSeqno: number;
}

/** The callbacks of the tree, as a worker loads them; absent: the tree has none (bytewise for the comparator). */
export interface JobCallbacks {
  readonly comparator?: { readonly name: string; readonly from: WorkerExport };
  readonly mergeOperator?: { readonly name: string; readonly from: WorkerExport };
  readonly compactionFilter?: { readonly name: string; readonly from: WorkerExport };
  readonly prefixExtractor?: { readonly name: string; readonly from: WorkerExport };
}

/** How the output tables are written (the policy level's options, resolved). */
export interface JobTableFormat {
  readonly blockSize: number;
  readonly restartInterval: number;
  /** A built-in codec's name: custom codecs are registered in the main thread only. */
  readonly codec: string;
  readonly filterBitsPerKey: number;
  readonly backgroundSyncBytes: number;
  /** The tables' creation time; absent: each table's finishing time. A job always carries one. */
  readonly createdAtMs?: number;
}

/** What a job merges. */
export type MergeJobSource =
  /** Sorted runs of input tables, newest run first, each in key order. */
  | { readonly kind: "tables"; readonly runs: readonly (readonly MergeJobInput[])[] }
  /** Sealed memtables, newest first (their arenas and node records are shared memory). */
  | { readonly kind: "memtables"; readonly memtables: readonly SkipListSnapshot[] };

/** How the merge treats what it reads: the same whichever thread runs it. */
export interface MergeRules {
  readonly gcWatermark: number;
  /** Whether tombstones (and range tombstones) below the watermark may go: nothing older lies below the output. */
  readonly evictTombstones: boolean;
  /** Nothing older lies below even though tombstones stay (a flush into an empty tree); default `evictTombstones`. */
  readonly nothingBelow?: boolean;
  /** The inputs' range tombstones, merged. */
  readonly tombstones: readonly Fragment[];
  /** What of them the outputs keep. */
  readonly outputTombstones: readonly Fragment[];
}

export interface MergeJob extends MergeRules {
  readonly source: MergeJobSource;
  readonly callbacks: JobCallbacks;
  /** Read input tables through memory maps where the filesystem offers them (the tree's `mapTables`). */
  readonly mapTables: boolean;
  readonly output: {
    readonly fs: FsThreadShare;
    readonly dir: string;
    readonly targetSize: number;
    readonly format: JobTableFormat;
  };
  /** The tree's table id counter (`SharedIdCounter`). */
  readonly tableIds: SharedArrayBuffer;
  /** Where the job records the ids it takes (`JobClaims`). */
  readonly claims: SharedArrayBuffer;
}

/** An error as it crosses back: enough to rebuild an `LsmError` or a filesystem error with its code. */
export interface JobError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
}

/** What a worker hands back: the written tables (synced, their folder synced), or why it failed. */
export type MergeJobOutcome = { readonly ok: true; readonly tables: readonly WrittenTable[] } | { readonly ok: false; readonly error: JobError };
