/**
 * Runs a {@link MergeJob} where it lands (a worker thread): loads the tree's callbacks, opens the input
 * tables read-only with no block cache (or reads the sealed memtables in place), streams them through the same compaction stream and output
 * loop as the main thread, writes and syncs the tables and their folder, and hands back what the main
 * thread needs to install them (each table's footer, meta, index and filter).
 *
 * On any failure the tables it wrote are removed before the error goes back; the inputs are never
 * touched.
 *
 * @module
 */
import type { Fs, FsThreadShare } from "@talus/fs";
import { BlockCache, FileDescriptorCache } from "../cache/index.ts";
import { CompactionStream } from "../compaction/compaction-stream.ts";
import { FilteredCursor, checkCompactionFilter, type CompactionFilter } from "../compaction/compaction-filter.ts";
import { UNPACED, writeOutputTables, type OutputSink } from "../compaction/output-tables.ts";
import { syncDirectory } from "../io/async-sync.ts";
import type { EntryCursor } from "../iter/cursor.ts";
import { GlobalSeqnoCursor } from "../iter/global-seqno-cursor.ts";
import { MergingCursor } from "../iter/merging-cursor.ts";
import { RunCursor } from "../iter/run-cursor.ts";
import { Memtable } from "../memtable/memtable.ts";
import { BYTEWISE_COMPARATOR, type Comparator } from "../key/comparator.ts";
import { checkMergeOperator, type MergeOperator } from "../merge/merge-operator.ts";
import { resolvePrefixExtractor, type PrefixExtractor, type ResolvedPrefixExtractor } from "../prefix/prefix-extractor.ts";
import { Table, TableWriter, type WrittenTable } from "../table/index.ts";
import { COMPACTION_READ_AHEAD_BYTES, ReadAheadWindow } from "../table/read-ahead-window.ts";
import { writerOptionsOf } from "./table-format.ts";
import { joinPath, removeQuietly } from "../version/index.ts";
import type { JobCallbacks, MergeJob } from "./merge-job.ts";
import { JobClaims, SharedIdCounter } from "./shared-ids.ts";
import { importInWorker, loadWorkerExport, type WorkerExport } from "./worker-export.ts";

/** Descriptors kept open per job: inputs are read one run position at a time. */
const INPUT_OPEN_FILES = 64;

interface LoadedCallbacks {
  readonly comparator: Comparator;
  readonly mergeOperator: MergeOperator | undefined;
  readonly compactionFilter: CompactionFilter | undefined;
  readonly prefixExtractor: ResolvedPrefixExtractor | undefined;
}

const filesystems = new Map<string, Fs>();
const callbacks = new Map<string, unknown>();

/**
 * The filesystem a share describes. One object per backend class in this thread when it takes no
 * arguments (such a backend holds no per-tree state); a fresh one per job otherwise.
 */
async function filesystemOf(share: FsThreadShare): Promise<Fs> {
  const key = share.args === undefined || share.args.length === 0 ? `${share.exportName} ${share.module}` : undefined;
  let fs = key === undefined ? undefined : filesystems.get(key);
  if (fs === undefined) {
    const module = await importInWorker(share.module);
    const make = module[share.exportName];
    if (typeof make !== "function") throw new Error(`module ${share.module} has no filesystem class "${share.exportName}"`);
    fs = new (make as new (...args: unknown[]) => Fs)(...(share.args ?? []));
    if (key !== undefined) filesystems.set(key, fs);
  }
  return fs;
}

async function callbackOf(from: WorkerExport, name: string, what: string): Promise<unknown> {
  const key = JSON.stringify(from);
  let loaded = callbacks.get(key);
  if (loaded === undefined) {
    loaded = await loadWorkerExport(from);
    callbacks.set(key, loaded);
  }
  // A module that exports something else under that name would write other tables than the main thread.
  const loadedName = (loaded as { name?: unknown } | null)?.name;
  if (loadedName !== name) throw new Error(`the ${what} loaded from ${from.module} (${from.exportName}) is named "${String(loadedName)}", not "${name}"`);
  return loaded;
}

async function loadCallbacks(c: JobCallbacks): Promise<LoadedCallbacks> {
  const comparator = c.comparator === undefined ? BYTEWISE_COMPARATOR : ((await callbackOf(c.comparator.from, c.comparator.name, "comparator")) as Comparator);
  const mergeOperator = c.mergeOperator === undefined ? undefined : checkMergeOperator(await callbackOf(c.mergeOperator.from, c.mergeOperator.name, "merge operator"));
  const compactionFilter = c.compactionFilter === undefined ? undefined : checkCompactionFilter(await callbackOf(c.compactionFilter.from, c.compactionFilter.name, "compaction filter"));
  const prefixExtractor =
    c.prefixExtractor === undefined ? undefined : resolvePrefixExtractor((await callbackOf(c.prefixExtractor.from, c.prefixExtractor.name, "prefix extractor")) as PrefixExtractor);
  return { comparator, mergeOperator, compactionFilter, prefixExtractor };
}

