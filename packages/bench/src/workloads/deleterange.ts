/**
 * deleterange: range deletes while reading, after db_bench's range tombstone options
 * (`--writes_per_range_tombstone`, `--range_tombstone_width`), on a copy of the prefill.
 *
 * **A fixed mix**, in rounds: {@link GETS_PER_ROUND} point gets of random existing keys, then
 * {@link SEEKS_PER_ROUND} seeks to random existing keys each reading {@link SEEK_NEXTS} more entries, then
 * one range delete of {@link RANGE_WIDTH} consecutive keys at a random position; a yield to the event loop
 * every `--batch` reads. A fixed mix rather than readwhilewriting's equal-time turns, so that every engine
 * does the same ops in the same order and holds the same keys at every point: with equal time an engine
 * with cheap range deletes would empty its key space within a second and read an empty database. `--reads`
 * reads make `--reads / 100` range deletes (2,000 at the default: a few thousand tombstones). The reads
 * and the deletes are timed apart: ops/s counts the reads over the time spent reading (comparable with
 * readrandom and seekrandom), deletes/s the range deletes over the time spent deleting (write stalls
 * included), so neither figure is just the other over 100.
 *
 * **A full scan** of the data set (`[key 0, key num)`, best of {@link SCAN_REPEATS}) is timed three
 * times: on the reopened prefill before any delete, after the mixed phase with the range tombstones
 * still in the memtable, and after `settle()` (Talus flushes the memtable, so the tombstones are in a
 * table; `talus+compaction` also compacts; the other engines have nothing to do). Reported as the ratio
 * of the first scan's time to each later one's: the same key range, scanned with and without the
 * tombstones. Fewer entries come back with them (at `--num` 200,000 about 63% of the keys are deleted
 * by the end, at 1,000,000 about 18%), so the ratio per entry returned is reported beside it: an engine
 * that steps over every deleted entry pays for entries it does not return.
 *
 * @module
 */
import { keyStream, rangeStream } from "../data.ts";
import { newTally, type BenchDb } from "../engines/types.ts";
import type { ScanTiming } from "../results.ts";
import { LatencyRecorder } from "../stats.ts";
import { yieldToLoop, type Measured, type WorkloadContext } from "./driver.ts";

/** Keys per range delete. */
export const RANGE_WIDTH = 100;
export const GETS_PER_ROUND = 50;
export const SEEKS_PER_ROUND = 50;
/** Reads per round; one range delete follows each round. */
export const READS_PER_ROUND = GETS_PER_ROUND + SEEKS_PER_ROUND;
/** Entries read after each seek's first. */
export const SEEK_NEXTS = 10;
/** Each full scan is timed this many times and the fastest counts. */
export const SCAN_REPEATS = 3;

export async function deleteRangeWhileReading(ctx: WorkloadContext): Promise<Measured> {
  const getKeys = keyStream("existing", ctx.keySize, ctx.seed + 707, ctx.num);
  const seekKeys = keyStream("existing", ctx.keySize, ctx.seed + 808, ctx.num);
  const ranges = rangeStream(ctx.keySize, ctx.seed + 909, ctx.num, RANGE_WIDTH);
  const getRec = new LatencyRecorder();
  const seekRec = new LatencyRecorder();
  const deleteRec = new LatencyRecorder();
  const tally = newTally();
  const db = ctx.db;

  const none = await fullScan(db, ctx.batch);

  const roundsPerYield = Math.max(1, Math.floor(ctx.batch / READS_PER_ROUND));
  let gets = 0;
  let seeks = 0;
  let deletes = 0;
  let readMs = 0;
  let deleteMs = 0;
  const t0 = performance.now();
  const deadline = t0 + ctx.maxSeconds * 1000;
  while (gets + seeks < ctx.reads && performance.now() < deadline) {
    for (let r = 0; r < roundsPerYield && gets + seeks < ctx.reads; r++) {
      const n = Math.min(READS_PER_ROUND, ctx.reads - gets - seeks);
      const g = Math.ceil((n * GETS_PER_ROUND) / READS_PER_ROUND);
      const a = performance.now();
      const pendingGets = db.get(getKeys, gets, gets + g, getRec, tally);
      if (pendingGets !== undefined) await pendingGets;
      const pendingSeeks = db.seek(seekKeys, seeks, seeks + n - g, SEEK_NEXTS, seekRec, tally);
      if (pendingSeeks !== undefined) await pendingSeeks;
      const b = performance.now();
      const pendingDelete = db.deleteRange(ranges, deletes, deletes + 1, deleteRec);
      if (pendingDelete !== undefined) await pendingDelete;
      deleteMs += performance.now() - b;
      readMs += b - a;
      gets += g;
      seeks += n - g;
      deletes++;
    }
    ctx.progress(gets + seeks, ctx.reads);
    await yieldToLoop();
  }
  const wallSeconds = (performance.now() - t0) / 1000;

  const memtable = await fullScan(db, ctx.batch);
  const s0 = performance.now();
  await db.settle();
  const settleMs = performance.now() - s0;
  const flushed = await fullScan(db, ctx.batch);

  const reads = gets + seeks;
  const getLatency = getRec.summary();
  const seekLatency = seekRec.summary();
  const deleteLatency = deleteRec.summary();
  return {
    ops: reads,
    plannedOps: ctx.reads,
    seconds: readMs / 1000,
    bytes: tally.bytes,
    latencyUs: getLatency,
    hits: tally.hits,
    items: tally.items,
    deleteRange: {
      deletes,
      deletesPerSec: deleteMs > 0 ? deletes / (deleteMs / 1000) : Number.NaN,
      deleteP50Us: deleteLatency.p50,
      deleteP99Us: deleteLatency.p99,
      width: ranges.width,
      gets,
      seeks,
      seekNexts: SEEK_NEXTS,
      seekP50Us: seekLatency.p50,
      seekP99Us: seekLatency.p99,
      wallSeconds,
      scans: { none, memtable, flushed },
      scanRatioMemtable: none.ms / memtable.ms,
      scanRatioFlushed: none.ms / flushed.ms,
      scanEntryRatioMemtable: perEntry(none) / perEntry(memtable),
      scanEntryRatioFlushed: perEntry(none) / perEntry(flushed),
      settleMs,
    },
  };
}

const perEntry = (scan: ScanTiming): number => scan.ms / scan.entries;

/** The fastest of {@link SCAN_REPEATS} full forward scans, reading `batch` entries per `next`. */
export async function fullScan(db: BenchDb, batch: number): Promise<ScanTiming> {
  let best = Number.POSITIVE_INFINITY;
  let entries = 0;
  for (let rep = 0; rep < SCAN_REPEATS; rep++) {
    const tally = newTally();
    const t0 = performance.now();
    const scanner = db.scanner();
    for (;;) {
      const more = scanner.next(batch, tally);
      if (!(typeof more === "boolean" ? more : await more)) break;
    }
    const closing = scanner.close();
    if (closing !== undefined) await closing;
    best = Math.min(best, performance.now() - t0);
    entries = tally.items;
    await yieldToLoop();
  }
  return { ms: best, entries };
}
