/**
 * What `Tree.open` accepts, and its normalisation into a fully-defaulted, validated form. Validation
 * happens once, here, so that a bad option throws before anything touches the disk.
 *
 * @module
 */
import { StdFs, type Fs } from "@talus/fs";
import { checkMergeOperator, type MergeOperator } from "../merge/merge-operator.ts";
import { checkCompactionFilter, type CompactionFilter } from "../compaction/compaction-filter.ts";
import { resolvePrefixExtractor, type PrefixExtractor, type ResolvedPrefixExtractor } from "../prefix/prefix-extractor.ts";
import { BYTEWISE_COMPARATOR, MAX_COMPARATOR_NAME_BYTES, type Comparator } from "../key/comparator.ts";
import { SequenceNumberCounter } from "../seqno.ts";
import { LEVEL_COUNT } from "../version/index.ts";
import { BlockCache, FileDescriptorCache } from "../cache/index.ts";
import { codecByName, type Codec } from "../table/index.ts";
import type { ValueLog } from "../separation/value-log.ts";
import { MAX_BLOCK_BYTES } from "../table/format.ts";
import { MAX_KEY_BYTES } from "../key/validate.ts";
import type { JobCallbacks } from "../executor/merge-job.ts";
import { workerExportOf, type WorkerExport } from "../executor/worker-export.ts";
import { defaultWorkerCount } from "../executor/worker-pool.ts";
import { resolveMaintenance, type MaintenanceOptions, type ResolvedMaintenance } from "./maintenance.ts";
import { resolveJournal, type JournalOptions } from "./journal-set.ts";
import type { JournalWriterOptions } from "../journal/index.ts";

/** The most worker threads a tree may ask for. */
const MAX_WORKERS = 64;

/**
 * The largest value a table entry can hold (a data block holds at least one entry). Larger values need key-value
 * separation (a blob tree).
 */
export const MAX_TABLE_VALUE_BYTES = MAX_BLOCK_BYTES - MAX_KEY_BYTES - 64;

/** Tables of levels `[from, toExclusive)` live under `path` (on `fs`, default the tree's). */
export interface LevelRoute {
  /** The levels routed, `[from, toExclusive)`: `[4, 7]` is levels 4, 5 and 6. Routes may not overlap. */
  readonly levels: readonly [number, number];
  /** The directory those levels' tables live in. */
  readonly path: string;
  /** The filesystem `path` is on; default the tree's `fs`. */
  readonly fs?: Fs;
}

/** A per-level setting: one value for every level, or one per level (the last repeats for deeper levels). */
export type PerLevel<T> = T | readonly T[];

/**
 * What {@link Tree.open} accepts. Only `path` is required; every other option has a default, and a bad
 * value throws before anything touches the disk.
 *
 * @example
 * ```ts
 * import { Leveled, SequenceNumberCounter, Tree } from "@talus/lsm-core";
 *
 * const seqno = new SequenceNumberCounter();
 * const tree = await Tree.open({
 *   path: "/var/lib/app/db",
 *   seqno,
 *   journal: true,
 *   compression: "lz4",
 *   maintenance: { strategy: new Leveled() },
 * });
 * ```
 */
