import { describe, expect, it } from "vitest";
import { isTalusTree, runsOn, ENGINE_NAMES, type EngineName } from "../src/catalog.ts";
import { keyStream, rangeStream, ValuePool, type KeyStream, type RangeStream } from "../src/data.ts";
import type { BenchDb, Scanner, Tally } from "../src/engines/types.ts";
import { LatencyRecorder } from "../src/stats.ts";
import type { WorkloadContext } from "../src/workloads/driver.ts";
import { deleteRangeWhileReading, RANGE_WIDTH, READS_PER_ROUND, SCAN_REPEATS, SEEK_NEXTS } from "../src/workloads/deleterange.ts";
import { openTestEngine, useTempDir } from "./helpers.ts";

/** Spins for `us` microseconds: an op of a known cost. */
function spin(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
}

function context(db: BenchDb, num: number, reads: number): WorkloadContext {
  return { db, values: new ValuePool(16, 1, 8), num, reads, maxSeconds: 60, keySize: 16, valueSize: 16, seed: 1, batch: 1000, seekNexts: 0, progress: () => {} };
}

/** A database that logs what it is asked to do; reads cost `readUs` per op and a range delete `deleteUs`. */
function loggingDb(readUs: number, deleteUs: number): BenchDb & { log: string[] } {
  const log: string[] = [];
  const scanner = (): Scanner => {
    log.push("scan");
    return { next: () => false, close: () => {} };
  };
  return {
    log,
    write: () => {},
    settle: async () => {
      log.push("settle");
    },
    get(_k: KeyStream, from: number, to: number, _r: LatencyRecorder, tally: Tally): void {
      spin((to - from) * readUs);
      log.push(`get ${from}-${to}`);
      tally.hits += to - from;
    },
    scanner,
    seek(_k: KeyStream, from: number, to: number, nexts: number, rec: LatencyRecorder): void {
      spin((to - from) * readUs);
      log.push(`seek ${from}-${to} +${nexts}`);
      for (let i = from; i < to; i++) rec.add(readUs);
    },
    deleteRange(ranges: RangeStream, from: number, to: number, rec: LatencyRecorder): void {
      spin((to - from) * deleteUs);
      log.push(`delete ${from}-${to} width ${ranges.width}`);
      rec.add(deleteUs);
    },
    merge: () => {},
    read: () => undefined,
    prefix: () => {},
    ingest: () => {},
    finishIngest: async () => undefined,
    writeDurable: async () => {},
    stats: () => ({}),
    close: async () => {},
  };
}

describe("deleterange", () => {
  it("runs rounds of gets, seeks and one range delete, between full scans before the deletes, after them and after settle()", async () => {
    const db = loggingDb(1, 0);
    const m = await deleteRangeWhileReading(context(db, 10_000, 250));
    const scans = Array.from({ length: SCAN_REPEATS }, () => "scan");
    expect(READS_PER_ROUND).toBe(100);
    expect(db.log).toEqual([
      ...scans,
      "get 0-50", `seek 0-50 +${SEEK_NEXTS}`, "delete 0-1 width 100",
      "get 50-100", `seek 50-100 +${SEEK_NEXTS}`, "delete 1-2 width 100",
      // The last round is a partial one, split the same way.
      "get 100-125", `seek 100-125 +${SEEK_NEXTS}`, "delete 2-3 width 100",
      ...scans,
      "settle",
      ...scans,
    ]);
    expect(m).toMatchObject({ ops: 250, plannedOps: 250, hits: 125 });
    expect(m.deleteRange).toMatchObject({ deletes: 3, gets: 125, seeks: 125, width: RANGE_WIDTH, seekNexts: SEEK_NEXTS });
    expect(m.deleteRange?.scans.none).toEqual({ ms: expect.any(Number), entries: 0 });
  });

  it("times reads and deletes apart, so each rate shows what its own ops cost", async () => {
    const db = loggingDb(2, 500);
    const m = await deleteRangeWhileReading(context(db, 10_000, 2000));
    const d = m.deleteRange;
    expect(d?.deletes).toBe(20);
    if (d === undefined) return;
    // Bounds the spins guarantee, whatever else the machine does: 20 deletes of at least 0.5 ms each are
    // at most 2,000/s, and their time is not in the reads' time.
    expect(d.deletesPerSec).toBeLessThanOrEqual(2000);
    expect(m.seconds + 20 * 0.0005).toBeLessThanOrEqual(d.wallSeconds);
    // The two times add up to the phase (plus the yields between rounds).
    expect(m.seconds + d.deletes / d.deletesPerSec).toBeLessThanOrEqual(d.wallSeconds + 1e-9);
    expect(m.seconds).toBeGreaterThanOrEqual(2000 * 2e-6);
  });

  it("stops at --max-seconds and reports the reads done", async () => {
    const db = loggingDb(50, 0);
    const m = await deleteRangeWhileReading({ ...context(db, 10_000, 100_000), maxSeconds: 0.1 });
    expect(m.ops).toBeLessThan(100_000);
    expect(m.plannedOps).toBe(100_000);
    expect(m.deleteRange?.deletes).toBe(Math.ceil(m.ops / READS_PER_ROUND));
  });

  it("keeps ranges of `width` consecutive keys inside the data set", () => {
    const ranges = rangeStream(16, 3, 1000, RANGE_WIDTH);
    const start = new Uint8Array(16);
    const end = new Uint8Array(16);
    const key = new Uint8Array(16);
    const index = (k: Uint8Array): number => new DataView(k.buffer).getUint32(4);
    for (let i = 0; i < 500; i++) {
      ranges.startInto(i, start);
      ranges.endInto(i, end);
      expect(index(end) - index(start)).toBe(RANGE_WIDTH);
      expect(index(end)).toBeLessThanOrEqual(1000);
      ranges.keyInto(i, 99, key);
      expect(index(key)).toBe(index(end) - 1);
    }
    expect(rangeStream(16, 3, 10, RANGE_WIDTH).width).toBe(10);
  });
});

