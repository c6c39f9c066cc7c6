/**
 * The shared loop of every workload: ops in slices, a yield to the event loop between slices (so that
 * flushes, compactions and async engines make progress the way they would in an application), and
 * progress reports to the parent.
 *
 * @module
 */
import type { BenchDb } from "../engines/types.ts";
import type { ValuePool } from "../data.ts";
import type { ChildSettings, DeleteRangeResult, FillSyncResult, IngestResult, MergeResult, ZeroCopyScanResult } from "../results.ts";

/** A workload sees the run's sizes as the child got them; `maxSeconds` is Infinity for prefills. */
export interface WorkloadContext
  extends Pick<ChildSettings, "num" | "reads" | "maxSeconds" | "keySize" | "valueSize" | "seed" | "batch" | "seekNexts"> {
  readonly db: BenchDb;
  readonly values: ValuePool;
  /** Called now and then with ops done so far. */
  readonly progress: (done: number, total: number) => void;
}

/** What a workload measured; the child adds disk, memory and I/O figures. */
export interface Measured {
  /** Timed ops (reads for readwhilewriting and deleterange, merges for mergerandom). */
  readonly ops: number;
  /** Ops it would have done without --max-seconds. */
  readonly plannedOps: number;
  /** The time the ops took (deleterange: the time spent in its reads, without its deletes). */
  readonly seconds: number;
  /** Key plus value bytes written or read by the timed ops. */
  readonly bytes: number;
  readonly latencyUs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly hits?: number;
  readonly items?: number;
  readonly eventLoop?: { readonly p50Ms: number; readonly p99Ms: number; readonly maxMs: number };
  /** readwhilewriting: the concurrent writer. */
  readonly writes?: { readonly ops: number; readonly opsPerSec: number; readonly p99Us: number };
  /** deleterange: the range deletes and the full scans. */
  readonly deleteRange?: DeleteRangeResult;
  /** mergerandom: the reads after the merges and the counters checked. */
  readonly merge?: MergeResult;
  /** ingest: the finish and the keys read back. */
  readonly ingest?: IngestResult;
  /** fillsync, fillsync64: the writers and the keys read back. */
  readonly fillSync?: FillSyncResult;
  /** Key plus value bytes the timed ops wrote (fills). */
  readonly userBytesWritten?: number;
  /** readseq on engines with a zero-copy scan: that scan and its copying baseline. */
  readonly zeroCopyScan?: ZeroCopyScanResult;
}

export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface Driven {
  readonly seconds: number;
  /** Ops done: `total`, or fewer when the time limit stopped the loop. */
  readonly done: number;
}

/**
 * Runs `step` over `[0, total)` in slices of `slice`, yielding between slices, until done or
 * `maxSeconds` have passed.
 */
export async function drive(
  total: number,
  slice: number,
  maxSeconds: number,
  progress: (done: number, total: number) => void,
  step: (from: number, to: number) => void | Promise<void>,
): Promise<Driven> {
  const t0 = performance.now();
  const deadline = t0 + maxSeconds * 1000;
  let done = 0;
  while (done < total) {
    const to = Math.min(total, done + slice);
    const pending = step(done, to);
    if (pending !== undefined) await pending;
    done = to;
    progress(done, total);
    await yieldToLoop();
    if (performance.now() > deadline) break;
  }
  return { seconds: (performance.now() - t0) / 1000, done };
}
