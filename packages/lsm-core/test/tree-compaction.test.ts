// Compaction through the tree: ports of the reference's leveled_trivial_move.rs, fifo_ttl.rs,
// tree_major_compaction.rs, snapshot_point_read.rs, tree_l0_point_read.rs and the tree_disjoint_* /
// tree_non_disjoint_* files. The strategies' decisions alone are covered by compaction-strategies.test.ts.
// Our iterators are one-directional (`reverse: true`), so the upstream "ping-pong" halves (interleaved
// next / next_back) are ported as separate forward and reverse scans.
import { afterEach, describe, expect, it, vi } from "vitest";
import { MemFs } from "@talus/fs";
import { Fifo, Leveled, SEQNO_MAX, SequenceNumberCounter, SizeTiered, Tree, type RangeOptions } from "../src/index.ts";
import { dec } from "./helpers.ts";
import { k, keysOf } from "./tree-support.ts";

const open = (extra: Partial<Parameters<typeof Tree.open>[0]> = {}) => Tree.open({ path: "/db", fs: new MemFs(), ...extra });
const INF = Number.POSITIVE_INFINITY;

afterEach(() => void vi.restoreAllMocks());

/** One flush per batch, every key's value being the key, all at seqno 0 (as upstream). */
async function flushBatches(tree: Tree, batches: readonly (readonly string[])[]): Promise<void> {
  for (const batch of batches) {
    for (const key of batch) tree.insert(key, key, 0);
    await tree.flushActiveMemtable(0);
  }
}

const levelCounts = (tree: Tree): number[] => Array.from({ length: 7 }, (_, l) => tree.levelTableCount(l) ?? -1);

describe("leveled_trivial_move.rs", () => {
  it("moves one-key flushes a..f into L6 without rewriting; an overlapping 'd' stays in L0", async () => {
    const tree = await open();
    const leveled = new Leveled();
    for (const [i, key] of ["a", "b", "c", "d", "e", "f"].entries()) {
      tree.insert(key, key, 0);
      await tree.flushActiveMemtable(0);
      expect(await tree.compact(leveled, 0)).toMatchObject({ action: "moved", destLevel: 6, tablesIn: 1 });
      expect(tree.levelTableCount(0)).toBe(0);
      expect(tree.levelTableCount(6)).toBe(i + 1);
    }
    // Table ids show nothing was rewritten: the six flushed tables are the six L6 tables.
    expect([...tree.currentVersion().level(6).tables()].map((t) => t.id)).toEqual([0, 1, 2, 3, 4, 5]);
    tree.insert("d", "d", 0);
    await tree.flushActiveMemtable(0);
    expect(await tree.compact(leveled, 0)).toMatchObject({ action: "nothing" });
    expect(tree.levelTableCount(0)).toBe(1);
    expect(tree.levelTableCount(6)).toBe(6);
    expect(keysOf(tree.iter(SEQNO_MAX))).toEqual(["a", "b", "c", "d", "e", "f"]);
    await tree.close();
  });

  it("merges L0 into L6 once it reaches the threshold, evicting nothing live", async () => {
    const tree = await open();
    const leveled = new Leveled({ l0Threshold: 2 });
    await flushBatches(tree, [["a", "m", "z"]]);
    await tree.compact(leveled, 0);
    await flushBatches(tree, [["b", "n"], ["c", "o"]]);
    expect(levelCounts(tree)).toEqual([2, 0, 0, 0, 0, 0, 1]);
    expect(await tree.compact(leveled, SEQNO_MAX)).toMatchObject({ action: "merged", destLevel: 6, tablesIn: 3 });
    expect(levelCounts(tree)).toEqual([0, 0, 0, 0, 0, 0, 1]);
    expect(keysOf(tree.iter(SEQNO_MAX))).toEqual(["a", "b", "c", "m", "n", "o", "z"]);
    await tree.close();
  });
});

