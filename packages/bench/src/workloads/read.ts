/**
 * readrandom, readseq, seekrandom, prefixscan on a reopened prefill. Opening is not timed (the child
 * reports it separately).
 *
 * @module
 */
import { keyStream } from "../data.ts";
import { newTally } from "../engines/types.ts";
import { LatencyRecorder } from "../stats.ts";
import { drive, yieldToLoop, type Measured, type WorkloadContext } from "./driver.ts";
import { PREFIX_SCAN_LIMIT, prefixScanStream } from "./prefix-blocks.ts";

export { PREFIX_SCAN_LIMIT };

export async function readRandom(ctx: WorkloadContext): Promise<Measured> {
  const keys = keyStream("existing", ctx.keySize, ctx.seed + 101, ctx.num);
  const rec = new LatencyRecorder();
  const tally = newTally();
  const { seconds, done } = await drive(ctx.reads, ctx.batch, ctx.maxSeconds, ctx.progress, (from, to) => ctx.db.get(keys, from, to, rec, tally));
  return { ops: done, plannedOps: ctx.reads, seconds, bytes: tally.bytes, latencyUs: rec.summary(), hits: tally.hits, items: tally.items };
}

/** One pass from the first key; an op is one entry, latency is per entry averaged over a slice. */
export async function readSeq(ctx: WorkloadContext): Promise<Measured> {
  const rec = new LatencyRecorder();
  const tally = newTally();
  const scanner = ctx.db.scanner();
  const t0 = performance.now();
  const deadline = t0 + ctx.maxSeconds * 1000;
  let more = true;
  while (more && tally.items < ctx.num && performance.now() < deadline) {
    const before = tally.items;
    const s0 = performance.now();
    const r = scanner.next(Math.min(ctx.batch, ctx.num - tally.items), tally);
    more = typeof r === "boolean" ? r : await r;
    rec.addBatch((performance.now() - s0) * 1000, tally.items - before);
    ctx.progress(tally.items, ctx.num);
    await yieldToLoop();
  }
  await scanner.close();
  const seconds = (performance.now() - t0) / 1000;
  return { ops: tally.items, plannedOps: more ? ctx.num : tally.items, seconds, bytes: tally.bytes, latencyUs: rec.summary(), items: tally.items };
}

export async function seekRandom(ctx: WorkloadContext): Promise<Measured> {
  const keys = keyStream("existing", ctx.keySize, ctx.seed + 202, ctx.num);
  const rec = new LatencyRecorder();
  const tally = newTally();
  const { seconds, done } = await drive(ctx.reads, ctx.batch, ctx.maxSeconds, ctx.progress, (from, to) => ctx.db.seek(keys, from, to, ctx.seekNexts, rec, tally));
  return { ops: done, plannedOps: ctx.reads, seconds, bytes: tally.bytes, latencyUs: rec.summary(), items: tally.items };
}

export async function prefixScan(ctx: WorkloadContext): Promise<Measured> {
  const stream = prefixScanStream(ctx.seed);
  const rec = new LatencyRecorder();
  const tally = newTally();
  const { seconds, done } = await drive(ctx.reads, ctx.batch, ctx.maxSeconds, ctx.progress, (from, to) =>
    ctx.db.prefix(stream, from, to, PREFIX_SCAN_LIMIT, rec, tally),
  );
  return { ops: done, plannedOps: ctx.reads, seconds, bytes: tally.bytes, latencyUs: rec.summary(), items: tally.items };
}
