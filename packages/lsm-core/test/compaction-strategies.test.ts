import { describe, expect, it } from "vitest";
import { Random } from "@talus/testkit";
import { BYTEWISE_COMPARATOR, type Comparator } from "../src/key/comparator.ts";
import { normalizeRange } from "../src/iter/bounds.ts";
import { LEVEL_COUNT, Version } from "../src/version/version.ts";
import {
  DEFAULT_TABLE_TARGET_SIZE,
  Fifo,
  Leveled,
  NOTHING,
  SizeTiered,
  dropRangeChoice,
  majorCompaction,
  type CompactionChoice,
  type CompactionContext,
  type CompactionStrategy,
  type CompactionTable,
  type DropRangeBounds,
} from "../src/compaction/strategies/index.ts";
import { REVERSE_COMPARATOR, enc } from "./helpers.ts";

const MIB64 = DEFAULT_TABLE_TARGET_SIZE;

/** A fake table; `createdAtMs` and the seqnos default to the id, so higher ids are newer. */
function t(id: number, min: string, max = min, size = 1, createdAtMs = id): CompactionTable {
  return { id, minKey: enc(min), maxKey: enc(max), size, minSeqno: id, maxSeqno: id, createdAtMs };
}

type Layout = Partial<Record<number, CompactionTable[][]>>;

/** A version from `{ level: runs }`; L0 runs newest first. */
function version(layout: Layout, comparator: Comparator = BYTEWISE_COMPARATOR): Version<CompactionTable> {
  return Version.fromLevels(
    0,
    "standard",
    comparator,
    Array.from({ length: LEVEL_COUNT }, (_, i) => layout[i] ?? []),
  );
}

const empty = (comparator: Comparator = BYTEWISE_COMPARATOR): Version<CompactionTable> => Version.empty("standard", comparator);
const ctx = (busy: number[] = [], nowMs = 0, blobBytes?: number): CompactionContext =>
  blobBytes === undefined ? { busy: new Set(busy), nowMs } : { busy: new Set(busy), nowMs, blobBytes };
/** One overlapping L0 run per table, newest (highest id) first. */
const l0Runs = (tables: CompactionTable[]): CompactionTable[][] => [...tables].reverse().map((table) => [table]);
/** `count` tables spanning a..z, ids from `first`: each overlaps all others. */
const wide = (first: number, count: number, size = 1): CompactionTable[] =>
  Array.from({ length: count }, (_, i) => t(first + i, "a", "z", size));

let nextOutputId = 1000;

/** What the engine would do with a choice (merges produce one table spanning their inputs). */
function apply(v: Version<CompactionTable>, choice: CompactionChoice): Version<CompactionTable> {
  switch (choice.kind) {
    case "nothing":
      return v;
    case "drop":
      return v.withRemovedTables(choice.tableIds);
    case "move":
      return v.withMovedTables(choice.tableIds, choice.destLevel);
    case "merge": {
      const inputs = choice.tableIds.map((id) => v.getTable(id) as CompactionTable);
      const cmp = v.comparator;
      const out: CompactionTable = {
        id: nextOutputId++,
        minKey: inputs.map((x) => x.minKey).reduce((a, b) => (cmp.compare(a, b) <= 0 ? a : b)),
        maxKey: inputs.map((x) => x.maxKey).reduce((a, b) => (cmp.compare(a, b) >= 0 ? a : b)),
        size: inputs.reduce((sum, x) => sum + x.size, 0),
        minSeqno: Math.min(...inputs.map((x) => x.minSeqno)),
        maxSeqno: Math.max(...inputs.map((x) => x.maxSeqno)),
        createdAtMs: Math.max(...inputs.map((x) => x.createdAtMs)),
      };
      return v.withReplacedTables(choice.tableIds, [out], choice.destLevel);
    }
  }
}

const move = (tableIds: number[], destLevel: number): CompactionChoice => ({ kind: "move", tableIds, destLevel });
const merge = (tableIds: number[], destLevel: number, targetSize: number, canonicalLevel: number): CompactionChoice => ({
  kind: "merge",
  tableIds,
  destLevel,
  targetSize,
  canonicalLevel,
});
const drop = (tableIds: number[]): CompactionChoice => ({ kind: "drop", tableIds });

