/**
 * The shapes that cross process boundaries and land in `--json` files.
 *
 * @module
 */
import type { EngineName, TalusCompression, WorkloadName } from "./catalog.ts";
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
  /** Bytes written to disk per user byte: through the counting Fs (Talus only). */
  readonly writeAmp?: number;
  /** Bytes the process passed to write(2) and friends per user byte (/proc/self/io wchar; every engine). */
  readonly wcharAmp?: number;
  /** Disk size per live user byte (fills and overwrite). */
  readonly spaceAmp?: number;
  readonly engineStats: Readonly<Record<string, number | number[]>>;
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
  readonly writeAmp?: Spread;
  readonly wcharAmp?: Spread;
  readonly spaceAmp?: Spread;
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
