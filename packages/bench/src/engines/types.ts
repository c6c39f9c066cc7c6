/**
 * What a workload asks of an engine. Each method covers a slice of ops `[from, to)` so that the driver
 * can yield to the event loop and report progress between slices; a method returns a promise only on
 * paths that are asynchronous, so the sync paths pay no promise per slice.
 *
 * @module
 */
import type { Fs } from "@talus/fs";
import type { EngineName, TalusCompression, TalusFsKind } from "../catalog.ts";
import type { KeyStream, MergeStream, RangeStream, ValuePool } from "../data.ts";
import type { LatencyRecorder } from "../stats.ts";

/** Counts what the reads returned. */
export interface Tally {
  /** Entries read (point hits, scanned entries). */
  items: number;
  /** Key plus value bytes of those entries. */
  bytes: number;
  /** Point reads that found their key. */
  hits: number;
}

export function newTally(): Tally {
  return { items: 0, bytes: 0, hits: 0 };
}

export interface EngineConfig {
  readonly engine: EngineName;
  readonly dir: string;
  readonly keySize: number;
  readonly batch: number;
  readonly memtableBytes: number;
  readonly talusCompression: TalusCompression;
  /** Block cache of Talus and classic-level, MiB. */
  readonly cacheMb: number;
  /** Talus' block cache when it differs from `cacheMb`. */
  readonly talusCacheMb: number | undefined;
  /** Wrap Talus' filesystem in the byte-counting Fs (write workloads). */
  readonly countIo: boolean;
  /** Talus' filesystem instead of the real one (tests run Talus on a MemFs); the other engines ignore it. */
  readonly fs?: Fs;
  /** Which real filesystem Talus opens on when `fs` is not given (default "std"); the other engines ignore it. */
  readonly talusFs?: TalusFsKind;
  /** Talus' `mapTables` (default true: data blocks read through memory maps); the other engines ignore it. */
  readonly mapTables?: boolean;
  /** Open Talus with `counterMerge` as its merge operator (mergerandom); the other engines have none and ignore it. */
  readonly mergeOperator?: boolean;
  /** Open Talus with prefixscan's 2-byte prefix extractor (`talus:prefix`, Talus' prefix prefill); the other engines ignore it. */
  readonly prefixExtractor?: boolean;
  /** Open Talus with its write-ahead journal (`journal: true`, `talus+journal`); the other engines ignore it. */
  readonly journal?: boolean;
}

/** A forward scan that survives across slices. */
export interface Scanner {
  /** Reads up to `max` entries; resolves to false once the end is reached. */
  next(max: number, tally: Tally): boolean | Promise<boolean>;
  close(): void | Promise<void>;
}

export interface BenchDb {
  /** Writes ops `[from, to)`: key `i` from `keys`, value `i` from `values`. */
  write(keys: KeyStream, values: ValuePool, from: number, to: number, rec: LatencyRecorder): void | Promise<void>;
  /**
   * fillsync: writes op `index` alone and resolves once it is durable (it survives a power cut), one
   * latency sample per op, the wait included. Many calls may be pending at once (concurrent writers); a
   * call's durability covers its own write, whatever the others wrote meanwhile. Talus needs its journal
   * for it (it throws without one).
   */
  writeDurable(keys: KeyStream, values: ValuePool, index: number, rec: LatencyRecorder): Promise<void>;
  /** What a user waits for after the last write before the data is persisted (flush, compaction): timed. */
  settle(): Promise<void>;
  /**
   * A full (major) compaction, untimed: overwrite measures the disk space it leaves (Talus engines
   * only; a blob tree also collects its blob garbage there).
   */
  majorCompact?(): Promise<void>;
  get(keys: KeyStream, from: number, to: number, rec: LatencyRecorder, tally: Tally): void | Promise<void>;
  /**
   * multiget: for each op `i` of `[from, to)`, one multi-key read of keys `i * perOp` to `(i + 1) * perOp - 1`
   * of `keys`, one latency sample per op. Only Talus has it (`tree.multiGet`); the workload runs on Talus only.
   */
  multiGet?(keys: KeyStream, perOp: number, from: number, to: number, rec: LatencyRecorder, tally: Tally, cold?: ColdCalls): void;
  scanner(): Scanner;
  /**
   * readseq's second pass: the same forward scan through an API that hands the engine's memory to a
   * callback instead of a copy per entry (Talus: `tree.scan`). Only engines that have one implement it.
   */
  scanViews?(): Scanner;
  /** Seeks to key `i` and reads `1 + nexts` entries, for each op. */
  seek(keys: KeyStream, from: number, to: number, nexts: number, rec: LatencyRecorder, tally: Tally): void | Promise<void>;
  /**
   * Deletes the keys of range `i` (`ranges.startInto(i)` inclusive to `ranges.endInto(i)` exclusive),
   * for each op; one latency sample per range. Engines without a range delete emulate it (see each engine).
   */
  deleteRange(ranges: RangeStream, from: number, to: number, rec: LatencyRecorder): void | Promise<void>;
  /**
   * Adds `merges.delta(i)` to the 8-byte little-endian counter under `merges.keyInto(i)` (0 when the key
   * is absent), for each op. Talus stores a merge operand; engines without merge operators emulate it
   * with a read-modify-write (see each engine).
   */
  merge(merges: MergeStream, from: number, to: number, rec: LatencyRecorder): void | Promise<void>;
  /**
   * Bulk-loads ops `[from, to)` (keys strictly increasing, into an empty database) through the engine's
   * bulk path; `finishIngest()` ends the load. Engines without one load the fastest sorted way they have
   * (see each engine).
   */
  ingest(keys: KeyStream, values: ValuePool, from: number, to: number, rec: LatencyRecorder): void | Promise<void>;
  /** Ends the bulk load: everything ingested is visible afterwards. Resolves to the entries the engine says it installed, when it says. */
  finishIngest(): Promise<number | undefined>;
  /** The value of one key, untimed: workloads check what they read against a model with it. */
  read(key: Uint8Array): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  /** Reads up to `limit` entries under `prefixes[i]`, for each op. */
  prefix(prefixes: PrefixStream, from: number, to: number, limit: number, rec: LatencyRecorder, tally: Tally): void | Promise<void>;
  /** Engine-specific numbers for the report (tables per level, bytes through the counting Fs ...). */
  stats(): Record<string, number | number[]>;
  close(): Promise<void>;
}

/** The prefix and its exclusive upper bound for op `i`. */
export interface PrefixStream {
  prefix(index: number): Uint8Array;
  end(index: number): Uint8Array | undefined;
}

/** One op in `SAMPLE_MASK + 1` is timed on per-op sync paths. */
export { SAMPLE_MASK } from "../stats.ts";

/**
 * multiget-cold: before each call the engine drops its files from the OS page cache (untimed) and adds the
 * call's own time to `timedMs`, which the workload's ops/s is computed from.
 */
export interface ColdCalls {
  timedMs: number;
}