describe("every strategy", () => {
  const strategies: CompactionStrategy[] = [
    new Leveled(),
    new Leveled({ dynamicLevelBytes: true, multiLevel: true }),
    new SizeTiered(),
    new Fifo({ limitBytes: 0, ttlSeconds: 1 }),
    majorCompaction(MIB64),
  ];

  it("has the reference's name", () => {
    expect(strategies.map((s) => s.name)).toEqual([
      "LeveledCompaction",
      "LeveledCompaction",
      "SizeTieredCompaction",
      "FifoCompaction",
      "MajorCompaction",
    ]);
  });

  it("chooses nothing on an empty tree", () => {
    for (const s of strategies) expect(s.choose(empty(), ctx([], 1e12))).toEqual(NOTHING);
  });

  it("never chooses a busy table, and its choices apply cleanly (random trees)", () => {
    const rng = new Random(0x5eed);
    const keys = Array.from({ length: 40 }, (_, i) => `k${String(i).padStart(2, "0")}`);
    let id = 1;
    const randomTable = (min: number, max: number): CompactionTable =>
      t(id++, keys[min] as string, keys[max] as string, rng.range(1, 30), rng.int(1000));
    for (let round = 0; round < 300; round++) {
      const layout: Layout = { 0: [] };
      for (let r = rng.int(6); r > 0; r--) {
        const a = rng.int(40);
        layout[0]?.push([randomTable(a, Math.min(39, a + rng.int(10)))]);
      }
      for (let level = 1; level < LEVEL_COUNT; level++) {
        if (!rng.chance(0.4)) continue;
        const run: CompactionTable[] = [];
        for (let k = rng.int(4); k < 40; k += 1 + rng.int(8)) {
          const end = Math.min(39, k + rng.int(3));
          run.push(randomTable(k, end));
          k = end;
        }
        if (run.length > 0) layout[level] = [run];
      }
      let v = version(layout);
      const all = [...v.tables()].map((x) => x.id);
      const busyRate = rng.pick([0, 0.1, 0.3]);
      const busy = all.filter(() => rng.chance(busyRate));
      const strategy = rng.pick([
        new Leveled({ tableTargetSize: 10, l0Threshold: rng.range(1, 4), multiLevel: rng.chance(0.5), dynamicLevelBytes: rng.chance(0.5) }),
        new SizeTiered({ minMergeWidth: 2 }),
        new Fifo({ limitBytes: 60, ttlSeconds: 1 }),
        majorCompaction(100),
      ]);
      for (let step = 0; step < 4; step++) {
        const choice = strategy.choose(v, ctx(busy, 1500));
        if (choice.kind === "nothing") break;
        for (const chosen of choice.tableIds) {
          expect(busy).not.toContain(chosen);
          expect(v.getTable(chosen)).toBeDefined();
        }
        expect([...choice.tableIds].sort((a, b) => a - b)).toEqual(choice.tableIds);
        expect(new Set(choice.tableIds).size).toBe(choice.tableIds.length);
        v = apply(v, choice);
      }
    }
  });
});