export interface TreeOptions {
  /** The tree's directory (created if missing). */
  readonly path: string;
  /** Where the tree's files live; default the real disk. */
  readonly fs?: Fs;
  /** The write counter writers take seqnos from; version changes take one each. Default fresh. */
  readonly seqno?: SequenceNumberCounter;
  /**
   * The "visible" watermark readers read at; version changes raise it. Default: the `seqno` counter
   * itself, so a caller that keeps one counter sees every write as visible.
   */
  readonly visibleSeqno?: SequenceNumberCounter;
  /** Tiered storage: the tables of some levels live in other directories. */
  readonly levelRoutes?: readonly LevelRoute[];
  /** User-key order; persisted by name, a different one on reopen fails with COMPARATOR_MISMATCH. */
  readonly comparator?: Comparator;
  /**
   * Combines merge operands with the value under them (see {@link MergeOperator}); without one, reads
   * return the newest operand as stored. Its name is recorded in the tables it writes.
   */
  readonly mergeOperator?: MergeOperator;
  /** Sees every value merge compactions rewrite and may keep, delete, drop or replace it (see {@link CompactionFilter}). */
  readonly compactionFilter?: CompactionFilter;
  /** Names the part of a key prefix scans ask about; tables filter on it (see {@link PrefixExtractor}). */
  readonly prefixExtractor?: PrefixExtractor;
  /** Uncompressed data block size target, bytes (default 4096). */
  readonly blockSize?: PerLevel<number>;
  /** Entries between restart points in data blocks (default 16). */
  readonly restartInterval?: PerLevel<number>;
  /**
   * Data block compression per level: "none" or "lz4". Default `["none", "lz4"]`: L0 stays uncompressed
   * (its tables are short-lived and written on the flush path), deeper levels, where the data settles,
   * use LZ4 (as the reference engine does when built with LZ4).
   */
  readonly compression?: PerLevel<string>;
  /** Bloom filter bits per key (default 10; 0 disables the filter). */
  readonly filterBitsPerKey?: PerLevel<number>;
  /** Block cache capacity in bytes (default 16 MiB), or a cache shared with other trees. */
  readonly cacheBytes?: number;
  /** A block cache to use instead of a new one of `cacheBytes`: pass one instance to several trees to share it. */
  readonly blockCache?: BlockCache;
  /** Most table files kept open at once (default 256), or a descriptor cache shared with other trees. */
  readonly maxOpenFiles?: number;
  /** A descriptor cache to use instead of a new one of `maxOpenFiles`: pass one instance to several trees to share it. */
  readonly fileCache?: FileDescriptorCache;
  /** Target size of a table written by a flush (default 64 MiB). */
  readonly flushTableSize?: number;
  /**
   * Key-value separation: large values go to this value log and tables hold handles (see
   * {@link ValueLog}). The hook `@talus/vlog`'s `BlobTree` fills in; a tree opened with one is a blob tree.
   */
  readonly valueLog?: ValueLog;
  /**
   * Worker threads for merge compactions: how many (1..64), or `false` for none. Default: on when the
   * tree's filesystem can be used from another thread (`StdFs`; not `MemFs` or the testkit's wrappers),
   * with one thread on a 2-core machine and up to 4 on bigger ones; the threads are shared by every
   * tree of the process that asks for the same number.
   *
   * A merge still runs inline (on the main thread, in slices that yield to the event loop) when a
   * worker cannot run it the same way: a blob tree (its value log lives in this thread), a comparator,
   * merge operator, compaction filter or prefix extractor given as a plain function or object rather
   * than tagged with {@link "@talus/lsm-core"!fromModule}, a custom compression codec, or input or output tables on a
   * filesystem without {@link Fs.threadShare}. Flushes, moves, drops and every version change always
   * run on the main thread. Both executors write the same tables.
   *
   * @example
   * ```ts
   * const tree = await Tree.open({ path: "/db", workers: 2 }); // merges on two threads of their own
   * const inline = await Tree.open({ path: "/db2", workers: false }); // everything on the main thread
   * ```
   */
  readonly workers?: number | false;
  /**
   * Read table data blocks through memory maps where the filesystem offers them (`Fs.mapReadOnly`:
   * `StdFs` with its native addon). A block-cache miss is then a view of the file's pages instead of a
   * system call and a copy. Default true. Table files never change once written, which is what makes
   * this safe; turn it off for a filesystem whose files might be truncated under the tree (a map read past
   * a file's end ends the process with SIGBUS). A `BlobTree` (`@talus/vlog`) reads its blob files the
   * same way under this option.
   */
  readonly mapTables?: boolean;
  /**
   * Automatic maintenance: the tree flushes its memtable once it holds `memtableBytes` (default 64 MiB)
   * and compacts with `strategy` (default `new Leveled()`) until nothing is left to do, in the
   * background; `writeStall`, `drained()` and `settle()` tell writers where it stands. Off by default:
   * the caller then flushes and compacts by hand, with its own GC watermarks.
   *
   * @example
   * ```ts
   * const tree = await Tree.open({ path: "/db", maintenance: true });
   * for (let i = 0; i < 1e6; i++) {
   *   tree.insert(`key${i}`, "value", tree.seqnoCounter.next());
   *   if (tree.writeStall) await tree.drained(); // keeps memory bounded under a write flood
   * }
   * await tree.settle(); // every flush and compaction done
   * ```
   */
  readonly maintenance?: boolean | MaintenanceOptions;
  /**
   * A write-ahead journal: every write (insert, remove, merge, batch, range delete) is appended to a
   * journal file in `<path>/journal/` before it lands in the memtable, and `persist()` makes every
   * write made before it durable, with one fsync shared by every caller waiting at that moment (group
   * commit). Open replays the journal into the memtable (a torn tail is cut at the last whole record);
   * journal files go once their memtables are flushed. Off by default: then only flushed writes
   * survive a crash. With `{ sync: "none" }`, `persist()` hands the writes to the operating system
   * without an fsync (they survive the process dying, not a power cut).
   *
   * @example
   * ```ts
   * const tree = await Tree.open({ path: "/db", journal: true, maintenance: true });
   * tree.insert("k", "v", tree.seqnoCounter.next());
   * await tree.persist(); // durable now, without a flush
   * ```
   */
  readonly journal?: boolean | JournalOptions;
  /**
   * Open for reading only (tools that inspect a tree): nothing in the directory is created, cleaned or
   * changed (no orphan removal, no new journal file; the journal is replayed into memory), every
   * write, flush, compaction and ingestion fails with `LsmError` code `READ_ONLY`, and `close()` drops
   * the memtables. A directory without a tree is refused with `INVALID_DATA`. The directory is still
   * locked while open, so no writer changes it underneath. Not with `maintenance` or `journal`.
   */
  readonly readOnly?: boolean;
}

