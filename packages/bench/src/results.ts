/**
 * The shapes that cross process boundaries and land in `--json` files.
 *
 * @module
 */
import type { EngineName, TalusCompression, TalusFsKind, WorkloadName } from "./catalog.ts";
import type { Spread } from "./stats.ts";

/** The settings a child needs (a subset of the run options, JSON-safe). */
export interface ChildSettings {
  readonly num: number;
  readonly reads: number;
  readonly maxSeconds: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly seed: number;
  readonly batch: number;
  readonly memtableMb: number;
  readonly talusCompression: TalusCompression;
  /** The filesystem of the Talus engines (`--fs`); absent in reports from before the option: "std". */
  readonly fs?: TalusFsKind;
  /** Block cache of Talus and classic-level, MiB. */
  readonly cacheMb: number;
  /** Talus' block cache when it differs from `cacheMb`. */
  readonly talusCacheMb: number | undefined;
  readonly seekNexts: number;
}

export type Job =
  | { readonly kind: "prefill"; readonly dataset: "seq" | "prefix"; readonly engine: EngineName; readonly dir: string; readonly settings: ChildSettings }
  | { readonly kind: "workload"; readonly workload: WorkloadName; readonly engine: EngineName; readonly rep: number; readonly dir: string; readonly settings: ChildSettings };

/** One workload on one engine, one repetition. Times in seconds, latencies in µs, sizes in bytes. */
export interface RunResult {
  readonly workload: WorkloadName;
  readonly engine: EngineName;
  readonly rep: number;
  readonly ops: number;
  /** Ops the workload meant to do; more than `ops` when `--max-seconds` stopped it. */
  readonly plannedOps: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  readonly mbPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly maxUs: number;
  readonly diskBytes: number;
  readonly peakRssBytes: number;
  /** RSS right after the child loaded its modules, before opening the database. */
  readonly baseRssBytes: number;
  readonly openMs: number;
  readonly closeMs: number;
  readonly hits?: number;
  readonly items?: number;
  readonly eventLoop?: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
  readonly writes?: { readonly ops: number; readonly opsPerSec: number; readonly p99Us: number };
  /** deleterange: the deletes, the seeks and the full scans beside the timed reads. */
  readonly deleteRange?: DeleteRangeResult;
  /** mergerandom: the merge phase's parts, the reads after it and the counters checked. */
  readonly merge?: MergeResult;
  /** ingest: the finish and the keys read back. */
  readonly ingest?: IngestResult;
  /** fillsync, fillsync64: the writers and the keys read back. */
  readonly fillSync?: FillSyncResult;
  /** prefixscan on Talus: the positional reads of scans on the reopened tree with the block cache off. */
  readonly prefixBlocks?: PrefixBlocksResult;
  /** readseq on Talus: the zero-copy scan after the timed copying pass, and its baseline. */
  readonly zeroCopyScan?: ZeroCopyScanResult;
  /** Bytes written to disk per user byte: through the counting Fs (Talus only). */
  readonly writeAmp?: number;
  /** Bytes the process passed to write(2) and friends per user byte (/proc/self/io wchar; every engine). */
  readonly wcharAmp?: number;
  /** Disk size per live user byte (fills and overwrite). */
  readonly spaceAmp?: number;
  /** overwrite: disk space after the database is reopened, major-compacted (untimed) and closed, over the live data (Talus engines). */
  readonly spaceAmpCompacted?: number;
  readonly engineStats: Readonly<Record<string, number | number[]>>;
}

