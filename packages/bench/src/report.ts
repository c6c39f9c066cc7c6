/**
 * From raw runs to what a reader wants: medians over repetitions, one table per workload, the
 * Talus/best-peer ratio per workload and the targets checked against this run.
 *
 * @module
 */
import { ENGINES, isTalusTree, MULTIGET_KEYS, WORKLOAD_NAMES, type EngineName, type WorkloadName } from "./catalog.ts";
import { fmtFixed, fmtInt, fmtMiB, fmtRatio, fmtSpread, fmtUs, renderTable, type Column } from "./format.ts";
import type { BenchReport, DeleteRangeResult, DeleteRangeSummary, MergeResult, MergeSummary, Ratio, RunResult, Summary, TargetCheck } from "./results.ts";
import { spread, type Spread } from "./stats.ts";
import { GETS_PER_ROUND, RANGE_WIDTH, READS_PER_ROUND, SCAN_REPEATS, SEEK_NEXTS, SEEKS_PER_ROUND } from "./workloads/deleterange.ts";
import { FILLSYNC_WRITERS, VERIFY_SAMPLE as FILLSYNC_VERIFY_SAMPLE } from "./workloads/fillsync.ts";
import { VERIFY_SAMPLE } from "./workloads/ingest.ts";
import { CHECK_SAMPLE, MAX_INCREMENT, OPERANDS_PER_KEY } from "./workloads/mergerandom.ts";
import { PREFIX_PREFILL_TABLES, PROBE_SCANS } from "./workloads/prefix-blocks.ts";

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
      spaceAmpCompacted: opt((r) => r.spaceAmpCompacted),
      ingestFinishMs: opt((r) => r.ingest?.finishMs),
      ingestVerified: opt((r) => r.ingest?.verified),
      fillSyncVerified: opt((r) => r.fillSync?.verified),
      blocksPerScan: opt((r) => r.prefixBlocks?.blocksPerScan),
      tables: opt((r) => r.prefixBlocks?.tables),
      zeroCopyOpsPerSec: opt((r) => r.zeroCopyScan?.opsPerSec),
      zeroCopySpeedup: opt((r) => (r.zeroCopyScan === undefined ? undefined : r.zeroCopyScan.opsPerSec / r.zeroCopyScan.copyingOpsPerSec)),
    };
    const deleteRange = deleteRangeSummary(list);
    const merge = mergeSummary(list);
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
      ...(deleteRange === undefined ? {} : { deleteRange }),
      ...(merge === undefined ? {} : { merge }),
    });
  }
  return out;
}

function deleteRangeSummary(list: readonly RunResult[]): DeleteRangeSummary | undefined {
  const details = list.map((r) => r.deleteRange).filter((d): d is DeleteRangeResult => d !== undefined);
  if (details.length === 0) return undefined;
  const of = (pick: (d: DeleteRangeResult) => number): Spread => spread(details.map(pick));
  return {
    deletes: of((d) => d.deletes),
    deletesPerSec: of((d) => d.deletesPerSec),
    deleteP50Us: of((d) => d.deleteP50Us),
    deleteP99Us: of((d) => d.deleteP99Us),
    seekP50Us: of((d) => d.seekP50Us),
    seekP99Us: of((d) => d.seekP99Us),
    scanEntries: { none: of((d) => d.scans.none.entries), after: of((d) => d.scans.flushed.entries) },
    scanMs: { none: of((d) => d.scans.none.ms), memtable: of((d) => d.scans.memtable.ms), flushed: of((d) => d.scans.flushed.ms) },
    scanRatioMemtable: of((d) => d.scanRatioMemtable),
    scanRatioFlushed: of((d) => d.scanRatioFlushed),
    scanEntryRatioMemtable: of((d) => d.scanEntryRatioMemtable),
    scanEntryRatioFlushed: of((d) => d.scanEntryRatioFlushed),
  };
}

