// Port of the reference's tests/custom_comparator.rs (and the compaction cases of
// custom_comparator_compaction.rs that need no merge operator, range tombstones or ingestion), on real
// directories as upstream. Range bounds follow the comparator: under the reverse comparator "d" sorts
// before "b", so { gte: "d", lte: "b" } is the upstream `"d"..="b"`.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { useTempDirs } from "@talus/testkit";
import { BYTEWISE_COMPARATOR, Leveled, LsmError, SEQNO_MAX, SizeTiered, Tree, type Comparator } from "../src/index.ts";
import { dec } from "./helpers.ts";
import { isLsmError, keysOf } from "./tree-support.ts";

const dirs = useTempDirs(afterEach);

const ReverseComparator: Comparator = { name: "reverse-lexicographic", compare: (a, b) => Buffer.compare(b, a) };

/** u64 keys as 8 big-endian bytes, numerically; other lengths bytewise (keeps equality bytewise). */
const U64BigEndianComparator: Comparator = {
  name: "u64-big-endian",
  compare(a, b) {
    if (a.length === 8 && b.length === 8) {
      const x = Buffer.from(a.buffer, a.byteOffset, 8).readBigUInt64BE();
      const y = Buffer.from(b.buffer, b.byteOffset, 8).readBigUInt64BE();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    return Buffer.compare(a, b);
  },
};

const be64 = (n: number): Uint8Array => {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(n));
  return new Uint8Array(out);
};
const u64 = (key: Uint8Array): number => Number(Buffer.from(key).readBigUInt64BE());
const u64Keys = (it: Iterable<[Uint8Array, Uint8Array]>): number[] => [...it].map(([key]) => u64(key));

const openWith = (comparator?: Comparator, path = dirs.make("cmp")) =>
  Tree.open(comparator === undefined ? { path } : { path, comparator });