/** What deleterange measures beside its reads (ops, ops/s, p50/p99 of a RunResult: the reads; p50/p99 the gets). */
export interface DeleteRangeResult {
  /** Range deletes done, one per round of reads. */
  readonly deletes: number;
  /** Range deletes per second of the time spent in them. */
  readonly deletesPerSec: number;
  readonly deleteP50Us: number;
  readonly deleteP99Us: number;
  /** Keys per range delete. */
  readonly width: number;
  /** The reads: point gets and seeks (each reading `seekNexts` more entries). */
  readonly gets: number;
  readonly seeks: number;
  readonly seekNexts: number;
  readonly seekP50Us: number;
  readonly seekP99Us: number;
  /** Wall time of the mixed phase (reads, deletes and the event-loop yields between rounds). */
  readonly wallSeconds: number;
  /** The full scan before the deletes, with their tombstones in the memtable, and after `settle()` (Talus: flushed). */
  readonly scans: { readonly none: ScanTiming; readonly memtable: ScanTiming; readonly flushed: ScanTiming };
  /** Time of the scan without tombstones over the time with them (> 1: faster with them). */
  readonly scanRatioMemtable: number;
  readonly scanRatioFlushed: number;
  /** The same per entry returned (the scans with tombstones return fewer entries). */
  readonly scanEntryRatioMemtable: number;
  readonly scanEntryRatioFlushed: number;
  /** How long the `settle()` between the last two scans took. */
  readonly settleMs: number;
}

/**
 * What mergerandom measures beside its merges (ops, ops/s, p50/p99 of a RunResult: the merges, timed until
 * persisted: the merge loop plus settle()).
 */
export interface MergeResult {
  readonly merges: number;
  /** Keys the merges are spread over (`--num / 8`), and how many of them got at least one. */
  readonly keySpace: number;
  readonly keysMerged: number;
  /** The merge loop alone, and the settle() after it (both inside the merges' time). */
  readonly loopSeconds: number;
  readonly settleMs: number;
  /** The random gets of the counters after the merges. */
  readonly reads: number;
  readonly plannedReads: number;
  readonly readSeconds: number;
  readonly readsPerSec: number;
  readonly readP50Us: number;
  readonly readP99Us: number;
  /** Counters compared with the model's sums (all equal, or the run failed). */
  readonly checked: number;
}

/** What ingest measures beside the load (ops, ops/s of a RunResult: the load, timed until persisted). */
export interface IngestResult {
  readonly entries: number;
  /** `finishIngest()` (Talus: `finish()`, lmdb: the one transaction), inside the load's time. */
  readonly finishMs: number;
  /** Keys read back and compared after the load (all equal, or the run failed). */
  readonly verified: number;
}

/** What fillsync and fillsync64 report beside their durable writes (ops, ops/s, p50/p99 of a RunResult). */
export interface FillSyncResult {
  /** Concurrent writers, each awaiting durability after every write. */
  readonly writers: number;
  /** Keys read back and compared after the writes (all equal, or the run failed). */
  readonly verified: number;
}

/**
 * prefixscan's block probe on Talus: `scans` prefix scans (the workload's first prefixes) on the tree
 * reopened with the block cache off and the counting Fs; index and filters are pinned, so every
 * positional read is a data block.
 */
export interface PrefixBlocksResult {
  readonly scans: number;
  /** Positional reads of those scans. */
  readonly blocks: number;
  readonly blocksPerScan: number;
  readonly bytesPerScan: number;
  readonly entriesPerScan: number;
  /** Tables in the tree. */
  readonly tables: number;
}

/**
 * readseq's passes after the timed one (engines with a zero-copy scan). The timed pass reads a database
 * just reopened; these read it after that pass, with whatever it left in the caches, so the zero-copy
 * pass is held to a copying pass made right before it rather than to the timed one.
 */
export interface ZeroCopyScanResult {
  /** Entries per second through the zero-copy scan (Talus: `tree.scan`, views of the engine's memory). */
  readonly opsPerSec: number;
  /** Entries per second of a second pass through the copying iterator, right before the zero-copy one. */
  readonly copyingOpsPerSec: number;
}

/** One full forward scan of the data set: the best of a few. */
export interface ScanTiming {
  readonly ms: number;
  readonly entries: number;
}

export interface PrefillResult {
  readonly dataset: "seq" | "prefix";
  readonly engine: EngineName;
  readonly seconds: number;
  readonly diskBytes: number;
}

export type ChildMessage =
  | { readonly type: "progress"; readonly done: number; readonly total: number }
  | { readonly type: "result"; readonly result: RunResult }
  | { readonly type: "prefilled"; readonly result: PrefillResult }
  | { readonly type: "error"; readonly message: string };

