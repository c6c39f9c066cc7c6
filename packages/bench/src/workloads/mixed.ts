/**
 * readwhilewriting on one event loop: a reader task doing random point reads and a writer task
 * inserting random new keys, each in slices of `--batch / 10` ops with a yield after every slice, so
 * that neither can starve the other (like request handlers of one server). Engines whose writes run on
 * another thread (lmdb's write thread, LevelDB's thread pool) overlap them with the reads; Talus'
 * inserts are synchronous and share the thread. The reads are what is timed; the writes done in the
 * same time are reported beside them.
 *
 * @module
 */
import { keyStream } from "../data.ts";
import { newTally } from "../engines/types.ts";
import { LatencyRecorder } from "../stats.ts";
import { drive, yieldToLoop, type Measured, type WorkloadContext } from "./driver.ts";

export async function readWhileWriting(ctx: WorkloadContext): Promise<Measured> {
  const slice = Math.max(1, Math.floor(ctx.batch / 10));
  const readKeys = keyStream("existing", ctx.keySize, ctx.seed + 404, ctx.num);
  const writeKeys = keyStream("random", ctx.keySize, ctx.seed + 505, ctx.num);
  const readRec = new LatencyRecorder();
  const writeRec = new LatencyRecorder();
  const tally = newTally();
  let stop = false;
  let written = 0;
  const writer = (async () => {
    while (!stop && written < ctx.num) {
      const to = Math.min(ctx.num, written + slice);
      const pending = ctx.db.write(writeKeys, ctx.values, written, to, writeRec);
      if (pending !== undefined) await pending;
      written = to;
      await yieldToLoop();
    }
  })();
  const { seconds, done } = await drive(ctx.reads, slice, ctx.maxSeconds, ctx.progress, (from, to) => ctx.db.get(readKeys, from, to, readRec, tally));
  stop = true;
  await writer;
  return {
    ops: done,
    plannedOps: ctx.reads,
    seconds,
    bytes: tally.bytes,
    latencyUs: readRec.summary(),
    hits: tally.hits,
    items: tally.items,
    writes: { ops: written, opsPerSec: written / seconds, p99Us: writeRec.summary().p99 },
  };
}