describe("custom_comparator.rs: reads and iteration", () => {
  it("reverse_comparator_point_read / iteration_order / after_flush", async () => {
    const tree = await openWith(ReverseComparator);
    tree.insert("a", "val_a", 0);
    tree.insert("b", "val_b", 1);
    tree.insert("c", "val_c", 2);
    for (const stage of ["memtable", "table"]) {
      for (const key of ["a", "b", "c"]) expect(dec(tree.get(key, 3)), stage).toBe(`val_${key}`);
      expect(keysOf(tree.iter(4)), stage).toEqual(["c", "b", "a"]);
      expect(keysOf(tree.iter(4, { reverse: true })), stage).toEqual(["a", "b", "c"]);
      expect(dec(tree.firstKeyValue(4)?.[0]), stage).toBe("c");
      expect(dec(tree.lastKeyValue(4)?.[0]), stage).toBe("a");
      await tree.flushActiveMemtable(3);
    }
    await tree.close();
  });

  it("u64_comparator_point_read_and_order / after_flush", async () => {
    const tree = await openWith(U64BigEndianComparator);
    for (const [i, key] of [1, 100, 50, 1000, 500, 256, 255].entries()) tree.insert(be64(key), `val_${key}`, i);
    for (const stage of ["memtable", "table"]) {
      expect(dec(tree.get(be64(1), 7)), stage).toBe("val_1");
      expect(dec(tree.get(be64(1000), 7)), stage).toBe("val_1000");
      expect(dec(tree.get(be64(50), 7)), stage).toBe("val_50");
      expect(tree.get(be64(51), 7), stage).toBeUndefined();
      expect(u64Keys(tree.iter(7)), stage).toEqual([1, 50, 100, 255, 256, 500, 1000]);
      expect(u64Keys(tree.iter(7, { reverse: true })), stage).toEqual([1000, 500, 256, 255, 100, 50, 1]);
      await tree.flushActiveMemtable(7);
    }
    await tree.close();
  });

  it("default_comparator_unchanged_behavior", async () => {
    const tree = await openWith();
    tree.insert("banana", "b", 0);
    tree.insert("apple", "a", 1);
    tree.insert("cherry", "c", 2);
    expect(keysOf(tree.iter(3))).toEqual(["apple", "banana", "cherry"]);
    await tree.close();
  });

  it("reverse_comparator_bounded_range_scan: bounds in comparator order, both directions", async () => {
    const tree = await openWith(ReverseComparator);
    for (const [i, key] of ["a", "b", "c", "d", "e"].entries()) tree.insert(key, String(i + 1), i);
    for (const stage of ["memtable", "table"]) {
      expect(keysOf(tree.range({ gte: "d", lte: "b" }, 5)), stage).toEqual(["d", "c", "b"]);
      expect(keysOf(tree.range({ gte: "d", lt: "b" }, 5)), stage).toEqual(["d", "c"]);
      expect(keysOf(tree.range({ gt: "d", lte: "b", reverse: true }, 5)), stage).toEqual(["b", "c"]);
      expect(keysOf(tree.range({ gte: "c" }, 5)), stage).toEqual(["c", "b", "a"]);
      expect(keysOf(tree.range({ lt: "c" }, 5)), stage).toEqual(["e", "d"]);
      // Bytewise-ascending bounds are inverted under this comparator: nothing.
      expect(keysOf(tree.range({ gte: "b", lte: "d" }, 5)), stage).toEqual([]);
      await tree.flushActiveMemtable(5);
    }
    await tree.close();
  });

  it("u64_comparator_bounded_range_scan", async () => {
    const tree = await openWith(U64BigEndianComparator);
    for (const key of [10, 50, 100, 500, 1000]) tree.insert(be64(key), `v${key}`, key);
    expect(u64Keys(tree.range({ gte: be64(50), lte: be64(500) }, 1001))).toEqual([50, 100, 500]);
    expect(u64Keys(tree.range({ gt: be64(50), lt: be64(1000), reverse: true }, 1001))).toEqual([500, 100]);
    await tree.close();
  });

  // Not in custom_comparator.rs. Fails today: Tree.prefix builds bytewise bounds { gte: p, lt: succ(p) },
  // which the reverse comparator sees as inverted, so the scan is empty (see the report).
  it("prefix scans stay correct under the reverse comparator", async () => {
    const tree = await Tree.open({ path: "/db", fs: new MemFs(), comparator: ReverseComparator });
    for (const [i, key] of ["a", "b", "ba", "bb", "bz", "c"].entries()) tree.insert(key, "v", i);
    await tree.flushActiveMemtable(0);
    tree.insert("bc", "v", 10);
    // A prefix is bytewise, so the keys starting with "b", in the tree's (reverse) order.
    expect(keysOf(tree.prefix("b", SEQNO_MAX))).toEqual(["bz", "bc", "bb", "ba", "b"]);
    expect(keysOf(tree.prefix("b", SEQNO_MAX, { reverse: true }))).toEqual(["b", "ba", "bb", "bc", "bz"]);
    await tree.close();
  });
});