describe("per-level table options", () => {
  // Fails today (see the report): choice.ts documents that "the engine picks per-level policies by"
  // a merge's canonicalLevel, as the reference does (`policy.get(canonical_level)`), but jobs.ts
  // passes only the physical destLevel to TableStore.write.
  it("a Leveled merge into L6 acting as canonical L1 is written with L1's settings", async () => {
    const tree = await open({ blockSize: [1024, 2048, 4096, 4096, 4096, 4096, 8192] });
    const blockSizes = (level: number): number[] => [...tree.currentVersion().level(level).tables()].map((t) => t.table.meta.blockSize);
    await flushBatches(tree, [["a", "m", "z"]]);
    expect(blockSizes(0)).toEqual([1024]);
    await tree.majorCompact(INF, 0);
    expect(blockSizes(6)).toEqual([8192]);
    await flushBatches(tree, [["b", "n"], ["c", "o"], ["d", "p"], ["e", "q"]]);
    expect(await tree.compact(new Leveled(), 0)).toMatchObject({ action: "merged", destLevel: 6, tablesIn: 5 });
    expect(blockSizes(6)).toEqual([2048]);
    await tree.close();
  });

  it("by default L0 tables are uncompressed and deeper levels use LZ4, and both read back", async () => {
    const tree = await open();
    const codecs = (level: number): number[] => [...tree.currentVersion().level(level).tables()].map((t) => t.table.meta.codec);
    const value = "v".repeat(200);
    for (let i = 0; i < 200; i++) tree.insert(k(i), value, i);
    await tree.flushActiveMemtable(0);
    expect(codecs(0)).toEqual([0]);
    const l0Bytes = tree.diskSpace();
    await tree.majorCompact(INF, 0);
    expect(codecs(6)).toEqual([1]);
    expect(tree.diskSpace()).toBeLessThan(l0Bytes / 2);
    for (let i = 0; i < 200; i++) expect(dec(tree.get(k(i), SEQNO_MAX))).toBe(value);
    await tree.close();
  });
});

describe("size-tiered through the tree", () => {
  it("merges similar L0 runs into one run and keeps the newest versions", async () => {
    const tree = await open();
    const tiered = new SizeTiered({ minMergeWidth: 4 });
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 50; i++) tree.insert(k(i), `r${round}`, round * 100 + i);
      await tree.flushActiveMemtable(0);
    }
    expect(await tree.compact(tiered, 0)).toMatchObject({ action: "nothing" });
    for (let i = 0; i < 50; i++) tree.insert(k(i), "r3", 300 + i);
    await tree.flushActiveMemtable(0);
    expect(tree.l0RunCount()).toBe(4);
    expect(await tree.compact(tiered, SEQNO_MAX)).toMatchObject({ action: "merged", destLevel: 0, tablesIn: 4, tablesOut: 1 });
    expect(tree.l0RunCount()).toBe(1);
    expect(tree.tableCount()).toBe(1);
    expect(tree.approximateLen()).toBe(50);
    for (let i = 0; i < 50; i++) expect(dec(tree.get(k(i), SEQNO_MAX))).toBe("r3");
    await tree.close();
  });
});