describe("Leveled", () => {
  it("defaults to the reference's options and static targets (L1 = target × threshold, ×10 below)", () => {
    const leveled = new Leveled();
    expect(leveled.options).toEqual({ l0Threshold: 4, tableTargetSize: MIB64, levelRatio: [10], dynamicLevelBytes: false, multiLevel: false });
    expect(leveled.levelTargetSize(1)).toBe(4 * MIB64);
    expect(leveled.levelTargetSize(3)).toBe(400 * MIB64);
    const custom = new Leveled({ tableTargetSize: 10, l0Threshold: 2, levelRatio: [2, 3] });
    expect([1, 2, 3, 4].map((level) => custom.levelTargetSize(level))).toEqual([20, 40, 120, 360]);
  });

  for (const [name, comparator] of [
    ["bytewise", BYTEWISE_COMPARATOR],
    ["reverse", REVERSE_COMPARATOR],
  ] as const) {
    it(`trivially moves one-key flushes to L6, then keeps an overlapping flush in L0 (leveled_trivial_move, ${name})`, () => {
      const leveled = new Leveled();
      let v = empty(comparator);
      let id = 0;
      for (const [i, key] of ["a", "b", "c", "d", "e", "f"].entries()) {
        v = v.withNewL0Run([t(++id, key)]);
        const choice = leveled.choose(v, ctx());
        expect(choice).toEqual(move([id], 6));
        v = apply(v, choice);
        expect(v.levelTableCount(0)).toBe(0);
        expect(v.levelTableCount(6)).toBe(i + 1);
        expect(leveled.choose(v, ctx())).toEqual(NOTHING);
      }
      v = v.withNewL0Run([t(++id, "d")]);
      expect(leveled.choose(v, ctx())).toEqual(NOTHING);
      expect([v.levelTableCount(0), v.levelTableCount(6)]).toEqual([1, 6]);
      // A second overlapping flush: two runs, fewer tables than the threshold → merged within L0.
      v = v.withNewL0Run([t(++id, "d")]);
      const intra = leveled.choose(v, ctx());
      expect(intra).toEqual(merge([7, 8], 0, MIB64, 0));
      v = apply(v, intra);
      expect([v.levelTableCount(0), v.l0RunCount, v.levelTableCount(6)]).toEqual([1, 1, 6]);
    });
  }

  it("does not move L0 to L6 when an intermediate level has data, but moves it into that level (canonical L1)", () => {
    const leveled = new Leveled();
    expect(leveled.choose(version({ 0: [[t(1, "x")]], 1: [[t(2, "a", "b")]] }), ctx())).toEqual(move([1], 1));
    expect(leveled.choose(version({ 0: [[t(1, "x")]], 3: [[t(2, "a", "b")]], 6: [[t(3, "a", "z")]] }), ctx())).toEqual(move([1], 3));
    // Overlap, or a busy target, rules the move out; one L0 table is below the threshold.
    expect(leveled.choose(version({ 0: [[t(1, "b")]], 3: [[t(2, "a", "c")]] }), ctx())).toEqual(NOTHING);
    expect(leveled.choose(version({ 0: [[t(1, "x")]], 3: [[t(2, "a", "b")]] }), ctx([2]))).toEqual(NOTHING);
  });

  it("skips the trivial move to L6 while an L0 table is busy", () => {
    expect(new Leveled().choose(version({ 0: [[t(1, "a"), t(2, "b")]] }), ctx([2]))).toEqual(NOTHING);
  });

  it("merges L0 within L0 while it has several runs and fewer tables than the threshold, unless busy", () => {
    const leveled = new Leveled();
    const v = version({ 0: l0Runs(wide(1, 3)), 6: [[t(9, "a", "z")]] });
    expect(leveled.choose(v, ctx())).toEqual(merge([1, 2, 3], 0, MIB64, 0));
    expect(leveled.choose(v, ctx([2]))).toEqual(NOTHING);
  });

  it("scores L0 at the threshold and merges all of it with the overlapping L1 tables", () => {
    const leveled = new Leveled();
    const v = version({ 0: l0Runs(wide(1, 4)), 1: [[t(10, "b", "c"), t(11, "m", "n"), t(12, "za", "zb")]] });
    expect(leveled.choose(v, ctx())).toEqual(merge([1, 2, 3, 4, 10, 11], 1, MIB64, 1));
    // Any busy table in L0 or in canonical L1 stops the L0 compaction.
    expect(leveled.choose(v, ctx([12]))).toEqual(NOTHING);
    expect(leveled.choose(v, ctx([3]))).toEqual(NOTHING);
  });

  it("merges L0 with what it overlaps in L6 when L6 is canonical L1", () => {
    const v = version({ 0: [[t(1, "a"), t(2, "b"), t(3, "d"), t(4, "e")]], 6: [[t(5, "c"), t(6, "x")]] });
    expect(new Leveled().choose(v, ctx())).toEqual(merge([1, 2, 3, 4, 5], 6, MIB64, 1));
  });

  it("shifts canonical L1 up once every non-empty level is over target, and moves disjoint L0 there", () => {
    const leveled = new Leveled({ tableTargetSize: 10, l0Threshold: 4 });
    const disjoint = [[t(1, "a"), t(2, "b"), t(3, "c"), t(4, "d")]];
    // L3 holds 100 > 40 bytes (the L1 target it would play): L2 becomes canonical L1 and, being empty,
    // takes the whole disjoint L0 by a move; overlapping L0 runs are merged into it instead.
    expect(leveled.choose(version({ 0: disjoint, 3: [[t(9, "m", "n", 100)]] }), ctx())).toEqual(move([1, 2, 3, 4], 2));
    expect(leveled.choose(version({ 0: l0Runs(wide(1, 4)), 3: [[t(9, "m", "n", 100)]] }), ctx())).toEqual(merge([1, 2, 3, 4], 2, 10, 1));
    // Under target, L3 stays canonical L1 and the disjoint run moves into it.
    expect(leveled.choose(version({ 0: disjoint, 3: [[t(9, "m", "n", 10)]] }), ctx())).toEqual(move([1, 2, 3, 4], 3));
    // Bytes already being compacted do not count toward the level's size: with 9 busy, L3 (30 free
    // bytes) stays canonical L1, and being busy it blocks the L0 compaction.
    const busyHalf = version({ 0: disjoint, 3: [[t(8, "k", "l", 30), t(9, "m", "n", 30)]] });
    expect(leveled.choose(busyHalf, ctx([9]))).toEqual(NOTHING);
    expect(leveled.choose(busyHalf, ctx())).toEqual(move([1, 2, 3, 4], 2));
  });

  describe("an over-target Ln", () => {
    const leveled = new Leveled({ tableTargetSize: 10, l0Threshold: 1 }); // L1 target 10, L2 100

    it("merges the window of L(n+1) with the fewest total bytes with the Ln tables it contains", () => {
      const v = version({
        1: [[t(1, "a", "b", 6), t(2, "c", "d", 6), t(3, "e", "f", 6)]],
        2: [[t(11, "a", "b", 50), t(12, "c", "d", 5), t(13, "e", "f", 30)]],
      });
      expect(leveled.choose(v, ctx())).toEqual(merge([2, 12], 2, 10, 2));
      // A busy table in the window or in its pull-in rules that window out.
      expect(leveled.choose(v, ctx([12]))).toEqual(merge([3, 13], 2, 10, 2));
      expect(leveled.choose(v, ctx([2]))).toEqual(merge([3, 13], 2, 10, 2));
    });

    it("prefers a trivial move of the largest window that overlaps nothing below", () => {
      const l1 = [[t(1, "a", "b", 6), t(2, "c", "d", 6), t(3, "p", "q", 6), t(4, "x", "y", 6)]];
      expect(leveled.choose(version({ 1: l1, 2: [[t(11, "a", "b", 5), t(12, "c", "d", 5)]] }), ctx())).toEqual(move([3, 4], 2));
      // An L2 table in the gap between 3 and 4 splits the window.
      const gap = version({ 1: l1, 2: [[t(11, "a", "b", 5), t(12, "c", "d", 5), t(13, "r", "s", 5)]] });
      expect(leveled.choose(gap, ctx())).toEqual(move([3], 2));
      expect(leveled.choose(gap, ctx([3]))).toEqual(move([4], 2));
    });

    it("merges rather than moves a window when Ln has several runs", () => {
      const v = version({ 1: [[t(1, "a", "b", 6)], [t(2, "a", "c", 6)]], 2: [[t(11, "x", "y", 5)]] });
      expect(leveled.choose(v, ctx())).toEqual(merge([1], 2, 10, 2));
    });

    it("moves the whole level down when the next level is empty (forced score)", () => {
      const v = version({ 0: l0Runs(wide(1, 3)), 1: [[t(10, "a", "b", 20), t(11, "c", "d", 1)]], 6: [[t(20, "a", "z", 5)]] });
      // L0 has 3 tables at threshold 1 (score 3), but the forced 99.99 of L1 wins.
      expect(new Leveled({ tableTargetSize: 10, l0Threshold: 1 }).choose(v, ctx())).toEqual(move([10, 11], 2));
    });

    it("ignores merge windows above 50 table targets", () => {
      const small = new Leveled({ tableTargetSize: 1, l0Threshold: 1, levelRatio: [1000] }); // cap 50 bytes
      const v = version({
        1: [[t(1, "a", "b", 1), t(2, "c", "d", 50)]],
        2: [[t(11, "a", "b", 51), t(12, "c", "d", 10)]],
      });
      // [11]+[1] = 52 bytes would be cheaper than [12]+[2] = 60, but 11 alone weighs over the cap.
      expect(small.choose(v, ctx())).toEqual(merge([2, 12], 2, 1, 2));
      expect(small.choose(version({ 1: [[t(1, "a", "b", 2)]], 2: [[t(11, "a", "d", 51)]] }), ctx())).toEqual(NOTHING);
    });
  });

  it("sizes levels from the last level with dynamicLevelBytes, falling back to static targets on a small tree", () => {
    const options = { tableTargetSize: 10, l0Threshold: 1 };
    const big = version({ 1: [[t(1, "a", "b", 15)]], 2: [[t(11, "c", "d", 5000)]] });
    // Static: L2 (5000 > 100) with an empty L3 is forced down.
    expect(new Leveled(options).choose(big, ctx())).toEqual(move([11], 3));
    // Dynamic: L2 is the last level (target = its size) and L1's target is 5000 / 10 = 500.
    expect(new Leveled({ ...options, dynamicLevelBytes: true }).choose(big, ctx())).toEqual(NOTHING);
    // Dynamic L1 target 50 / 10 = 5 < static 10: static targets apply and L1 (15 > 10) moves down.
    const small = version({ 1: [[t(1, "a", "b", 15)]], 2: [[t(11, "c", "d", 50)]] });
    expect(new Leveled({ ...options, dynamicLevelBytes: true }).choose(small, ctx())).toEqual(move([1], 2));
  });

  it("with multiLevel, merges L0 and an over-target L1 straight into L2", () => {
    const layout: Layout = {
      0: l0Runs(wide(1, 8)),
      1: [[t(11, "b", "c", 30), t(12, "m", "n", 30)]], // 60 > 40
      2: [[t(21, "b"), t(22, "m"), t(23, "zz")]],
    };
    const options = { tableTargetSize: 10, l0Threshold: 4 };
    const v = version(layout);
    expect(new Leveled({ ...options, multiLevel: true }).choose(v, ctx())).toEqual(merge([1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 21, 22], 2, 10, 2));
    expect(new Leveled(options).choose(v, ctx())).toEqual(merge([1, 2, 3, 4, 5, 6, 7, 8, 11, 12], 1, 10, 1));
    // A busy L2 falls back to the plain L0 → L1 merge.
    expect(new Leveled({ ...options, multiLevel: true }).choose(v, ctx([23]))).toEqual(merge([1, 2, 3, 4, 5, 6, 7, 8, 11, 12], 1, 10, 1));
  });

  it("rejects bad options with RangeErrors", () => {
    for (const bad of [
      { l0Threshold: 0 },
      { l0Threshold: 1.5 },
      { tableTargetSize: -1 },
      { tableTargetSize: 0 },
      { tableTargetSize: Number.NaN },
      { levelRatio: [] },
      { levelRatio: [10, 0] },
      { levelRatio: [-2] },
      { levelRatio: [Infinity] },
    ]) {
      expect(() => new Leveled(bad), JSON.stringify(bad)).toThrow(RangeError);
    }
    expect(() => new Leveled({ multiLevel: "yes" as unknown as boolean })).toThrow(TypeError);
    expect(() => new Leveled().levelTargetSize(0)).toThrow(RangeError);
  });
});

