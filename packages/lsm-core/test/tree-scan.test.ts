// Tree.scan, the zero-copy scan: the same entries as range() for any bounds, seqno, direction and limit
// over every kind of source (active and sealed memtables, L0 runs, deeper levels) with deletions, range
// tombstones and merge operands; early stop and the count it returns; what its views are, and that
// range()/iter() keep handing out copies; and a visitor that throws.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { Random } from "@talus/testkit";
import { counterMerge, SEQNO_MAX, SequenceNumberCounter, Tree, type RangeOptions, type TreeOptions } from "../src/index.ts";
import { dec } from "./helpers.ts";
import { le64, pullDown } from "./tree-merge-support.ts";
import { isLsmError, k, tableFiles } from "./tree-support.ts";

const KEYS = 300;
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");
const key = (i: number): string => k(i, "k", 3);

type Mutable<T> = { -readonly [P in keyof T]: T[P] };

/** What range() yields, as comparable strings. */
function viaRange(tree: Tree, bounds: RangeOptions, seqno: number): string[] {
  return [...tree.range(bounds, seqno)].map(([entryKey, value]) => `${dec(entryKey)}=${hex(value)}`);
}

/** What scan() visits, copied inside the callback (the views die with it), and the count it returns. */
function viaScan(tree: Tree, bounds: RangeOptions, seqno: number): { entries: string[]; count: number } {
  const entries: string[] = [];
  const count = tree.scan(bounds, seqno, (entryKey, value) => {
    entries.push(`${dec(entryKey)}=${hex(value)}`);
  });
  return { entries, count };
}

type Flavour = "counter merge" | "no merge operator" | "prefix extractor";

/**
 * A tree with data in every kind of source: L4 and L2 tables (pulled down by compactions that keep every
 * version), two L0 runs, a sealed memtable and the active one; each part written with random values,
 * merge operands, point and weak deletions and range deletions. Under `counterMerge` every value is an
 * 8-byte counter; otherwise values vary in size (up to several KiB), crossing the copy paths' size classes.
 */
async function layeredTree(rng: Random, flavour: Flavour): Promise<{ tree: Tree; seqno: SequenceNumberCounter }> {
  const seqno = new SequenceNumberCounter();
  const extra: Partial<TreeOptions> =
    flavour === "counter merge"
      ? { mergeOperator: counterMerge }
      : flavour === "prefix extractor"
        ? { prefixExtractor: { name: "two-bytes", extract: (bytes: Uint8Array) => (bytes.length >= 2 ? bytes.subarray(0, 2) : undefined) } }
        : {};
  const tree = await Tree.open({ path: "/db", fs: new MemFs(), seqno, ...extra });
  const value = (): Uint8Array => (flavour === "counter merge" ? le64(rng.int(1000)) : rng.bytes(rng.pick([1, 8, 40, 100, 700, 3000])));
  const write = (ops: number): void => {
    for (let n = 0; n < ops; n++) {
      const i = rng.int(KEYS);
      const roll = rng.float();
      if (roll < 0.5) tree.insert(key(i), value(), seqno.next());
      else if (roll < 0.7) tree.merge(key(i), value(), seqno.next());
      else if (roll < 0.85) tree.remove(key(i), seqno.next());
      else if (roll < 0.92) tree.removeWeak(key(i), seqno.next());
      else if (roll < 0.95) tree.removeRange(key(i), key(i + 1 + rng.int(20)), seqno.next());
      else tree.insert(key(i), value(), seqno.next());
    }
  };
  write(800);
  await tree.flushActiveMemtable(0);
  await tree.compact(pullDown(0, 4), 0);
  write(500);
  await tree.flushActiveMemtable(0);
  await tree.compact(pullDown(0, 2), 0);
  write(300);
  await tree.flushActiveMemtable(0);
  write(300);
  await tree.flushActiveMemtable(0);
  write(200);
  tree.rotateMemtable();
  write(200);
  expect(tree.levelTableCount(4)).toBeGreaterThan(0);
  expect(tree.levelTableCount(2)).toBeGreaterThan(0);
  expect(tree.l0RunCount()).toBe(2);
  expect(tree.sealedMemtableCount()).toBe(1);
  return { tree, seqno };
}