function mergeSummary(list: readonly RunResult[]): MergeSummary | undefined {
  const details = list.map((r) => r.merge).filter((d): d is MergeResult => d !== undefined);
  if (details.length === 0) return undefined;
  const of = (pick: (d: MergeResult) => number): Spread => spread(details.map(pick));
  return {
    keySpace: of((d) => d.keySpace),
    settleMs: of((d) => d.settleMs),
    readsPerSec: of((d) => d.readsPerSec),
    readP50Us: of((d) => d.readP50Us),
    readP99Us: of((d) => d.readP99Us),
    checked: of((d) => d.checked),
    readsCapped: details.filter((d) => d.reads < d.plannedReads).length,
  };
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
  /** Only these Talus engines' rows are held to it (default: every Talus engine's). */
  readonly engines?: readonly EngineName[];
  /** The peer row: `peer`'s, in `peerWorkload` when given (then without `peer`: the same engine's). */
  readonly peer?: EngineName;
  readonly peerWorkload?: WorkloadName;
  readonly goal: string;
  /** The measured figure (a ratio, or an absolute number when there is no peer). */
  readonly measure: (talus: Summary, peer: Summary | undefined) => number | undefined;
  readonly met: (value: number) => boolean;
}

/**
 * The targets of issue #4 (measured at N = 1,000,000 there; any --num gives an indication), of the
 * range tombstone work (a scan over a range with a few thousand tombstones stays close to one without),
 * of merge operators (a merge is at least as fast as the read-modify-write it replaces), of bulk
 * ingestion (ingesting sorted entries is at least 5x faster than inserting and flushing them: the issue
 * measures 10 million 16 B / 100 B entries) and of prefix extractors (prefix scans over many tables read
 * fewer blocks with one) and of the write-ahead journal (64 writers awaiting durability get at least 10x
 * LevelDB's synced puts through group commit; journaling costs a fill at most 15%).
 */
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
  {
    target: "deleterange full scan, tombstones in memtable vs none",
    workload: "deleterange",
    goal: ">= 0.8x",
    measure: (t) => t.deleteRange?.scanRatioMemtable.median,
    met: (v) => v >= 0.8,
  },
  {
    target: "deleterange full scan, tombstones flushed vs none",
    workload: "deleterange",
    goal: ">= 0.8x",
    measure: (t) => t.deleteRange?.scanRatioFlushed.median,
    met: (v) => v >= 0.8,
  },
  {
    target: "mergerandom merges vs classic-level read-modify-write",
    workload: "mergerandom",
    peer: "classic-level",
    goal: ">= 1x",
    measure: opsRatio,
    met: (v) => v >= 1,
  },
  // Key-value separation (issue #11), meant for --value-size 4096: write amplification with compaction,
  // overwrite speed, and the disk space garbage collection leaves after a major compaction.
  {
    target: "fillrandom write amp (blob tree)",
    workload: "fillrandom",
    engines: ["talus:blob"],
    goal: "<= 1.5",
    measure: (t) => t.writeAmp?.median,
    met: (v) => v <= 1.5,
  },
  {
    target: "overwrite write amp (blob tree)",
    workload: "overwrite",
    engines: ["talus:blob"],
    goal: "<= 1.5",
    measure: (t) => t.writeAmp?.median,
    met: (v) => v <= 1.5,
  },
  { target: "overwrite vs classic-level batched (blob tree)", workload: "overwrite", engines: ["talus:blob"], peer: "classic-level", goal: ">= 2x", measure: opsRatio, met: (v) => v >= 2 },
  {
    target: "overwrite + major compaction disk vs live data (blob tree)",
    workload: "overwrite",
    engines: ["talus:blob"],
    goal: "<= 1.3x",
    measure: (t) => t.spaceAmpCompacted?.median,
    met: (v) => v <= 1.3,
  },
  { target: "ingest vs fillseq (talus)", workload: "ingest", peerWorkload: "fillseq", goal: ">= 5x", measure: opsRatio, met: (v) => v >= 5 },
  // Issue #12 (workers and the read path), at --num 1000000: writes with compaction against LevelDB's
  // batched writes, reads against lmdb, the event loop while compaction runs on worker threads.
  ...(["fillrandom", "overwrite"] as const).map(
    (workload): TargetDef => ({ target: `${workload} with compaction vs classic-level batched (#12)`, workload, engines: ["talus+compaction"], peer: "classic-level", goal: ">= 1.5x", measure: opsRatio, met: (v) => v >= 1.5 }),
  ),
  { target: "seekrandom vs lmdb getRange (#12)", workload: "seekrandom", engines: ["talus"], peer: "lmdb", goal: ">= 1.5x", measure: opsRatio, met: (v) => v >= 1.5 },
  { target: "readseq vs lmdb, copying iterator (#12)", workload: "readseq", engines: ["talus"], peer: "lmdb", goal: ">= 2.5x", measure: opsRatio, met: (v) => v >= 2.5 },
  {
    target: "readseq vs lmdb, zero-copy scan (#12)",
    workload: "readseq",
    engines: ["talus"],
    peer: "lmdb",
    goal: ">= 4x",
    measure: (t, p) => (t.zeroCopyOpsPerSec === undefined || p === undefined ? undefined : t.zeroCopyOpsPerSec.median / p.opsPerSec.median),
    met: (v) => v >= 4,
  },
  {
    target: "fillrandom event-loop delay p99 with compaction, #12 (ms)",
    workload: "fillrandom",
    engines: ["talus+compaction"],
    goal: "< 5 ms",
    measure: (t) => t.eventLoopP99Ms?.median,
    met: (v) => v < 5,
  },
  // The write-ahead journal: durable writes with group commit against LevelDB's synced puts, and what
  // journaling every write costs a fill that never asks for durability.
  {
    target: "fillsync64: 64 writers awaiting durability vs classic-level sync: true",
    workload: "fillsync64",
    engines: ["talus+journal"],
    peer: "classic-level",
    goal: ">= 10x",
    measure: opsRatio,
    met: (v) => v >= 10,
  },
  {
    target: "fillrandom journal cost: talus+journal vs talus+compaction",
    workload: "fillrandom",
    engines: ["talus+journal"],
    peer: "talus+compaction",
    goal: ">= 0.85x",
    measure: opsRatio,
    met: (v) => v >= 0.85,
  },
  // The abstract-level adapter against LevelDB through the same API (#15): what a user of level code gets
  // by switching the database class.
  ...(["fillrandom", "readrandom", "readseq"] as const).map(
    (workload): TargetDef => ({ target: "talus-level vs classic-level, same abstract-level calls", workload, engines: ["talus-level"], peer: "classic-level", goal: ">= 1.0x", measure: opsRatio, met: (v) => v >= 1 }),
  ),
  // io_uring: a multiGet's block reads as one readMany submission against StdFs's one pread per block,
  // with no block cache and no memory maps, so that every block is read through the Fs.
  {
    target: "multiGet 64 keys, cold cache: iouring vs std",
    workload: "multiget",
    engines: ["talus@iouring"],
    peer: "talus",
    goal: ">= 2x",
    measure: opsRatio,
    met: (v) => v >= 2,
  },
  // The same with the page cache cold as well: reads from the device, where the ring's parallelism counts.
  {
    target: "multiGet 64 keys, cold cache and page cache: iouring vs std",
    workload: "multiget-cold",
    engines: ["talus@iouring"],
    peer: "talus",
    goal: ">= 2x",
    measure: opsRatio,
    met: (v) => v >= 2,
  },
  {
    target: "prefixscan blocks read per scan, prefix extractor vs none",
    workload: "prefixscan",
    engines: ["talus:prefix"],
    peer: "talus",
    goal: "< 1x",
    measure: (t, p) => (t.blocksPerScan === undefined || p?.blocksPerScan === undefined ? undefined : t.blocksPerScan.median / p.blocksPerScan.median),
    met: (v) => v < 1,
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
    for (const s of summaries) {
      if (s.workload !== def.workload || !ENGINES[s.engine].talus) continue;
      if (def.engines !== undefined && !def.engines.includes(s.engine)) continue;
      if (def.engines === undefined && ENGINES[s.engine].adapter === true) continue;
      const peerEngine = def.peerWorkload === undefined ? def.peer : (def.peer ?? s.engine);
      const peer = peerEngine === undefined ? undefined : find(summaries, def.peerWorkload ?? def.workload, peerEngine);
      if (peerEngine !== undefined && peer === undefined) continue;
      const measured = def.measure(s, peer);
      if (measured === undefined) continue;
      const peerName = peerEngine === undefined ? "-" : def.peerWorkload === undefined ? peerEngine : `${peerEngine} ${def.peerWorkload}`;
      out.push({ target: def.target, workload: def.workload, engine: s.engine, peer: peerName, measured, goal: def.goal, met: def.met(measured) });
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
    const deletes = rows.some((s) => s.deleteRange !== undefined);
    const merges = rows.some((s) => s.merge !== undefined);
    const ingests = rows.some((s) => s.ingestFinishMs !== undefined);
    const durable = rows.some((s) => s.fillSyncVerified !== undefined);
    const blocks = rows.some((s) => s.blocksPerScan !== undefined);
    const zeroCopy = rows.some((s) => s.zeroCopyOpsPerSec !== undefined);
    const columns: Column[] = [...BASE_COLUMNS];
    // deleterange's latency columns are its point gets'; its seeks and deletes get columns of their own.
    if (deletes) columns.splice(3, 2, { title: "get p50 µs" }, { title: "get p99 µs" });
    // mergerandom's ops, MB/s and latencies are its merges'; its reads get columns of their own.
    if (merges) columns.splice(1, 4, { title: "merges/s" }, { title: "MB/s" }, { title: "merge p50 µs" }, { title: "merge p99 µs" });
    if (fill) columns.push({ title: "loop p99/max ms" }, { title: "write amp" }, { title: "space amp" });
    if (mixed) columns.push({ title: "writes/s" });
    if (deletes) {
      columns.push({ title: `seek+${SEEK_NEXTS} p50/p99 µs` }, { title: "deletes" }, { title: "deletes/s" }, { title: "delete p50/p99 µs" });
    }
    if (merges) columns.push({ title: "settle ms" }, { title: "reads/s" }, { title: "read p50/p99 µs" }, { title: "keys" }, { title: "checked" });
    if (ingests) columns.push({ title: "finish ms" }, { title: "checked" });
    if (durable) columns.push({ title: "checked" });
    if (blocks) columns.push({ title: "tables" }, { title: "blocks/scan" });
    // Beside ops/s rather than at the end: the passes over the same entries are read side by side.
    if (zeroCopy) columns.splice(2, 0, { title: "zero-copy ops/s" }, { title: "vs copying rescan" });
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
      if (deletes) {
        const d = s.deleteRange;
        cells.push(
          pair(d?.seekP50Us, d?.seekP99Us, fmtUs),
          fmtSpread(d?.deletes, fmtInt, r),
          fmtSpread(d?.deletesPerSec, fmtInt, r),
          pair(d?.deleteP50Us, d?.deleteP99Us, fmtUs),
        );
      }
      if (merges) {
        const g = s.merge;
        cells.push(
          fmtSpread(g?.settleMs, fmtInt, r),
          g === undefined ? "-" : `${fmtSpread(g.readsPerSec, fmtInt, r)}${g.readsCapped > 0 ? " *" : ""}`,
          pair(g?.readP50Us, g?.readP99Us, fmtUs),
          fmtSpread(g?.keySpace, fmtInt, r),
          fmtSpread(g?.checked, fmtInt, r),
        );
      }
      if (ingests) cells.push(fmtSpread(s.ingestFinishMs, fmtInt, r), fmtSpread(s.ingestVerified, fmtInt, r));
      if (durable) cells.push(fmtSpread(s.fillSyncVerified, fmtInt, r));
      if (blocks) cells.push(fmtSpread(s.tables, fmtInt, r), fmtSpread(s.blocksPerScan, (n) => fmtFixed(n, 2), r));
      if (zeroCopy) cells.splice(2, 0, fmtSpread(s.zeroCopyOpsPerSec, fmtInt, r), fmtSpread(s.zeroCopySpeedup, fmtRatio, r));
      return cells;
    });
    parts.push(heading(`${workload}: ${WORKLOAD_MEASURES[workload]}`), "", renderTable(columns, body, markdown));
    if (deletes) parts.push("", renderScans(rows, markdown));
    const line = report.ratios
      .filter((x) => x.workload === workload)
      .map((x) => `${x.engine} ${fmtRatio(x.ratio)}`)
      .join(", ");
    const peer = report.ratios.find((x) => x.workload === workload)?.peer;
    if (line.length > 0) parts.push("", `Talus / best peer (${peer}): ${line}`);
    for (const note of WORKLOAD_NOTES[workload]?.(rows) ?? []) parts.push("", note);
    if (rows.some((s) => s.capped > 0 || (s.merge?.readsCapped ?? 0) > 0)) parts.push("", `${markdown ? "\\*" : "*"} stopped by --max-seconds: ops/s and latencies hold, sizes cover only the ops done`);
    parts.push("");
  }
  if (report.targets.length > 0) {
    parts.push(heading("Targets (issue #4; deleterange: range tombstones; mergerandom: merge operators; ingest: bulk ingestion; prefixscan: prefix extractors; blob tree: key-value separation; #12: worker threads and the read path; fillsync64 and talus+journal: the write-ahead journal; multiget: io_uring)"), "");
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
  ingest: "fillseq's entries through the bulk path (Talus: ingestion) until persisted",
  fillrandom: "random inserts until persisted",
  fillsync: `${FILLSYNC_WRITERS.fillsync} writer, each random insert awaited until durable (ops/s = durable writes/s)`,
  fillsync64: `${FILLSYNC_WRITERS.fillsync64} concurrent writers, each random insert awaited until durable (ops/s = durable writes/s of all writers)`,
  overwrite: "updates of existing keys until persisted",
  readrandom: "random point reads, reopened database",
  multiget: `multiGet of ${MULTIGET_KEYS} random existing keys per op, cold block cache, no memory maps (reads through the Fs)`,
  "multiget-cold": `multiGet of ${MULTIGET_KEYS} random existing keys per op, cold block cache and cold OS page cache (reads from the device)`,
  readseq: "full forward scan (ops = entries)",
  seekrandom: "seek + first entry",
  prefixscan: "up to 10 entries under a random prefix",
  readwhilewriting: "random reads (ops/s) with a concurrent writer (writes/s)",
  deleterange: `gets and seeks (ops/s) with a range delete of ${RANGE_WIDTH} keys every ${READS_PER_ROUND} reads (deletes/s)`,
  mergerandom: "merges of 8-byte increments to random keys until persisted (merges/s), then random reads of the counters (reads/s)",
};