describe("SizeTiered", () => {
  /** L0 with one overlapping run per size, ids 1.. in order. */
  const runs = (...sizes: number[]): Version<CompactionTable> => version({ 0: sizes.map((size, i) => [t(i + 1, "a", "z", size)]) });

  it("defaults to the reference's options and clamps merge widths to at least 2", () => {
    expect(new SizeTiered().options).toEqual({
      sizeRatio: 1,
      minMergeWidth: 4,
      maxMergeWidth: Infinity,
      maxSpaceAmplificationPercent: 200,
      tableTargetSize: MIB64,
    });
    expect(new SizeTiered({ minMergeWidth: 1, maxMergeWidth: 1 }).options).toMatchObject({ minMergeWidth: 2, maxMergeWidth: 2 });
  });

  it("needs two runs", () => {
    expect(new SizeTiered({ minMergeWidth: 2 }).choose(runs(5), ctx())).toEqual(NOTHING);
    expect(new SizeTiered({ minMergeWidth: 2 }).choose(version({ 0: [[t(1, "a"), t(2, "b")]] }), ctx())).toEqual(NOTHING);
  });

  it("merges every run once space amplification reaches the limit", () => {
    expect(new SizeTiered().choose(runs(100, 100, 100), ctx())).toEqual(merge([1, 2, 3], 0, MIB64, 0));
    expect(new SizeTiered({ maxSpaceAmplificationPercent: Infinity }).choose(runs(100, 100, 100), ctx())).toEqual(NOTHING);
    // 199 bytes against a largest run of 100: 99% < 200%, and 3 similar runs are fewer than 4.
    expect(new SizeTiered().choose(runs(100, 50, 49), ctx())).toEqual(NOTHING);
    expect(new SizeTiered({ maxSpaceAmplificationPercent: 99 }).choose(runs(100, 50, 49), ctx())).toEqual(merge([1, 2, 3], 0, MIB64, 0));
  });

  it("merges the longest prefix of similar runs, smallest first, capped at maxMergeWidth", () => {
    const v = runs(100, 10, 20, 10, 12); // sorted: 10 (2), 10 (4), 12 (5), 20 (3), 100 (1)
    const lenient = { maxSpaceAmplificationPercent: 1000 };
    expect(new SizeTiered(lenient).choose(v, ctx())).toEqual(merge([2, 3, 4, 5], 0, MIB64, 0));
    expect(new SizeTiered({ ...lenient, maxMergeWidth: 3, minMergeWidth: 3 }).choose(v, ctx())).toEqual(merge([2, 4, 5], 0, MIB64, 0));
    expect(new SizeTiered({ ...lenient, minMergeWidth: 5 }).choose(v, ctx())).toEqual(NOTHING);
    // sizeRatio 0: only equal sizes are similar.
    expect(new SizeTiered({ ...lenient, sizeRatio: 0 }).choose(v, ctx())).toEqual(NOTHING);
    expect(new SizeTiered({ ...lenient, sizeRatio: 0, minMergeWidth: 2 }).choose(v, ctx())).toEqual(merge([2, 4], 0, MIB64, 0));
  });

  it("lets empty runs join whatever follows them", () => {
    expect(new SizeTiered().choose(runs(0, 0, 0, 50), ctx())).toEqual(merge([1, 2, 3, 4], 0, MIB64, 0));
  });

  it("leaves runs with a busy table out, and every table of a chosen run in", () => {
    const v = version({
      0: [[t(1, "a", "z", 10)], [t(2, "a", "b", 5), t(3, "c", "d", 5)], [t(4, "a", "z", 10)], [t(5, "a", "z", 10)], [t(6, "a", "z", 10)]],
    });
    expect(new SizeTiered().choose(v, ctx([1]))).toEqual(merge([2, 3, 4, 5, 6], 0, MIB64, 0));
    // Free runs 4, 5 and 6 hold 30 bytes against a largest run of 10: 200% space amplification.
    expect(new SizeTiered().choose(v, ctx([1, 3]))).toEqual(merge([4, 5, 6], 0, MIB64, 0));
    expect(new SizeTiered().choose(v, ctx([1, 3, 4]))).toEqual(NOTHING);
  });

  it("looks at L0 only", () => {
    const v = version({ 0: [[t(1, "a", "z", 10)], [t(2, "a", "z", 10)]], 6: [[t(3, "a", "z", 1000)]] });
    expect(new SizeTiered({ minMergeWidth: 2 }).choose(v, ctx())).toEqual(merge([1, 2], 0, MIB64, 0));
  });

  it("rejects bad options with RangeErrors", () => {
    for (const bad of [
      { sizeRatio: -1 },
      { sizeRatio: Number.NaN },
      { sizeRatio: Infinity },
      { minMergeWidth: 0 },
      { minMergeWidth: 2.5 },
      { maxMergeWidth: 3 }, // below the default minMergeWidth of 4
      { maxSpaceAmplificationPercent: -1 },
      { tableTargetSize: 0 },
    ]) {
      expect(() => new SizeTiered(bad), JSON.stringify(bad)).toThrow(RangeError);
    }
  });
});