/** Bounds as a user might pass them: absent, existing or missing keys (a bare prefix too), any direction and limit. */
function randomBounds(rng: Random): RangeOptions {
  const bound = (): string => (rng.chance(0.85) ? key(rng.int(KEYS + 20)) : `k${rng.int(32)}`);
  const b: Mutable<RangeOptions> = {};
  const lower = rng.int(4);
  if (lower === 1) b.gte = bound();
  else if (lower === 2) b.gt = bound();
  else if (lower === 3) [b.gt, b.gte] = [bound(), bound()];
  const upper = rng.int(4);
  if (upper === 1) b.lte = bound();
  else if (upper === 2) b.lt = bound();
  else if (upper === 3) [b.lt, b.lte] = [bound(), bound()];
  if (rng.chance(0.5)) b.reverse = true;
  const limit = rng.pick([undefined, undefined, 0, 1, 2, 7, 50, -1, Infinity]);
  if (limit !== undefined) b.limit = limit;
  return b;
}

describe("Tree.scan visits what range returns", () => {
  for (const flavour of ["counter merge", "no merge operator", "prefix extractor"] as const) {
    it(`for random bounds, seqnos, directions and limits (${flavour})`, async () => {
      const rng = new Random(flavour.length * 7919);
      const { tree, seqno } = await layeredTree(rng, flavour);
      const top = seqno.get();
      let nonEmpty = 0;
      for (let round = 0; round < 400; round++) {
        const bounds = randomBounds(rng);
        const at = rng.pick([SEQNO_MAX, top, rng.int(top + 2), rng.int(top + 2)]);
        const want = viaRange(tree, bounds, at);
        const got = viaScan(tree, bounds, at);
        const context = `seed ${rng.seed} round ${round}: ${JSON.stringify(bounds)} at ${at}`;
        expect(got.entries, context).toEqual(want);
        expect(got.count, context).toBe(want.length);
        if (want.length > 0) nonEmpty++;
      }
      // Full scans both ways, from above the last write down to a read that sees nothing.
      for (const at of [SEQNO_MAX, top, Math.floor(top / 2), 1, 0]) {
        for (const reverse of [false, true]) expect(viaScan(tree, { reverse }, at).entries).toEqual(viaRange(tree, { reverse }, at));
      }
      expect(nonEmpty).toBeGreaterThan(100);
      await tree.close();
    });
  }

  it("merges operands through the merge operator, over memtable and tables alike", async () => {
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: "/db", fs: new MemFs(), seqno, mergeOperator: counterMerge });
    tree.insert("a", le64(10), seqno.next());
    tree.merge("a", le64(5), seqno.next());
    await tree.flushActiveMemtable(0);
    tree.merge("a", le64(1), seqno.next());
    tree.merge("b", le64(2), seqno.next());
    tree.merge("c", le64(7), seqno.next());
    tree.removeRange("c", "d", seqno.next());
    for (const reverse of [false, true]) {
      const seen: string[] = [];
      tree.scan({ reverse }, SEQNO_MAX, (entryKey, value) => {
        seen.push(`${dec(entryKey)}=${new DataView(value.buffer, value.byteOffset, 8).getBigInt64(0, true)}`);
      });
      expect(seen).toEqual(reverse ? ["b=2", "a=16"] : ["a=16", "b=2"]);
    }
    await tree.close();
  });
});

describe("Tree.scan stops early", () => {
  async function hundredKeys(): Promise<Tree> {
    const tree = await Tree.open({ path: "/db", fs: new MemFs() });
    for (let i = 0; i < 100; i++) tree.insert(key(i), `v${i}`, i + 1);
    await tree.flushActiveMemtable(0);
    for (let i = 0; i < 100; i += 3) tree.insert(key(i), `w${i}`, 200 + i);
    return tree;
  }

  it("when the visitor returns false, after visiting (and counting) that entry", async () => {
    const tree = await hundredKeys();
    for (const reverse of [false, true]) {
      const seen: string[] = [];
      const count = tree.scan({ reverse }, SEQNO_MAX, (entryKey) => {
        seen.push(dec(entryKey) as string);
        return seen.length < 5;
      });
      expect(count).toBe(5);
      expect(seen).toEqual(viaRange(tree, { reverse, limit: 5 }, SEQNO_MAX).map((e) => e.split("=")[0]));
    }
    await tree.close();
  });

  it("only on false: true and undefined go on", async () => {
    const tree = await hundredKeys();
    let calls = 0;
    expect(tree.scan({}, SEQNO_MAX, () => (++calls % 2 === 0 ? true : undefined))).toBe(100);
    expect(calls).toBe(100);
    await tree.close();
  });

  it("after `limit` entries, and not at all with limit 0", async () => {
    const tree = await hundredKeys();
    let calls = 0;
    expect(tree.scan({ gte: key(10), limit: 7 }, SEQNO_MAX, () => void calls++)).toBe(7);
    expect(calls).toBe(7);
    expect(tree.scan({ limit: 0 }, SEQNO_MAX, () => void calls++)).toBe(0);
    expect(calls).toBe(7);
    expect(tree.scan({ gt: key(99) }, SEQNO_MAX, () => void calls++)).toBe(0);
    await tree.close();
  });
});

