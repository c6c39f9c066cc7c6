/**
 * The main thread's side of the worker executor: pools of threads shared by every tree in the process,
 * made when the first job needs one. Flushes have a pool of their own (one thread), so that a flush is
 * never queued behind a long compaction: writers wait for flushes (memory is bounded by them), not for
 * compactions. Compactions get a pool per thread count the trees ask for. Idle threads do not keep the
 * process alive and exit after a minute without work; a thread that dies is replaced by the pool for
 * the next job.
 *
 * @module
 */
import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { isLsmErrorCode, LsmError } from "../errors.ts";
import type { WrittenTable } from "../table/index.ts";
import type { JobError, MergeJob, MergeJobOutcome } from "./merge-job.ts";

/** Running from sources (tests, the bench): the worker loads TypeScript through tsx, as the main thread does. */
const FROM_SOURCE = import.meta.url.endsWith(".ts");
const ENTRY = new URL(FROM_SOURCE ? "./worker-from-source.mjs" : "./worker-main.js", import.meta.url).href;
const IDLE_TIMEOUT_MS = 60_000;
const FLUSH_NICE = 5;
const COMPACTION_NICE = 10;

/** One worker on two cores (the other runs the event loop), more on bigger machines, up to 4. */
export function defaultWorkerCount(): number {
  return Math.min(4, Math.max(1, availableParallelism() - 1));
}

/** What a job is, for the pool that runs it. */
export type JobRole = "flush" | "compaction";

const pools = new Map<string, Piscina<MergeJob, MergeJobOutcome>>();

/** Flags (with a value) that shape how the worker resolves and loads modules: the main thread's are passed on. */
const LOADING_FLAGS = new Set(["--conditions", "-C", "--import", "--require", "-r", "--loader", "--experimental-loader"]);

/**
 * The worker's node flags: only those that decide which files modules load from (export conditions,
 * loaders), since a worker refuses process-wide flags such as `--expose-gc`.
 */
function execArgv(): string[] {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const eq = arg.indexOf("=");
    if (eq > 0 && LOADING_FLAGS.has(arg.slice(0, eq))) out.push(arg);
    else if (LOADING_FLAGS.has(arg) && i + 1 < args.length) out.push(arg, args[++i] as string);
  }
  return out;
}

function poolOf(role: JobRole, compactionThreads: number): Piscina<MergeJob, MergeJobOutcome> {
  const threads = role === "flush" ? 1 : compactionThreads;
  const key = `${role}:${threads}`;
  let pool = pools.get(key);
  if (pool === undefined) {
    pool = new Piscina<MergeJob, MergeJobOutcome>({
      filename: ENTRY,
      name: "default",
      // Idle threads exit; one is started right away so the first job does not wait for a thread to load.
      minThreads: 1,
      maxThreads: threads,
      idleTimeout: IDLE_TIMEOUT_MS,
      execArgv: execArgv(),
      // Compaction jobs are long and few: a thread takes one at a time.
      concurrentTasksPerWorker: 1,
      // Below the event loop's priority (where the OS allows): on a machine with fewer cores than
      // busy threads, the host's requests and the writers go first; flushes, which writers wait for
      // once memtables pile up, before compactions.
      niceIncrement: role === "flush" ? FLUSH_NICE : COMPACTION_NICE,
    });
    pools.set(key, pool);
  }
  return pool;
}

function rebuild(error: JobError): Error {
  const rebuilt = isLsmErrorCode(error.code) ? new LsmError(error.code, error.message) : Object.assign(new Error(error.message), error.code === undefined ? {} : { code: error.code });
  if (!(rebuilt instanceof LsmError)) rebuilt.name = error.name;
  if (error.stack !== undefined) rebuilt.stack = `${error.stack}\n    (in a compaction worker thread)`;
  return rebuilt;
}

/**
 * Runs `job` on the flush thread or on a pool of `threads` compaction threads. Resolves to the tables it wrote (synced, folder
 * synced); rejects with the job's own error (its code kept), or with `WORKER_FAILED` when the thread
 * died before it could report.
 */
export async function runOnWorker(job: MergeJob, role: JobRole, threads: number): Promise<WrittenTable[]> {
  let outcome: MergeJobOutcome;
  try {
    outcome = await poolOf(role, threads).run(job);
  } catch (error) {
    throw new LsmError("WORKER_FAILED", `the ${role} worker thread failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (!outcome.ok) throw rebuild(outcome.error);
  return [...outcome.tables];
}