export interface ResolvedOptions {
  readonly path: string;
  readonly fs: Fs;
  readonly seqno: SequenceNumberCounter;
  readonly visibleSeqno: SequenceNumberCounter;
  readonly routes: readonly Required<LevelRoute>[];
  readonly comparator: Comparator;
  readonly mergeOperator: MergeOperator | undefined;
  readonly compactionFilter: CompactionFilter | undefined;
  readonly prefixExtractor: ResolvedPrefixExtractor | undefined;
  readonly blockSize: readonly number[];
  readonly restartInterval: readonly number[];
  readonly codec: readonly Codec[];
  readonly filterBitsPerKey: readonly number[];
  readonly blockCache: BlockCache;
  readonly fileCache: FileDescriptorCache;
  readonly flushTableSize: number;
  readonly valueLog: ValueLog | undefined;
  /** Worker threads for merges; 0: every job inline. */
  readonly workers: number;
  readonly mapTables: boolean;
  readonly maintenance: ResolvedMaintenance | undefined;
  /** How the journal writes (undefined: writes are not journaled). */
  readonly journal: JournalWriterOptions | undefined;
  readonly readOnly: boolean;
  /** How a worker loads the tree's callbacks, or undefined when one of them cannot be loaded there. */
  readonly workerCallbacks: JobCallbacks | undefined;
}

export const DEFAULT_CACHE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_OPEN_FILES = 256;
export const DEFAULT_TABLE_SIZE = 64 * 1024 * 1024;
/** L0 uncompressed, every deeper level LZ4 (the last entry repeats). */
export const DEFAULT_COMPRESSION: readonly string[] = ["none", "lz4"];

export function resolveOptions(options: TreeOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) throw new TypeError("Tree.open needs an options object");
  if (typeof options.path !== "string" || options.path.length === 0) throw new TypeError("options.path must be a non-empty string");
  const fs = options.fs ?? new StdFs();
  const comparator = options.comparator ?? BYTEWISE_COMPARATOR;
  if (typeof comparator.compare !== "function" || typeof comparator.name !== "string") {
    throw new TypeError("options.comparator must have a name and a compare function");
  }
  if (new TextEncoder().encode(comparator.name).length > MAX_COMPARATOR_NAME_BYTES) {
    throw new RangeError(`comparator name is longer than ${MAX_COMPARATOR_NAME_BYTES} bytes`);
  }
  const seqno = options.seqno ?? new SequenceNumberCounter();
  return {
    path: options.path,
    fs,
    seqno,
    visibleSeqno: options.visibleSeqno ?? seqno,
    routes: resolveRoutes(options.levelRoutes, fs),
    comparator,
    mergeOperator: checkMergeOperator(options.mergeOperator),
    compactionFilter: checkCompactionFilter(options.compactionFilter),
    prefixExtractor: resolvePrefixExtractor(options.prefixExtractor),
    blockSize: perLevel("blockSize", options.blockSize, 4096, (n) => Number.isInteger(n) && n >= 1 && n <= 4 * 1024 * 1024),
    restartInterval: perLevel("restartInterval", options.restartInterval, 16, (n) => Number.isInteger(n) && n >= 1 && n <= 255),
    codec: perLevel("compression", options.compression ?? DEFAULT_COMPRESSION, "none", (c) => typeof c === "string").map((name) => codecByName(name)),
    filterBitsPerKey: perLevel("filterBitsPerKey", options.filterBitsPerKey, 10, (n) => typeof n === "number" && n >= 0 && n <= 64),
    blockCache: options.blockCache ?? new BlockCache(positiveInteger("cacheBytes", options.cacheBytes, DEFAULT_CACHE_BYTES, 0)),
    fileCache: options.fileCache ?? new FileDescriptorCache(positiveInteger("maxOpenFiles", options.maxOpenFiles, DEFAULT_MAX_OPEN_FILES, 1)),
    flushTableSize: positiveInteger("flushTableSize", options.flushTableSize, DEFAULT_TABLE_SIZE, 1),
    valueLog: checkValueLog(options.valueLog),
    workers: resolveWorkers(options.workers, fs),
    mapTables: checkBoolean("mapTables", options.mapTables, true),
    maintenance: resolveMaintenance(options.maintenance),
    journal: resolveJournal(options.journal),
    readOnly: checkReadOnly(options),
    workerCallbacks: workerCallbacks(options, comparator),
  };
}