describe("views and copies", () => {
  it("range and iter hand out copies: changing one changes no later read", async () => {
    const tree = await Tree.open({ path: "/db", fs: new MemFs() });
    tree.insert("a", "memtable", 1);
    tree.insert("b", "x".repeat(100), 2);
    await tree.flushActiveMemtable(0);
    tree.insert("c", "memtable too", 3);
    const want = ["a=memtable", `b=${"x".repeat(100)}`, "c=memtable too"];
    for (const read of [() => [...tree.range({}, SEQNO_MAX)], () => [...tree.iter(SEQNO_MAX, { reverse: true })]]) {
      for (const [entryKey, value] of read()) {
        entryKey.fill(0x21);
        value.fill(0x21);
      }
      expect([...tree.iter(SEQNO_MAX)].map(([entryKey, value]) => `${dec(entryKey)}=${dec(value)}`)).toEqual(want);
      const scanned: string[] = [];
      tree.scan({}, SEQNO_MAX, (entryKey, value) => void scanned.push(`${dec(entryKey)}=${dec(value)}`));
      expect(scanned).toEqual(want);
    }
    await tree.close();
  });

  it("scan's value views are the memtable's memory, where range gets a copy", async () => {
    const tree = await Tree.open({ path: "/db", fs: new MemFs() });
    for (let i = 0; i < 10; i++) tree.insert(key(i), `value ${i}`, i + 1);
    const views = (): Array<{ buffer: ArrayBufferLike; offset: number; length: number }> => {
      const out: Array<{ buffer: ArrayBufferLike; offset: number; length: number }> = [];
      tree.scan({}, SEQNO_MAX, (_k, v) => {
        out.push({ buffer: v.buffer, offset: v.byteOffset, length: v.length });
      });
      return out;
    };
    const first = views();
    const second = views();
    expect(first).toHaveLength(10);
    // Both scans are handed the same bytes of one arena, which holds every entry, not copies of them.
    first.forEach((v, i) => {
      expect(second[i]?.buffer).toBe(v.buffer);
      expect(second[i]?.offset).toBe(v.offset);
      expect(v.buffer).toBe(first[0]?.buffer);
      expect(v.buffer.byteLength).toBeGreaterThan(v.length);
    });
    const [, copy] = tree.range({ limit: 1 }, SEQNO_MAX).next().value as [Uint8Array, Uint8Array];
    expect(copy.buffer).not.toBe(first[0]?.buffer);
    await tree.close();
  });

  it("scan's value views of table entries are views into a block, not one buffer per value", async () => {
    const tree = await Tree.open({ path: "/db", fs: new MemFs() });
    for (let i = 0; i < 50; i++) tree.insert(key(i), `value ${i}`, i + 1);
    await tree.flushActiveMemtable(0);
    let views = 0;
    tree.scan({}, SEQNO_MAX, (_k, v) => {
      expect(v.buffer.byteLength).toBeGreaterThan(v.length);
      views++;
    });
    expect(views).toBe(50);
    await tree.close();
  });

  it("stay valid for the whole call, even when the visitor's own reads recycle block memory", async () => {
    // With a block cache of about two blocks, a visitor's reads evict blocks; an evicted block no cursor
    // stands on gives its memory to the next block read. A reverse scan leaves the block of a key's
    // newest version before it knows that version is the one to visit: for a key first in its block,
    // that block is the one the visitor's second read would overwrite. Every key is tried as the first
    // visited, with a few cache sizes around two blocks.
    for (const cacheKiB of [8, 10, 12, 14, 16]) {
      const tree = await Tree.open({ path: "/db", fs: new MemFs(), cacheBytes: cacheKiB * 1024 });
      const rng = new Random(cacheKiB);
      for (let i = 0; i < 1000; i++) tree.insert(k(i), rng.bytes(100), i + 1);
      await tree.flushActiveMemtable(0);
      for (const reverse of [false, true]) {
        for (let j = 0; j < 1000; j++) {
          const bounds = reverse ? { lte: k(j), reverse } : { gte: k(j) };
          const visited = tree.scan(bounds, SEQNO_MAX, (entryKey, value) => {
            const before = `${hex(entryKey)}=${hex(value)}`;
            tree.get(k((j + 300) % 1000), SEQNO_MAX);
            tree.get(k((j + 600) % 1000), SEQNO_MAX);
            expect(`${hex(entryKey)}=${hex(value)}`, `${cacheKiB} KiB cache, ${JSON.stringify(bounds)}`).toBe(before);
            return false;
          });
          expect(visited).toBe(1);
        }
      }
      await tree.close();
    }
  });

  it("a key kept without copying is not the key any more once its call returned (why the contract says copy)", async () => {
    const tree = await Tree.open({ path: "/db", fs: new MemFs() });
    for (let i = 0; i < 10; i++) tree.insert(key(i), "v", i + 1);
    await tree.flushActiveMemtable(0);
    for (const reverse of [false, true]) {
      const kept: Uint8Array[] = [];
      const copied: string[] = [];
      tree.scan({ reverse }, SEQNO_MAX, (entryKey) => {
        kept.push(entryKey);
        copied.push(dec(entryKey.slice()) as string);
      });
      expect(copied).toEqual(reverse ? ["k009", "k008", "k007", "k006", "k005", "k004", "k003", "k002", "k001", "k000"] : ["k000", "k001", "k002", "k003", "k004", "k005", "k006", "k007", "k008", "k009"]);
      // The scan reuses one buffer for its keys: every kept view now reads as the last key.
      expect(kept.map((view) => dec(view))).toEqual(Array.from({ length: 10 }, () => copied[9]));
    }
    await tree.close();
  });
});

