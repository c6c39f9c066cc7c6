import { MemFs } from "@talus/fs";
import { describe, expect, it } from "vitest";
import { ArgError, parseArgs } from "../src/args.ts";
import { ENGINES } from "../src/catalog.ts";
import { keyStream, prefixFillKeyStream, prefixKeyInto, PREFIX_COUNT, ValuePool } from "../src/data.ts";
import { openEngine } from "../src/engines/index.ts";
import type { BenchDb, EngineConfig } from "../src/engines/types.ts";
import { checkTargets, renderReport, summarize } from "../src/report.ts";
import type { RunResult } from "../src/results.ts";
import { plan } from "../src/runner.ts";
import type { WorkloadContext } from "../src/workloads/driver.ts";
import { fill } from "../src/workloads/fill.ts";
import { PREFIX_EXTRACTOR, prefixPrefillMemtableBytes, probeBlockReads } from "../src/workloads/prefix-blocks.ts";
import { prefixScan } from "../src/workloads/read.ts";

const hex = (k: Uint8Array): string => Buffer.from(k).toString("hex");

describe("the prefixscan data set", () => {
  it.each([1, 255, 256, 1000, 7777])("holds the keys of the round-robin layout at --num %i, written prefix by prefix", (num) => {
    const stream = prefixFillKeyStream(16, 1, num);
    const want = new Set<string>();
    const k = new Uint8Array(16);
    for (let i = 0; i < num; i++) {
      prefixKeyInto(i, k);
      want.add(hex(k));
    }
    const got: string[] = [];
    for (let i = 0; i < num; i++) {
      stream.keyInto(i, k);
      got.push(hex(k));
    }
    expect(new Set(got)).toEqual(want);
    // Prefix by prefix: each prefix is one run of writes, its suffixes ascending, in the shuffled order.
    const runs = got.map((h) => h.slice(0, 4)).filter((p, i, all) => i === 0 || all[i - 1] !== p);
    expect(new Set(runs).size).toBe(runs.length);
    for (let i = 1; i < num; i++) if (got[i]?.slice(0, 4) === got[i - 1]?.slice(0, 4)) expect((got[i] as string) > (got[i - 1] as string)).toBe(true);
    expect(runs).toEqual(stream.prefixOrder.filter((p) => p < num).map((p) => p.toString(16).padStart(4, "0")));
  });

  it("shuffles the prefixes, the same way for the same seed", () => {
    const order = prefixFillKeyStream(16, 1, 1000).prefixOrder;
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: PREFIX_COUNT }, (_, p) => p));
    expect(order).not.toEqual([...order].sort((a, b) => a - b));
    expect(prefixFillKeyStream(16, 1, 5).prefixOrder).toEqual(order);
    expect(prefixFillKeyStream(16, 2, 1000).prefixOrder).not.toEqual(order);
  });

  it("is what keyStream('prefix') writes", () => {
    const a = new Uint8Array(16);
    const b = new Uint8Array(16);
    keyStream("prefix", 16, 3, 900).keyInto(456, a);
    prefixFillKeyStream(16, 3, 900).keyInto(456, b);
    expect(a).toEqual(b);
  });

  it("extracts the 2-byte prefix of a key, none of a shorter one", () => {
    expect(PREFIX_EXTRACTOR.extract(Uint8Array.of(0, 7, 1, 2))).toEqual(Uint8Array.of(0, 7));
    expect(PREFIX_EXTRACTOR.extract(Uint8Array.of(0))).toBeUndefined();
  });

  it("flushes Talus' prefix prefill at least every 1/32 of the data set", () => {
    expect(prefixPrefillMemtableBytes({ num: 200_000, keySize: 16, valueSize: 100, memtableMb: 16 })).toBe(Math.ceil((200_000 * 116) / 32));
    expect(prefixPrefillMemtableBytes({ num: 10_000_000, keySize: 16, valueSize: 100, memtableMb: 16 })).toBe(16 << 20);
  });
});

describe("talus:prefix", () => {
  it("runs prefixscan only, on talus' prefill", () => {
    expect(ENGINES["talus:prefix"]).toMatchObject({ store: "talus", talus: true, workloads: ["prefixscan"] });
    expect(plan({ workloads: ["readrandom", "prefixscan"], engines: ["talus", "talus:prefix"], reps: 1 }).map((j) => `${j.workload} ${j.engine}`)).toEqual([
      "readrandom talus",
      "prefixscan talus",
      "prefixscan talus:prefix",
    ]);
    expect(() => parseArgs(["--engines", "talus:prefix", "--workloads", "fillseq"])).toThrow(ArgError);
    expect(() => parseArgs(["--engines", "talus:prefix", "--workloads", "fillseq"])).toThrow(/no run: talus:prefix run only prefixscan/);
  });
});

