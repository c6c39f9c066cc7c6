import { MemFs } from "@talus/fs";
import { describe, expect, it } from "vitest";
import { ENGINE_NAMES, isTalusTree, runsOn, WORKLOADS, type EngineName } from "../src/catalog.ts";
import { keyStream, sequentialKeyInto, ValuePool, type KeyStream } from "../src/data.ts";
import { openEngine } from "../src/engines/index.ts";
import type { BenchDb } from "../src/engines/types.ts";
import { checkTargets, renderReport, summarize } from "../src/report.ts";
import type { RunResult } from "../src/results.ts";
import { plan } from "../src/runner.ts";
import { LatencyRecorder } from "../src/stats.ts";
import type { WorkloadContext } from "../src/workloads/driver.ts";
import { ingest, VERIFY_SAMPLE, verifyLoaded } from "../src/workloads/ingest.ts";
import { idleDb, openTestEngine, useTempDir } from "./helpers.ts";

const values = new ValuePool(32, 1, 64);

function context(db: BenchDb, num: number, batch = 1000): WorkloadContext {
  return { db, values, num, reads: num, maxSeconds: 60, keySize: 16, valueSize: 32, seed: 1, batch, seekNexts: 0, progress: () => {} };
}

/** An in-memory store whose ingest keeps what it is given; `corrupt` changes the value of one key. */
function mapDb(corrupt?: number): BenchDb & { log: string[]; rows: Map<number, Uint8Array> } {
  const log: string[] = [];
  const rows = new Map<number, Uint8Array>();
  const index = (key: Uint8Array): number => new DataView(key.buffer, key.byteOffset).getUint32(4);
  return {
    ...idleDb(),
    log,
    rows,
    ingest(keys: KeyStream, pool: ValuePool, from: number, to: number, rec: LatencyRecorder): void {
      log.push(`ingest ${from}-${to}`);
      const key = new Uint8Array(keys.keySize);
      for (let i = from; i < to; i++) {
        keys.keyInto(i, key);
        rows.set(index(key), i === corrupt ? new Uint8Array(pool.size) : pool.value(i));
        rec.add(1);
      }
    },
    finishIngest: async () => {
      log.push("finish");
      return rows.size;
    },
    settle: async () => {
      log.push("settle");
    },
    read: (key: Uint8Array) => rows.get(index(key)),
  };
}

