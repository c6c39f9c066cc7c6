/**
 * The entry point of a compaction worker thread (the module the pool loads): runs one job per call
 * and reports its outcome as data, so that an error keeps its `code` across the thread boundary.
 *
 * @module
 */
import type { JobError, MergeJob, MergeJobOutcome } from "./merge-job.ts";
import { runMergeJob } from "./run-merge-job.ts";

function describeError(error: unknown): JobError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === "string" ? { code } : {}), ...(error.stack === undefined ? {} : { stack: error.stack }) };
  }
  return { name: "Error", message: String(error) };
}

export default async function runJob(job: MergeJob): Promise<MergeJobOutcome> {
  try {
    const tables = await runMergeJob(job);
    return { ok: true, tables };
  } catch (error) {
    return { ok: false, error: describeError(error) };
  }
}
