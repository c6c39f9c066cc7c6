/**
 * ingest: fillseq's data (`--num` sequential keys of `--key-size`, values of `--value-size`) loaded into an
 * empty database through the engine's bulk path, timed until persisted, to be read beside fillseq (the same
 * entries inserted one by one through the write path).
 *
 * Talus writes them through `tree.ingestion()` (`write(key, value)` in key order, straight into table files)
 * and `finish()`, which installs the tables as one L0 run at one new seqno; `talus+compaction` then compacts
 * in `settle()` as its fillseq does. classic-level and lmdb have no ingestion of their own (see each engine):
 * what they do instead is their fastest sorted load, said in the report.
 *
 * Timed from the first write to the end of `settle()`, `finishIngest()` included (shown apart as finish
 * ms). Afterwards, untimed, {@link VERIFY_SAMPLE} keys spread over what was loaded are read back and compared
 * with the values written, and the key after the last must be absent: a mismatch fails the run.
 *
 * @module
 */
import { keyStream, sequentialKeyInto, type ValuePool } from "../data.ts";
import type { BenchDb } from "../engines/types.ts";
import type { Measured, WorkloadContext } from "./driver.ts";
import { timedLoad } from "./fill.ts";

/** Keys read back after the load (every key when fewer were loaded), plus the key after the last. */
export const VERIFY_SAMPLE = 1000;

export async function ingest(ctx: WorkloadContext): Promise<Measured> {
  const keys = keyStream("sequential", ctx.keySize, ctx.seed, ctx.num);
  const { measured, done, extra } = await timedLoad(
    ctx,
    (from, to, rec) => ctx.db.ingest(keys, ctx.values, from, to, rec),
    async () => {
      const f0 = performance.now();
      const installed = await ctx.db.finishIngest();
      return { installed, finishMs: performance.now() - f0 };
    },
  );
  const { installed, finishMs } = extra as { installed: number | undefined; finishMs: number };
  if (installed !== undefined && installed !== done) throw new Error(`ingest: finish() installed ${installed} entries, ${done} were written`);
  const verified = await verifyLoaded(ctx.db, ctx.values, ctx.keySize, done);
  return { ...measured, ingest: { entries: done, finishMs, verified } };
}

/**
 * Reads {@link VERIFY_SAMPLE} keys spread evenly over sequential keys `[0, loaded)` (each key when there
 * are fewer) and throws at the first whose value is not the one written, then checks that key `loaded`
 * is absent. Returns the number of keys read.
 */
export async function verifyLoaded(db: BenchDb, values: ValuePool, keySize: number, loaded: number): Promise<number> {
  const n = Math.min(VERIFY_SAMPLE, loaded);
  const key = new Uint8Array(keySize);
  for (let j = 0; j < n; j++) {
    const index = Math.floor((j * loaded) / n);
    sequentialKeyInto(index, key);
    const r = db.read(key);
    const got = r instanceof Promise ? await r : r;
    const want = values.value(index);
    if (got === undefined) throw new Error(`ingest: key #${index} of ${loaded} loaded reads nothing`);
    if (!equal(got, want)) throw new Error(`ingest: key #${index} reads a value of ${got.length} bytes that is not the one written (${want.length} bytes)`);
  }
  sequentialKeyInto(loaded, key);
  const r = db.read(key);
  const after = r instanceof Promise ? await r : r;
  if (after !== undefined) throw new Error(`ingest: key #${loaded}, after the last loaded, reads a value`);
  return n + 1;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