/** Runs the job; resolves to the written tables in key order. */
export async function runMergeJob(job: MergeJob): Promise<WrittenTable[]> {
  // A flush never filters: its job does not load the filter.
  const { compactionFilter, ...rest } = job.callbacks;
  const loaded = await loadCallbacks(job.source.kind === "tables" || compactionFilter === undefined ? job.callbacks : rest);
  const cmp = loaded.comparator;
  const openOptions = {
    comparator: cmp,
    blockCache: new BlockCache(0),
    fileCache: new FileDescriptorCache(INPUT_OPEN_FILES),
    mapFile: job.mapTables,
    ...(loaded.prefixExtractor === undefined ? {} : { prefixExtractor: loaded.prefixExtractor }),
  };
  const opened: Table[] = [];
  try {
    const children: EntryCursor[] = [];
    const source = job.source;
    if (source.kind === "memtables") {
      for (const snapshot of source.memtables) children.push(Memtable.fromSnapshot(snapshot, cmp).cursor());
    } else {
      // Each input reads many blocks per call (read-ahead-window.ts); the first window of every run's
      // first table is read before the merge starts, all in one Fs.readMany.
      const firstWindows: { table: Table; window: ReadAheadWindow; block: number }[] = [];
      for (const run of source.runs) {
        const sources = [];
        for (const input of run) {
          const table = Table.open(await filesystemOf(input.fs), input.path, { ...openOptions, tableId: input.tableId });
          opened.push(table);
          const window = new ReadAheadWindow(COMPACTION_READ_AHEAD_BYTES);
          if (sources.length === 0) firstWindows.push({ table, window, block: 0 });
          const global = input.globalSeqno;
          sources.push({
            minKey: input.minKey,
            maxKey: input.maxKey,
            cursor: (): EntryCursor => {
              const cursor = table.cursor({ fillCache: false, readAhead: window });
              return global === 0 ? cursor : new GlobalSeqnoCursor(cursor, global);
            },
          });
        }
        children.push(new RunCursor(cmp, sources));
      }
      Table.fillReadAheadWindows(firstWindows);
    }
    const merged = new MergingCursor(cmp, children);
    try {
      return await writeJobOutputs(job, loaded, merged);
    } finally {
      merged.close();
    }
  } finally {
    for (const table of opened) table.close();
  }
}

async function writeJobOutputs(job: MergeJob, loaded: LoadedCallbacks, merged: EntryCursor): Promise<WrittenTable[]> {
  const cmp = loaded.comparator;
  const filter = loaded.compactionFilter;
  const filtered = filter === undefined ? undefined : new FilteredCursor(merged, filter, job.evictTombstones);
  const stream = new CompactionStream(filtered ?? merged, {
    comparator: cmp,
    gcWatermark: job.gcWatermark,
    evictTombstones: job.evictTombstones,
    ...(job.nothingBelow === undefined ? {} : { nothingBelow: job.nothingBelow }),
    tombstones: job.tombstones,
    mergeOperator: loaded.mergeOperator,
  });
  const { fs: share, dir, targetSize, format } = job.output;
  const fs = await filesystemOf(share);
  const ids = new SharedIdCounter(job.tableIds);
  const claims = new JobClaims(job.claims);
  const writerCallbacks = { comparator: cmp, mergeOperatorName: loaded.mergeOperator?.name, prefixExtractor: loaded.prefixExtractor };
  const sink: OutputSink<WrittenTable> = {
    newWriter: () => {
      const tableId = ids.take();
      claims.claim(tableId);
      return new TableWriter(fs, joinPath(dir, String(tableId)), writerOptionsOf(format, tableId, writerCallbacks));
    },
    finish: async (writer) => {
      try {
        await writer.finishAsync(UNPACED.pausePoint);
      } catch (error) {
        writer.abort();
        throw error;
      }
      return writer.written();
    },
    discard: (table) => removeQuietly(fs, table.path),
  };
  const tables = await writeOutputTables(stream, cmp, targetSize, job.outputTombstones, sink, UNPACED);
  try {
    filtered?.finish();
    if (tables.length > 0) await syncDirectory(fs, dir);
  } catch (error) {
    for (const table of tables) sink.discard(table);
    throw error;
  }
  return tables;
}
