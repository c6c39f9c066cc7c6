import { describe, expect, it } from "vitest";
import type { EngineName } from "../src/catalog.ts";
import { keyStream, ValuePool } from "../src/data.ts";
import type { BenchDb, Scanner, Tally } from "../src/engines/types.ts";
import { LatencyRecorder } from "../src/stats.ts";
import type { WorkloadContext } from "../src/workloads/driver.ts";
import { readSeq } from "../src/workloads/read.ts";
import { openTestEngine, useTempDir } from "./helpers.ts";

const KEY_SIZE = 16;

function context(db: BenchDb, num: number, values: ValuePool, batch: number): WorkloadContext {
  return { db, values, num, reads: num, maxSeconds: 60, keySize: KEY_SIZE, valueSize: values.size, seed: 1, batch, seekNexts: 0, progress: () => {} };
}

/** A scanner over `entries` entries of `entryBytes` bytes each. */
function countingScanner(entries: number, entryBytes: number): Scanner {
  let done = 0;
  return {
    next(max: number, tally: Tally): boolean {
      const n = Math.min(max, entries - done);
      done += n;
      tally.items += n;
      tally.bytes += n * entryBytes;
      return n === max;
    },
    close: () => {},
  };
}

/**
 * A database that only scans: `copying` entries through its iterator, `views` through its zero-copy scan
 * (none: no such scan); `log` lists the scanners asked for.
 */
function scanOnlyDb(copying: number, views: number | undefined): BenchDb & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    write: () => {},
    settle: async () => {},
    get: () => {},
    scanner: () => {
      log.push("copying");
      return countingScanner(copying, 10);
    },
    ...(views === undefined
      ? {}
      : {
          scanViews: () => {
            log.push("views");
            return countingScanner(views, 10);
          },
        }),
    seek: () => {},
    deleteRange: () => {},
    merge: () => {},
    ingest: () => {},
    finishIngest: async () => undefined,
    writeDurable: async () => {},
    read: () => undefined,
    prefix: () => {},
    stats: () => ({}),
    close: async () => {},
  };
}

describe("readseq", () => {
  const dir = useTempDir();

  // Several flushed tables; slices of 300 entries, so the zero-copy scan resumes after the last key of
  // each slice. talus:blob's values are above its 1 KiB separation threshold: they are read from blob files.
  it.each<EngineName>(["talus", "talus:blob", "lmdb"])("reads every entry once per pass (%s), the zero-copy pass on Talus engines only", async (engine) => {
    const talus = engine.startsWith("talus");
    const num = 2000;
    const values = new ValuePool(engine === "talus:blob" ? 1500 : 100, 1, 64);
    const db = await openTestEngine(engine, dir, { keySize: KEY_SIZE, memtableBytes: 32 * 1024 });
    try {
      const keys = keyStream("random", KEY_SIZE, 1, num);
      // In slices, as the fills write: Talus flushes between them once its memtable is full.
      for (let from = 0; from < num; from += 100) {
        const w = db.write(keys, values, from, from + 100, new LatencyRecorder());
        if (w !== undefined) await w;
      }
      await db.settle();
      // talus:blob compacts its (small, handle-holding) tables down; plain talus keeps its flushes apart.
      if (engine === "talus") expect(db.stats()["tables"]).toBeGreaterThan(1);
      const m = await readSeq(context(db, num, values, 300));
      expect(m).toMatchObject({ ops: num, plannedOps: num, items: num, bytes: num * (KEY_SIZE + values.size) });
      if (talus) {
        expect(m.zeroCopyScan?.opsPerSec).toBeGreaterThan(0);
        expect(m.zeroCopyScan?.copyingOpsPerSec).toBeGreaterThan(0);
      } else {
        expect(m.zeroCopyScan).toBeUndefined();
      }
    } finally {
      await db.close();
    }
  });

  it("fails the run when the zero-copy scan does not see what the copying one saw", async () => {
    await expect(readSeq(context(scanOnlyDb(1000, 999), 1000, new ValuePool(8, 1, 8), 100))).rejects.toThrow(
      "readseq: the zero-copy scan read 999 entries (9990 bytes), the copying scan 1000 (10000 bytes)",
    );
    // One that repeats entries reads past the end of the data set.
    await expect(readSeq(context(scanOnlyDb(1000, 1001), 1000, new ValuePool(8, 1, 8), 100))).rejects.toThrow(
      "readseq: the zero-copy scan read 1001 entries (10010 bytes), the copying scan 1000 (10000 bytes)",
    );
    const db = scanOnlyDb(1000, 1000);
    const agreed = await readSeq(context(db, 1000, new ValuePool(8, 1, 8), 100));
    // The timed pass, the copying rescan, then the zero-copy pass.
    expect(db.log).toEqual(["copying", "copying", "views"]);
    expect(agreed.zeroCopyScan?.opsPerSec).toBeGreaterThan(0);
    expect(agreed.ops).toBe(1000);
  });

  it("makes no zero-copy pass, nor its rescan, on engines without one", async () => {
    const db = scanOnlyDb(500, undefined);
    const m = await readSeq(context(db, 500, new ValuePool(8, 1, 8), 100));
    expect(db.log).toEqual(["copying"]);
    expect(m).toMatchObject({ ops: 500, items: 500 });
    expect(m).not.toHaveProperty("zeroCopyScan");
  });
});