/** What deleterange must read on any engine: the same ops on a model of the key set. */
function expected(num: number, reads: number): { hits: number; items: number; liveAfter: number } {
  const live = new Array<boolean>(num).fill(true);
  const gets = keyStream("existing", 16, 1 + 707, num);
  const seeks = keyStream("existing", 16, 1 + 808, num);
  const ranges = rangeStream(16, 1 + 909, num, RANGE_WIDTH);
  const key = new Uint8Array(16);
  const index = (k: Uint8Array): number => new DataView(k.buffer).getUint32(4);
  let hits = 0;
  let items = 0;
  let g = 0;
  let s = 0;
  for (let round = 0; g + s < reads; round++) {
    const n = Math.min(READS_PER_ROUND, reads - g - s);
    const roundGets = Math.ceil(n / 2);
    for (let i = g; i < g + roundGets; i++) {
      gets.keyInto(i, key);
      if (live[index(key)]) hits++;
    }
    for (let i = s; i < s + n - roundGets; i++) {
      seeks.keyInto(i, key);
      let found = 0;
      for (let k = index(key); k < num && found <= SEEK_NEXTS; k++) if (live[k]) found++;
      items += found;
    }
    g += roundGets;
    s += n - roundGets;
    ranges.startInto(round, key);
    const first = index(key);
    for (let k = first; k < first + RANGE_WIDTH; k++) live[k] = false;
  }
  return { hits, items: items + hits, liveAfter: live.filter((x) => x).length };
}

describe("deleterange on every engine", () => {
  const dir = useTempDir();
  const num = 3000;
  const reads = 3000;
  const want = expected(num, reads);

  it.each(ENGINE_NAMES.filter((e) => runsOn("deleterange", e)))("%s reads what the model says, sees every range delete, and times the scans", async (engine: EngineName) => {
    // The adapter (talus-level) runs classic-level's code: it reports no tree stats.
    const talus = isTalusTree(engine);
    const db = await openTestEngine(engine, dir);
    try {
      const values = new ValuePool(16, 1, 8);
      const w = db.write(keyStream("sequential", 16, 1, num), values, 0, num, new LatencyRecorder());
      if (w !== undefined) await w;
      await db.settle();
      const m = await deleteRangeWhileReading(context(db, num, reads));
      expect(want.liveAfter).toBeLessThan(num * 0.75);
      expect(m.hits).toBe(want.hits);
      expect(m.items).toBe(want.items);
      const d = m.deleteRange;
      expect(d?.deletes).toBe(reads / READS_PER_ROUND);
      expect(d?.scans.none.entries).toBe(num);
      expect(d?.scans.memtable.entries).toBe(want.liveAfter);
      expect(d?.scans.flushed.entries).toBe(want.liveAfter);
      expect(d?.scanRatioMemtable).toBeGreaterThan(0);
      expect(d?.scanRatioFlushed).toBeGreaterThan(0);
      expect(d?.deleteP99Us).toBeGreaterThanOrEqual(d?.deleteP50Us ?? Number.NaN);
      if (talus) expect(db.stats()["flushes"]).toBeGreaterThanOrEqual(2);
    } finally {
      await db.close();
    }
  });
});