describe("Fifo", () => {
  const sized = (createdAt: number[], size = 10): Version<CompactionTable> =>
    version({ 0: [createdAt.map((c, i) => t(i + 1, String.fromCharCode(97 + i), String.fromCharCode(97 + i), size, c))] });

  it("drops nothing at or below the limit", () => {
    expect(new Fifo({ limitBytes: 30 }).choose(sized([1, 2, 3]), ctx())).toEqual(NOTHING);
  });

  it("drops the oldest-created tables until the tree fits, and nothing more on the next call", () => {
    const fifo = new Fifo({ limitBytes: 15 });
    const v = sized([300, 100, 200]);
    const choice = fifo.choose(v, ctx());
    expect(choice).toEqual(drop([2, 3]));
    const after = apply(v, choice);
    expect(after.tableCount).toBe(1);
    expect(fifo.choose(after, ctx())).toEqual(NOTHING);
    expect(new Fifo({ limitBytes: 0 }).choose(v, ctx())).toEqual(drop([1, 2, 3]));
  });

  it("breaks creation-time ties by lowest max seqno", () => {
    const v = version({ 0: [[{ ...t(1, "a", "a", 10, 5), maxSeqno: 9 }, { ...t(2, "b", "b", 10, 5), maxSeqno: 3 }]] });
    expect(new Fifo({ limitBytes: 10 }).choose(v, ctx())).toEqual(drop([2]));
  });

  it("drops tables created at least ttlSeconds ago, idempotently", () => {
    const fifo = new Fifo({ limitBytes: 1e9, ttlSeconds: 15 });
    const v = sized([80_000, 85_000, 90_000]);
    const choice = fifo.choose(v, ctx([], 100_000));
    expect(choice).toEqual(drop([1, 2]));
    expect(fifo.choose(apply(v, choice), ctx([], 100_000))).toEqual(NOTHING);
    expect(fifo.choose(v, ctx([], 99_999))).toEqual(drop([1]));
    expect(new Fifo({ limitBytes: 1e9 }).choose(v, ctx([], 100_000))).toEqual(NOTHING);
    expect(new Fifo({ limitBytes: 1e9, ttlSeconds: 0 }).choose(v, ctx([], 100_000))).toEqual(NOTHING);
    // TTL first, then the limit on what is left.
    expect(new Fifo({ limitBytes: 0, ttlSeconds: 15 }).choose(v, ctx([], 100_000))).toEqual(drop([1, 2, 3]));
  });

  it("counts blob bytes toward the limit", () => {
    const v = sized([1, 2, 3], 1);
    expect(new Fifo({ limitBytes: 10 }).choose(v, ctx([], 0, 7))).toEqual(NOTHING);
    expect(new Fifo({ limitBytes: 10 }).choose(v, ctx([], 0, 8))).toEqual(drop([1]));
    const all = new Fifo({ limitBytes: 10 }).choose(v, ctx([], 0, 100));
    expect(apply(v, all).tableCount).toBeLessThan(3);
  });

  it("credits each dropped table with the blob bytes it references", () => {
    // Three 1-byte tables referencing 30, 0 and 30 blob bytes; 60 blob bytes in all.
    const v = version({ 0: [[{ ...t(1, "a", "a", 1, 1), referencedBlobBytes: 30 }, { ...t(2, "b", "b", 1, 2) }, { ...t(3, "c", "c", 1, 3), referencedBlobBytes: 30 }]] });
    // 63 > 40: dropping the oldest frees 31 (32 left).
    expect(new Fifo({ limitBytes: 40 }).choose(v, ctx([], 0, 60))).toEqual(drop([1]));
    // 63 > 31: table 1 frees 31, table 2 only 1 (31 left, fits).
    expect(new Fifo({ limitBytes: 31 }).choose(v, ctx([], 0, 60))).toEqual(drop([1, 2]));
    expect(new Fifo({ limitBytes: 30 }).choose(v, ctx([], 0, 60))).toEqual(drop([1, 2, 3]));
  });

  it("handles an L0 of several runs, ignores deeper levels, and waits while an L0 table is busy", () => {
    const v = version({ 0: [[t(1, "a", "z", 10, 30)], [t(2, "a", "z", 10, 10), t(3, "zz", "zz", 10, 20)]], 6: [[t(4, "a", "z", 1000, 0)]] });
    expect(new Fifo({ limitBytes: 10 }).choose(v, ctx())).toEqual(drop([2, 3]));
    expect(new Fifo({ limitBytes: 10 }).choose(v, ctx([1]))).toEqual(NOTHING);
    expect(new Fifo({ limitBytes: 10 }).choose(v, ctx([4]))).toEqual(drop([2, 3]));
  });

  it("rejects bad options with RangeErrors", () => {
    for (const bad of [{ limitBytes: -1 }, { limitBytes: Number.NaN }, { limitBytes: 1.5 }, { limitBytes: 1, ttlSeconds: -5 }, {}]) {
      expect(() => new Fifo(bad as { limitBytes: number }), JSON.stringify(bad)).toThrow(RangeError);
    }
    expect(() => new Fifo({ limitBytes: 1 }).choose(sized([1]), ctx([], 0, -1))).toThrow(RangeError);
  });
});

