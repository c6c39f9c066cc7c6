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