const pair = (a: Spread | undefined, b: Spread | undefined, fmt: (n: number) => string): string =>
  a === undefined || b === undefined ? "-" : `${fmt(a.median)} / ${fmt(b.median)}`;

/** deleterange's second table: the full scans before the deletes and after them, side by side. */
function renderScans(rows: readonly Summary[], markdown: boolean): string {
  const columns: Column[] = [
    { title: "full scan", align: "left" },
    { title: "entries before / after" },
    { title: "ms: none" },
    { title: "memtable" },
    { title: "flushed" },
    { title: "vs none: memtable" },
    { title: "flushed" },
    { title: "per entry: memtable" },
    { title: "flushed" },
  ];
  const body = rows.map((s) => {
    const d = s.deleteRange;
    if (d === undefined) return [s.engine, "-", "-", "-", "-", "-", "-", "-", "-"];
    const ms = (x: Spread): string => fmtSpread(x, (n) => fmtFixed(n, 1), s.reps);
    const ratio = (x: Spread): string => fmtSpread(x, fmtRatio, s.reps);
    return [
      s.capped > 0 ? `${s.engine} *` : s.engine,
      pair(d.scanEntries.none, d.scanEntries.after, fmtInt),
      ms(d.scanMs.none),
      ms(d.scanMs.memtable),
      ms(d.scanMs.flushed),
      ratio(d.scanRatioMemtable),
      ratio(d.scanRatioFlushed),
      ratio(d.scanEntryRatioMemtable),
      ratio(d.scanEntryRatioFlushed),
    ];
  });
  return renderTable(columns, body, markdown);
}

