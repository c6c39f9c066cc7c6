/**
 * fillsync and fillsync64: writers that each wait for durability after every write, as request handlers
 * that acknowledge a write only once it would survive a power cut. fillsync runs
 * {@link FILLSYNC_WRITERS}`.fillsync` (one) writer, fillsync64 sixty-four, concurrently on the one event
 * loop. Two workloads rather than one reporting both: each gets its own table, ops/s and latencies, and
 * the target names the 64-writer one.
 *
 * Each writer loop: take the next op index (shared by all writers, so together they write ops
 * `[0, done)`, each once), write its random key (fillrandom's key stream: `--key-size` key,
 * `--value-size` value) through the engine's durable write (`BenchDb.writeDurable`: Talus inserts then
 * awaits `tree.persist()`; classic-level `put(..., { sync: true })`; lmdb `put()` then its commit's
 * flush), repeat. The timed region runs from the first write until every writer is done: `--num` ops in
 * all, or fewer when `--max-seconds` passed (each writer then finishes the op it is in). Nothing is left to
 * persist afterwards, so there is no `settle()` in it. Every op's latency is timed (from the write to its
 * durability); the event loop's delay is sampled throughout, as in the fills.
 *
 * Afterwards, untimed, {@link VERIFY_SAMPLE} of the keys written (spread over `[0, done)`) are read back
 * and compared with their values: a mismatch fails the run.
 *
 * @module
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import type { WorkloadName } from "../catalog.ts";
import { keyStream, type KeyStream, type ValuePool } from "../data.ts";
import type { BenchDb } from "../engines/types.ts";
import { LatencyRecorder } from "../stats.ts";
import { yieldToLoop, type Measured, type WorkloadContext } from "./driver.ts";
import { eventLoopSummary } from "./fill.ts";

/** Concurrent writers of each fillsync workload. */
export const FILLSYNC_WRITERS = { fillsync: 1, fillsync64: 64 } as const satisfies Partial<Record<WorkloadName, number>>;

/** Keys read back after the writes (every key when fewer were written). */
export const VERIFY_SAMPLE = 1000;

/** fillsync's keys: fillrandom's stream (the same seed), so the two write the same keys. */
export function fillSyncKeys(ctx: Pick<WorkloadContext, "keySize" | "seed" | "num">): KeyStream {
  return keyStream("random", ctx.keySize, ctx.seed, ctx.num);
}

export async function fillSync(ctx: WorkloadContext, writers: number): Promise<Measured> {
  if (!Number.isInteger(writers) || writers < 1) throw new RangeError(`fillsync needs at least one writer, got ${writers}`);
  const keys = fillSyncKeys(ctx);
  const rec = new LatencyRecorder();
  const db = ctx.db;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  await yieldToLoop();
  delay.enable();
  let next = 0;
  let done = 0;
  let stop = false;
  const t0 = performance.now();
  const deadline = t0 + ctx.maxSeconds * 1000;
  const writer = async (): Promise<void> => {
    let mine = 0;
    try {
      while (!stop && next < ctx.num && performance.now() < deadline) {
        await db.writeDurable(keys, ctx.values, next++, rec);
        done++;
        ctx.progress(done, ctx.num);
        // An engine whose durability costs no I/O (tests on an in-memory Fs) would never leave the microtask queue.
        if (++mine % ctx.batch === 0) await yieldToLoop();
      }
    } catch (error) {
      stop = true;
      throw error;
    }
  };
  const outcomes = await Promise.allSettled(Array.from({ length: writers }, writer));
  const seconds = (performance.now() - t0) / 1000;
  delay.disable();
  for (const o of outcomes) if (o.status === "rejected") throw o.reason;
  if (done !== next) throw new Error(`fillsync: ${next} writes started, ${done} finished`);
  const verified = await verifyWritten(db, keys, ctx.values, done);
  const userBytes = done * (ctx.keySize + ctx.valueSize);
  return {
    ops: done,
    plannedOps: ctx.num,
    seconds,
    bytes: userBytes,
    latencyUs: rec.summary(),
    eventLoop: eventLoopSummary(delay),
    userBytesWritten: userBytes,
    fillSync: { writers, verified },
  };
}

/**
 * Reads {@link VERIFY_SAMPLE} of ops `[0, written)`'s keys, spread evenly (each key when there are fewer),
 * and throws at the first that does not read the value written. Returns the number of keys read.
 */
export async function verifyWritten(db: BenchDb, keys: KeyStream, values: ValuePool, written: number): Promise<number> {
  const n = Math.min(VERIFY_SAMPLE, written);
  const key = new Uint8Array(keys.keySize);
  for (let j = 0; j < n; j++) {
    const index = Math.floor((j * written) / n);
    keys.keyInto(index, key);
    const r = db.read(key);
    const got = r instanceof Promise ? await r : r;
    const want = values.value(index);
    if (got === undefined) throw new Error(`fillsync: the key of op #${index} of ${written} written reads nothing`);
    if (!equal(got, want)) throw new Error(`fillsync: the key of op #${index} reads a value of ${got.length} bytes that is not the one written (${want.length} bytes)`);
  }
  return n;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