describe("ingest", () => {
  it("is a fill on an empty database, listed right after fillseq", () => {
    expect(WORKLOADS.ingest).toMatchObject({ dataset: "none", writes: true, fill: true });
  });

  it("loads in slices of --batch, finishes, settles, then reads a sample back", async () => {
    const db = mapDb();
    const m = await ingest(context(db, 2500, 1000));
    expect(db.log).toEqual(["ingest 0-1000", "ingest 1000-2000", "ingest 2000-2500", "finish", "settle"]);
    expect(m).toMatchObject({ ops: 2500, plannedOps: 2500, bytes: 2500 * 48, userBytesWritten: 2500 * 48 });
    expect(m.ingest).toMatchObject({ entries: 2500, verified: VERIFY_SAMPLE + 1 });
    expect(m.ingest?.finishMs).toBeGreaterThanOrEqual(0);
    expect(m.eventLoop?.maxMs).toBeGreaterThanOrEqual(0);
  });

  it("reads every key back when fewer than the sample were loaded", async () => {
    const m = await ingest(context(mapDb(), 300));
    expect(m.ingest?.verified).toBe(301);
  });

  it("fails loudly when a key reads back another value", async () => {
    await expect(ingest(context(mapDb(1234), 2000))).rejects.toThrow(/ingest: key #1234 reads a value of 32 bytes that is not the one written/);
  });

  it("fails loudly when the engine installs another count than was written", async () => {
    const db = mapDb();
    db.finishIngest = async () => 7;
    await expect(ingest(context(db, 100))).rejects.toThrow(/ingest: finish\(\) installed 7 entries, 100 were written/);
  });

  it("fails loudly when a key past the load reads a value", async () => {
    const db = mapDb();
    for (let i = 0; i <= 500; i++) db.rows.set(i, values.value(i));
    await expect(verifyLoaded(db, values, 16, 501)).resolves.toBe(502);
    await expect(verifyLoaded(db, values, 16, 500)).rejects.toThrow(/key #500, after the last loaded, reads a value/);
  });
});

describe("ingest on every engine", () => {
  const dir = useTempDir();
  const num = 5000;

  it.each(ENGINE_NAMES.filter((e) => runsOn("ingest", e)))("%s loads sorted keys that read back", async (engine: EngineName) => {
    // The adapter (talus-level) runs classic-level's code: it reports no tree stats.
    const talus = isTalusTree(engine);
    const db = await openTestEngine(engine, dir, { batch: 500, memtableBytes: 16 << 10, countIo: talus });
    try {
      const m = await ingest(context(db, num, 500));
      expect(m.ops).toBe(num);
      expect(m.ingest?.verified).toBe(VERIFY_SAMPLE + 1);
      expect(m.latencyUs.p99).toBeGreaterThanOrEqual(m.latencyUs.p50);
      // Every key, read once more, holds the value written at its op.
      const key = new Uint8Array(16);
      for (let i = 0; i < num; i += 7) {
        sequentialKeyInto(i, key);
        const r = db.read(key);
        const got = r instanceof Promise ? await r : r;
        expect(got === undefined ? undefined : Uint8Array.from(got)).toEqual(values.value(i));
      }
      if (talus) {
        // Straight into tables: no memtable flush wrote them.
        expect(db.stats()["ingestedTables"]).toBeGreaterThanOrEqual(1);
        expect(db.stats()["tables"]).toBeGreaterThanOrEqual(1);
        expect(db.stats()["flushes"]).toBe(1);
        expect(db.stats()["fsBytesWritten"]).toBeGreaterThan(num * 16);
      }
    } finally {
      await db.close();
    }
  });

  it("talus refuses keys out of order, as the ingestion does", async () => {
    const db = await openEngine({
      engine: "talus", dir: "/db", keySize: 16, batch: 100, memtableBytes: 1 << 20, talusCompression: "default", cacheMb: 1, talusCacheMb: undefined, countIo: false, fs: new MemFs(),
    });
    try {
      const keys = keyStream("random", 16, 1, 100);
      expect(() => db.ingest(keys, values, 0, 100, new LatencyRecorder())).toThrow(RangeError);
    } finally {
      await db.close();
    }
  });
});

describe("ingest in the plan and the report", () => {
  it("runs on every engine but talus:prefix", () => {
    expect(plan({ workloads: ["ingest", "fillseq"], engines: ["talus", "talus:prefix", "lmdb"], reps: 1 }).map((j) => `${j.workload} ${j.engine}`)).toEqual([
      "fillseq talus",
      "fillseq lmdb",
      "ingest talus",
      "ingest lmdb",
    ]);
  });

  const run = (workload: "fillseq" | "ingest", engine: EngineName, opsPerSec: number): RunResult => ({
    workload, engine, rep: 1, ops: 1000, plannedOps: 1000, seconds: 1000 / opsPerSec, opsPerSec, mbPerSec: 1, p50Us: 1, p99Us: 2, maxUs: 3,
    diskBytes: 1, peakRssBytes: 1, baseRssBytes: 1, openMs: 1, closeMs: 1, engineStats: {}, eventLoop: { p50Ms: 0, p99Ms: 1, maxMs: 2 },
    ...(workload === "ingest" ? { ingest: { entries: 1000, finishMs: 12, verified: 1001 } } : {}),
  });

  it("holds each Talus engine's ingest to 5x its own fillseq", () => {
    const summaries = summarize([
      run("fillseq", "talus", 100_000),
      run("ingest", "talus", 600_000),
      run("fillseq", "talus+compaction", 100_000),
      run("ingest", "talus+compaction", 300_000),
      run("fillseq", "classic-level", 200_000),
      run("ingest", "classic-level", 200_000),
    ]);
    const targets = checkTargets(summaries).filter((t) => t.workload === "ingest");
    expect(targets).toEqual([
      { target: "ingest vs fillseq (talus)", workload: "ingest", engine: "talus", peer: "talus fillseq", measured: 6, goal: ">= 5x", met: true },
      { target: "ingest vs fillseq (talus)", workload: "ingest", engine: "talus+compaction", peer: "talus+compaction fillseq", measured: 3, goal: ">= 5x", met: false },
    ]);
    const text = renderReport(
      {
        tool: "@talus/bench", formatVersion: 1, date: "", machine: { cpu: "", cores: 1, memoryBytes: 1, platform: "", node: "" }, options: {}, totalSeconds: 1,
        skipped: {}, prefills: [], runs: [], failures: [], summaries, ratios: [], targets: checkTargets(summaries),
      },
      false,
    );
    expect(text).toContain("== ingest");
    expect(text.indexOf("== fillseq")).toBeLessThan(text.indexOf("== ingest"));
    expect(text).toContain("finish ms");
    expect(text).toContain("classic-level: not an ingestion");
    expect(text).toContain("ingest vs fillseq (talus)");
  });

  it("has no target without the fillseq of the same engine", () => {
    expect(checkTargets(summarize([run("ingest", "talus", 600_000), run("fillseq", "talus+compaction", 1)])).filter((t) => t.workload === "ingest")).toEqual([]);
  });
});
