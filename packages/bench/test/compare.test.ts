import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compareReports, loadReport, renderComparison } from "../src/compare.ts";
import { useTempDir } from "./helpers.ts";

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe("compare", () => {
  const dir = useTempDir();

  it("diffs ops/s per workload and engine, including rows on one side only", () => {
    const { rows, ratios } = compareReports(loadReport(fixture("a.json")), loadReport(fixture("b.json")));
    const row = (w: string, e: string) => rows.find((r) => r.workload === w && r.engine === e);
    expect(row("readrandom", "talus")).toMatchObject({ aOpsPerSec: 100_000, bOpsPerSec: 150_000, aP99Us: 20, bP99Us: 15 });
    expect(row("readrandom", "talus")?.change).toBeCloseTo(0.5);
    expect(row("readrandom", "lmdb")?.change).toBe(0);
    expect(row("fillseq", "talus")).toMatchObject({ aOpsPerSec: 50_000, bOpsPerSec: undefined, change: undefined });
    expect(row("readseq", "talus")).toMatchObject({ aOpsPerSec: undefined, bOpsPerSec: 900_000, change: undefined });
    expect(ratios).toEqual([{ workload: "readrandom", engine: "talus", a: 0.5, b: 0.75 }]);
  });

  it("renders both tables", () => {
    const text = renderComparison("a.json", "b.json", compareReports(loadReport(fixture("a.json")), loadReport(fixture("b.json"))));
    expect(text).toContain("+50.0%");
    expect(text).toContain("0.50x");
    expect(text).toContain("0.75x");
    expect(text.split("\n").find((l) => l.startsWith("fillseq"))).toMatch(/50,000\s+-\s+-/);
  });

  it("refuses files that are not bench reports", () => {
    const bad = join(dir(), "bad.json");
    writeFileSync(bad, JSON.stringify({ hello: 1 }));
    expect(() => loadReport(bad)).toThrow("is not a report written by pnpm bench --json");
    const broken = join(dir(), "broken.json");
    writeFileSync(broken, "{");
    expect(() => loadReport(broken)).toThrow(broken);
  });
});