describe("Tree.scan errors", () => {
  it("a throwing visitor's error propagates, the snapshot is released and the tree goes on", async () => {
    const fs = new MemFs();
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: "/db", fs, seqno });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 200; i++) tree.insert(key(i), `r${round}`, seqno.next());
      await tree.flushActiveMemtable(0);
    }
    const boom = new Error("visitor failed");
    for (const reverse of [false, true]) {
      let calls = 0;
      expect(() =>
        tree.scan({ reverse }, SEQNO_MAX, () => {
          if (++calls === 3) throw boom;
        }),
      ).toThrow(boom);
      expect(calls).toBe(3);
    }
    // Nothing pins the two tables any more: the compaction that replaces them deletes them at once (a
    // scan that kept its snapshot would keep them on disk, as an unfinished iterator does).
    expect(tableFiles(fs, "/db/tables")).toEqual(["0", "1"]);
    await tree.majorCompact(Number.POSITIVE_INFINITY, 0);
    expect(tableFiles(fs, "/db/tables")).toEqual(["2"]);
    tree.insert(key(500), "after", seqno.next());
    const seen: string[] = [];
    expect(tree.scan({ gte: key(198) }, SEQNO_MAX, (entryKey, value) => void seen.push(`${dec(entryKey)}=${dec(value)}`))).toBe(3);
    expect(seen).toEqual([`${key(198)}=r1`, `${key(199)}=r1`, `${key(500)}=after`]);
    await tree.close();
  });

  it("rejects what range rejects, a missing visitor, and a closed tree", async () => {
    const tree = await Tree.open({ path: "/db", fs: new MemFs() });
    tree.insert("a", "1", 1);
    const visit = (): void => {};
    for (const [bounds, seqno] of [[{ limit: -2 }, 5], [{ limit: 1.5 }, 5], [{ gte: "" }, 5], [{}, -1], [{}, 1.5]] as const) {
      const byRange = thrown(() => tree.range(bounds, seqno));
      expect(byRange).toBeInstanceOf(Error);
      const byScan = thrown(() => tree.scan(bounds, seqno, visit));
      expect(byScan?.constructor).toBe(byRange?.constructor);
      expect((byScan as Error).message).toBe((byRange as Error).message);
    }
    expect(thrown(() => tree.scan({}, 5, undefined as unknown as () => void))).toBeInstanceOf(TypeError);
    await tree.close();
    expect(isLsmError("CLOSED")(thrown(() => tree.range({}, 5)))).toBe(true);
    expect(isLsmError("CLOSED")(thrown(() => tree.scan({}, 5, visit)))).toBe(true);
  });
});

/** What `fn` throws, or undefined when it returns. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}
