/**
 * The parent side: plans the jobs (prefills once per store and data set; every workload × engine ×
 * repetition, engines interleaved and rotated per repetition), runs each in a child process, and turns
 * the results into a report.
 *
 * @module
 */
import { fork } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { RunOptions } from "./args.ts";
import { ENGINES, runsOn, SKIPPED_WORKLOADS, WORKLOAD_NAMES, WORKLOADS, type EngineName, type WorkloadName } from "./catalog.ts";
import { fmtInt, fmtUs } from "./format.ts";
import { machine } from "./measure.ts";
import { Progress } from "./progress.ts";
import { checkTargets, ratios, summarize } from "./report.ts";
import type { BenchReport, ChildMessage, ChildSettings, Failure, Job, PrefillResult, RunResult } from "./results.ts";

const CLI = fileURLToPath(new URL("./cli.ts", import.meta.url));

/** Internal argv[0] that makes the CLI run as a child. */
export const CHILD_FLAG = "__child";

export interface PlannedJob {
  readonly workload: WorkloadName;
  readonly engine: EngineName;
  readonly rep: number;
}

/**
 * The run order: repetitions outermost, then workloads, then engines (rotated each repetition). An engine
 * limited to some workloads (`talus:prefix`) is left out of the others, and a workload limited to some
 * engines (fillsync) runs on those only.
 */
export function plan(o: Pick<RunOptions, "workloads" | "engines" | "reps">): PlannedJob[] {
  const workloads = WORKLOAD_NAMES.filter((w) => o.workloads.includes(w));
  const out: PlannedJob[] = [];
  for (let rep = 1; rep <= o.reps; rep++) {
    const shift = (rep - 1) % o.engines.length;
    const engines = [...o.engines.slice(shift), ...o.engines.slice(0, shift)];
    for (const workload of workloads) {
      for (const engine of engines) if (runsOn(workload, engine)) out.push({ workload, engine, rep });
    }
  }
  return out;
}

function prefillsNeeded(jobs: readonly PlannedJob[]): Set<string> {
  const out = new Set<string>();
  for (const j of jobs) {
    const dataset = WORKLOADS[j.workload].dataset;
    if (dataset !== "none") out.add(`${ENGINES[j.engine].store}:${dataset}`);
  }
  return out;
}

const slug = (s: string): string => s.replace(/[^a-z0-9-]+/gi, "_");

const label = (job: PlannedJob, reps: number): string => `${job.workload.padEnd(16)} ${job.engine.padEnd(19)} rep ${job.rep}/${reps}`;

