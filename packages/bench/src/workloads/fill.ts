/**
 * fillseq, fillrandom, overwrite: timed from the first write until the engine says the data is
 * persisted (for Talus: the last flush, and for `talus+compaction` the last compaction, included).
 * The event loop's delay is sampled throughout, since a host application shares that loop.
 *
 * @module
 */
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { keyStream, type KeyKind } from "../data.ts";
import { LatencyRecorder } from "../stats.ts";
import { drive, yieldToLoop, type Measured, type WorkloadContext } from "./driver.ts";

export async function fill(ctx: WorkloadContext, kind: KeyKind): Promise<Measured> {
  // Overwrite picks its existing keys with a seed of its own, not the one of the random fill.
  const keys = keyStream(kind, ctx.keySize, kind === "existing" ? ctx.seed + 606 : ctx.seed, ctx.num);
  const { measured } = await timedLoad(ctx, (from, to, rec) => ctx.db.write(keys, ctx.values, from, to, rec));
  return measured;
}

/**
 * Runs `load` over `--num` entries in batches and times it until the engine has persisted them
 * (`settle()`), with the event loop's delay sampled throughout. `beforeSettle` runs inside the timing
 * (ingest's `finish()`).
 */
export async function timedLoad<T = undefined>(
  ctx: WorkloadContext,
  load: (from: number, to: number, rec: LatencyRecorder) => void | Promise<void>,
  beforeSettle?: () => Promise<T>,
): Promise<{ measured: Measured; done: number; extra: T | undefined }> {
  const rec = new LatencyRecorder();
  const delay = monitorEventLoopDelay({ resolution: 1 });
  await yieldToLoop();
  delay.enable();
  const t0 = performance.now();
  const { done } = await drive(ctx.num, ctx.batch, ctx.maxSeconds, ctx.progress, (from, to) => load(from, to, rec));
  const extra = beforeSettle === undefined ? undefined : await beforeSettle();
  await ctx.db.settle();
  const seconds = (performance.now() - t0) / 1000;
  delay.disable();
  const userBytes = done * (ctx.keySize + ctx.valueSize);
  const measured: Measured = {
    ops: done,
    plannedOps: ctx.num,
    seconds,
    bytes: userBytes,
    latencyUs: rec.summary(),
    eventLoop: eventLoopSummary(delay),
    userBytesWritten: userBytes,
  };
  return { measured, done, extra };
}

/** A timed region's event-loop delay, in milliseconds (the histogram records nanoseconds). */
export function eventLoopSummary(delay: IntervalHistogram): { p50Ms: number; p99Ms: number; maxMs: number } {
  return { p50Ms: delay.percentile(50) / 1e6, p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6 };
}
