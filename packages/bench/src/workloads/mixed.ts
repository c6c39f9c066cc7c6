/**
 * readwhilewriting on one event loop: a reader task doing random point reads and a writer task inserting
 * random new keys, like two request handlers of one server. They take **turns of equal time**
 * ({@link TURN_MS}): each runs its ops in chunks of {@link CHUNK} until its turn is over, then yields.
 * Equal time rather than equal op counts, because that is what db_bench's dedicated writer thread amounts
 * to: the writer goes as fast as the engine lets it, and each engine's reads/s and writes/s then show
 * what one op of each costs it. (With equal op counts every engine would report writes/s = reads/s.)
 *
 * Engines whose writes complete on another thread (lmdb's write thread, LevelDB's thread pool) overlap
 * them with the reader's turns: an awaited write hands the loop to the reader. Talus' inserts are
 * synchronous and share the thread. The reads are what is timed; the writes done meanwhile are
 * reported beside them. The writer keeps writing until the reads are done.
 *
 * @module
 */
import { keyStream } from "../data.ts";
import { newTally } from "../engines/types.ts";
import { LatencyRecorder } from "../stats.ts";
import { yieldToLoop, type Measured, type WorkloadContext } from "./driver.ts";

/** Length of one task's turn on the event loop, ms. */
export const TURN_MS = 1;
/** Ops between two clock checks inside a turn. */
export const CHUNK = 10;

export async function readWhileWriting(ctx: WorkloadContext): Promise<Measured> {
  const readKeys = keyStream("existing", ctx.keySize, ctx.seed + 404, ctx.num);
  const writeKeys = keyStream("random", ctx.keySize, ctx.seed + 505, ctx.num);
  const readRec = new LatencyRecorder();
  const writeRec = new LatencyRecorder();
  const tally = newTally();
  let stop = false;
  let written = 0;
  const writer = (async () => {
    while (!stop) {
      written = await turn(written, Number.POSITIVE_INFINITY, (from, to) => ctx.db.write(writeKeys, ctx.values, from, to, writeRec));
      await yieldToLoop();
    }
  })();
  const t0 = performance.now();
  const deadline = t0 + ctx.maxSeconds * 1000;
  let done = 0;
  try {
    while (done < ctx.reads && performance.now() < deadline) {
      done = await turn(done, ctx.reads, (from, to) => ctx.db.get(readKeys, from, to, readRec, tally));
      ctx.progress(done, ctx.reads);
      await yieldToLoop();
    }
  } finally {
    stop = true;
    await writer;
  }
  const seconds = (performance.now() - t0) / 1000;
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

/** Runs `step` in chunks from op `from` until {@link TURN_MS} has passed or `total` is reached; returns the next op. */
async function turn(from: number, total: number, step: (from: number, to: number) => void | Promise<void>): Promise<number> {
  const end = performance.now() + TURN_MS;
  let done = from;
  do {
    const to = Math.min(total, done + CHUNK);
    const pending = step(done, to);
    if (pending !== undefined) await pending;
    done = to;
  } while (done < total && performance.now() < end);
  return done;
}
