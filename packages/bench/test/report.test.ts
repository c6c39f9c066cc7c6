import { describe, expect, it } from "vitest";
import { checkTargets, ratios, renderReport, summarize } from "../src/report.ts";
import type { RunResult } from "../src/results.ts";
import type { EngineName, WorkloadName } from "../src/catalog.ts";

function run(workload: WorkloadName, engine: EngineName, opsPerSec: number, extra: Partial<RunResult> = {}): RunResult {
  return {
    workload, engine, rep: 1, ops: 1000, plannedOps: 1000, seconds: 1000 / opsPerSec, opsPerSec, mbPerSec: 1, p50Us: 1, p99Us: 2, maxUs: 3,
    diskBytes: 1 << 20, peakRssBytes: 1 << 26, baseRssBytes: 1 << 25, openMs: 1, closeMs: 1, engineStats: {}, ...extra,
  };
}

describe("report", () => {
  const runs = [
    run("readrandom", "talus", 100, { rep: 1 }),
    run("readrandom", "talus", 300, { rep: 2 }),
    run("readrandom", "talus", 200, { rep: 3 }),
    run("readrandom", "lmdb", 400),
    run("readrandom", "classic-level", 100),
    run("fillrandom", "talus+compaction", 900, { eventLoop: { p50Ms: 1, p99Ms: 4, maxMs: 9 }, writeAmp: 1.5, spaceAmp: 1.1, diskBytes: 2 }),
    run("fillrandom", "classic-level", 300, { eventLoop: { p50Ms: 1, p99Ms: 2, maxMs: 3 }, wcharAmp: 2, spaceAmp: 0.8, diskBytes: 4 }),
  ];
  const summaries = summarize(runs);

  it("takes the median over repetitions with its spread", () => {
    const s = summaries.find((x) => x.workload === "readrandom" && x.engine === "talus");
    expect(s?.reps).toBe(3);
    expect(s?.opsPerSec).toEqual({ median: 200, min: 100, max: 300 });
  });

  it("ratios against the best peer", () => {
    expect(ratios(summaries)).toEqual([
      { workload: "fillrandom", engine: "talus+compaction", peer: "classic-level", ratio: 3 },
      { workload: "readrandom", engine: "talus", peer: "lmdb", ratio: 0.5 },
    ]);
  });

  it("checks the issue's targets that the run covers", () => {
    const t = checkTargets(summaries);
    expect(t.find((x) => x.target.startsWith("readrandom"))).toMatchObject({ engine: "talus", peer: "lmdb", measured: 0.5, met: false });
    expect(t.find((x) => x.target === "fillrandom vs classic-level batched")).toMatchObject({ measured: 3, met: true });
    expect(t.find((x) => x.target.startsWith("fillrandom event-loop"))).toMatchObject({ measured: 4, met: true });
    expect(t.find((x) => x.target.startsWith("fillrandom disk"))).toMatchObject({ measured: 0.5, met: true });
    expect(t.some((x) => x.workload === "readseq")).toBe(false);
    // Issue #12's rows: the fill with compaction against LevelDB, its event loop against 5 ms.
    expect(t.find((x) => x.target === "fillrandom with compaction vs classic-level batched (#12)")).toMatchObject({ engine: "talus+compaction", measured: 3, met: true });
    expect(t.find((x) => x.target.startsWith("fillrandom event-loop delay p99 with compaction"))).toMatchObject({ measured: 4, met: true, goal: "< 5 ms" });
  });

  it("holds readseq's copying and zero-copy passes to issue #12's goals against lmdb", () => {
    const scan = summarize([
      run("readseq", "talus", 1000, { zeroCopyScan: { opsPerSec: 5000, copyingOpsPerSec: 1200 } }),
      run("readseq", "lmdb", 1000),
    ]);
    const t = checkTargets(scan);
    expect(t.find((x) => x.target === "readseq vs lmdb, copying iterator (#12)")).toMatchObject({ measured: 1, met: false });
    expect(t.find((x) => x.target === "readseq vs lmdb, zero-copy scan (#12)")).toMatchObject({ measured: 5, met: true, goal: ">= 4x" });
  });

  it("renders a table per workload with the spread of repetitions", () => {
    const text = renderReport({
      tool: "@talus/bench", formatVersion: 1, date: "", machine: { cpu: "", cores: 1, memoryBytes: 1, platform: "", node: "" }, options: {},
      totalSeconds: 1, skipped: { mergerandom: "skipped: reason" }, prefills: [], runs, summaries,
      failures: [{ workload: "readseq", engine: "lmdb", rep: 1, message: "boom\nstack" }], ratios: ratios(summaries), targets: checkTargets(summaries),
    }, false);
    expect(text).toContain("== readrandom");
    expect(text).toContain("200 (100–300)");
    expect(text).toContain("4.0 / 9.0");
    expect(text).toContain("~2.00");
    expect(text).toContain("Talus / best peer (lmdb): talus 0.50x");
    expect(text).toContain("mergerandom: skipped: reason");
    expect(text).toContain("FAILED readseq on lmdb (rep 1): boom");
    expect(text).not.toContain("stack");
  });
});

