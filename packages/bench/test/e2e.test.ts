import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ioUringUnavailableReason, isIoUringAvailable } from "@talus/fs";
import type { BenchReport } from "../src/results.ts";
import { useTempDir } from "./helpers.ts";

const cli = fileURLToPath(new URL("../src/cli.ts", import.meta.url));
const run = promisify(execFile);

describe("pnpm bench end to end", () => {
  const dir = useTempDir();

  it("runs a tiny benchmark in child processes and writes a JSON report", async () => {
    const json = join(dir(), "out.json");
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", "--conditions", "talus-source", cli, "--num", "2000", "--workloads", "fillrandom,readrandom", "--engines", "talus", "--dir", dir(), "--json", json],
      { cwd: fileURLToPath(new URL("..", import.meta.url)) },
    );
    expect(stdout).toContain("== fillrandom");
    expect(stdout).toContain("== readrandom");
    expect(stdout).not.toContain("skipped");
    const report = JSON.parse(readFileSync(json, "utf8")) as BenchReport;
    expect(report.tool).toBe("@talus/bench");
    expect(report.options).toMatchObject({ num: 2000, reads: 2000 });
    expect(report.prefills).toEqual([expect.objectContaining({ dataset: "seq", engine: "talus" })]);
    expect(report.runs.map((r) => [r.workload, r.engine])).toEqual([
      ["fillrandom", "talus"],
      ["readrandom", "talus"],
    ]);
    const [fill, read] = report.runs as [BenchReport["runs"][number], BenchReport["runs"][number]];
    expect(fill).toMatchObject({ ops: 2000, plannedOps: 2000 });
    expect(fill.opsPerSec).toBeGreaterThan(0);
    expect(fill.diskBytes).toBeGreaterThan(0);
    expect(fill.writeAmp).toBeGreaterThan(0.5);
    expect(fill.spaceAmp).toBeGreaterThan(0.5);
    expect(fill.eventLoop?.maxMs).toBeGreaterThanOrEqual(0);
    expect(fill.engineStats["tables"]).toBeGreaterThan(0);
    expect(read).toMatchObject({ ops: 2000, hits: 2000 });
    expect(read.p99Us).toBeGreaterThanOrEqual(read.p50Us);
    expect(report.summaries).toHaveLength(2);
    expect(report.failures).toEqual([]);
    expect(report.ratios).toEqual([]);
    expect(report.machine.cores).toBeGreaterThan(0);
  });

  it("closes cleanly while flushes and compactions still run (readwhilewriting never settles)", async () => {
    const json = join(dir(), "rww.json");
    await run(
      process.execPath,
      [
        "--import", "tsx", "--conditions", "talus-source", cli, "--num", "20000", "--workloads", "overwrite,readwhilewriting",
        "--engines", "talus+compaction", "--memtable-mb", "0.0625", "--dir", dir(), "--json", json,
      ],
      { cwd: fileURLToPath(new URL("..", import.meta.url)) },
    );
    const report = JSON.parse(readFileSync(json, "utf8")) as BenchReport;
    expect(report.failures).toEqual([]);
    const [overwrite, rww] = report.runs;
    expect(overwrite?.engineStats["flushes"]).toBeGreaterThan(5);
    expect(rww?.writes?.ops).toBeGreaterThan(0);
    expect(rww?.hits).toBe(20000);
  });

  it("runs deleterange on Talus, classic-level and lmdb and reports the scan ratios", async () => {
    const json = join(dir(), "deleterange.json");
    const { stdout } = await run(
      process.execPath,
      [
        "--import", "tsx", "--conditions", "talus-source", cli, "--num", "3000", "--workloads", "deleterange",
        "--engines", "talus,classic-level,lmdb", "--dir", dir(), "--json", json,
      ],
      { cwd: fileURLToPath(new URL("..", import.meta.url)) },
    );
    expect(stdout).toContain("== deleterange");
    expect(stdout).toContain("per entry: memtable");
    const report = JSON.parse(readFileSync(json, "utf8")) as BenchReport;
    expect(report.failures).toEqual([]);
    expect(report.runs.map((r) => r.engine)).toEqual(["talus", "classic-level", "lmdb"]);
    for (const r of report.runs) {
      expect(r).toMatchObject({ ops: 3000, deleteRange: { deletes: 30, gets: 1500, seeks: 1500 } });
      expect(r.deleteRange?.scans.none.entries).toBe(3000);
      expect(r.deleteRange?.scans.flushed.entries).toBe(r.deleteRange?.scans.memtable.entries);
    }
    // Every engine did the same ops on the same keys.
    expect(new Set(report.runs.map((r) => r.hits)).size).toBe(1);
    expect(report.targets.map((t) => t.target)).toEqual(["deleterange full scan, tombstones in memtable vs none", "deleterange full scan, tombstones flushed vs none"]);
  });

  it("runs readseq with Talus' zero-copy scan beside the copying one, and reports both", async () => {
    const json = join(dir(), "readseq.json");
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", "--conditions", "talus-source", cli, "--num", "3000", "--workloads", "readseq", "--engines", "talus,lmdb", "--dir", dir(), "--json", json],
      { cwd: fileURLToPath(new URL("..", import.meta.url)) },
    );
    expect(stdout).toMatch(/engine\s+ops\/s\s+zero-copy ops\/s\s+vs copying rescan/);
    const report = JSON.parse(readFileSync(json, "utf8")) as BenchReport;
    expect(report.failures).toEqual([]);
    const [talus, lmdb] = report.runs;
    expect(talus).toMatchObject({ engine: "talus", ops: 3000, items: 3000 });
    expect(talus?.zeroCopyScan?.opsPerSec).toBeGreaterThan(0);
    expect(talus?.zeroCopyScan?.copyingOpsPerSec).toBeGreaterThan(0);
    expect(lmdb).toMatchObject({ engine: "lmdb", ops: 3000 });
    expect(lmdb).not.toHaveProperty("zeroCopyScan");
    expect(report.summaries.find((s) => s.engine === "talus")?.zeroCopyOpsPerSec?.median).toBe(talus?.zeroCopyScan?.opsPerSec);
  });

  it("runs mergerandom on Talus (merge operator) and the emulating peers, every counter checked", async () => {
    const json = join(dir(), "mergerandom.json");
    const { stdout } = await run(
      process.execPath,
      [
        "--import", "tsx", "--conditions", "talus-source", cli, "--num", "4000", "--workloads", "mergerandom",
        "--engines", "talus,talus+compaction,classic-level,lmdb", "--memtable-mb", "0.0625", "--dir", dir(), "--json", json,
      ],
      { cwd: fileURLToPath(new URL("..", import.meta.url)) },
    );
    expect(stdout).toContain("== mergerandom");
    expect(stdout).toContain("classic-level: emulated");
    expect(stdout).toContain("lmdb: emulated");
    const report = JSON.parse(readFileSync(json, "utf8")) as BenchReport;
    expect(report.failures).toEqual([]);
    expect(report.skipped).toEqual({});
    expect(report.runs.map((r) => r.engine)).toEqual(["talus", "talus+compaction", "classic-level", "lmdb"]);
    for (const r of report.runs) expect(r).toMatchObject({ ops: 4000, merge: { merges: 4000, keySpace: 500, reads: 4000, checked: 1000 } });
    // Every engine read the same counters.
    expect(new Set(report.runs.map((r) => r.hits)).size).toBe(1);
    expect(report.runs[0]?.engineStats["flushes"]).toBeGreaterThan(1);
    expect(report.targets.map((t) => [t.target, t.engine])).toEqual([
      ["mergerandom merges vs classic-level read-modify-write", "talus"],
      ["mergerandom merges vs classic-level read-modify-write", "talus+compaction"],
    ]);
  });

  it("runs ingest beside fillseq and prefixscan with and without the prefix extractor, with their target lines", async () => {
    const json = join(dir(), "ingest-prefix.json");
    const { stdout } = await run(
      process.execPath,
      [
        "--import", "tsx", "--conditions", "talus-source", cli, "--num", "5000", "--batch", "100", "--workloads", "fillseq,ingest,prefixscan",
        "--engines", "talus,talus:prefix,lmdb", "--dir", dir(), "--json", json,
      ],
      { cwd: fileURLToPath(new URL("..", import.meta.url)) },
    );
    expect(stdout).toContain("== ingest");
    expect(stdout).toContain("lmdb: not an ingestion");
    expect(stdout).toContain("blocks/scan");
    const report = JSON.parse(readFileSync(json, "utf8")) as BenchReport;
    expect(report.failures).toEqual([]);
    expect(report.runs.map((r) => `${r.workload} ${r.engine}`)).toEqual([
      "fillseq talus",
      "fillseq lmdb",
      "ingest talus",
      "ingest lmdb",
      "prefixscan talus",
      "prefixscan talus:prefix",
      "prefixscan lmdb",
    ]);
    for (const r of report.runs.filter((x) => x.workload === "ingest")) expect(r).toMatchObject({ ops: 5000, ingest: { entries: 5000, verified: 1001 } });
    const [plain, extractor] = report.runs.filter((r) => r.workload === "prefixscan" && r.engine.startsWith("talus"));
    expect(plain?.prefixBlocks?.tables).toBeGreaterThanOrEqual(16);
    expect(extractor?.prefixBlocks?.tables).toBe(plain?.prefixBlocks?.tables);
    expect(extractor?.items).toBe(plain?.items);
    expect(extractor?.prefixBlocks?.blocksPerScan).toBeLessThan(plain?.prefixBlocks?.blocksPerScan ?? 0);
    expect(report.targets.map((t) => [t.target, t.engine, t.met])).toEqual([
      ["ingest vs fillseq (talus)", "talus", expect.any(Boolean)],
      ["prefixscan blocks read per scan, prefix extractor vs none", "talus:prefix", true],
    ]);
  });
  // The workload tests run ingest, fillsync, deleterange and mergerandom on talus-level in process; these
  // are the ones with no such test, and what the child does around a run (prefixscan's block probe).
  it("runs talus-level's overwrite, prefixscan, readwhilewriting and mergerandom in child processes", async () => {
    const json = join(dir(), "talus-level.json");
    const workloads = ["overwrite", "prefixscan", "readwhilewriting", "mergerandom"];
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", "--conditions", "talus-source", cli, "--num", "3000", "--reads", "1000", "--batch", "100", "--workloads", workloads.join(","), "--engines", "talus-level", "--dir", dir(), "--json", json],
      { cwd: fileURLToPath(new URL("..", import.meta.url)) },
    );
    expect(stdout).toContain("talus-level: classic-level's emulation");
    const report = JSON.parse(readFileSync(json, "utf8")) as BenchReport;
    expect(report.failures).toEqual([]);
    expect(report.runs.map((r) => `${r.workload} ${r.engine}`)).toEqual(workloads.map((w) => `${w} talus-level`));
    for (const r of report.runs) expect(r.opsPerSec).toBeGreaterThan(0);
    // The adapter has no counting Fs: no block probe, no write amplification from one.
    const prefix = report.runs.find((r) => r.workload === "prefixscan");
    expect(prefix?.prefixBlocks).toBeUndefined();
    expect(prefix?.items).toBeGreaterThan(0);
    expect(report.runs.find((r) => r.workload === "mergerandom")?.merge).toMatchObject({ merges: 3000, reads: 1000 });
  }, 120_000);

  it.skipIf(!isIoUringAvailable())(
    `runs multiget on talus and talus@iouring (no block cache, no maps) and checks the io_uring target${isIoUringAvailable() ? "" : ` (skipped: io_uring is unavailable, ${ioUringUnavailableReason() ?? ""})`}`,
    async () => {
      const json = join(dir(), "multiget.json");
      const { stdout } = await run(
        process.execPath,
        ["--import", "tsx", "--conditions", "talus-source", cli, "--num", "3000", "--reads", "30", "--workloads", "multiget", "--engines", "talus,talus@iouring", "--dir", dir(), "--json", json],
        { cwd: fileURLToPath(new URL("..", import.meta.url)) },
      );
      expect(stdout).toContain("== multiget");
      const report = JSON.parse(readFileSync(json, "utf8")) as BenchReport;
      expect(report.failures).toEqual([]);
      expect(report.options).toMatchObject({ fs: "std" });
      expect(report.runs.map((r) => [r.engine, r.ops, r.hits])).toEqual([
        ["talus", 30, 30 * 64],
        ["talus@iouring", 30, 30 * 64],
      ]);
      expect(report.targets.map((t) => [t.target, t.engine, t.peer])).toEqual([["multiGet 64 keys, cold cache: iouring vs std", "talus@iouring", "talus"]]);
    },
  );
});
