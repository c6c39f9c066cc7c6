import { describe, expect, it } from "vitest";
import { ArgError, DEFAULT_NUM, DEFAULT_READS, parseArgs, USAGE, type RunOptions } from "../src/args.ts";
import { ENGINE_NAMES, SKIPPED_WORKLOADS, WORKLOAD_NAMES } from "../src/catalog.ts";

function run(argv: string[]): RunOptions {
  const c = parseArgs(argv);
  if (c.kind !== "run") throw new Error(`expected a run, got ${c.kind}`);
  return c.options;
}

describe("parseArgs", () => {
  it("defaults to every workload and engine at the default size", () => {
    const o = run([]);
    expect(o.num).toBe(DEFAULT_NUM);
    expect(o.reads).toBe(DEFAULT_READS);
    expect(o.keySize).toBe(16);
    expect(o.valueSize).toBe(100);
    expect(o.reps).toBe(1);
    expect(o.workloads).toEqual(WORKLOAD_NAMES);
    expect(o.engines).toEqual(ENGINE_NAMES);
    expect(o.json).toBeUndefined();
    expect(o.writeDocs).toBe(false);
  });

  it("reads every flag", () => {
    const o = run([
      "--num", "5000", "--reads", "300", "--value-size", "64", "--key-size", "24", "--workloads", "readseq,fillseq",
      "--engines", "lmdb,talus", "--reps", "3", "--dir", "/tmp/x", "--json", "out.json", "--write-docs", "--docs-section", "blob-4k", "--seed", "9",
      "--batch", "50", "--memtable-mb", "2.5", "--talus-compression", "lz4", "--talus-cache-mb", "32", "--cache-mb", "128", "--seek-nexts", "11",
      "--max-seconds", "3", "--cpu-prof", "--keep", "--fs", "iouring",
    ]);
    expect(o).toMatchObject({
      num: 5000, reads: 300, valueSize: 64, keySize: 24, workloads: ["readseq", "fillseq"], engines: ["lmdb", "talus"], reps: 3,
      dir: "/tmp/x", json: "out.json", writeDocs: true, docsSection: "blob-4k", seed: 9, batch: 50, memtableMb: 2.5, talusCompression: "lz4",
      talusCacheMb: 32, cacheMb: 128, seekNexts: 11, maxSeconds: 3, cpuProfDir: "profiles", keep: true, fs: "iouring",
    });
  });

  it("takes a directory after --cpu-prof when one is given", () => {
    expect(run(["--cpu-prof", "/tmp/p", "--num", "10"]).cpuProfDir).toBe("/tmp/p");
  });

  it("defaults to the engine's compression and the reference db_bench's 64 MiB cache", () => {
    expect(run([])).toMatchObject({ talusCompression: "default", cacheMb: 64, talusCacheMb: undefined });
    expect(run(["--talus-compression", "none"]).talusCompression).toBe("none");
  });

  it("opens Talus on StdFs unless --fs says iouring; multiget runs on the Talus engines that read talus' or talus+compaction's prefill", () => {
    expect(run([]).fs).toBe("std");
    expect(run(["--fs", "std"]).fs).toBe("std");
    expect(USAGE).toContain("--fs std|iouring");
    expect(run(["--workloads", "multiget", "--engines", "talus,talus@iouring,lmdb"]).engines).toEqual(["talus", "talus@iouring", "lmdb"]);
    expect(() => parseArgs(["--workloads", "multiget", "--engines", "lmdb,classic-level"])).toThrow("multiget runs only on talus, talus+compaction, talus@iouring");
  });

  it("caps the default read count at --num", () => {
    expect(run(["--num", "500"]).reads).toBe(500);
  });

  it.each([
    [["--num", "abc"], "--num must be a number, got 'abc'"],
    [["--num", "1.5"], "--num must be an integer, got '1.5'"],
    [["--num", "0"], "--num must be between 1 and"],
    [["--num", "-3"], "--num must be between"],
    [["--num"], "--num needs a value"],
    [["--reps", "--num"], "--reps needs a value"],
    [["--value-size", "1e9"], "--value-size must be between 1 and"],
    [["--key-size", "4"], "--key-size must be between 8 and"],
    [["--memtable-mb", "NaN"], "--memtable-mb must be a number"],
    [["--reads", "10", "--num", "5"], "--reads (10) must not exceed --num (5)"],
    [["--workloads", "readrandom,nope"], "--workloads: unknown name 'nope'"],
    [["--engines", "rocksdb"], "--engines: unknown name 'rocksdb'"],
    [["--workloads", ","], "--workloads needs at least one name"],
    [["--talus-compression", "zstd"], "--talus-compression must be default, none or lz4, got 'zstd'"],
    [["--fs", "uring"], "--fs must be std or iouring, got 'uring'"],
    [["--frobnicate"], "unknown argument '--frobnicate'"],
    [["--num", "20000000"], "prefixscan addresses at most"],
  ])("rejects %j with a clear message", (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(ArgError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it("runs mergerandom, no longer skipped", () => {
    expect(run(["--workloads", "mergerandom,deleterange"]).workloads).toEqual(["mergerandom", "deleterange"]);
    expect(WORKLOAD_NAMES).toContain("mergerandom");
    expect(SKIPPED_WORKLOADS).toEqual({});
    expect(USAGE).toContain("mergerandom: Talus merges with counterMerge");
  });

  it("allows a large --num without prefixscan", () => {
    expect(run(["--num", "20000000", "--workloads", "fillrandom"]).num).toBe(20_000_000);
  });

  it("parses compare and top", () => {
    expect(parseArgs(["compare", "a.json", "b.json"])).toEqual({ kind: "compare", a: "a.json", b: "b.json" });
    expect(() => parseArgs(["compare", "a.json"])).toThrow("compare needs two JSON files");
    expect(parseArgs(["top", "x.cpuprofile", "--count", "5"])).toEqual({ kind: "top", file: "x.cpuprofile", count: 5, all: false });
    expect(parseArgs(["top", "x.cpuprofile", "--all"])).toEqual({ kind: "top", file: "x.cpuprofile", count: 25, all: true });
    expect(() => parseArgs(["top", "x.cpuprofile", "--count", "zero"])).toThrow("--count must be a number");
    expect(parseArgs(["--help"])).toEqual({ kind: "help" });
  });
});