describe("fifo_ttl.rs", () => {
  it("fifo_ttl_no_drop_when_recent_or_disabled (and fifo_compact_empty_tree_noop)", async () => {
    const tree = await open();
    expect(await tree.compact(new Fifo({ limitBytes: 1_000_000, ttlSeconds: 1 }), 0)).toMatchObject({ action: "nothing" });
    await flushBatches(tree, [["a"], ["b"]]);
    expect(tree.tableCount()).toBe(2);
    expect(await tree.compact(new Fifo({ limitBytes: INF, ttlSeconds: 15 }), 2)).toMatchObject({ action: "nothing" });
    expect(tree.tableCount()).toBe(2);
    await tree.compact(new Fifo({ limitBytes: INF }), 2);
    expect(tree.tableCount()).toBe(2);
    await tree.close();
  });

  it("fifo_below_limit_no_drop_standard and fifo_idempotent_when_within_limits", async () => {
    const tree = await open();
    await flushBatches(tree, [["k0"], ["k1"], ["k2"]]);
    const fifo = new Fifo({ limitBytes: tree.diskSpace() });
    await tree.compact(fifo, 3);
    expect(tree.tableCount()).toBe(3);
    await tree.compact(fifo, 3);
    expect(tree.tableCount()).toBe(3);
    await tree.close();
  });

  it("drops the oldest tables until the tree fits its size limit", async () => {
    const seqno = new SequenceNumberCounter();
    const tree = await open({ seqno });
    for (const key of ["k0", "k1", "k2", "k3"]) {
      tree.insert(key, "v".repeat(100), seqno.next());
      await tree.flushActiveMemtable(0);
    }
    const sizes = [...tree.currentVersion().level(0).tables()].map((t) => t.size);
    const limit = tree.diskSpace() - Math.min(...sizes) - 1;
    expect(await tree.compact(new Fifo({ limitBytes: limit }), 0)).toMatchObject({ action: "dropped", tablesIn: 2 });
    expect(keysOf(tree.iter(seqno.get()))).toEqual(["k2", "k3"]);
    expect(tree.diskSpace()).toBeLessThanOrEqual(limit);
    await tree.compact(new Fifo({ limitBytes: limit }), 0);
    expect(tree.tableCount()).toBe(2);
    await tree.close();
  });

  it("drops tables older than the TTL (the tree asks Date.now())", async () => {
    const tree = await open();
    await flushBatches(tree, [["old1"], ["old2"]]);
    const later = Date.now() + 20_000;
    vi.spyOn(Date, "now").mockReturnValue(later);
    await flushBatches(tree, [["fresh"]]);
    expect(await tree.compact(new Fifo({ limitBytes: INF, ttlSeconds: 15 }), 0)).toMatchObject({ action: "dropped", tablesIn: 2 });
    expect(keysOf(tree.iter(SEQNO_MAX))).toEqual(["fresh"]);
    vi.mocked(Date.now).mockReturnValue(later + 16_000);
    await tree.compact(new Fifo({ limitBytes: INF, ttlSeconds: 15 }), 0);
    expect(tree.tableCount()).toBe(0);
    await tree.close();
  });

  it("drops a table once a short TTL really elapses", async () => {
    const tree = await open();
    await flushBatches(tree, [["old"]]);
    await new Promise((resolve) => setTimeout(resolve, 120));
    await flushBatches(tree, [["new"]]);
    await tree.compact(new Fifo({ limitBytes: INF, ttlSeconds: 0.1 }), 0);
    expect(keysOf(tree.iter(SEQNO_MAX))).toEqual(["new"]);
    await tree.close();
  });
});