describe("majorCompaction", () => {
  const v = version({ 0: l0Runs(wide(1, 2)), 2: [[t(5, "a", "b"), t(6, "c", "d")]], 6: [[t(9, "a", "z")]] });

  it("merges every table into L6", () => {
    // A blob tree's major compaction relocates every stale blob file, not just the oldest few.
    expect(majorCompaction(1234).choose(v, ctx())).toEqual({ ...merge([1, 2, 5, 6, 9], 6, 1234, 6), relocateAllStale: true });
    expect(majorCompaction(Infinity).choose(v, ctx())).toEqual({ ...merge([1, 2, 5, 6, 9], 6, Infinity, 6), relocateAllStale: true });
  });

  it("chooses nothing while any table is busy", () => {
    expect(majorCompaction(MIB64).choose(v, ctx([6]))).toEqual(NOTHING);
  });

  it("rejects a non-positive target size", () => {
    for (const bad of [0, -1, Number.NaN, 0.5]) expect(() => majorCompaction(bad)).toThrow(RangeError);
  });
});

describe("dropRangeChoice", () => {
  const v = version({ 0: [[t(1, "a"), t(2, "b"), t(3, "c"), t(4, "d"), t(5, "e")]], 1: [[t(6, "b", "d")]] });
  const range = (lower: string | undefined, lowerInclusive: boolean, upper: string | undefined, upperInclusive: boolean): DropRangeBounds => ({
    lower: lower === undefined ? undefined : enc(lower),
    lowerInclusive,
    upper: upper === undefined ? undefined : enc(upper),
    upperInclusive,
  });
  const choose = (r: DropRangeBounds, busy: number[] = []): CompactionChoice => dropRangeChoice(v, r, BYTEWISE_COMPARATOR, new Set(busy));

  it("drops the tables lying entirely inside inclusive bounds, in any level", () => {
    expect(choose(range("a", true, "c", true))).toEqual(drop([1, 2, 3]));
    expect(choose(range("b", true, "d", true))).toEqual(drop([2, 3, 4, 6]));
  });

  it("honours exclusive and missing bounds", () => {
    expect(choose(range("b", false, "d", false))).toEqual(drop([3]));
    expect(choose(range(undefined, true, "c", false))).toEqual(drop([1, 2]));
    expect(choose(range("c", true, undefined, true))).toEqual(drop([3, 4, 5]));
    expect(choose(range(undefined, true, undefined, true))).toEqual(drop([1, 2, 3, 4, 5, 6]));
    expect(choose({ lowerInclusive: true, upperInclusive: true })).toEqual(drop([1, 2, 3, 4, 5, 6]));
  });

  it("accepts a normalised iterator range", () => {
    expect(dropRangeChoice(v, normalizeRange(BYTEWISE_COMPARATOR, { gte: "a", lt: "c" }), BYTEWISE_COMPARATOR, new Set())).toEqual(drop([1, 2]));
  });

  it("chooses nothing for inverted bounds, an empty match or an empty tree", () => {
    expect(choose(range("d", true, "b", true))).toEqual(NOTHING);
    expect(choose(range("ca", true, "cz", true))).toEqual(NOTHING);
    expect(dropRangeChoice(empty(), range(undefined, true, undefined, true), BYTEWISE_COMPARATOR, new Set())).toEqual(NOTHING);
  });

  it("chooses nothing when a table to drop is busy, and ignores busy tables it keeps", () => {
    expect(choose(range("a", true, "c", true), [2])).toEqual(NOTHING);
    expect(choose(range("a", true, "c", true), [5, 6])).toEqual(drop([1, 2, 3]));
  });

  it("orders keys by the given comparator", () => {
    const rev = version({ 0: [[t(1, "a"), t(2, "b"), t(3, "c"), t(4, "d"), t(5, "e")]], 1: [[t(6, "d", "b")]] }, REVERSE_COMPARATOR);
    // In reverse order "d" sorts before "b": [d, b] holds d, c, b and the table spanning d..b.
    expect(dropRangeChoice(rev, range("d", true, "b", true), REVERSE_COMPARATOR, new Set())).toEqual(drop([2, 3, 4, 6]));
    expect(dropRangeChoice(rev, range("d", false, undefined, true), REVERSE_COMPARATOR, new Set())).toEqual(drop([1, 2, 3]));
    expect(dropRangeChoice(rev, range("b", true, "d", true), REVERSE_COMPARATOR, new Set())).toEqual(NOTHING);
  });
});