describe("prefixscan blocks per scan on Talus", () => {
  const num = 20_000;
  const values = new ValuePool(100, 1, 64);
  const context = (db: BenchDb, reads: number): WorkloadContext => ({
    db, values, num, reads, maxSeconds: 60, keySize: 16, valueSize: 100, seed: 1, batch: 1000, seekNexts: 0, progress: () => {},
  });
  const config = (fs: MemFs, over: Partial<EngineConfig>): EngineConfig => ({
    engine: "talus", dir: "/db", keySize: 16, batch: 1000, memtableBytes: 1 << 20, talusCompression: "default", cacheMb: 8, talusCacheMb: undefined, countIo: false, fs, ...over,
  });

  it("reads fewer blocks per scan with the extractor, on the same many-table tree", async () => {
    const fs = new MemFs();
    // The prefill as the child writes it: the extractor on, flushed every 1/32 of the data set.
    const memtableBytes = prefixPrefillMemtableBytes({ num, keySize: 16, valueSize: 100, memtableMb: 16 });
    const prefill = await openEngine(config(fs, { memtableBytes, prefixExtractor: true }));
    await fill(context(prefill, num), "prefix");
    const tables = prefill.stats()["tables"] as number;
    await prefill.close();
    expect(tables).toBeGreaterThanOrEqual(16);

    const probe = async (engine: "talus" | "talus:prefix") => {
      // The timed scans first, with a cache; then the probe on a reopened tree without one.
      const timed = await openEngine(config(fs, { engine }));
      const m = await prefixScan(context(timed, 500));
      await timed.close();
      const db = await openEngine(config(fs, { engine, cacheMb: 0, talusCacheMb: 0, countIo: true }));
      try {
        return { m, blocks: await probeBlockReads(db, 1, 300) };
      } finally {
        await db.close();
      }
    };
    const without = await probe("talus");
    const withExtractor = await probe("talus:prefix");
    // The same entries either way: the extractor skips tables, never keys.
    expect(withExtractor.m.items).toBe(without.m.items);
    expect(without.m.items).toBe(500 * 10);
    expect(without.blocks).toMatchObject({ scans: 300, tables, entriesPerScan: 10 });
    expect(withExtractor.blocks).toMatchObject({ scans: 300, tables, entriesPerScan: 10 });
    // Without it a scan reads a block of most tables; with it about the one table holding the prefix.
    expect(without.blocks.blocksPerScan).toBeGreaterThan(tables / 2);
    expect(withExtractor.blocks.blocksPerScan).toBeLessThan(3);
    expect(withExtractor.blocks.blocksPerScan).toBeGreaterThanOrEqual(1);
    expect(without.blocks.blocks).toBe(Math.round(without.blocks.blocksPerScan * 300));
    expect(without.blocks.bytesPerScan).toBeGreaterThan(withExtractor.blocks.bytesPerScan);
  });

  it("needs the counting Fs", async () => {
    const db = await openEngine(config(new MemFs(), {}));
    try {
      await expect(probeBlockReads(db, 1, 10)).rejects.toThrow(/no counting Fs/);
    } finally {
      await db.close();
    }
  });

  it("reports blocks per scan and holds talus:prefix below talus", () => {
    const run = (engine: "talus" | "talus:prefix" | "lmdb", blocksPerScan?: number): RunResult => ({
      workload: "prefixscan", engine, rep: 1, ops: 1000, plannedOps: 1000, seconds: 1, opsPerSec: 1000, mbPerSec: 1, p50Us: 1, p99Us: 2, maxUs: 3,
      diskBytes: 1, peakRssBytes: 1, baseRssBytes: 1, openMs: 1, closeMs: 1, engineStats: {},
      ...(blocksPerScan === undefined ? {} : { prefixBlocks: { scans: 100, blocks: blocksPerScan * 100, blocksPerScan, bytesPerScan: blocksPerScan * 4096, entriesPerScan: 10, tables: 33 } }),
    });
    const summaries = summarize([run("talus", 20), run("talus:prefix", 1.5), run("lmdb")]);
    const targets = checkTargets(summaries);
    expect(targets).toEqual([
      { target: "prefixscan blocks read per scan, prefix extractor vs none", workload: "prefixscan", engine: "talus:prefix", peer: "talus", measured: 0.075, goal: "< 1x", met: true },
    ]);
    const text = renderReport(
      {
        tool: "@talus/bench", formatVersion: 1, date: "", machine: { cpu: "", cores: 1, memoryBytes: 1, platform: "", node: "" }, options: {}, totalSeconds: 1,
        skipped: {}, prefills: [], runs: [], failures: [], summaries, ratios: [], targets,
      },
      false,
    );
    expect(text).toContain("blocks/scan");
    expect(text).toMatch(/talus:prefix .* 33 +1\.50/);
    expect(text).toMatch(/lmdb .* - +-/);
    expect(text).toContain("blocks/scan: positional reads per scan");
  });
});
