// multiGet's batched block reads (src/tree/reads.ts `fetchFor`, src/table/table.ts `fetchBlocks`): the
// data blocks the lookups need from files that are not memory-mapped are read first with one
// Fs.readMany per filesystem. On MemFs, StdFs and IoUringFs (mapTables: false): the answers equal a loop
// of get at every snapshot and cache size (tombstones, range tombstones, merge operands, L0 runs over
// deeper levels, memtables); readMany is called once per batch with exactly the blocks get would read,
// and nothing else is read; the block cache ends up holding what the lookups read (a repeat reads
// nothing) and never more than its capacity; a damaged block in a batch is CORRUPTION naming the file;
// a tree over two filesystems makes one readMany on each.
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { ForwardingFs, MemFs, readFileBytes, StdFs, writeFileBytes, type Fs, type FsReadRequest } from "@talus/fs";
import { FaultFs, Random, useTempDirs } from "@talus/testkit";
import { counterMerge, LsmError, SEQNO_MAX, SequenceNumberCounter, Tree, type TreeOptions } from "../src/index.ts";
import { BlockCache } from "../src/cache/block-cache.ts";
import { FILE_HEADER_SIZE } from "../src/table/format.ts";
import { dec, enc } from "./helpers.ts";
import { IOURING_UNAVAILABLE, useIoUringFs } from "./backends.ts";

const dirs = useTempDirs(afterEach);

const ioUringFs = useIoUringFs(afterAll);

interface Backend {
  readonly name: string;
  readonly skip: string | undefined;
  /** A filesystem and a tree path on it. */
  make(): { fs: Fs; path: string };
}

const BACKENDS: readonly Backend[] = [
  { name: "MemFs", skip: undefined, make: () => ({ fs: new MemFs(), path: "/db" }) },
  { name: "StdFs", skip: undefined, make: () => ({ fs: new StdFs(), path: `${dirs.make("multiget")}/db` }) },
  {
    name: "IoUringFs",
    skip: IOURING_UNAVAILABLE === undefined ? undefined : `io_uring is unavailable (${IOURING_UNAVAILABLE})`,
    make: () => ({ fs: ioUringFs(), path: `${dirs.make("multiget-iouring")}/db` }),
  },
];

/** Small blocks and tables, so that a few thousand keys make many blocks over several tables and levels. */
const SMALL: Partial<TreeOptions> = { blockSize: 256, flushTableSize: 8 * 1024, workers: false, mapTables: false };

const key = (i: number): string => `k${String(i).padStart(5, "0")}`;
const counter = (i: number): string => `c${String(i).padStart(3, "0")}`;
const le64 = (n: number): Uint8Array => {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  return out;
};

/** Counts the requests of every readMany that reaches it (under a FaultFs, which counts the calls). */
class RequestCountingFs extends ForwardingFs {
  readonly batches: number[] = [];

  override readMany(requests: readonly FsReadRequest[]): number[] {
    this.batches.push(requests.length);
    return super.readMany(requests);
  }
}

const KEYS = 3000;
const COUNTERS = 20;

/**
 * A tree with a bit of everything under the lookups: the keys compacted into the last level, then
 * overwrites, deletes, a range tombstone and merge operands in two L0 runs, and more in the memtable.
 * Returns the read seqnos to check at (one per stage, the last SEQNO_MAX).
 */
async function build(tree: Tree, seqno: SequenceNumberCounter): Promise<number[]> {
  const stages: number[] = [];
  for (let i = 0; i < KEYS; i++) tree.insert(key(i), `v0-${i}-${"x".repeat(i % 40)}`, seqno.next());
  for (let c = 0; c < COUNTERS; c++) tree.insert(counter(c), le64(c * 100), seqno.next());
  await tree.flushActiveMemtable(0);
  await tree.majorCompact(16 * 1024, 0);
  stages.push(seqno.get());
  for (let i = 0; i < KEYS; i += 3) tree.insert(key(i), `v1-${i}`, seqno.next());
  for (let i = 0; i < KEYS; i += 7) tree.remove(key(i), seqno.next());
  for (let c = 0; c < COUNTERS; c += 2) tree.merge(counter(c), le64(1), seqno.next());
  tree.removeRange(key(1000), key(1040), seqno.next());
  await tree.flushActiveMemtable(0);
  stages.push(seqno.get());
  for (let i = 1; i < KEYS; i += 5) tree.insert(key(i), `v2-${i}`, seqno.next());
  for (let c = 0; c < COUNTERS; c += 3) tree.merge(counter(c), le64(10), seqno.next());
  await tree.flushActiveMemtable(0);
  stages.push(seqno.get());
  for (let i = 2; i < KEYS; i += 11) tree.insert(key(i), `v3-${i}`, seqno.next());
  tree.merge(counter(1), le64(1000), seqno.next());
  stages.push(SEQNO_MAX);
  return stages;
}

