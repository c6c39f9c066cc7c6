/**
 * readrandom, readseq, seekrandom, prefixscan on a reopened prefill. Opening is not timed (the child
 * reports it separately).
 *
 * @module
 */
import { MULTIGET_KEYS } from "../catalog.ts";
import { keyStream } from "../data.ts";
import { newTally, type ColdCalls, type Scanner, type Tally } from "../engines/types.ts";
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

/**
 * multiget: --reads calls of `tree.multiGet` with {@link MULTIGET_KEYS} uniformly chosen existing keys each
 * (an op is a call; hits count keys). The child opens the tree without a block cache or memory maps, so
 * every call reads its keys' blocks through the Fs (one `readMany`).
 */
export function multiGetRandom(ctx: WorkloadContext): Promise<Measured> {
  return multiGets(ctx, "multiget", false);
}

/**
 * multiget-cold: multiget's calls with the OS page cache cold as well as the block cache: before each call
 * (untimed) the engine drops its files from the page cache, so the call's block reads go to the device,
 * where io_uring's parallel reads are what it is for. ops/s is computed from the calls' own time (the
 * eviction before each is left out), and --max-seconds counts that time too.
 */
export function multiGetCold(ctx: WorkloadContext): Promise<Measured> {
  return multiGets(ctx, "multiget-cold", true);
}

async function multiGets(ctx: WorkloadContext, name: string, coldPageCache: boolean): Promise<Measured> {
  const db = ctx.db;
  if (db.multiGet === undefined) throw new Error(`${name} runs on Talus engines only (tree.multiGet)`);
  const keys = keyStream("existing", ctx.keySize, ctx.seed + 303, ctx.num);
  const rec = new LatencyRecorder();
  const tally = newTally();
  // Slices of at most --batch keys between yields: a call is 64 lookups, not one.
  const slice = Math.max(1, Math.floor(ctx.batch / MULTIGET_KEYS));
  const measured = (done: number, seconds: number): Measured => ({
    ops: done,
    plannedOps: ctx.reads,
    seconds,
    bytes: tally.bytes,
    latencyUs: rec.summary(),
    hits: tally.hits,
    items: tally.items,
  });
  if (!coldPageCache) {
    const { seconds, done } = await drive(ctx.reads, slice, ctx.maxSeconds, ctx.progress, (from, to) => db.multiGet?.(keys, MULTIGET_KEYS, from, to, rec, tally));
    return measured(done, seconds);
  }
  // The wall clock would count the evictions: the time is the calls' own, and so is the time limit.
  const cold: ColdCalls = { timedMs: 0 };
  let done = 0;
  while (done < ctx.reads && cold.timedMs < ctx.maxSeconds * 1000) {
    const to = Math.min(ctx.reads, done + slice);
    db.multiGet(keys, MULTIGET_KEYS, done, to, rec, tally, cold);
    done = to;
    ctx.progress(done, ctx.reads);
    await yieldToLoop();
  }
  return measured(done, cold.timedMs / 1000);
}

/**
 * One pass from the first key; an op is one entry, latency is per entry averaged over a slice. Engines
 * with a zero-copy scan (`scanViews`) then read the same entries twice more, timed apart: through the
 * copying scanner again, then through the zero-copy one, which must see exactly what the first pass saw.
 */
export async function readSeq(ctx: WorkloadContext): Promise<Measured> {
  const rec = new LatencyRecorder();
  const copying = await scanPass(ctx, ctx.db.scanner(), ctx.num, rec);
  const { tally, seconds, more } = copying;
  const measured: Measured = { ops: tally.items, plannedOps: more ? ctx.num : tally.items, seconds, bytes: tally.bytes, latencyUs: rec.summary(), items: tally.items };
  if (ctx.db.scanViews === undefined) return measured;
  // The first pass reads a database just reopened, the zero-copy one whatever that pass left in the
  // caches: its baseline is a copying pass under the same conditions, right before it.
  const rescan = await scanPass(ctx, ctx.db.scanner(), tally.items, new LatencyRecorder());
  // When the first pass read the whole data set (--num entries), the zero-copy pass is let read one
  // more: one that repeats entries then fails the count, as one that skips some does.
  const whole = tally.items === ctx.num || !more;
  const views = await scanPass(ctx, ctx.db.scanViews(), tally.items + (whole ? 1 : 0), new LatencyRecorder());
  const stoppedByTime = views.tally.items < tally.items && views.more;
  if (!stoppedByTime && (views.tally.items !== tally.items || views.tally.bytes !== tally.bytes)) {
    throw new Error(`readseq: the zero-copy scan read ${views.tally.items} entries (${views.tally.bytes} bytes), the copying scan ${tally.items} (${tally.bytes} bytes)`);
  }
  return {
    ...measured,
    zeroCopyScan: { opsPerSec: views.tally.items / views.seconds, copyingOpsPerSec: rescan.tally.items / rescan.seconds },
  };
}

/** Reads up to `entries` entries through `scanner` in slices of `--batch`, within `--max-seconds`. */
async function scanPass(ctx: WorkloadContext, scanner: Scanner, entries: number, rec: LatencyRecorder): Promise<{ tally: Tally; seconds: number; more: boolean }> {
  const tally = newTally();
  const t0 = performance.now();
  const deadline = t0 + ctx.maxSeconds * 1000;
  let more = true;
  try {
    while (more && tally.items < entries && performance.now() < deadline) {
      const before = tally.items;
      const s0 = performance.now();
      const r = scanner.next(Math.min(ctx.batch, entries - tally.items), tally);
      more = typeof r === "boolean" ? r : await r;
      rec.addBatch((performance.now() - s0) * 1000, tally.items - before);
      ctx.progress(tally.items, entries);
      await yieldToLoop();
    }
  } finally {
    await scanner.close();
  }
  return { tally, seconds: (performance.now() - t0) / 1000, more };
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