export async function runBench(o: RunOptions, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<BenchReport> {
  const started = performance.now();
  const host = machine();
  const parent = o.dir === undefined ? tmpdir() : resolve(o.dir);
  mkdirSync(parent, { recursive: true });
  const root = mkdtempSync(join(parent, "talus-bench-"));
  const settings: ChildSettings = {
    num: o.num,
    reads: o.reads,
    maxSeconds: o.maxSeconds,
    keySize: o.keySize,
    valueSize: o.valueSize,
    seed: o.seed,
    batch: o.batch,
    memtableMb: o.memtableMb,
    talusCompression: o.talusCompression,
    fs: o.fs,
    cacheMb: o.cacheMb,
    talusCacheMb: o.talusCacheMb,
    seekNexts: o.seekNexts,
  };
  const jobs = plan(o);
  const progress = new Progress(jobs.length + prefillsNeeded(jobs).size);
  log(`talus bench: ${jobs.length} runs, --num ${fmtInt(o.num)}, databases in ${root}`);
  for (const [name, why] of Object.entries(SKIPPED_WORKLOADS)) log(`${name}: ${why}`);
  const prefillDirs = new Map<string, string | Failure>();
  const prefills: PrefillResult[] = [];
  const runs: RunResult[] = [];
  const failures: Failure[] = [];
  const fail = (failure: Failure): void => {
    failures.push(failure);
    progress.finish(`FAILED: ${failure.message.split("\n")[0] ?? ""}`);
    log(failure.message);
  };
  try {
    for (const job of jobs) {
      const info = WORKLOADS[job.workload];
      let dir: string;
      let scratch = true;
      if (info.dataset === "none") {
        dir = join(root, `${job.workload}-${slug(job.engine)}-r${job.rep}`);
      } else {
        const store = ENGINES[job.engine].store;
        const key = `${store}:${info.dataset}`;
        let source = prefillDirs.get(key);
        if (source === undefined) {
          source = join(root, `prefill-${slug(store)}-${info.dataset}`);
          progress.start(`prefill ${info.dataset} ${store}`);
          try {
            const p = await runChild({ kind: "prefill", dataset: info.dataset, engine: store, dir: source, settings }, o, progress, undefined);
            if (p.type !== "prefilled") throw new Error("the prefill child sent no result");
            prefills.push(p.result);
            progress.finish(`${p.result.seconds.toFixed(1)} s`);
          } catch (error) {
            source = { workload: "prefill", engine: store, rep: job.rep, message: error instanceof Error ? error.message : String(error) };
            fail(source);
          }
          prefillDirs.set(key, source);
        }
        if (typeof source !== "string") {
          progress.start(label(job, o.reps));
          fail({ ...job, message: `no ${info.dataset} prefill: ${source.message.split("\n")[0] ?? ""}` });
          continue;
        }
        if (info.writes) {
          dir = join(root, `${job.workload}-${slug(job.engine)}-r${job.rep}`);
          cpSync(source, dir, { recursive: true });
        } else {
          dir = source;
          scratch = false;
        }
      }
      mkdirSync(dir, { recursive: true });
      progress.start(label(job, o.reps));
      const profile = o.cpuProfDir === undefined ? undefined : `${job.workload}-${slug(job.engine)}-r${job.rep}.cpuprofile`;
      try {
        const m = await runChild({ kind: "workload", workload: job.workload, engine: job.engine, rep: job.rep, dir, settings }, o, progress, profile);
        if (m.type !== "result") throw new Error("the workload child sent no result");
        runs.push(m.result);
        const r = m.result;
        progress.finish(`${fmtInt(r.opsPerSec)} ops/s  p99 ${fmtUs(r.p99Us)} µs  ${r.seconds.toFixed(1)} s`);
      } catch (error) {
        fail({ ...job, message: error instanceof Error ? error.message : String(error) });
      }
      if (scratch && !o.keep) rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    if (!o.keep) rmSync(root, { recursive: true, force: true });
  }
  const summaries = summarize(runs);
  return {
    tool: "@talus/bench",
    formatVersion: 1,
    date: new Date().toISOString(),
    machine: host,
    options: { ...o },
    totalSeconds: (performance.now() - started) / 1000,
    skipped: SKIPPED_WORKLOADS,
    prefills,
    runs,
    failures,
    summaries,
    ratios: ratios(summaries),
    targets: checkTargets(summaries),
  };
}

function runChild(job: Job, o: RunOptions, progress: Progress, profileName: string | undefined): Promise<Exclude<ChildMessage, { type: "progress" } | { type: "error" }>> {
  const execArgv = [...process.execArgv];
  if (o.cpuProfDir !== undefined && profileName !== undefined) {
    const dir = resolve(o.cpuProfDir);
    mkdirSync(dir, { recursive: true });
    execArgv.push("--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${profileName}`);
  }
  return new Promise((resolvePromise, reject) => {
    const child = fork(CLI, [CHILD_FLAG, JSON.stringify(job)], { execArgv, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let answer: Exclude<ChildMessage, { type: "progress" } | { type: "error" }> | undefined;
    let failure: string | undefined;
    child.on("message", (raw) => {
      const msg = raw as ChildMessage;
      if (msg.type === "progress") progress.update(msg.done, msg.total);
      else if (msg.type === "error") failure = msg.message;
      else answer = msg;
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      const what = job.kind === "prefill" ? `prefill ${job.dataset} on ${job.engine}` : `${job.workload} on ${job.engine}`;
      if (failure !== undefined) reject(new Error(`${what} failed: ${failure}`));
      else if (answer === undefined || code !== 0) reject(new Error(`${what}: the child exited with ${signal ?? `code ${String(code)}`} without a result`));
      else resolvePromise(answer);
    });
  });
}