describe("custom_comparator.rs: comparator name persistence", () => {
  it("reopen_with_same_comparator_succeeds / reopen_default_tree_with_default_comparator_succeeds", async () => {
    for (const comparator of [ReverseComparator, undefined]) {
      const path = dirs.make("cmp");
      const tree = await openWith(comparator, path);
      tree.insert("a", "1", 0);
      await tree.flushActiveMemtable(1);
      await tree.close();
      const again = await openWith(comparator === undefined ? undefined : { ...ReverseComparator }, path);
      expect(dec(again.get("a", 2))).toBe("1");
      await again.close();
    }
  });

  it("reopen_with_different_comparator_fails / reopen_custom_with_default_comparator_fails", async () => {
    const path = dirs.make("cmp");
    const tree = await openWith(ReverseComparator, path);
    tree.insert("a", "1", 0);
    await tree.flushActiveMemtable(1);
    await tree.close();
    const files = readdirSync(path).sort();
    const names = (error: unknown): string => (error instanceof LsmError ? error.message : "");
    const u64 = await openWith(U64BigEndianComparator, path).catch((e: unknown) => e);
    expect(isLsmError("COMPARATOR_MISMATCH")(u64)).toBe(true);
    expect(names(u64)).toContain("reverse-lexicographic");
    expect(names(u64)).toContain("u64-big-endian");
    const byDefault = await openWith(undefined, path).catch((e: unknown) => e);
    expect(isLsmError("COMPARATOR_MISMATCH")(byDefault)).toBe(true);
    expect(names(byDefault)).toContain(BYTEWISE_COMPARATOR.name);
    // The refusals changed nothing on disk, and the right comparator still opens the tree.
    expect(readdirSync(path).sort()).toEqual(files);
    const ok = await openWith(ReverseComparator, path);
    expect(dec(ok.get("a", 2))).toBe("1");
    await ok.close();
  });

  it("a default tree reopened with a custom comparator fails too", async () => {
    const path = dirs.make("cmp");
    await (await openWith(undefined, path)).close();
    await expect(openWith(ReverseComparator, path)).rejects.toSatisfy(isLsmError("COMPARATOR_MISMATCH"));
  });

  it("oversized_comparator_name_rejected_on_create: a 300-char name is a RangeError at open", async () => {
    const path = join(dirs.make("cmp"), "db");
    const oversized: Comparator = { name: "x".repeat(300), compare: (a, b) => Buffer.compare(a, b) };
    await expect(Tree.open({ path, comparator: oversized })).rejects.toBeInstanceOf(RangeError);
    expect(existsSync(path)).toBe(false);
    // 256 bytes is the limit, counted in UTF-8 bytes, not characters.
    await expect(Tree.open({ path, comparator: { ...oversized, name: "é".repeat(129) } })).rejects.toBeInstanceOf(RangeError);
    const fits = await Tree.open({ path, comparator: { ...oversized, name: "x".repeat(256) } });
    await fits.close();
  });
});