/** One workload × engine over its repetitions. */
export interface Summary {
  readonly workload: WorkloadName;
  readonly engine: EngineName;
  readonly reps: number;
  /** Repetitions stopped by --max-seconds. */
  readonly capped: number;
  readonly opsPerSec: Spread;
  readonly mbPerSec: Spread;
  readonly p50Us: Spread;
  readonly p99Us: Spread;
  readonly diskBytes: Spread;
  readonly peakRssBytes: Spread;
  readonly eventLoopP99Ms?: Spread;
  readonly eventLoopMaxMs?: Spread;
  readonly writesPerSec?: Spread;
  readonly deleteRange?: DeleteRangeSummary;
  readonly merge?: MergeSummary;
  readonly ingestFinishMs?: Spread;
  readonly ingestVerified?: Spread;
  /** fillsync, fillsync64: keys read back and checked. */
  readonly fillSyncVerified?: Spread;
  /** prefixscan on Talus: data blocks read per scan, and tables in the tree. */
  readonly blocksPerScan?: Spread;
  readonly tables?: Spread;
  /** readseq on Talus: the zero-copy scan's entries per second, and over its copying baseline's (see {@link ZeroCopyScanResult}). */
  readonly zeroCopyOpsPerSec?: Spread;
  readonly zeroCopySpeedup?: Spread;
  readonly writeAmp?: Spread;
  readonly wcharAmp?: Spread;
  readonly spaceAmp?: Spread;
  readonly spaceAmpCompacted?: Spread;
}

/** deleterange's figures over the repetitions (see {@link DeleteRangeResult}). */
export interface DeleteRangeSummary {
  readonly deletes: Spread;
  readonly deletesPerSec: Spread;
  readonly deleteP50Us: Spread;
  readonly deleteP99Us: Spread;
  readonly seekP50Us: Spread;
  readonly seekP99Us: Spread;
  readonly scanEntries: { readonly none: Spread; readonly after: Spread };
  readonly scanMs: { readonly none: Spread; readonly memtable: Spread; readonly flushed: Spread };
  /** The scan's time without tombstones over its time with them: the same key range. */
  readonly scanRatioMemtable: Spread;
  readonly scanRatioFlushed: Spread;
  /** The same per entry returned: time per entry without tombstones over time per entry with them. */
  readonly scanEntryRatioMemtable: Spread;
  readonly scanEntryRatioFlushed: Spread;
}

/** mergerandom's figures over the repetitions (see {@link MergeResult}). */
export interface MergeSummary {
  readonly keySpace: Spread;
  readonly settleMs: Spread;
  readonly readsPerSec: Spread;
  readonly readP50Us: Spread;
  readonly readP99Us: Spread;
  readonly checked: Spread;
  /** Repetitions whose reads --max-seconds stopped. */
  readonly readsCapped: number;
}

export interface Ratio {
  readonly workload: WorkloadName;
  readonly engine: EngineName;
  readonly peer: EngineName;
  /** Talus ops/s over the best peer's (median of repetitions). */
  readonly ratio: number;
}

export interface TargetCheck {
  readonly target: string;
  readonly workload: WorkloadName;
  readonly engine: EngineName;
  readonly peer: string;
  readonly measured: number;
  readonly goal: string;
  readonly met: boolean;
}

export interface Machine {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly platform: string;
  readonly node: string;
  /** 1-minute load average when the run started: other work on the machine skews absolute numbers. */
  readonly loadAverage?: number;
}

/** A child that failed; the run goes on without it. */
export interface Failure {
  readonly workload: WorkloadName | "prefill";
  readonly engine: EngineName;
  readonly rep: number;
  readonly message: string;
}

export interface BenchReport {
  readonly tool: "@talus/bench";
  readonly formatVersion: 1;
  readonly date: string;
  readonly machine: Machine;
  readonly options: Readonly<Record<string, unknown>>;
  readonly totalSeconds: number;
  readonly skipped: Readonly<Record<string, string>>;
  readonly prefills: readonly PrefillResult[];
  readonly runs: readonly RunResult[];
  readonly failures: readonly Failure[];
  readonly summaries: readonly Summary[];
  readonly ratios: readonly Ratio[];
  readonly targets: readonly TargetCheck[];
}