describe("the mergerandom report", () => {
  const detail = (readsPerSec: number): NonNullable<RunResult["merge"]> => ({
    merges: 1000, keySpace: 125, keysMerged: 125, loopSeconds: 0.001, settleMs: 4, reads: 1000, plannedReads: 1000, readSeconds: 1000 / readsPerSec,
    readsPerSec, readP50Us: 1.5, readP99Us: 12, checked: 250,
  });
  const runs = [
    run("mergerandom", "talus", 900_000, { merge: detail(600_000) }),
    run("mergerandom", "classic-level", 300_000, { merge: detail(400_000) }),
    run("mergerandom", "lmdb", 450_000, { merge: { ...detail(700_000), reads: 10, plannedReads: 1000 } }),
  ];
  const summaries = summarize(runs);

  it("summarises the reads after the merges", () => {
    expect(summaries.find((s) => s.engine === "talus")?.merge).toMatchObject({ readsPerSec: { median: 600_000 }, readP99Us: { median: 12 }, settleMs: { median: 4 }, checked: { median: 250 }, readsCapped: 0 });
    expect(summaries.find((s) => s.engine === "lmdb")?.merge?.readsCapped).toBe(1);
  });

  it("holds Talus' merges to classic-level's read-modify-write", () => {
    expect(checkTargets(summaries).filter((x) => x.workload === "mergerandom")).toEqual([
      expect.objectContaining({ target: "mergerandom merges vs classic-level read-modify-write", engine: "talus", peer: "classic-level", measured: 3, goal: ">= 1x", met: true }),
    ]);
  });

  it("renders merges, then the reads, and marks the peers' merges as emulated", () => {
    const text = renderReport({
      tool: "@talus/bench", formatVersion: 1, date: "", machine: { cpu: "", cores: 1, memoryBytes: 1, platform: "", node: "" }, options: {},
      totalSeconds: 1, skipped: {}, prefills: [], runs, summaries, failures: [], ratios: ratios(summaries), targets: checkTargets(summaries),
    }, false);
    const lines = text.split("\n");
    const header = lines.find((l) => l.startsWith("engine")) ?? "";
    expect(header).toMatch(/^engine\s+merges\/s\s+MB\/s\s+merge p50 µs\s+merge p99 µs\s+disk\s+peak RSS\s+settle ms\s+reads\/s\s+read p50\/p99 µs\s+keys\s+checked$/);
    expect(lines.find((l) => l.startsWith("talus "))).toMatch(/^talus\s+900,000\s.*\s4\s+600,000\s+1\.50 \/ 12\.0\s+125\s+250$/);
    expect(lines.find((l) => l.startsWith("lmdb "))).toMatch(/700,000 \*/);
    expect(text).toContain("Talus / best peer (lmdb): talus 2.00x");
    expect(text).toContain("classic-level: emulated, LevelDB has no merge operator");
    expect(text).toContain("lmdb: emulated, LMDB has no merge operator");
    expect(text).toContain("stopped by --max-seconds");
    expect(text).toContain("mergerandom merges vs classic-level read-modify-write");
    expect(text).not.toContain("skipped");
  });
});