/** fillsync's and fillsync64's notes: what each engine waits for. */
function fillSyncNotes(rows: readonly Summary[]): string[] {
  const has = (engine: EngineName): boolean => rows.some((s) => s.engine === engine);
  return [
    "Each writer: one random key (fillrandom's keys), then wait until the write is durable (it would survive a power cut), repeat; the writers share the --num ops and run on the one event loop. " +
      "Timed from the first write until every writer is done; p50/p99: one write and its wait. " +
      `checked: ${FILLSYNC_VERIFY_SAMPLE} of the keys written read back afterwards and compared with their values; a mismatch fails the run.`,
    ...(has("talus+journal")
      ? [
          "talus+journal: tree.insert(), then await tree.persist(): the journal's group commit, one fsync shared by every persist() waiting when it starts (the writes made during it share the next one); " +
            "flushes and compaction as in talus+compaction.",
        ]
      : []),
    ...(has("classic-level")
      ? [
          "classic-level: await db.put(key, value, { sync: true }): LevelDB fsyncs its log before the put resolves. Puts run on libuv's thread pool (4 threads by default), " +
            "so at most 4 writers are inside LevelDB at once; LevelDB groups the writes queued behind its writer lock into one log write and one fsync.",
        ]
      : []),
    ...(has("talus-level")
      ? ["talus-level: classic-level's await db.put(key, value, { sync: true }) over TalusLevel: the write goes to its journal, then tree.persist(), the journal's group commit as in talus+journal."]
      : []),
    ...(has("lmdb")
      ? [
          "lmdb: await db.put(key, value), then await db.flushed (read right after the put). lmdb-js opens with overlappingSync on Linux: a transaction commits without a sync " +
            "and is synced after the write lock is released, and put() is documented to resolve at the commit, db.flushed once it is on disk; only then is the write durable. " +
            "The puts of one event turn share a transaction, so concurrent writers share its commit and its sync.",
        ]
      : []),
  ];
}