describe("custom_comparator.rs / custom_comparator_compaction.rs: compaction keeps the order", () => {
  it("reverse_comparator_after_compaction (major)", async () => {
    const tree = await openWith(ReverseComparator);
    tree.insert("a", "val_a", 0);
    tree.insert("b", "val_b", 1);
    await tree.flushActiveMemtable(2);
    tree.insert("c", "val_c", 3);
    tree.insert("d", "val_d", 4);
    await tree.flushActiveMemtable(5);
    await tree.majorCompact(Number.POSITIVE_INFINITY, 6);
    expect(tree.tableCount()).toBe(1);
    expect(keysOf(tree.iter(7))).toEqual(["d", "c", "b", "a"]);
    expect(dec(tree.get("a", 7))).toBe("val_a");
    expect(dec(tree.get("d", 7))).toBe("val_d");
    await tree.close();
  });

  it("reverse_comparator_leveled_compaction: four flushes of three keys", async () => {
    const tree = await openWith(ReverseComparator);
    let seqno = 0;
    for (let batch = 0; batch < 4; batch++) {
      for (let i = 0; i < 3; i++) {
        const key = String.fromCharCode(97 + batch * 3 + i);
        tree.insert(key, `val_${key}`, seqno++);
      }
      await tree.flushActiveMemtable(seqno++);
    }
    await tree.compact(new Leveled(), seqno);
    const expected = "abcdefghijkl".split("").reverse();
    expect(keysOf(tree.iter(seqno))).toEqual(expected);
    expect(keysOf(tree.iter(seqno, { reverse: true }))).toEqual([...expected].reverse());
    await tree.close();
  });

  it("reverse_comparator_compaction_with_tombstone", async () => {
    const tree = await openWith(ReverseComparator);
    tree.insert("a", "val_a", 0);
    tree.insert("b", "val_b", 1);
    tree.insert("c", "val_c", 2);
    await tree.flushActiveMemtable(3);
    tree.remove("b", 4);
    await tree.flushActiveMemtable(5);
    await tree.majorCompact(Number.POSITIVE_INFINITY, 6);
    expect(tree.get("b", 7)).toBeUndefined();
    expect(keysOf(tree.iter(7))).toEqual(["c", "a"]);
    expect(tree.approximateLen()).toBe(2);
    await tree.close();
  });

  it("u64_comparator_range_scan_multi_table_run: disjoint flushes moved into one L6 run", async () => {
    const tree = await openWith(U64BigEndianComparator);
    for (const batch of [[10, 20, 30], [40, 50, 60], [70, 80, 90]]) {
      for (const key of batch) tree.insert(be64(key), `v${key}`, key);
      await tree.flushActiveMemtable(0);
      await tree.compact(new Leveled(), 100);
    }
    expect(tree.levelTableCount(6)).toBe(3);
    expect(tree.currentVersion().level(6).runs).toHaveLength(1);
    expect(u64Keys(tree.iter(100))).toEqual([10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect(u64Keys(tree.range({ gte: be64(30), lte: be64(70) }, 100))).toEqual([30, 40, 50, 60, 70]);
    expect(u64Keys(tree.range({ gt: be64(30), lt: be64(70), reverse: true }, 100))).toEqual([60, 50, 40]);
    expect(dec(tree.get(be64(60), 100))).toBe("v60");
    await tree.close();
  });

  it("u64 keys through Leveled, SizeTiered and major compaction, with updates and deletes", async () => {
    const tree = await Tree.open({ path: "/db", fs: new MemFs(), comparator: U64BigEndianComparator, blockSize: 64 });
    const keys = [1000, 1, 500, 42, 750, 100, 999, 250, 50];
    let s = 0;
    for (const [i, key] of keys.entries()) {
      tree.insert(be64(key), `v${key}`, s++);
      if (i % 3 === 2) await tree.flushActiveMemtable(0);
    }
    const sorted = [...keys].sort((a, b) => a - b);
    expect(await tree.compact(new SizeTiered({ minMergeWidth: 2 }), 0)).toMatchObject({ action: "merged" });
    expect(u64Keys(tree.iter(SEQNO_MAX))).toEqual(sorted);
    await tree.compact(new Leveled(), 0);
    expect(u64Keys(tree.iter(SEQNO_MAX))).toEqual(sorted);
    tree.insert(be64(42), "new42", s++);
    tree.remove(be64(750), s++);
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(64, SEQNO_MAX);
    expect(tree.levelTableCount(6)).toBeGreaterThan(1);
    expect(u64Keys(tree.iter(SEQNO_MAX))).toEqual(sorted.filter((key) => key !== 750));
    expect(u64Keys(tree.iter(SEQNO_MAX, { reverse: true }))).toEqual(sorted.filter((key) => key !== 750).reverse());
    expect(dec(tree.get(be64(42), SEQNO_MAX))).toBe("new42");
    for (const key of sorted.filter((x) => x !== 42 && x !== 750)) expect(dec(tree.get(be64(key), SEQNO_MAX))).toBe(`v${key}`);
    await tree.close();
  });

  it("dropRange bounds follow the comparator", async () => {
    const tree = await Tree.open({ path: "/db", fs: new MemFs(), comparator: ReverseComparator });
    for (const batch of [["e", "d"], ["c", "b"], ["a"]]) {
      for (const key of batch) tree.insert(key, key, 0);
      await tree.flushActiveMemtable(0);
    }
    expect(await tree.dropRange({ gte: "b", lte: "d" })).toMatchObject({ action: "nothing" });
    expect(await tree.dropRange({ gte: "d", lte: "b" })).toMatchObject({ action: "dropped", tablesIn: 1 });
    expect(keysOf(tree.iter(SEQNO_MAX))).toEqual(["e", "d", "a"]);
    await tree.close();
  });
});
