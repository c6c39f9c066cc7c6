/**
 * The child side: one prefill or one workload on one engine, in a process of its own so that every
 * measurement starts from a cold heap and a freshly opened database, and peak RSS is the workload's.
 *
 * @module
 */
import { isTalusTree, WORKLOADS } from "./catalog.ts";
import { ValuePool } from "./data.ts";
import { openEngine } from "./engines/index.ts";
import type { BenchDb } from "./engines/types.ts";
import { bytesWrittenByProcess, diskUsage, peakRssBytes } from "./measure.ts";
import type { ChildMessage, ChildSettings, Job, RunResult } from "./results.ts";
import { fill } from "./workloads/fill.ts";
import { runWorkload, type WorkloadContext } from "./workloads/index.ts";
import { prefixPrefillMemtableBytes, probeBlockReads, PROBE_SCANS } from "./workloads/prefix-blocks.ts";

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined) {
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => resolve());
  });
}

function progressReporter(): (done: number, total: number) => void {
  let last = performance.now();
  return (done, total) => {
    const now = performance.now();
    if (now - last < 250 && done < total) return;
    last = now;
    void send({ type: "progress", done, total });
  };
}

function context(db: BenchDb, s: ChildSettings, timeLimited: boolean): WorkloadContext {
  return {
    db,
    num: s.num,
    reads: s.reads,
    maxSeconds: timeLimited ? s.maxSeconds : Number.POSITIVE_INFINITY,
    keySize: s.keySize,
    valueSize: s.valueSize,
    seed: s.seed,
    batch: s.batch,
    seekNexts: s.seekNexts,
    values: new ValuePool(s.valueSize, s.seed),
    progress: progressReporter(),
  };
}

/**
 * `cacheMb` overrides the run's block cache (prefixscan's block probe turns it off). multiget opens Talus
 * (and multiget-cold) with no block cache and without memory maps: every data block a multiGet needs is
 * read through the Fs.
 */
async function open(job: Job, countIo: boolean, cacheMb?: number): Promise<BenchDb> {
  const merge = job.kind === "workload" && job.workload === "mergerandom";
  const coldReads = job.kind === "workload" && (job.workload === "multiget" || job.workload === "multiget-cold");
  if (coldReads) cacheMb = 0;
  // Talus' prefix prefill: many tables, each filter holding its keys' prefixes (see workloads/prefix-blocks.ts).
  const prefixPrefill = job.kind === "prefill" && job.dataset === "prefix" && isTalusTree(job.engine);
  const s = job.settings;
  return openEngine({
    engine: job.engine,
    dir: job.dir,
    keySize: s.keySize,
    batch: s.batch,
    memtableBytes: prefixPrefill ? prefixPrefillMemtableBytes(s) : Math.round(s.memtableMb * 1024 * 1024),
    talusCompression: s.talusCompression,
    talusFs: s.fs ?? "std",
    cacheMb: cacheMb ?? s.cacheMb,
    talusCacheMb: cacheMb ?? s.talusCacheMb,
    countIo,
    ...(merge ? { mergeOperator: true } : {}),
    ...(coldReads ? { mapTables: false } : {}),
    ...(prefixPrefill ? { prefixExtractor: true } : {}),
  });
}