describe("Leveled: tables of range tombstones go down to the data they delete", () => {
  const rt = (id: number, min: string, max: string): CompactionTable => ({ ...t(id, min, max), rangeTombstoneCount: 1 });
  const leveled = new Leveled({ tableTargetSize: 1000, l0Threshold: 4 });

  it("merges a tombstone table with what it overlaps one level down when nothing scores", () => {
    const v = version({ 4: [[rt(1, "c", "m")]], 5: [[t(2, "a", "d"), t(3, "e", "h"), t(4, "x")]], 6: [[t(5, "a", "z")]] });
    expect(leveled.choose(v, ctx())).toEqual({ kind: "merge", tableIds: [1, 2, 3], destLevel: 5, targetSize: 1000, canonicalLevel: expect.any(Number) });
  });

  it("moves it down when the next level has nothing in its range, and stops at the last level holding its range", () => {
    let v = version({ 3: [[rt(1, "c", "m")]], 6: [[t(2, "a", "z")]] });
    const first = leveled.choose(v, ctx());
    expect(first).toEqual({ kind: "move", tableIds: [1], destLevel: 4 });
    for (let step = 0; step < 10 && v.levelOf(1) !== undefined; step++) v = apply(v, leveled.choose(v, ctx()));
    expect(leveled.choose(v, ctx())).toEqual(NOTHING);
    expect(v.level(6).tableCount).toBeGreaterThan(0);
    expect([1, 2, 3, 4, 5].map((l) => v.level(l).tableCount)).toEqual([0, 0, 0, 0, 0]);
  });

  it("leaves tombstones alone when nothing lies below them, or the tables below are busy", () => {
    expect(leveled.choose(version({ 5: [[rt(1, "c", "m")]], 6: [[t(2, "x", "z")]] }), ctx())).toEqual(NOTHING);
    expect(leveled.choose(version({ 5: [[rt(1, "c", "m")]], 6: [[t(2, "a", "z")]] }), ctx([2]))).toEqual(NOTHING);
  });
});
