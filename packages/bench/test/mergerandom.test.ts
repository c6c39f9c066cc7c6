import { counterMerge } from "@talus/lsm-core";
import { describe, expect, it } from "vitest";
import { isTalusTree, runsOn, ENGINE_NAMES, WORKLOADS, type EngineName } from "../src/catalog.ts";
import { COUNTER_BYTES, counterInto, MAX_INCREMENT, mergeStream, readCounter, sequentialKeyInto, ValuePool, type KeyStream, type MergeStream } from "../src/data.ts";
import type { BenchDb, Tally } from "../src/engines/types.ts";
import { LatencyRecorder } from "../src/stats.ts";
import type { WorkloadContext } from "../src/workloads/driver.ts";
import { CHECK_SAMPLE, mergeKeySpace, mergeOps, mergeRandom, mergeReadKeys, OPERANDS_PER_KEY } from "../src/workloads/mergerandom.ts";
import { idleDb, openTestEngine, useTempDir } from "./helpers.ts";

function context(db: BenchDb, num: number, reads: number, batch = 1000): WorkloadContext {
  return { db, values: new ValuePool(16, 1, 8), num, reads, maxSeconds: 60, keySize: 16, valueSize: 16, seed: 1, batch, seekNexts: 0, progress: () => {} };
}

const le64 = (n: bigint): Uint8Array => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, n, true);
  return out;
};

/** What mergerandom must find on any engine: every key's sum after `num` merges. */
function model(num: number): Float64Array {
  const merges = mergeOps(16, 1, num);
  const sums = new Float64Array(merges.keySpace);
  for (let i = 0; i < num; i++) sums[merges.keyIndex(i)] = (sums[merges.keyIndex(i)] as number) + merges.delta(i);
  return sums;
}

/**
 * An in-memory counter store that logs its calls; `dropEvery` > 0 loses every such merge (a broken
 * merge the workload must catch).
 */
function counterDb(dropEvery = 0): BenchDb & { log: string[]; counters: Map<number, number> } {
  const log: string[] = [];
  const counters = new Map<number, number>();
  const index = (key: Uint8Array): number => new DataView(key.buffer, key.byteOffset).getUint32(4);
  const value = (n: number): Uint8Array => {
    const out = new Uint8Array(COUNTER_BYTES);
    counterInto(n, out);
    return out;
  };
  return {
    ...idleDb(),
    log,
    counters,
    merge(merges: MergeStream, from: number, to: number, rec: LatencyRecorder): void {
      log.push(`merge ${from}-${to}`);
      for (let i = from; i < to; i++) {
        if (dropEvery > 0 && i % dropEvery === dropEvery - 1) continue;
        const k = merges.keyIndex(i);
        counters.set(k, (counters.get(k) ?? 0) + merges.delta(i));
        rec.add(1);
      }
    },
    read(key: Uint8Array): Uint8Array | undefined {
      const n = counters.get(index(key));
      return n === undefined ? undefined : value(n);
    },
    get(keys: KeyStream, from: number, to: number, rec: LatencyRecorder, tally: Tally): void {
      log.push(`get ${from}-${to}`);
      const key = new Uint8Array(keys.keySize);
      for (let i = from; i < to; i++) {
        keys.keyInto(i, key);
        rec.add(1);
        if (counters.has(index(key))) {
          tally.hits++;
          tally.items++;
          tally.bytes += key.length + COUNTER_BYTES;
        }
      }
    },
    settle: async () => {
      log.push("settle");
    },
  };
}

describe("counters and the merge stream", () => {
  it("encodes counters as Talus' counterMerge does: 8-byte little-endian two's complement", () => {
    for (const n of [0, 1, 255, 256, 0xffffffff, 0x100000000, 2 ** 52 + 7, -1, -(2 ** 40) - 3]) {
      const out = new Uint8Array(8);
      counterInto(n, out);
      expect(out).toEqual(le64(BigInt(n)));
      expect(readCounter(out)).toBe(n);
    }
    expect(() => readCounter(new Uint8Array(4))).toThrow("a counter is 8 bytes, got 4");
  });

  it("sums operands the way counterMerge merges them", () => {
    const merges = mergeStream(16, 5, 10);
    const operands = Array.from({ length: 50 }, (_, i) => merges.operand(i));
    const want = Array.from({ length: 50 }, (_, i) => merges.delta(i)).reduce((a, b) => a + b, 7);
    expect(readCounter(counterMerge.merge(new Uint8Array(0), le64(7n), operands))).toBe(want);
  });

  it("spreads --num merges over --num / 8 keys with increments of 1..MAX_INCREMENT", () => {
    expect(mergeKeySpace(200_000)).toBe(25_000);
    expect(mergeKeySpace(3)).toBe(1);
    const num = 20_000;
    const merges = mergeOps(16, 1, num);
    expect(merges.keySpace).toBe(num / OPERANDS_PER_KEY);
    const perKey = new Uint32Array(merges.keySpace);
    const deltas = new Set<number>();
    const key = new Uint8Array(16);
    const expectedKey = new Uint8Array(16);
    let mismatches = 0;
    for (let i = 0; i < num; i++) {
      const d = merges.delta(i);
      deltas.add(d);
      if (readCounter(merges.operand(i)) !== d) mismatches++;
      merges.keyInto(i, key);
      sequentialKeyInto(merges.keyIndex(i), expectedKey);
      if (Buffer.compare(key, expectedKey) !== 0) mismatches++;
      perKey[merges.keyIndex(i)] = (perKey[merges.keyIndex(i)] as number) + 1;
    }
    expect(mismatches).toBe(0);
    expect(Math.min(...deltas)).toBe(1);
    expect(Math.max(...deltas)).toBe(MAX_INCREMENT);
    // Keys get several operands: few get none, most get 4 or more.
    expect(perKey.filter((n) => n === 0).length).toBeLessThan(merges.keySpace * 0.01);
    expect(perKey.filter((n) => n >= 4).length).toBeGreaterThan(merges.keySpace * 0.9);
    // The reads pick keys of the same key space.
    const reads = mergeReadKeys(16, 1, num);
    for (let i = 0; i < 1000; i++) expect(reads.keyIndex(i)).toBeLessThan(merges.keySpace);
  });

  it("is a write workload on an empty database", () => {
    expect(WORKLOADS.mergerandom).toMatchObject({ dataset: "none", writes: true, fill: false });
  });
});

