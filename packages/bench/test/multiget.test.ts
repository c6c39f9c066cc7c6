import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { MemFs, StdFs } from "@talus/fs";
import { MULTIGET_KEYS, WORKLOADS } from "../src/catalog.ts";
import { ValuePool } from "../src/data.ts";
import { plan } from "../src/runner.ts";
import { checkTargets, summarize } from "../src/report.ts";
import type { RunResult } from "../src/results.ts";
import { fill } from "../src/workloads/fill.ts";
import { multiGetCold, multiGetRandom } from "../src/workloads/read.ts";
import type { WorkloadContext } from "../src/workloads/index.ts";
import { openTestEngine, useTempDir } from "./helpers.ts";

function context(db: WorkloadContext["db"], num: number, reads: number): WorkloadContext {
  return { db, num, reads, maxSeconds: 60, keySize: 16, valueSize: 100, seed: 1, batch: 1000, seekNexts: 0, values: new ValuePool(100, 1), progress: () => {} };
}

describe("multiget", () => {
  const dir = useTempDir();

  it("runs on the Talus engines only", () => {
    expect(WORKLOADS.multiget.engines).toEqual(["talus", "talus+compaction", "talus@iouring"]);
    expect(WORKLOADS["multiget-cold"].engines).toEqual(["talus", "talus+compaction", "talus@iouring"]);
    expect(plan({ workloads: ["multiget"], engines: ["talus", "talus@iouring", "lmdb", "classic-level"], reps: 1 }).map((j) => j.engine)).toEqual(["talus", "talus@iouring"]);
  });

  it.each(["talus", "talus+compaction", "talus@iouring"] as const)(
    "%s: each op is one multiGet of 64 existing keys, every one found, on a tree without block cache or memory maps",
    async (engine) => {
      const fs = new MemFs();
      const writer = await openTestEngine(engine, dir, { fs, memtableBytes: 64 * 1024 });
      await fill(context(writer, 5000, 0), "sequential");
      await writer.close();
      const db = await openTestEngine(engine, dir, { fs, cacheMb: 0, talusCacheMb: 0, mapTables: false });
      try {
        const m = await multiGetRandom(context(db, 5000, 40));
        expect(m).toMatchObject({ ops: 40, plannedOps: 40, hits: 40 * MULTIGET_KEYS, items: 40 * MULTIGET_KEYS });
        expect(m.bytes).toBe(40 * MULTIGET_KEYS * (16 + 100));
        expect(m.latencyUs.p50).toBeGreaterThan(0);
        // The tree has many tables: the keys' blocks come from several files.
        expect(db.stats()["tables"]).toBeGreaterThan(1);
      } finally {
        await db.close();
      }
    },
  );

  /** Bytes of the files under `dir` the OS page cache holds (util-linux fincore). */
  function cachedBytes(dir: string): number {
    const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    const result = spawnSync("fincore", ["--bytes", "--noheadings", "--output", "RES", ...files], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`fincore failed: ${result.stderr}`);
    return result.stdout.trim().split("\n").reduce((sum, line) => sum + Number(line.trim()), 0);
  }

  it.each(["talus", "talus@iouring"] as const)(
    "multiget-cold on %s: the same calls, each after the tree's files are dropped from the page cache, timed without the drops",
    async (engine) => {
      const path = join(dir(), "db");
      const writer = await openTestEngine(engine, dir, { fs: new StdFs(), dir: path, memtableBytes: 64 * 1024 });
      await fill(context(writer, 20_000, 0), "sequential");
      await writer.close();
      const db = await openTestEngine(engine, dir, { fs: new StdFs(), dir: path, cacheMb: 0, talusCacheMb: 0, mapTables: false });
      try {
        // Warm every file, so that only the drops can leave the cache nearly empty.
        await multiGetRandom(context(db, 20_000, 100));
        expect(cachedBytes(path)).toBeGreaterThan(1 << 20);
        const t0 = performance.now();
        const m = await multiGetCold(context(db, 20_000, 20));
        const wallSeconds = (performance.now() - t0) / 1000;
        expect(m).toMatchObject({ ops: 20, plannedOps: 20, hits: 20 * MULTIGET_KEYS, items: 20 * MULTIGET_KEYS });
        expect(m.seconds).toBeGreaterThan(0);
        expect(m.seconds).toBeLessThan(wallSeconds);
        // What is cached now is what the last call read back in: about its 64 keys' 4 KiB blocks, far
        // less than the 2.3 MB tree the warm-up left cached.
        expect(cachedBytes(path)).toBeLessThan(1 << 20);
      } finally {
        await db.close();
      }
    },
  );

  it("multiget-cold refuses a tree that is not on disk", async () => {
    const fs = new MemFs();
    const writer = await openTestEngine("talus", dir, { fs, memtableBytes: 64 * 1024 });
    await fill(context(writer, 500, 0), "sequential");
    await writer.close();
    const db = await openTestEngine("talus", dir, { fs, dir: join(dir(), "not-here"), cacheMb: 0, talusCacheMb: 0, mapTables: false });
    try {
      await expect(multiGetCold(context(db, 500, 2))).rejects.toThrow("multiget-cold needs a tree on disk");
    } finally {
      await db.close();
    }
  });

  it("is refused by engines without multiGet", async () => {
    const db = await openTestEngine("lmdb", dir);
    try {
      await expect(multiGetRandom(context(db, 10, 1))).rejects.toThrow("multiget runs on Talus engines only");
    } finally {
      await db.close();
    }
  });

  it("holds talus@iouring to 2x talus in the targets", () => {
    const run = (engine: "talus" | "talus@iouring", opsPerSec: number): RunResult =>
      ({
        workload: "multiget", engine, rep: 1, ops: 100, plannedOps: 100, seconds: 100 / opsPerSec, opsPerSec, mbPerSec: 1, p50Us: 1, p99Us: 2, maxUs: 3,
        diskBytes: 1, peakRssBytes: 1, baseRssBytes: 1, openMs: 1, closeMs: 1, engineStats: {},
      }) as RunResult;
    const targets = checkTargets(summarize([run("talus", 1000), run("talus@iouring", 2500)]));
    expect(targets).toEqual([
      expect.objectContaining({ target: "multiGet 64 keys, cold cache: iouring vs std", engine: "talus@iouring", peer: "talus", measured: 2.5, goal: ">= 2x", met: true }),
    ]);
    const cold = (engine: "talus" | "talus@iouring", opsPerSec: number): RunResult => ({ ...run(engine, opsPerSec), workload: "multiget-cold" });
    expect(checkTargets(summarize([cold("talus", 100), cold("talus@iouring", 150)]))).toEqual([
      expect.objectContaining({ target: "multiGet 64 keys, cold cache and page cache: iouring vs std", measured: 1.5, goal: ">= 2x", met: false }),
    ]);
  });
});
