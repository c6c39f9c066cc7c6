/**
 * mergerandom: db_bench's merges of 8-byte increments to random keys (`--benchmarks=mergerandom` with
 * the `uint64add` operator), then random reads of the merged counters, on an empty database.
 *
 * **Merges**: `--num` ops, op `i` adding an increment of 1..{@link MAX_INCREMENT} (an 8-byte
 * little-endian integer) to a uniformly chosen key of a key space of `--num / {@link OPERANDS_PER_KEY}`
 * keys, so that a key gets about {@link OPERANDS_PER_KEY} operands (db_bench's `--merge_keys`). Talus
 * writes merge operands (`tree.merge`, the tree opened with `counterMerge`); classic-level and lmdb have
 * no merge operator and emulate one with a read-modify-write per merge (see their engines). Timed until
 * persisted, as the fills: the merge loop plus `settle()` (Talus' last flush; `talus+compaction` also
 * compacts, collapsing the operands). ops/s counts the merges over that time; p50/p99 are the merges'.
 *
 * **Reads**: `--reads` gets of uniformly chosen keys of the key space, timed apart (reads/s, with their
 * own p50/p99). Talus merges the operands of a key at read time unless a flush or compaction already did.
 *
 * **Checked**: the bench keeps a model of every key's sum and fails the run (an error, so the report
 * shows `FAILED`) when the hits of the reads differ from the model's, when a read value is not an 8-byte
 * counter, or when any of {@link CHECK_SAMPLE} counters spread over the key space (read untimed, once
 * after the merge loop and once after the reads) differs from its sum.
 *
 * @module
 */
import { COUNTER_BYTES, MAX_INCREMENT, mergeStream, pick, readCounter, sequentialKeyInto, type KeyStream } from "../data.ts";
import { newTally, type BenchDb } from "../engines/types.ts";
import { LatencyRecorder } from "../stats.ts";
import { drive, type Measured, type WorkloadContext } from "./driver.ts";

/** Merges per key on average: the key space is `--num / OPERANDS_PER_KEY` keys. */
export const OPERANDS_PER_KEY = 8;
/** Counters compared with the model at each check (every key when the key space is smaller). */
export const CHECK_SAMPLE = 1000;

export { MAX_INCREMENT };

/** Keys of mergerandom's key space for `num` merges. */
export function mergeKeySpace(num: number): number {
  return Math.max(1, Math.ceil(num / OPERANDS_PER_KEY));
}

/** The merge stream of a run (keys and increments), shared with tests that model it. */
export function mergeOps(keySize: number, seed: number, num: number): ReturnType<typeof mergeStream> {
  return mergeStream(keySize, seed + 1111, mergeKeySpace(num));
}

/** The keys the read phase gets: uniformly chosen keys of the key space. */
export function mergeReadKeys(keySize: number, seed: number, num: number): KeyStream & { keyIndex(index: number): number } {
  const keySpace = mergeKeySpace(num);
  const keyIndex = (i: number): number => pick(seed + 1313, i, keySpace);
  return { keySize, keyIndex, keyInto: (i, out) => sequentialKeyInto(keyIndex(i), out) };
}

export async function mergeRandom(ctx: WorkloadContext): Promise<Measured> {
  const db = ctx.db;
  const merges = mergeOps(ctx.keySize, ctx.seed, ctx.num);
  const keySpace = merges.keySpace;
  const mergeRec = new LatencyRecorder();

  const loop = await drive(ctx.num, ctx.batch, ctx.maxSeconds, ctx.progress, (from, to) => db.merge(merges, from, to, mergeRec));
  const done = loop.done;
  const model = new Float64Array(keySpace);
  for (let i = 0; i < done; i++) model[merges.keyIndex(i)] = (model[merges.keyIndex(i)] as number) + merges.delta(i);
  let keysMerged = 0;
  for (const sum of model) if (sum > 0) keysMerged++;

  // Untimed, between the loop and settle(): Talus still holds operands in its memtable here.
  let checked = await check(db, model, ctx.keySize, "after the merges");
  const s0 = performance.now();
  await db.settle();
  const settleMs = performance.now() - s0;
  const mergeSeconds = loop.seconds + settleMs / 1000;

  const readKeys = mergeReadKeys(ctx.keySize, ctx.seed, ctx.num);
  const readRec = new LatencyRecorder();
  const tally = newTally();
  const reads = await drive(ctx.reads, ctx.batch, ctx.maxSeconds, ctx.progress, (from, to) => db.get(readKeys, from, to, readRec, tally));

  let wantHits = 0;
  for (let i = 0; i < reads.done; i++) if ((model[readKeys.keyIndex(i)] as number) > 0) wantHits++;
  if (tally.hits !== wantHits) throw new Error(`mergerandom: the reads found ${tally.hits} of ${reads.done} keys, the model says ${wantHits}`);
  if (tally.bytes !== tally.hits * (ctx.keySize + COUNTER_BYTES)) {
    throw new Error(`mergerandom: the reads returned ${tally.bytes} bytes for ${tally.hits} hits; every counter is ${COUNTER_BYTES} bytes`);
  }
  checked += await check(db, model, ctx.keySize, "after the reads");

  const readLatency = readRec.summary();
  return {
    ops: done,
    plannedOps: ctx.num,
    seconds: mergeSeconds,
    bytes: done * (ctx.keySize + COUNTER_BYTES),
    latencyUs: mergeRec.summary(),
    hits: tally.hits,
    items: tally.items,
    merge: {
      merges: done,
      keySpace,
      keysMerged,
      loopSeconds: loop.seconds,
      settleMs,
      reads: reads.done,
      plannedReads: ctx.reads,
      readSeconds: reads.seconds,
      readsPerSec: reads.done / reads.seconds,
      readP50Us: readLatency.p50,
      readP99Us: readLatency.p99,
      checked,
    },
  };
}

/**
 * Reads {@link CHECK_SAMPLE} keys spread evenly over the key space (each key when there are fewer) and
 * throws at the first whose counter differs from the model's sum (absent when the sum is 0). Returns
 * the number of keys checked.
 */
export async function check(db: BenchDb, model: Float64Array, keySize: number, when: string): Promise<number> {
  const keySpace = model.length;
  const n = Math.min(CHECK_SAMPLE, keySpace);
  const key = new Uint8Array(keySize);
  for (let j = 0; j < n; j++) {
    const index = Math.floor((j * keySpace) / n);
    sequentialKeyInto(index, key);
    const r = db.read(key);
    const value = r instanceof Promise ? await r : r;
    const want = model[index] as number;
    const got = value === undefined ? undefined : value.length === COUNTER_BYTES ? readCounter(value) : `${value.length} bytes`;
    if (got !== (want === 0 ? undefined : want)) {
      throw new Error(`mergerandom: ${when}, key #${index} reads ${String(got ?? "nothing")}, the model's sum is ${want === 0 ? "nothing (never merged)" : want}`);
    }
  }
  return n;
}
