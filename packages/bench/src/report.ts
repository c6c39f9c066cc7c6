/**
 * From raw runs to what a reader wants: medians over repetitions, one table per workload, the
 * Talus/best-peer ratio per workload and the targets checked against this run.
 *
 * @module
 */
import { ENGINES, WORKLOAD_NAMES, type EngineName, type WorkloadName } from "./catalog.ts";
import { fmtFixed, fmtInt, fmtMiB, fmtRatio, fmtSpread, fmtUs, renderTable, type Column } from "./format.ts";
import type { BenchReport, Ratio, RunResult, Summary, TargetCheck } from "./results.ts";
import { spread, type Spread } from "./stats.ts";

export function summarize(runs: readonly RunResult[]): Summary[] {
  const groups = new Map<string, RunResult[]>();
  for (const run of runs) {
    const key = `${run.workload}\u0000${run.engine}`;
    const list = groups.get(key) ?? [];
    list.push(run);
    groups.set(key, list);
  }
  const out: Summary[] = [];
  for (const list of groups.values()) {
    const first = list[0] as RunResult;
    const opt = (pick: (r: RunResult) => number | undefined): Spread | undefined => {
      const values = list.map(pick).filter((v): v is number => v !== undefined);
      return values.length === 0 ? undefined : spread(values);
    };
    const optional = {
      eventLoopP99Ms: opt((r) => r.eventLoop?.p99Ms),
      eventLoopMaxMs: opt((r) => r.eventLoop?.maxMs),
      writesPerSec: opt((r) => r.writes?.opsPerSec),
      writeAmp: opt((r) => r.writeAmp),
      wcharAmp: opt((r) => r.wcharAmp),
      spaceAmp: opt((r) => r.spaceAmp),
    };
    out.push({
      workload: first.workload,
      engine: first.engine,
      reps: list.length,
      capped: list.filter((r) => r.ops < r.plannedOps).length,
      opsPerSec: spread(list.map((r) => r.opsPerSec)),
      mbPerSec: spread(list.map((r) => r.mbPerSec)),
      p50Us: spread(list.map((r) => r.p50Us)),
      p99Us: spread(list.map((r) => r.p99Us)),
      diskBytes: spread(list.map((r) => r.diskBytes)),
      peakRssBytes: spread(list.map((r) => r.peakRssBytes)),
      ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    });
  }
  return out;
}

function find(summaries: readonly Summary[], workload: WorkloadName, engine: EngineName): Summary | undefined {
  return summaries.find((s) => s.workload === workload && s.engine === engine);
}

/** Each Talus engine's ops/s over the fastest non-Talus engine's, per workload. */
export function ratios(summaries: readonly Summary[]): Ratio[] {
  const out: Ratio[] = [];
  for (const workload of WORKLOAD_NAMES) {
    const rows = summaries.filter((s) => s.workload === workload);
    let best: Summary | undefined;
    for (const s of rows) if (!ENGINES[s.engine].talus && (best === undefined || s.opsPerSec.median > best.opsPerSec.median)) best = s;
    if (best === undefined) continue;
    for (const s of rows) {
      if (ENGINES[s.engine].talus) out.push({ workload, engine: s.engine, peer: best.engine, ratio: s.opsPerSec.median / best.opsPerSec.median });
    }
  }
  return out;
}

interface TargetDef {
  readonly target: string;
  readonly workload: WorkloadName;
  readonly peer?: EngineName;
  readonly goal: string;
  /** The measured figure (a ratio, or an absolute number when there is no peer). */
  readonly measure: (talus: Summary, peer: Summary | undefined) => number | undefined;
  readonly met: (value: number) => boolean;
}

/** The targets of issue #4 (measured at N = 1,000,000 there; any --num gives an indication). */
export const TARGETS: readonly TargetDef[] = [
  { target: "readrandom vs lmdb sync get", workload: "readrandom", peer: "lmdb", goal: ">= 1.0x", measure: opsRatio, met: (v) => v >= 1 },
  { target: "readseq vs lmdb getRange", workload: "readseq", peer: "lmdb", goal: ">= 3x", measure: opsRatio, met: (v) => v >= 3 },
  { target: "seekrandom vs lmdb getRange", workload: "seekrandom", peer: "lmdb", goal: ">= 3x", measure: opsRatio, met: (v) => v >= 3 },
  { target: "fillrandom vs classic-level batched", workload: "fillrandom", peer: "classic-level", goal: ">= 3x", measure: opsRatio, met: (v) => v >= 3 },
  // lmdb's two write paths trade reads for writes in opposite ways here, so both are held to the target.
  ...(["lmdb", "lmdb:plain"] as const).flatMap((peer): TargetDef[] => [
    { target: "readwhilewriting reads vs lmdb", workload: "readwhilewriting", peer, goal: ">= 1.0x", measure: opsRatio, met: (v) => v >= 1 },
    { target: "readwhilewriting writes vs lmdb", workload: "readwhilewriting", peer, goal: ">= 10x", measure: writesRatio, met: (v) => v >= 10 },
  ]),
  { target: "fillrandom event-loop delay p99 (ms)", workload: "fillrandom", goal: "< 10 ms", measure: (t) => t.eventLoopP99Ms?.median, met: (v) => v < 10 },
  {
    target: "fillrandom disk size vs classic-level",
    workload: "fillrandom",
    peer: "classic-level",
    goal: "<= 1.0x",
    measure: (t, p) => (p === undefined ? undefined : t.diskBytes.median / p.diskBytes.median),
    met: (v) => v <= 1,
  },
];