describe("tree_major_compaction.rs", () => {
  it("compacts to one table, then a flush of deletes compacts to nothing", async () => {
    const seqno = new SequenceNumberCounter();
    const tree = await open({ seqno });
    for (const key of ["a", "b", "c"]) tree.insert(key, "abc", seqno.next());
    await tree.flushActiveMemtable(0);
    expect(tree.tableCount()).toBe(1);
    await tree.majorCompact(INF, 1000);
    expect(tree.tableCount()).toBe(1);
    expect(tree.len(SEQNO_MAX)).toBe(3);
    const batch = seqno.next();
    for (const key of ["a", "b", "c"]) tree.remove(key, batch);
    await tree.flushActiveMemtable(0);
    expect(tree.tableCount()).toBe(2);
    expect(await tree.majorCompact(INF, 1000)).toMatchObject({ action: "merged", tablesOut: 0 });
    expect(tree.tableCount()).toBe(0);
    expect(tree.len(SEQNO_MAX)).toBe(0);
    await tree.close();
  });

  it("merges every level into L6 as one run of several tables of about the target size", async () => {
    const seqno = new SequenceNumberCounter();
    // Uncompressed, so that the table count follows the user bytes.
    const tree = await open({ seqno, compression: "none" });
    for (let round = 0; round < 4; round++) {
      for (let i = round; i < 4000; i += 4) tree.insert(k(i), `v${i}`.padEnd(100, "."), seqno.next());
      await tree.flushActiveMemtable(0);
      if (round === 1) await tree.compact(new Leveled({ l0Threshold: 2 }), 0);
    }
    expect(tree.levelTableCount(0)).toBe(2);
    expect(tree.levelTableCount(6)).toBe(1);
    const target = 64 * 1024;
    expect(await tree.majorCompact(target, seqno.get())).toMatchObject({ action: "merged", destLevel: 6, tablesIn: 3 });
    const counts = levelCounts(tree);
    expect(counts.slice(0, 6)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(counts[6]).toBeGreaterThan(4);
    const l6 = tree.currentVersion().level(6);
    expect(l6.runs).toHaveLength(1);
    const tables = [...l6.tables()];
    // A table is cut once the writer's size estimate reaches the target, so files land close to it.
    for (const table of tables.slice(0, -1)) expect(table.size).toBeGreaterThan(target * 0.9);
    for (const table of tables) expect(table.size).toBeLessThan(target * 1.2);
    expect(tree.len(SEQNO_MAX)).toBe(4000);
    for (let i = 0; i < 4000; i += 37) expect(dec(tree.get(k(i), SEQNO_MAX))?.startsWith(`v${i}.`)).toBe(true);
    await tree.close();
  });
});

describe("tombstone eviction (approximateLen counts tombstones and old versions)", () => {
  it("keeps tombstones while data may lie below, and evicts them at the bottom", async () => {
    const seqno = new SequenceNumberCounter();
    const tree = await open({ seqno });
    for (let i = 0; i < 10; i++) tree.insert(k(i), "v", seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(INF, 0);
    for (let i = 0; i < 5; i++) tree.remove(k(i), seqno.next());
    await tree.flushActiveMemtable(0);
    tree.insert(k(3), "back", seqno.next());
    tree.insert(k(0, "z"), "z", seqno.next());
    await tree.flushActiveMemtable(0);
    expect(tree.l0RunCount()).toBe(2);
    expect(tree.approximateLen()).toBe(17);

    // A size-tiered merge writes back into L0, above the L6 values: the tombstones must stay (only the
    // one shadowed by the newer k3 goes).
    expect(await tree.compact(new SizeTiered({ minMergeWidth: 2 }), seqno.get())).toMatchObject({ action: "merged", destLevel: 0 });
    expect(tree.approximateLen()).toBe(16);
    expect(tree.len(SEQNO_MAX)).toBe(7);

    // At the bottom, tombstones and what they shadow below the watermark go.
    await tree.majorCompact(INF, seqno.get());
    expect(tree.approximateLen()).toBe(7);
    expect(keysOf(tree.iter(SEQNO_MAX))).toEqual([3, 5, 6, 7, 8, 9].map((i) => k(i)).concat(k(0, "z")));
    expect(dec(tree.get(k(3), SEQNO_MAX))).toBe("back");
    await tree.close();
  });

  it("at the bottom, a lone tombstone goes whatever the watermark; shadowed versions only below it", async () => {
    const tree = await open();
    tree.insert("a", "1", 1);
    tree.remove("a", 2);
    tree.remove("lone", 3);
    tree.insert("b", "1", 4);
    await tree.flushActiveMemtable(0);
    expect(tree.approximateLen()).toBe(4);
    await tree.majorCompact(INF, 0);
    // Watermark 0: every version is kept for old readers, except the tombstone that hides nothing.
    expect(tree.approximateLen()).toBe(3);
    expect(dec(tree.get("a", 2))).toBe("1");
    expect(tree.get("a", 3)).toBeUndefined();
    await tree.majorCompact(INF, 100);
    expect(tree.approximateLen()).toBe(1);
    expect(keysOf(tree.iter(SEQNO_MAX))).toEqual(["b"]);
    await tree.close();
  });
});

describe("tree_disjoint_* / tree_non_disjoint_*: reads across tables and levels", () => {
  const range = (tree: Tree, bounds: RangeOptions): string[] => keysOf(tree.range(bounds, SEQNO_MAX));

  it("tree_disjoint_point_read: two tables a–c and d–f, in L0 and after moving to L6", async () => {
    const tree = await open();
    await flushBatches(tree, [["a", "b", "c"], ["d", "e", "f"]]);
    for (const key of ["a", "b", "c", "d", "e", "f"]) expect(dec(tree.get(key, SEQNO_MAX))).toBe(key);
    await tree.compact(new Leveled(), 0);
    expect(tree.levelTableCount(6)).toBe(2);
    for (const key of ["a", "b", "c", "d", "e", "f"]) expect(dec(tree.get(key, SEQNO_MAX))).toBe(key);
    expect(tree.get("cc", SEQNO_MAX)).toBeUndefined();
    await tree.close();
  });

  it("tree_disjoint_iter: tables written out of key order iterate in order, both ways", async () => {
    const tree = await open();
    await flushBatches(tree, [["f", "e", "d"], ["a", "b", "c"]]);
    expect(keysOf(tree.iter(SEQNO_MAX))).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(keysOf(tree.iter(SEQNO_MAX, { reverse: true }))).toEqual(["f", "e", "d", "c", "b", "a"]);
    await tree.close();
  });

  it("tree_disjoint_range: four mangled tables, exclusive and inclusive bounds, both ways", async () => {
    const tree = await open();
    await flushBatches(tree, [["f", "e", "d"], ["g", "h", "i"], ["c", "b", "a"], ["j", "k", "l"]]);
    for (const stage of ["L0", "L6 run"]) {
      expect(range(tree, { gte: "e", lt: "i" }), stage).toEqual(["e", "f", "g", "h"]);
      expect(range(tree, { gte: "e", lte: "i" }), stage).toEqual(["e", "f", "g", "h", "i"]);
      expect(range(tree, { gte: "e", lt: "i", reverse: true }), stage).toEqual(["h", "g", "f", "e"]);
      expect(range(tree, { gte: "e", lte: "i", reverse: true }), stage).toEqual(["i", "h", "g", "f", "e"]);
      expect(range(tree, { gt: "e", lt: "i", reverse: true, limit: 2 }), stage).toEqual(["h", "g"]);
      await tree.majorCompact(1, 0);
    }
    expect(tree.levelTableCount(6)).toBe(12);
    await tree.close();
  });

  it("tree_disjoint_prefix: prefix scans across four three-key tables", async () => {
    const tree = await open();
    await flushBatches(tree, [["cc", "ca", "cb"], ["aa", "ab", "ac"], ["dc", "da", "db"], ["ba", "bb", "bc"]]);
    expect(keysOf(tree.prefix("d", SEQNO_MAX))).toEqual(["da", "db", "dc"]);
    expect(keysOf(tree.prefix("d", SEQNO_MAX, { reverse: true }))).toEqual(["dc", "db", "da"]);
    expect(keysOf(tree.prefix("c", SEQNO_MAX, { limit: 2 }))).toEqual(["ca", "cb"]);
    await tree.close();
  });

  it("tree_non_disjoint_point_read: seven overlapping tables holding a and z", async () => {
    const tree = await open({ blockSize: 1024 });
    await flushBatches(tree, [["a", "c", "z"], ["a", "d", "z"], ["a", "e", "z"], ["a", "f", "z"], ["a", "g", "z"], ["a", "h", "z"], ["a", "z"]]);
    expect(tree.l0RunCount()).toBe(7);
    for (const key of ["c", "d", "e", "f", "g", "h", "a", "z"]) expect(dec(tree.get(key, SEQNO_MAX))).toBe(key);
    expect(tree.get("b", SEQNO_MAX)).toBeUndefined();
    await tree.close();
  });

  it("reverse iteration merges memtable, L0 runs and L6, with shadowing and deletes", async () => {
    const seqno = new SequenceNumberCounter();
    const tree = await open({ seqno });
    for (let i = 0; i < 300; i++) tree.insert(k(i), "l6", seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(4096, 0);
    for (let i = 0; i < 300; i += 3) tree.insert(k(i), "l0a", seqno.next());
    await tree.flushActiveMemtable(0);
    for (let i = 0; i < 300; i += 5) tree.remove(k(i), seqno.next());
    await tree.flushActiveMemtable(0);
    for (let i = 0; i < 300; i += 7) tree.insert(k(i), "mem", seqno.next());
    const expected = new Map<string, string>();
    for (let i = 0; i < 300; i++) {
      const v = i % 7 === 0 ? "mem" : i % 5 === 0 ? undefined : i % 3 === 0 ? "l0a" : "l6";
      if (v !== undefined) expected.set(k(i), v);
    }
    const forward = [...tree.iter(SEQNO_MAX)].map(([key, v]) => `${dec(key)}=${dec(v)}`);
    const backward = [...tree.iter(SEQNO_MAX, { reverse: true })].map(([key, v]) => `${dec(key)}=${dec(v)}`);
    expect(forward).toEqual([...expected].map(([key, v]) => `${key}=${v}`));
    expect(backward).toEqual([...forward].reverse());
    for (let i = 0; i < 300; i++) expect(dec(tree.get(k(i), SEQNO_MAX))).toBe(expected.get(k(i)));
    expect(keysOf(tree.range({ gte: k(100), lt: k(110), reverse: true }, SEQNO_MAX))).toEqual(
      [109, 108, 107, 106, 105, 104, 103, 102, 101].map((i) => k(i)),
    );
    await tree.close();
  });
});

describe("many versions of a key (snapshot_point_read.rs, tree_l0_point_read.rs)", () => {
  it("snapshot_lots_of_versions: 600 versions in one table, each readable at its snapshot", async () => {
    const tree = await open({ blockSize: 1024 });
    for (let s = 0; s < 600; s++) tree.insert("abc", `abc${s}`, s);
    await tree.flushActiveMemtable(0);
    expect(tree.len(SEQNO_MAX)).toBe(1);
    for (let s = 1; s <= 600; s++) expect(dec(tree.get("abc", s))).toBe(`abc${s - 1}`);
    expect(tree.get("abc", 0)).toBeUndefined();
    await tree.close();
  });

  it("versions spread over L0 runs (and a merge of them) answer every snapshot", async () => {
    const seqno = new SequenceNumberCounter();
    const tree = await open({ seqno });
    const written: Array<{ at: number; value: string | undefined }> = [];
    for (let run = 0; run < 12; run++) {
      for (let j = 0; j < 3; j++) {
        const s = seqno.next();
        if ((run + j) % 5 === 4) tree.remove("key", s);
        else tree.insert("key", `v${s}`, s);
        written.push({ at: s, value: (run + j) % 5 === 4 ? undefined : `v${s}` });
        tree.insert(`other${run}`, "x", seqno.next());
      }
      await tree.flushActiveMemtable(0);
    }
    expect(tree.l0RunCount()).toBe(12);
    const check = (): void => {
      expect(tree.get("key", 0)).toBeUndefined();
      for (const { at, value } of written) expect(dec(tree.get("key", at + 1))).toBe(value);
    };
    check();
    await tree.compact(new SizeTiered({ minMergeWidth: 2 }), 0);
    expect(tree.l0RunCount()).toBeLessThan(12);
    check();
    await tree.majorCompact(INF, 0);
    check();
    await tree.close();
  });

  it("tree_l0_point_read: overwrites across five flushes", async () => {
    const tree = await open();
    const steps: Array<Array<[string, string]>> = [
      [["a", "a"], ["b", "b"], ["c", "c"]],
      [["a", "A"], ["d", "d"]],
      [["b", "B"], ["e", "e"]],
      [["c", "C"], ["f", "f"]],
      [["g", "g"]],
    ];
    for (const [s, batch] of steps.entries()) {
      for (const [key, value] of batch) tree.insert(key, value, s);
      await tree.flushActiveMemtable(0);
    }
    expect(["a", "b", "c", "d", "e", "f", "g"].map((key) => dec(tree.get(key, SEQNO_MAX)))).toEqual(["A", "B", "C", "d", "e", "f", "g"]);
    expect(keysOf(tree.range({ gte: "c", lte: "e" }, SEQNO_MAX))).toEqual(["c", "d", "e"]);
    await tree.close();
  });
});
