/**
 * Workload name → the function that runs it in a child.
 *
 * @module
 */
import type { WorkloadName } from "../catalog.ts";
import { deleteRangeWhileReading } from "./deleterange.ts";
import type { Measured, WorkloadContext } from "./driver.ts";
import { fill } from "./fill.ts";
import { fillSync, FILLSYNC_WRITERS } from "./fillsync.ts";
import { ingest } from "./ingest.ts";
import { mergeRandom } from "./mergerandom.ts";
import { readWhileWriting } from "./mixed.ts";
import { multiGetCold, multiGetRandom, prefixScan, readRandom, readSeq, seekRandom } from "./read.ts";

export type { Measured, WorkloadContext } from "./driver.ts";

export function runWorkload(name: WorkloadName, ctx: WorkloadContext): Promise<Measured> {
  switch (name) {
    case "fillseq":
      return fill(ctx, "sequential");
    case "ingest":
      return ingest(ctx);
    case "fillrandom":
      return fill(ctx, "random");
    case "fillsync":
    case "fillsync64":
      return fillSync(ctx, FILLSYNC_WRITERS[name]);
    case "overwrite":
      return fill(ctx, "existing");
    case "readrandom":
      return readRandom(ctx);
    case "multiget":
      return multiGetRandom(ctx);
    case "multiget-cold":
      return multiGetCold(ctx);
    case "readseq":
      return readSeq(ctx);
    case "seekrandom":
      return seekRandom(ctx);
    case "prefixscan":
      return prefixScan(ctx);
    case "readwhilewriting":
      return readWhileWriting(ctx);
    case "deleterange":
      return deleteRangeWhileReading(ctx);
    case "mergerandom":
      return mergeRandom(ctx);
  }
}