describe("mergerandom", () => {
  it("merges in slices, checks, settles, reads in slices and checks again", async () => {
    const db = counterDb();
    const m = await mergeRandom(context(db, 2500, 1500));
    expect(db.log).toEqual(["merge 0-1000", "merge 1000-2000", "merge 2000-2500", "settle", "get 0-1000", "get 1000-1500"]);
    const sums = model(2500);
    const keysMerged = sums.filter((s) => s > 0).length;
    expect(m).toMatchObject({ ops: 2500, plannedOps: 2500, bytes: 2500 * (16 + 8) });
    expect(m.merge).toMatchObject({ merges: 2500, keySpace: 313, keysMerged, reads: 1500, plannedReads: 1500, checked: 2 * 313 });
    expect(m.hits).toBeLessThanOrEqual(1500);
    expect(m.hits).toBeGreaterThan(1400);
    expect(m.seconds).toBeGreaterThanOrEqual(m.merge?.loopSeconds ?? Number.NaN);
    expect(m.merge?.readsPerSec).toBeGreaterThan(0);
    for (const [k, n] of db.counters) expect(n).toBe(sums[k]);
  });

  it("checks a sample of the key space when it is large", async () => {
    const m = await mergeRandom(context(counterDb(), 40_000, 100));
    expect(m.merge?.keySpace).toBe(5000);
    expect(m.merge?.checked).toBe(2 * CHECK_SAMPLE);
  });

  it("fails loudly when a merge is lost", async () => {
    await expect(mergeRandom(context(counterDb(500), 2000, 500))).rejects.toThrow(/mergerandom: after the merges, key #\d+ reads \d+, the model's sum is \d+/);
  });

  it("fails loudly when the reads find keys the model has not", async () => {
    const db = counterDb();
    const get = db.get.bind(db);
    db.get = (keys, from, to, rec, tally) => {
      get(keys, from, to, rec, tally);
      tally.hits++;
    };
    await expect(mergeRandom(context(db, 2000, 500))).rejects.toThrow(/mergerandom: the reads found \d+ of 500 keys, the model says \d+/);
  });
});

describe("mergerandom on every engine", () => {
  const dir = useTempDir();
  const num = 6000;
  const reads = 3000;
  const sums = model(num);

  it.each(ENGINE_NAMES.filter((e) => runsOn("mergerandom", e)))("%s merges counters whose reads match the model's sums", async (engine: EngineName) => {
    // The adapter (talus-level) runs classic-level's code: it reports no tree stats.
    const talus = isTalusTree(engine);
    // Small enough that Talus flushes several times: operands land in several tables (and compactions).
    const db = await openTestEngine(engine, dir, { memtableBytes: 16 << 10, mergeOperator: true });
    try {
      const m = await mergeRandom(context(db, num, reads, 500));
      expect(m.ops).toBe(num);
      expect(m.merge).toMatchObject({ merges: num, keySpace: sums.length, reads, checked: 2 * sums.length });
      expect(m.latencyUs.p99).toBeGreaterThanOrEqual(m.latencyUs.p50);
      // Every counter, read once more, equals its sum.
      const key = new Uint8Array(16);
      for (let k = 0; k < sums.length; k++) {
        sequentialKeyInto(k, key);
        const r = db.read(key);
        const value = r instanceof Promise ? await r : r;
        expect(value === undefined ? 0 : readCounter(value)).toBe(sums[k]);
      }
      if (talus) expect(db.stats()["flushes"]).toBeGreaterThanOrEqual(3);
      if (engine === "talus+compaction") expect(db.stats()["tablesPerLevel"]).not.toEqual([db.stats()["tables"], 0, 0, 0, 0, 0, 0]);
    } finally {
      await db.close();
    }
  });
});