describe("the deleterange report", () => {
  const scans = { none: { ms: 10, entries: 1000 }, memtable: { ms: 12.5, entries: 400 }, flushed: { ms: 8, entries: 400 } };
  const detail = (deletesPerSec: number, ratioMem: number, ratioFlushed: number): NonNullable<RunResult["deleteRange"]> => ({
    deletes: 20, deletesPerSec, deleteP50Us: 1.5, deleteP99Us: 9, width: 100, gets: 1000, seeks: 1000, seekNexts: 10, seekP50Us: 4, seekP99Us: 30,
    wallSeconds: 1, scans, scanRatioMemtable: ratioMem, scanRatioFlushed: ratioFlushed, scanEntryRatioMemtable: ratioMem * 0.4, scanEntryRatioFlushed: ratioFlushed * 0.4, settleMs: 3,
  });
  const runs = [
    run("deleterange", "talus", 500_000, { deleteRange: detail(400_000, 0.8, 1.25) }),
    run("deleterange", "classic-level", 200_000, { deleteRange: detail(5_000, 1.1, 1.2) }),
    run("deleterange", "lmdb", 300_000, { deleteRange: detail(2_000, 2, 2) }),
  ];
  const summaries = summarize(runs);

  it("summarises the deletes, the seeks and the scans", () => {
    const d = summaries.find((s) => s.engine === "talus")?.deleteRange;
    expect(d).toMatchObject({ deletes: { median: 20 }, deletesPerSec: { median: 400_000 }, deleteP99Us: { median: 9 }, seekP99Us: { median: 30 } });
    expect(d).toMatchObject({ scanEntries: { none: { median: 1000 }, after: { median: 400 } }, scanMs: { none: { median: 10 }, memtable: { median: 12.5 }, flushed: { median: 8 } } });
    expect(d?.scanRatioMemtable.median).toBe(0.8);
    expect(d?.scanEntryRatioFlushed.median).toBeCloseTo(0.5);
    expect(summaries.find((s) => s.workload === "readrandom")?.deleteRange).toBeUndefined();
  });

  it("checks the scan-with-tombstones target for Talus only", () => {
    const t = checkTargets(summaries).filter((x) => x.workload === "deleterange");
    expect(t).toEqual([
      expect.objectContaining({ target: "deleterange full scan, tombstones in memtable vs none", engine: "talus", peer: "-", measured: 0.8, goal: ">= 0.8x", met: true }),
      expect.objectContaining({ target: "deleterange full scan, tombstones flushed vs none", engine: "talus", measured: 1.25, met: true }),
    ]);
  });

  it("renders gets, seeks and deletes, then the scans side by side, with how each engine deletes", () => {
    const text = renderReport({
      tool: "@talus/bench", formatVersion: 1, date: "", machine: { cpu: "", cores: 1, memoryBytes: 1, platform: "", node: "" }, options: {},
      totalSeconds: 1, skipped: {}, prefills: [], runs, summaries, failures: [], ratios: ratios(summaries), targets: checkTargets(summaries),
    }, false);
    const lines = text.split("\n");
    const header = lines.find((l) => l.startsWith("engine")) ?? "";
    expect(header).toMatch(/get p50 µs\s+get p99 µs/);
    expect(header).toMatch(/seek\+10 p50\/p99 µs\s+deletes\s+deletes\/s\s+delete p50\/p99 µs$/);
    expect(lines.find((l) => l.startsWith("talus "))).toMatch(/4\.00 \/ 30\.0\s+20\s+400,000\s+1\.50 \/ 9\.00$/);
    expect(lines.find((l) => l.startsWith("full scan"))).toMatch(/entries before \/ after\s+ms: none\s+memtable\s+flushed\s+vs none: memtable\s+flushed\s+per entry: memtable\s+flushed$/);
    expect(lines.filter((l) => l.startsWith("talus ")).at(1)).toMatch(/1,000 \/ 400\s+10\.0\s+12\.5\s+8\.0\s+0\.80x\s+1\.25x\s+0\.32x\s+0\.50x$/);
    expect(text).toContain("Talus / best peer (lmdb): talus 1.67x");
    expect(text).toContain("classic-level: db.clear({ gte, lt })");
    expect(text).toContain("lmdb: emulated");
    expect(text).toContain("deleterange full scan, tombstones in memtable vs none");
  });
});