export async function runChild(job: Job): Promise<void> {
  try {
    if (job.kind === "prefill") {
      const db = await open(job, false);
      const m = await fill(context(db, job.settings, false), job.dataset === "prefix" ? "prefix" : "sequential");
      await db.close();
      await send({ type: "prefilled", result: { dataset: job.dataset, engine: job.engine, seconds: m.seconds, diskBytes: diskUsage(job.dir) } });
    } else {
      await send({ type: "result", result: await runJob(job) });
    }
  } catch (error) {
    await send({ type: "error", message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.exitCode = 1;
  }
  process.disconnect?.();
}

async function runJob(job: Extract<Job, { kind: "workload" }>): Promise<RunResult> {
  const s = job.settings;
  const baseRssBytes = process.memoryUsage.rss();
  const info = WORKLOADS[job.workload];
  // The block probe and the write amplification need the tree's counting Fs, which the adapter has not.
  const talus = isTalusTree(job.engine);
  const t0 = performance.now();
  const db = await open(job, info.writes);
  const openMs = performance.now() - t0;
  const ctx = context(db, s, true);
  const wchar0 = bytesWrittenByProcess();
  const fsWritten0 = fsBytesWritten(db);
  const m = await runWorkload(job.workload, ctx);
  const fsWritten1 = fsBytesWritten(db);
  const engineStats = db.stats();
  const t1 = performance.now();
  await db.close();
  const closeMs = performance.now() - t1;
  const diskBytes = diskUsage(job.dir);
  const wchar1 = bytesWrittenByProcess();
  // Untimed, after the workload's own numbers: reopen, compact everything, close, and measure what is
  // left. After close, because until the next change the tree keeps what reads at snapshots below the
  // compaction's watermark need (the files it replaced) on disk.
  let diskAfterMajor: number | undefined;
  if (job.workload === "overwrite" && db.majorCompact !== undefined) {
    const again = await open(job, false);
    try {
      await again.majorCompact?.();
    } finally {
      await again.close();
    }
    diskAfterMajor = diskUsage(job.dir);
  }
  let prefixBlocks: RunResult["prefixBlocks"];
  if (job.workload === "prefixscan" && talus) {
    const probe = await open(job, true, 0);
    try {
      prefixBlocks = await probeBlockReads(probe, s.seed, Math.min(PROBE_SCANS, s.reads));
    } finally {
      await probe.close();
    }
  }
  // Overwrite rewrites keys of a full prefill; a fill holds what it got to write.
  const liveBytes = (job.workload === "overwrite" ? s.num : m.ops) * (s.keySize + s.valueSize);
  const userWritten = m.userBytesWritten;
  return {
    workload: job.workload,
    engine: job.engine,
    rep: job.rep,
    ops: m.ops,
    plannedOps: m.plannedOps,
    seconds: m.seconds,
    opsPerSec: m.ops / m.seconds,
    mbPerSec: m.bytes / m.seconds / 1e6,
    p50Us: m.latencyUs.p50,
    p99Us: m.latencyUs.p99,
    maxUs: m.latencyUs.max,
    diskBytes,
    peakRssBytes: peakRssBytes(),
    baseRssBytes,
    openMs,
    closeMs,
    ...(m.hits === undefined ? {} : { hits: m.hits }),
    ...(m.items === undefined ? {} : { items: m.items }),
    ...(m.eventLoop === undefined ? {} : { eventLoop: m.eventLoop }),
    ...(m.writes === undefined ? {} : { writes: m.writes }),
    ...(m.deleteRange === undefined ? {} : { deleteRange: m.deleteRange }),
    ...(m.merge === undefined ? {} : { merge: m.merge }),
    ...(m.ingest === undefined ? {} : { ingest: m.ingest }),
    ...(m.fillSync === undefined ? {} : { fillSync: m.fillSync }),
    ...(m.zeroCopyScan === undefined ? {} : { zeroCopyScan: m.zeroCopyScan }),
    ...(prefixBlocks === undefined ? {} : { prefixBlocks }),
    ...(userWritten !== undefined && talus && fsWritten0 !== undefined && fsWritten1 !== undefined
      ? { writeAmp: (fsWritten1 - fsWritten0) / userWritten }
      : {}),
    ...(userWritten !== undefined && wchar0 !== undefined && wchar1 !== undefined ? { wcharAmp: (wchar1 - wchar0) / userWritten } : {}),
    ...(info.fill ? { spaceAmp: diskBytes / liveBytes } : {}),
    ...(diskAfterMajor === undefined ? {} : { spaceAmpCompacted: diskAfterMajor / liveBytes }),
    engineStats,
  };
}

function fsBytesWritten(db: BenchDb): number | undefined {
  const v = db.stats()["fsBytesWritten"];
  return typeof v === "number" ? v : undefined;
}