function writesRatio(talus: Summary, peer: Summary | undefined): number | undefined {
  return talus.writesPerSec === undefined || peer?.writesPerSec === undefined ? undefined : talus.writesPerSec.median / peer.writesPerSec.median;
}

function opsRatio(talus: Summary, peer: Summary | undefined): number | undefined {
  return peer === undefined ? undefined : talus.opsPerSec.median / peer.opsPerSec.median;
}

export function checkTargets(summaries: readonly Summary[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  for (const def of TARGETS) {
    const peer = def.peer === undefined ? undefined : find(summaries, def.workload, def.peer);
    if (def.peer !== undefined && peer === undefined) continue;
    for (const s of summaries) {
      if (s.workload !== def.workload || !ENGINES[s.engine].talus) continue;
      const measured = def.measure(s, peer);
      if (measured === undefined) continue;
      out.push({ target: def.target, workload: def.workload, engine: s.engine, peer: def.peer ?? "-", measured, goal: def.goal, met: def.met(measured) });
    }
  }
  return out;
}

const BASE_COLUMNS: readonly Column[] = [
  { title: "engine", align: "left" },
  { title: "ops/s" },
  { title: "MB/s" },
  { title: "p50 µs" },
  { title: "p99 µs" },
  { title: "disk" },
  { title: "peak RSS" },
];

/** Every workload's table, its ratio line, then the targets; Markdown for the docs, text for the terminal. */
export function renderReport(report: BenchReport, markdown: boolean): string {
  const parts: string[] = [];
  const heading = (text: string): string => (markdown ? `#### ${text}` : `== ${text}`);
  for (const workload of WORKLOAD_NAMES) {
    const rows = report.summaries.filter((s) => s.workload === workload);
    if (rows.length === 0) continue;
    const fill = rows.some((s) => s.eventLoopP99Ms !== undefined);
    const mixed = rows.some((s) => s.writesPerSec !== undefined);
    const columns: Column[] = [...BASE_COLUMNS];
    if (fill) columns.push({ title: "loop p99/max ms" }, { title: "write amp" }, { title: "space amp" });
    if (mixed) columns.push({ title: "writes/s" });
    const body = rows.map((s) => {
      const r = s.reps;
      const cells = [
        s.capped > 0 ? `${s.engine} *` : s.engine,
        fmtSpread(s.opsPerSec, fmtInt, r),
        fmtSpread(s.mbPerSec, (n) => fmtFixed(n, 1), r),
        fmtSpread(s.p50Us, fmtUs, r),
        fmtSpread(s.p99Us, fmtUs, r),
        fmtSpread(s.diskBytes, fmtMiB, r),
        fmtSpread(s.peakRssBytes, fmtMiB, r),
      ];
      if (fill) {
        const loop = s.eventLoopP99Ms === undefined ? "-" : `${fmtFixed(s.eventLoopP99Ms.median, 1)} / ${fmtFixed(s.eventLoopMaxMs?.median ?? Number.NaN, 1)}`;
        // Talus' figure comes from the counting Fs; the peers' from the process' write calls (marked ~).
        const amp = s.writeAmp !== undefined ? fmtSpread(s.writeAmp, (n) => fmtFixed(n, 2), r) : s.wcharAmp !== undefined ? `~${fmtFixed(s.wcharAmp.median, 2)}` : "-";
        cells.push(loop, amp, fmtSpread(s.spaceAmp, (n) => fmtFixed(n, 2), r));
      }
      if (mixed) cells.push(fmtSpread(s.writesPerSec, fmtInt, r));
      return cells;
    });
    parts.push(heading(`${workload}: ${WORKLOAD_MEASURES[workload]}`), "", renderTable(columns, body, markdown));
    const line = report.ratios
      .filter((x) => x.workload === workload)
      .map((x) => `${x.engine} ${fmtRatio(x.ratio)}`)
      .join(", ");
    const peer = report.ratios.find((x) => x.workload === workload)?.peer;
    if (line.length > 0) parts.push("", `Talus / best peer (${peer}): ${line}`);
    if (rows.some((s) => s.capped > 0)) parts.push("", `${markdown ? "\\*" : "*"} stopped by --max-seconds: ops/s and latencies hold, sizes cover only the ops done`);
    parts.push("");
  }
  if (report.targets.length > 0) {
    parts.push(heading("Targets (issue #4)"), "");
    const rows = report.targets.map((t) => [t.target, t.engine, t.peer, t.target.includes("(ms)") ? fmtFixed(t.measured, 2) : fmtRatio(t.measured), t.goal, t.met ? "yes" : "no"]);
    const columns: Column[] = [{ title: "target", align: "left" }, { title: "engine", align: "left" }, { title: "peer", align: "left" }, { title: "measured" }, { title: "goal" }, { title: "met", align: "left" }];
    parts.push(renderTable(columns, rows, markdown), "");
  }
  for (const [name, why] of Object.entries(report.skipped)) parts.push(`${name}: ${why}`);
  for (const f of report.failures ?? []) parts.push(`FAILED ${f.workload} on ${f.engine} (rep ${f.rep}): ${f.message.split("\n")[0] ?? ""}`);
  return parts.join("\n").trimEnd();
}

const WORKLOAD_MEASURES: Readonly<Record<WorkloadName, string>> = {
  fillseq: "sequential inserts until persisted",
  fillrandom: "random inserts until persisted",
  overwrite: "updates of existing keys until persisted",
  readrandom: "random point reads, reopened database",
  readseq: "full forward scan (ops = entries)",
  seekrandom: "seek + first entry",
  prefixscan: "up to 10 entries under a random prefix",
  readwhilewriting: "random reads (ops/s) with a concurrent writer (writes/s)",
};