function checkReadOnly(options: TreeOptions): boolean {
  const readOnly = checkBoolean("readOnly", options.readOnly, false);
  if (readOnly && (options.maintenance ?? false) !== false) throw new TypeError("a readOnly tree has no maintenance: it never flushes or compacts");
  if (readOnly && (options.journal ?? false) !== false) throw new TypeError("a readOnly tree journals nothing: it takes no writes (it still replays an existing journal)");
  return readOnly;
}

function checkBoolean(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new TypeError(`${name} must be a boolean, got ${String(value)}`);
  return value;
}

function resolveWorkers(workers: number | false | undefined, fs: Fs): number {
  if (workers === undefined) return fs.threadShare === undefined ? 0 : defaultWorkerCount();
  if (workers === false) return 0;
  if (!Number.isInteger(workers) || workers < 0 || workers > MAX_WORKERS) throw new RangeError(`workers must be false or an integer in 0..${MAX_WORKERS}, got ${String(workers)}`);
  return workers;
}

/** Each callback with the worker export it was tagged with; undefined when one has none. */
function workerCallbacks(options: TreeOptions, comparator: Comparator): JobCallbacks | undefined {
  const tagged = (callback: { readonly name: string } | ((key: Uint8Array) => unknown) | undefined): { name: string; from: WorkerExport } | null | undefined => {
    if (callback === undefined) return undefined;
    const from = workerExportOf(callback);
    return from === undefined ? null : { name: callback.name, from };
  };
  const out: { -readonly [K in keyof JobCallbacks]: JobCallbacks[K] } = {};
  if (comparator !== BYTEWISE_COMPARATOR) {
    const c = tagged(comparator);
    if (c === null || c === undefined) return undefined;
    out.comparator = c;
  }
  for (const key of ["mergeOperator", "compactionFilter", "prefixExtractor"] as const) {
    const c = tagged(options[key]);
    if (c === null) return undefined;
    if (c !== undefined) out[key] = c;
  }
  return out;
}

function checkValueLog(log: ValueLog | undefined): ValueLog | undefined {
  if (log === undefined) return undefined;
  if (typeof log !== "object" || log === null || typeof log.newWriter !== "function" || typeof log.read !== "function") {
    throw new TypeError("options.valueLog must implement ValueLog (newWriter, read, valueSize, reference, describe, ...)");
  }
  const threshold = log.separationThreshold;
  // A value too large for a table must be separated: the threshold cannot lie above that size.
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > MAX_TABLE_VALUE_BYTES) {
    throw new RangeError(`valueLog.separationThreshold must be an integer in 1..${MAX_TABLE_VALUE_BYTES}, got ${String(threshold)}`);
  }
  const staleness = log.stalenessThreshold;
  if (typeof staleness !== "number" || !(staleness > 0 && staleness <= 1)) throw new RangeError(`valueLog.stalenessThreshold must be in (0, 1], got ${String(staleness)}`);
  const cutoff = log.ageCutoff;
  if (typeof cutoff !== "number" || !(cutoff > 0 && cutoff <= 1)) throw new RangeError(`valueLog.ageCutoff must be in (0, 1], got ${String(cutoff)}`);
  return log;
}

function perLevel<T>(name: string, value: PerLevel<T> | undefined, fallback: T, valid: (v: T) => boolean): T[] {
  const list = value === undefined ? [fallback] : Array.isArray(value) ? [...(value as readonly T[])] : [value as T];
  if (list.length === 0) throw new RangeError(`${name} must not be an empty list`);
  for (const v of list) if (!valid(v)) throw new RangeError(`invalid ${name}: ${String(v)}`);
  const out: T[] = [];
  for (let level = 0; level < LEVEL_COUNT; level++) out.push(list[Math.min(level, list.length - 1)] as T);
  return out;
}

function positiveInteger(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

function resolveRoutes(routes: readonly LevelRoute[] | undefined, fs: Fs): Required<LevelRoute>[] {
  if (routes === undefined) return [];
  const resolved = routes.map((route) => {
    const [from, to] = route.levels;
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > LEVEL_COUNT || from >= to) {
      throw new RangeError(`empty or inverted level route range [${from}, ${to})`);
    }
    if (typeof route.path !== "string" || route.path.length === 0) throw new TypeError("a level route needs a path");
    return { levels: route.levels, path: route.path, fs: route.fs ?? fs };
  });
  const sorted = [...resolved].sort((a, b) => a.levels[0] - b.levels[0]);
  for (let i = 1; i < sorted.length; i++) {
    if ((sorted[i] as Required<LevelRoute>).levels[0] < (sorted[i - 1] as Required<LevelRoute>).levels[1]) throw new RangeError("overlapping level routes");
  }
  return resolved;
}