/** Lines printed under a workload's table: how to read it where the engines differ in kind. */
const WORKLOAD_NOTES: Partial<Record<WorkloadName, (rows: readonly Summary[]) => string[]>> = {
  multiget: (rows) => [
    `An op is one tree.multiGet of ${MULTIGET_KEYS} uniformly chosen existing keys (hits count keys). The tree is opened with no block cache and mapTables: false, ` +
      "so every data block a call needs is read from its file through the Fs (the OS page cache is warm: this measures the cost of the reads, not of a device); " +
      "multiGet reads them first, together: one Fs.readMany per call, which StdFs runs as one pread per block and IoUringFs submits to its ring at once.",
    ...(rows.some((s) => s.engine === "talus@iouring")
      ? ["talus and talus@iouring read the same prefill (talus'), talus through --fs (StdFs unless --fs iouring), talus@iouring through IoUringFs; the target line holds talus@iouring to >= 2x talus."]
      : []),
  ],
  "multiget-cold": (rows) => [
    `As multiget (no block cache, mapTables: false, one Fs.readMany per call), with the OS page cache cold too: before each call, untimed, every file of the tree is dropped from the page cache ` +
      "(StdFs.evictFromPageCache: posix_fadvise DONTNEED), so each block a call needs is read from the device. ops/s: calls over the time spent in the calls, without the evictions. " +
      "StdFs reads the blocks one pread after another; IoUringFs queues them all on its ring, and the device serves them in parallel.",
    ...(rows.some((s) => s.engine === "talus@iouring") ? ["The target line holds talus@iouring to >= 2x talus (same prefill)."] : []),
  ],
  fillsync: fillSyncNotes,
  fillsync64: fillSyncNotes,
  readseq: (rows) =>
    rows.some((s) => s.zeroCopyOpsPerSec !== undefined)
      ? [
          "ops/s, MB/s and latencies: the first pass after the reopen, through the copying iterator (Talus: tree.iter, a fresh copy of every key and value). " +
            "Talus then reads the same entries twice more: through the copying iterator again (the rescan), then through tree.scan, whose visitor gets views of the engine's memory, " +
            "valid during the call, and copies nothing. zero-copy ops/s: that last pass; vs copying rescan: its speed over the rescan's, both reading what the first pass left in the caches. " +
            "The other engines have no such scan (-).",
        ]
      : [],
  ingest: (rows) => {
    const has = (store: string): boolean => rows.some((s) => ENGINES[s.engine].store === store);
    return [
      "fillseq's --num sequential keys and values, loaded into an empty database through each engine's bulk path and timed until persisted (finish ms: the part spent finishing the load); " +
        `then ${VERIFY_SAMPLE} keys spread over the load are read back and compared with the values written, and the key after the last must read nothing (checked); a mismatch fails the run. ` +
        "fillseq's table has the same entries written one by one; the target line holds Talus' ingest to >= 5x its own fillseq of this run.",
      ...(rows.some((s) => isTalusTree(s.engine))
        ? [
            "talus: tree.ingestion(), write() per key in order straight into table files (with L0's options, as fillseq's flushes), " +
              "then finish() flushes the (empty) memtable and installs the tables as one L0 run at one seqno; talus+compaction then compacts in settle(), as in fillseq.",
          ]
        : []),
      ...(has("classic-level")
        ? ["classic-level: not an ingestion, LevelDB has none (classic-level exposes no external table files): fillseq's path again, batch()es of --batch sorted puts (plain: await put())."]
        : []),
      ...(has("talus-level") ? ["talus-level: classic-level's batch()es of --batch sorted puts over TalusLevel, whose abstract-level API has no ingestion either."] : []),
      ...(has("lmdb")
        ? [
            "lmdb: not an ingestion, LMDB has no table files to ingest: its sorted bulk load, putSync(key, value, { append: true }) (MDB_APPEND) for every key inside one transactionSync(), " +
              "visible at one commit as Talus' load is at finish(); the whole load is one pause of the event loop (plain: fillseq's await put())."]
        : []),
    ];
  },
  prefixscan: (rows) => {
    if (!rows.some((s) => isTalusTree(s.engine))) return [];
    return [
      `The data set is written prefix by prefix in a shuffled prefix order, and Talus' prefill flushes every 1/${PREFIX_PREFILL_TABLES} of it (or every --memtable-mb if smaller): ` +
        "its tree has many L0 tables (tables), each holding a few whole prefixes spread over the key space, so most tables' key ranges overlap prefixes they do not hold. " +
        "talus:prefix opens these files with a 2-byte prefix extractor (the prefill wrote each table's prefixes into its filter); talus opens the same files without one and never asks the prefix filter.",
      `blocks/scan: positional reads per scan over min(--reads, ${PROBE_SCANS}) scans of the workload's prefixes, untimed, on the tree reopened after the timed scans with the block cache off ` +
        "and a counting Fs, after one uncounted scan of every prefix; index and filter blocks are pinned at open and nothing is read ahead without a cache, so each read is one data block. " +
        "The timed scans (ops/s) use the --cache-mb block cache. The target line holds talus:prefix's blocks/scan below talus'.",
    ];
  },
  deleterange: (rows) => {
    const has = (store: string): boolean => rows.some((s) => ENGINES[s.engine].store === store);
    return [
      `Each round: ${GETS_PER_ROUND} gets, ${SEEKS_PER_ROUND} seeks + ${SEEK_NEXTS} nexts, then one range delete of ${RANGE_WIDTH} keys; ops/s counts the reads over the time spent reading, ` +
        "deletes/s the range deletes over the time spent deleting.",
      `Full scan: the whole data set, best of ${SCAN_REPEATS}, before any delete (none), after the deletes (memtable: Talus holds the tombstones there) and after settle() (flushed: Talus wrote them to a table). ` +
        "vs none: the scan's time without tombstones over its time with them, the same key range (above 1x: faster with them, as deleted keys are not returned); " +
        "per entry: the same per entry returned (below 1x: stepping over deleted entries costs).",
      ...(has("classic-level") ? ["classic-level: db.clear({ gte, lt }); LevelDB has no range tombstone, so clear() writes a point delete per key it finds in the range."] : []),
      ...(has("talus-level") ? ["talus-level: the same db.clear({ gte, lt }) over TalusLevel, which writes it as one range tombstone."] : []),
      ...(has("lmdb") ? [`lmdb: emulated, LMDB has no range delete: removeSync() of the range's ${RANGE_WIDTH} known keys in one transaction (a real range delete would also have to find them).`] : []),
    ];
  },
  mergerandom: (rows) => {
    const has = (store: string): boolean => rows.some((s) => ENGINES[s.engine].store === store);
    return [
      `--num merges of an increment of 1..${MAX_INCREMENT} (an 8-byte little-endian integer) to random keys of --num / ${OPERANDS_PER_KEY} keys (about ${OPERANDS_PER_KEY} operands a key), ` +
        "timed until persisted (the merge loop plus settle(), shown apart); then --reads random gets of the counters, timed apart (reads/s). " +
        `checked: counters compared with a model of the sums (up to ${CHECK_SAMPLE} keys after the merges and again after the reads, plus the hits of every read); a mismatch fails the run.`,
      ...(rows.some((s) => isTalusTree(s.engine)) ? ["talus: tree.merge() with mergeOperator counterMerge; reads merge the operands, flush and compaction collapse them."] : []),
      ...(has("classic-level")
        ? ["classic-level: emulated, LevelDB has no merge operator: a read-modify-write per merge (getSync() and puts in batch()es of --batch; plain: await get() and await put())."]
        : []),
      ...(has("talus-level") ? ["talus-level: classic-level's emulation (getSync() and batch()es of --batch puts) over TalusLevel, whose abstract-level API has no merge."] : []),
      ...(has("lmdb") ? ["lmdb: emulated, LMDB has no merge operator: a read-modify-write per merge, get() and putSync() in one transactionSync() per --batch merges (plain: one awaited transaction() per merge)."] : []),
    ];
  },
};