/** Every key, counters and absent keys too, shuffled, with repeats, in batches of 64. */
function probeBatches(seed: number): string[][] {
  const rng = new Random(seed);
  const all = [...Array.from({ length: KEYS }, (_, i) => key(i)), ...Array.from({ length: COUNTERS }, (_, c) => counter(c)), "a", "k99999", "k00000x", "zz"];
  for (let i = 0; i < 200; i++) all.push(all[rng.int(all.length)] as string);
  for (let i = all.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [all[i], all[j]] = [all[j] as string, all[i] as string];
  }
  const out: string[][] = [];
  for (let i = 0; i < all.length; i += 64) out.push(all.slice(i, i + 64));
  return out;
}

const hex = (v: Uint8Array | undefined): string | undefined => (v === undefined ? undefined : Buffer.from(v).toString("hex"));

describe.each(BACKENDS)("multiGet with batched block reads on $name (mapTables: false)", ({ make, skip }) => {
  it.skipIf(skip !== undefined)(`answers as a loop of get does, at every snapshot and cache size${skip === undefined ? "" : ` (skipped: ${skip})`}`, { timeout: 120_000 }, async () => {
    const { fs, path } = make();
    const seqno = new SequenceNumberCounter();
    const writer = await Tree.open({ path, fs, seqno, mergeOperator: counterMerge, ...SMALL });
    const stages = await build(writer, seqno);
    expect(writer.levelTableCount(0)).toBeGreaterThanOrEqual(2);
    expect(writer.tableCount()).toBeGreaterThan(writer.levelTableCount(0) ?? 0);
    const batches = probeBatches(1);
    // The answers of single gets on the tree that wrote it (default cache).
    const expected = stages.map((s) => batches.map((b) => b.map((k) => hex(writer.get(k, s)))));
    for (let s = 0; s < stages.length; s++) {
      const answers = batches.map((b) => writer.multiGet(b, stages[s] as number).map(hex));
      expect(answers, `writer, stage ${s}`).toEqual(expected[s]);
    }
    // Reopened with a cold cache of each size (the close flushes the memtable into a table).
    await writer.close();
    for (const cacheBytes of [0, 3000, 16 << 20]) {
      const reader = await Tree.open({ path, fs: new FaultFs(fs), mergeOperator: counterMerge, ...SMALL, cacheBytes });
      try {
        for (let s = 0; s < stages.length; s++) {
          const answers = batches.map((b) => reader.multiGet(b, stages[s] as number).map(hex));
          expect(answers, `cache ${cacheBytes}, stage ${s}`).toEqual(expected[s]);
        }
      } finally {
        await reader.close();
      }
    }
    // Mapped tables (StdFs and IoUringFs map files; MemFs does not) are read without batches: the same answers.
    const mapped = await Tree.open({ path, fs, mergeOperator: counterMerge, ...SMALL, mapTables: true, cacheBytes: 0 });
    try {
      for (let s = 0; s < stages.length; s++) expect(batches.map((b) => mapped.multiGet(b, stages[s] as number).map(hex)), `mapped, stage ${s}`).toEqual(expected[s]);
    } finally {
      await mapped.close();
    }
  });

  it.skipIf(skip !== undefined)("reads the blocks of a multiGet with one readMany, exactly the blocks the gets read, and caches them", async () => {
    const { fs, path } = make();
    const seqno = new SequenceNumberCounter();
    const writer = await Tree.open({ path, fs, seqno, ...SMALL });
    for (let i = 0; i < KEYS; i++) writer.insert(key(i), `value-${i}-${"y".repeat(i % 50)}`, seqno.next());
    await writer.flushActiveMemtable(0);
    await writer.majorCompact(16 * 1024, 0);
    await writer.close();

    const counting = new RequestCountingFs(fs);
    const faults = new FaultFs(counting);
    const cache = new BlockCache(16 << 20);
    const tree = await Tree.open({ path, fs: faults, ...SMALL, blockCache: cache });
    try {
      expect(tree.tableCount()).toBeGreaterThan(3);
      const rng = new Random(7);
      const keys = Array.from({ length: 64 }, () => key(rng.int(KEYS)));
      // The blocks single gets would read: one per distinct (table, block) the keys fall into.
      const blocks = new Set<string>();
      for (const k of keys) {
        for (const table of tree.currentVersion().tables()) {
          const block = table.pointBlock(enc(k), SEQNO_MAX);
          if (block >= 0) blocks.add(`${table.id}:${block}`);
        }
      }
      expect(blocks.size).toBeGreaterThan(16);
      faults.resetHistory();
      const values = tree.multiGet(keys, SEQNO_MAX).map(dec);
      expect(values).toEqual(keys.map((k) => `value-${Number(k.slice(1))}-${"y".repeat(Number(k.slice(1)) % 50)}`));
      expect(faults.calls.readMany).toBe(1);
      expect(faults.calls.read).toBe(0);
      expect(counting.batches).toEqual([blocks.size]);

      // Every block read is in the cache: the same lookups again, batched or not, read nothing.
      expect(cache.count).toBeGreaterThanOrEqual(blocks.size);
      faults.resetHistory();
      expect(tree.multiGet(keys, SEQNO_MAX).map(dec)).toEqual(values);
      expect(keys.map((k) => dec(tree.get(k, SEQNO_MAX)))).toEqual(values);
      expect(faults.calls.readMany + faults.calls.read).toBe(0);
      expect(counting.batches).toHaveLength(1);
    } finally {
      await tree.close();
    }

    // A cache with room for a few blocks only: the batch still reads once, the cache stays within its
    // capacity, and what it keeps (and recycles) never changes an answer.
    const small = new BlockCache(2000);
    const tight = await Tree.open({ path, fs: faults, ...SMALL, blockCache: small });
    try {
      const rng = new Random(8);
      for (let round = 0; round < 20; round++) {
        const keys = Array.from({ length: 64 }, () => key(rng.int(KEYS)));
        faults.resetHistory();
        expect(tight.multiGet(keys, SEQNO_MAX).map(dec), `round ${round}`).toEqual(keys.map((k) => `value-${Number(k.slice(1))}-${"y".repeat(Number(k.slice(1)) % 50)}`));
        expect(faults.calls.readMany, `round ${round}`).toBe(1);
        expect(faults.calls.read, `round ${round}`).toBe(0);
        expect(small.size).toBeLessThanOrEqual(small.capacity);
      }
    } finally {
      await tight.close();
    }
  });

  it.skipIf(skip !== undefined)("reports a damaged block of a batch as CORRUPTION naming its file", async () => {
    const { fs, path } = make();
    const seqno = new SequenceNumberCounter();
    const writer = await Tree.open({ path, fs, seqno, ...SMALL, flushTableSize: 1 << 20, compression: "none" });
    for (let i = 0; i < 400; i++) writer.insert(key(i), `value-${i}`, seqno.next());
    await writer.flushActiveMemtable(0);
    const [table] = [...writer.currentVersion().tables()];
    await writer.close();
    expect(table).toBeDefined();
    const file = (table as { path: string }).path;
    // A flipped byte in the first data block's payload.
    const bytes = readFileBytes(fs, file);
    bytes[FILE_HEADER_SIZE + 3] = (bytes[FILE_HEADER_SIZE + 3] as number) ^ 0x40;
    writeFileBytes(fs, file, bytes);

    const faults = new FaultFs(fs);
    const tree = await Tree.open({ path, fs: faults, ...SMALL, cacheBytes: 0 });
    try {
      faults.resetHistory();
      const keys = [key(0), key(150), key(300), key(399)];
      let error: unknown;
      try {
        tree.multiGet(keys, SEQNO_MAX);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(LsmError);
      expect((error as LsmError).code).toBe("CORRUPTION");
      expect((error as LsmError).message).toContain(file);
      // It came from the batch: one readMany, no single read.
      expect(faults.calls.readMany).toBe(1);
      expect(faults.calls.read).toBe(0);
      // Keys in undamaged blocks still read, batched or not; the damaged one still fails alone.
      expect(tree.multiGet([key(150), key(300), key(399)], SEQNO_MAX).map(dec)).toEqual(["value-150", "value-300", "value-399"]);
      expect(() => tree.get(key(0), SEQNO_MAX)).toThrow(/checksum mismatch/);
    } finally {
      await tree.close();
    }
  });
});

describe("multiGet over two filesystems (a level route)", () => {
  it("reads each filesystem's blocks with one readMany of its own", async () => {
    const main = new FaultFs(new MemFs());
    const hot = new FaultFs(new MemFs());
    const options: TreeOptions = { path: "/db", fs: main, levelRoutes: [{ levels: [0, 1], path: "/hot", fs: hot }], ...SMALL, cacheBytes: 0 };
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ ...options, seqno });
    try {
      for (let i = 0; i < KEYS; i++) tree.insert(key(i), `deep-${i}`, seqno.next());
      await tree.flushActiveMemtable(0);
      await tree.majorCompact(16 * 1024, 0);
      for (let i = 0; i < KEYS; i += 2) tree.insert(key(i), `hot-${i}`, seqno.next());
      await tree.flushActiveMemtable(0);
      expect(tree.levelTableCount(0)).toBeGreaterThan(0);
      const keys = Array.from({ length: 64 }, (_, j) => key(j * 37));
      main.resetHistory();
      hot.resetHistory();
      expect(tree.multiGet(keys, SEQNO_MAX).map(dec)).toEqual(keys.map((k) => (Number(k.slice(1)) % 2 === 0 ? `hot-${Number(k.slice(1))}` : `deep-${Number(k.slice(1))}`)));
      expect([main.calls.readMany, hot.calls.readMany]).toEqual([1, 1]);
      expect([main.calls.read, hot.calls.read]).toEqual([0, 0]);
    } finally {
      await tree.close();
    }
  });
});