describe("the readseq report", () => {
  const zeroCopyScan = (opsPerSec: number, copyingOpsPerSec: number): NonNullable<RunResult["zeroCopyScan"]> => ({ opsPerSec, copyingOpsPerSec });
  const runs = [
    run("readseq", "talus", 2_000_000, { rep: 1, zeroCopyScan: zeroCopyScan(5_000_000, 2_500_000) }),
    run("readseq", "talus", 2_200_000, { rep: 2, zeroCopyScan: zeroCopyScan(6_000_000, 2_000_000) }),
    run("readseq", "talus", 2_100_000, { rep: 3, zeroCopyScan: zeroCopyScan(5_500_000, 2_200_000) }),
    run("readseq", "lmdb", 1_000_000),
    run("readrandom", "talus", 900_000),
  ];
  const summaries = summarize(runs);

  it("summarises the zero-copy scan and its speed over the copying rescan, per repetition, for the engines that have one", () => {
    const talus = summaries.find((s) => s.workload === "readseq" && s.engine === "talus");
    expect(talus?.zeroCopyOpsPerSec).toEqual({ median: 5_500_000, min: 5_000_000, max: 6_000_000 });
    expect(talus?.zeroCopySpeedup).toEqual({ median: 2.5, min: 2, max: 3 });
    expect(summaries.find((s) => s.engine === "lmdb")?.zeroCopyOpsPerSec).toBeUndefined();
    expect(summaries.find((s) => s.workload === "readrandom")?.zeroCopySpeedup).toBeUndefined();
  });

  it("holds the timed copying pass, not the zero-copy one, to the readseq target", () => {
    expect(checkTargets(summaries).find((t) => t.workload === "readseq")).toMatchObject({ engine: "talus", peer: "lmdb", measured: 2.1 });
  });

  it("renders zero-copy columns beside ops/s in readseq's table only, with dashes for engines without the scan", () => {
    const text = renderReport({
      tool: "@talus/bench", formatVersion: 1, date: "", machine: { cpu: "", cores: 1, memoryBytes: 1, platform: "", node: "" }, options: {},
      totalSeconds: 1, skipped: {}, prefills: [], runs, summaries, failures: [], ratios: ratios(summaries), targets: checkTargets(summaries),
    }, false);
    const [readseq, readrandom] = ["== readseq", "== readrandom"].map((h) => text.slice(text.indexOf(h)).split("\n\n")[1]?.split("\n") ?? []);
    expect(readseq?.[0]).toMatch(/^engine\s+ops\/s\s+zero-copy ops\/s\s+vs copying rescan\s+MB\/s\s+p50 µs/);
    expect(readseq?.find((l) => l.startsWith("talus "))).toMatch(/^talus\s+2,100,000 \(2,000,000–2,200,000\)\s+5,500,000 \(5,000,000–6,000,000\)\s+2\.50x \(2\.00x–3\.00x\)\s+1\.0\s/);
    expect(readseq?.find((l) => l.startsWith("lmdb "))).toMatch(/^lmdb\s+1,000,000\s+-\s+-\s+1\.0\s/);
    expect(readrandom?.[0]).not.toContain("zero-copy");
    expect(text).toContain("vs copying rescan: its speed over the rescan's");
  });
});
