/**
 * `compare a.json b.json`: what changed between two runs, per workload and engine, and in the
 * Talus/best-peer ratios (the figure that survives a noisy machine).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { fmtInt, fmtRatio, fmtUs, renderTable, type Column } from "./format.ts";
import type { BenchReport, Summary } from "./results.ts";

export interface CompareRow {
  readonly workload: string;
  readonly engine: string;
  readonly aOpsPerSec: number | undefined;
  readonly bOpsPerSec: number | undefined;
  /** b / a - 1; undefined when either side is missing. */
  readonly change: number | undefined;
  readonly aP99Us: number | undefined;
  readonly bP99Us: number | undefined;
}

export interface RatioRow {
  readonly workload: string;
  readonly engine: string;
  readonly a: number | undefined;
  readonly b: number | undefined;
}

export function loadReport(path: string): BenchReport {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const r = data as Partial<BenchReport> | null;
  if (r === null || typeof r !== "object" || r.tool !== "@talus/bench" || !Array.isArray(r.summaries) || !Array.isArray(r.ratios)) {
    throw new Error(`${path} is not a report written by pnpm bench --json`);
  }
  return r as BenchReport;
}

export function compareReports(a: BenchReport, b: BenchReport): { rows: CompareRow[]; ratios: RatioRow[] } {
  const key = (s: { workload: string; engine: string }): string => `${s.workload}\u0000${s.engine}`;
  const aMap = new Map<string, Summary>(a.summaries.map((s) => [key(s), s]));
  const bMap = new Map<string, Summary>(b.summaries.map((s) => [key(s), s]));
  const keys = [...new Set([...aMap.keys(), ...bMap.keys()])];
  const rows = keys.map((k) => {
    const sa = aMap.get(k);
    const sb = bMap.get(k);
    const [workload, engine] = k.split("\u0000") as [string, string];
    const aOps = sa?.opsPerSec.median;
    const bOps = sb?.opsPerSec.median;
    return {
      workload,
      engine,
      aOpsPerSec: aOps,
      bOpsPerSec: bOps,
      change: aOps === undefined || bOps === undefined || aOps === 0 ? undefined : bOps / aOps - 1,
      aP99Us: sa?.p99Us.median,
      bP99Us: sb?.p99Us.median,
    };
  });
  const rKeys = [...new Set([...a.ratios, ...b.ratios].map(key))];
  const ratios = rKeys.map((k) => {
    const [workload, engine] = k.split("\u0000") as [string, string];
    return { workload, engine, a: a.ratios.find((r) => key(r) === k)?.ratio, b: b.ratios.find((r) => key(r) === k)?.ratio };
  });
  return { rows, ratios };
}

export function renderComparison(aName: string, bName: string, result: { rows: CompareRow[]; ratios: RatioRow[] }): string {
  const opt = (n: number | undefined, f: (x: number) => string): string => (n === undefined ? "-" : f(n));
  const pct = (n: number | undefined): string => (n === undefined ? "-" : `${n >= 0 ? "+" : ""}${(n * 100).toFixed(1)}%`);
  const columns: Column[] = [
    { title: "workload", align: "left" },
    { title: "engine", align: "left" },
    { title: "A ops/s" },
    { title: "B ops/s" },
    { title: "change" },
    { title: "A p99 µs" },
    { title: "B p99 µs" },
  ];
  const rows = result.rows.map((r) => [r.workload, r.engine, opt(r.aOpsPerSec, fmtInt), opt(r.bOpsPerSec, fmtInt), pct(r.change), opt(r.aP99Us, fmtUs), opt(r.bP99Us, fmtUs)]);
  const ratioColumns: Column[] = [{ title: "workload", align: "left" }, { title: "engine", align: "left" }, { title: "A Talus/peer" }, { title: "B Talus/peer" }];
  const ratioRows = result.ratios.map((r) => [r.workload, r.engine, opt(r.a, fmtRatio), opt(r.b, fmtRatio)]);
  return [`A: ${aName}`, `B: ${bName}`, "", renderTable(columns, rows, false), "", renderTable(ratioColumns, ratioRows, false)].join("\n");
}
