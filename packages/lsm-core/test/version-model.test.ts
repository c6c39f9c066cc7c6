import { describe, expect, it } from "vitest";
import { Random } from "@talus/testkit";
import { LsmError } from "../src/errors.ts";
import { BYTEWISE_COMPARATOR, type Comparator } from "../src/key/comparator.ts";
import { Level, optimizeRuns } from "../src/version/level.ts";
import { versionFromRecord, versionToRecord } from "../src/version/record-mapping.ts";
import { Run, type TableHandle } from "../src/version/run.ts";
import { LEVEL_COUNT, Version } from "../src/version/version.ts";

const REVERSE: Comparator = { name: "reverse-bytewise", compare: (a, b) => Buffer.compare(b, a) };
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

interface T extends TableHandle {
  readonly label: string;
}

function table(id: number, min: string, max: string, size = 10): T {
  return { id, minKey: enc(min), maxKey: enc(max), size, minSeqno: id, maxSeqno: id, label: `${id}:${min}-${max}` };
}

const ids = (tables: Iterable<TableHandle>): number[] => [...tables].map((t) => t.id);
const runIds = <X extends TableHandle>(level: Level<X>): number[][] => level.runs.map((run) => ids(run.tables));

function contains(cmp: Comparator, t: TableHandle, key: Uint8Array): boolean {
  return cmp.compare(t.minKey, key) <= 0 && cmp.compare(key, t.maxKey) <= 0;
}

describe("Run", () => {
  const run = Run.of([table(3, "m", "p"), table(1, "a", "c"), table(2, "e", "h"), table(4, "x", "z", 5)], BYTEWISE_COMPARATOR);

  it("sorts by min key and sums sizes", () => {
    expect(ids(run.tables)).toEqual([1, 2, 3, 4]);
    expect(run.size).toBe(35);
    expect(run.length).toBe(4);
    expect(dec(run.minKey)).toBe("a");
    expect(dec(run.maxKey)).toBe("z");
  });

  it("finds the table for a key by binary search", () => {
    expect(run.getForKey(enc("a"))?.id).toBe(1);
    expect(run.getForKey(enc("b"))?.id).toBe(1);
    expect(run.getForKey(enc("c"))?.id).toBe(1);
    expect(run.getForKey(enc("d"))).toBeUndefined();
    expect(run.getForKey(enc("h"))?.id).toBe(2);
    expect(run.getForKey(enc("hh"))).toBeUndefined();
    expect(run.getForKey(enc("0"))).toBeUndefined();
    expect(run.getForKey(enc("zz"))).toBeUndefined();
    expect(run.getForKey(enc("z"))?.id).toBe(4);
  });

  it("answers overlap and containment queries with inclusive bounds", () => {
    expect(ids(run.overlapping(enc("c"), enc("e")))).toEqual([1, 2]);
    expect(ids(run.overlapping(enc("d"), enc("d")))).toEqual([]);
    expect(ids(run.overlapping(enc("0"), enc("zzz")))).toEqual([1, 2, 3, 4]);
    expect(ids(run.overlapping(enc("i"), enc("l")))).toEqual([]);
    expect(run.overlaps(enc("h"), enc("m"))).toBe(true);
    expect(run.overlaps(enc("i"), enc("l"))).toBe(false);
    expect(ids(run.containedIn(enc("a"), enc("h")))).toEqual([1, 2]);
    expect(ids(run.containedIn(enc("b"), enc("p")))).toEqual([2, 3]);
    expect(ids(run.containedIn(enc("b"), enc("o")))).toEqual([2]);
  });

  it("refuses overlapping, inverted or no tables", () => {
    expect(() => Run.of([table(1, "a", "c"), table(2, "c", "d")], BYTEWISE_COMPARATOR)).toThrow(RangeError);
    expect(() => Run.of([table(1, "d", "a")], BYTEWISE_COMPARATOR)).toThrow(RangeError);
    expect(() => Run.of([], BYTEWISE_COMPARATOR)).toThrow(RangeError);
  });

  it("drops tables by id and disappears when empty", () => {
    expect(ids(run.without(new Set([2, 4]))?.tables ?? [])).toEqual([1, 3]);
    expect(run.without(new Set([9]))).toBe(run);
    expect(run.without(new Set([1, 2, 3, 4]))).toBeUndefined();
  });

  it("orders by the comparator (reverse)", () => {
    const rev = Run.of([table(1, "c", "a"), table(2, "z", "x")], REVERSE);
    expect(ids(rev.tables)).toEqual([2, 1]);
    expect(rev.getForKey(enc("b"))?.id).toBe(1);
    expect(rev.getForKey(enc("y"))?.id).toBe(2);
    expect(rev.getForKey(enc("m"))).toBeUndefined();
    expect(() => Run.of([table(1, "a", "c")], REVERSE)).toThrow(RangeError);
  });

  for (const cmp of [BYTEWISE_COMPARATOR, REVERSE]) {
    it(`matches a linear scan on random runs (${cmp.name})`, () => {
      const rng = new Random(0x5eed + cmp.name.length);
      for (let round = 0; round < 200; round++) {
        const points = new Set<number>();
        const want = rng.range(2, 60);
        while (points.size < want) points.add(rng.int(1000));
        const sorted = [...points].sort((a, b) => a - b).map((n) => n.toString().padStart(3, "0"));
        if (cmp === REVERSE) sorted.reverse();
        const tables: T[] = [];
        for (let i = 0; i + 1 < sorted.length; i += 2) {
          if (rng.chance(0.2)) continue;
          tables.push(rng.chance(0.2) ? table(i, sorted[i] as string, sorted[i] as string) : table(i, sorted[i] as string, sorted[i + 1] as string));
        }
        if (tables.length === 0) continue;
        const run = Run.of(rng.shuffle([...tables]), cmp);
        for (let q = 0; q < 50; q++) {
          const key = enc(rng.int(1001).toString().padStart(3, "0"));
          expect(run.getForKey(key)?.id).toBe(tables.find((t) => contains(cmp, t, key))?.id);
          const other = enc(rng.int(1001).toString().padStart(3, "0"));
          const [lo, hi] = cmp.compare(key, other) <= 0 ? [key, other] : [other, key];
          const overlapping = tables.filter((t) => cmp.compare(t.maxKey, lo) >= 0 && cmp.compare(t.minKey, hi) <= 0);
          expect(ids(run.overlapping(lo, hi))).toEqual(ids(overlapping));
          const contained = tables.filter((t) => cmp.compare(t.minKey, lo) >= 0 && cmp.compare(t.maxKey, hi) <= 0);
          expect(ids(run.containedIn(lo, hi))).toEqual(ids(contained));
        }
      }
    });
  }
});

describe("Level", () => {
  it("reports tables per run for a key, newest run first", () => {
    const level = new Level([Run.of([table(3, "b", "d")], BYTEWISE_COMPARATOR), Run.of([table(1, "a", "c"), table(2, "x", "y")], BYTEWISE_COMPARATOR)]);
    expect(ids(level.tablesForKey(enc("b")))).toEqual([3, 1]);
    expect(ids(level.tablesForKey(enc("x")))).toEqual([2]);
    expect(ids(level.overlapping(enc("c"), enc("x")))).toEqual([3, 1, 2]);
    expect(level.tableCount).toBe(3);
    expect(level.size).toBe(30);
    expect(level.isDisjoint).toBe(false);
    expect(ids(level.tables())).toEqual([3, 1, 2]);
    expect(runIds(level.without(new Set([3])))).toEqual([[1, 2]]);
  });
});

describe("optimizeRuns", () => {
  const runs = (cmp: Comparator, ...groups: T[][]): Run<T>[] => groups.map((g) => Run.of(g, cmp));

  it("collapses disjoint L0 runs into one", () => {
    const out = optimizeRuns(runs(BYTEWISE_COMPARATOR, [table(3, "g", "h")], [table(2, "d", "e")], [table(1, "a", "b")]), BYTEWISE_COMPARATOR);
    expect(out.map((r) => ids(r.tables))).toEqual([[1, 2, 3]]);
  });

  it("keeps overlapping tables in separate runs", () => {
    const out = optimizeRuns(runs(BYTEWISE_COMPARATOR, [table(2, "b", "d")], [table(1, "a", "c")]), BYTEWISE_COMPARATOR);
    expect(out.map((r) => ids(r.tables))).toEqual([[2], [1]]);
  });

  it("places each table in the oldest run it fits, a misfit in a new newest run", () => {
    // Oldest → newest: t1 [b,d]; t2 [a,c] overlaps it, so it starts a newer run; t3 [e,f] fits the oldest.
    const out = optimizeRuns(runs(BYTEWISE_COMPARATOR, [table(3, "e", "f")], [table(2, "a", "c")], [table(1, "b", "d")]), BYTEWISE_COMPARATOR);
    expect(out.map((r) => ids(r.tables))).toEqual([[2], [1, 3]]);
  });

  it("works under a reverse comparator", () => {
    const disjoint = optimizeRuns(runs(REVERSE, [table(2, "z", "x")], [table(1, "c", "a")]), REVERSE);
    expect(disjoint.map((r) => ids(r.tables))).toEqual([[2, 1]]);
    const overlapping = optimizeRuns(runs(REVERSE, [table(2, "d", "b")], [table(1, "c", "a")]), REVERSE);
    expect(overlapping.map((r) => ids(r.tables))).toEqual([[2], [1]]);
  });

  it("keeps every table, and every run sorted and disjoint (random)", () => {
    const rng = new Random(77);
    for (let round = 0; round < 300; round++) {
      const cmp = rng.chance(0.5) ? BYTEWISE_COMPARATOR : REVERSE;
      let id = 0;
      const input: Run<T>[] = [];
      for (let r = rng.range(1, 6); r > 0; r--) {
        const a = rng.int(100);
        const b = a + rng.int(20);
        const lo = a.toString().padStart(3, "0");
        const hi = b.toString().padStart(3, "0");
        input.push(Run.of([cmp === REVERSE ? table(id++, hi, lo) : table(id++, lo, hi)], cmp));
      }
      const out = optimizeRuns(input, cmp);
      expect(out.length).toBeLessThanOrEqual(input.length);
      expect(ids(out.flatMap((r) => r.tables)).sort((x, y) => x - y)).toEqual(ids(input.flatMap((r) => r.tables)));
      for (const run of out) expect(() => Run.of(run.tables, cmp)).not.toThrow();
      // Every older run existed when a table of a newer run was placed, and runs only grow, so a table
      // of a newer run overlaps every older run (else the greedy pass would have put it there).
      for (let i = 0; i < out.length; i++) {
        for (let j = i + 1; j < out.length; j++) {
          for (const t of (out[i] as Run<T>).tables) expect((out[j] as Run<T>).overlaps(t.minKey, t.maxKey)).toBe(true);
        }
      }
    }
  });
});

describe("Version", () => {
  const empty = Version.empty<T>("standard", BYTEWISE_COMPARATOR);

  it("starts with seven empty levels", () => {
    expect(empty.id).toBe(0);
    expect(empty.levels).toHaveLength(LEVEL_COUNT);
    expect(empty.tableCount).toBe(0);
    expect(empty.l0RunCount).toBe(0);
    expect(() => empty.level(7)).toThrow(RangeError);
  });

  it("adds flushed tables as the newest L0 run, without touching the old version", () => {
    const v1 = empty.withNewL0Run([table(1, "a", "f")]);
    const v2 = v1.withNewL0Run([table(2, "c", "d"), table(3, "x", "z")]);
    expect(v1.id).toBe(1);
    expect(v2.id).toBe(2);
    expect(runIds(v2.level(0))).toEqual([[2], [1, 3]]); // 3 is disjoint from 1, so it joins the older run
    expect(runIds(v1.level(0))).toEqual([[1]]);
    expect(empty.tableCount).toBe(0);
    expect(v2.levelOf(3)).toBe(0);
    expect(v2.getTable(1)?.label).toBe("1:a-f");
    expect(v2.l0RunCount).toBe(2);
    expect(v2.levels.slice(1)).toEqual(v1.levels.slice(1));
  });

  it("collapses disjoint flushes into one L0 run", () => {
    const v = empty.withNewL0Run([table(1, "a", "b")]).withNewL0Run([table(2, "c", "d")]).withNewL0Run([table(3, "e", "f")]);
    expect(runIds(v.level(0))).toEqual([[1, 2, 3]]);
  });

  it("replaces compaction inputs by outputs at the destination level", () => {
    const v2 = empty.withNewL0Run([table(1, "a", "f")]).withNewL0Run([table(2, "c", "d")]);
    const v3 = v2.withReplacedTables([1, 2], [table(10, "a", "c"), table(11, "d", "f")], 1);
    expect(v3.level(0).isEmpty).toBe(true);
    expect(runIds(v3.level(1))).toEqual([[10, 11]]);
    expect(runIds(v2.level(0))).toEqual([[2], [1]]);
    expect(v2.level(1).isEmpty).toBe(true);
    const v4 = v3.withNewL0Run([table(12, "g", "h")]).withReplacedTables([12], [table(13, "g", "h")], 1);
    expect(runIds(v4.level(1))).toEqual([[10, 11, 13]]);
    const v5 = v4.withReplacedTables([10, 11, 13], [], 1);
    expect(v5.tableCount).toBe(0);
  });

  it("moves and removes tables", () => {
    const v = empty.withNewL0Run([table(1, "a", "b")]).withNewL0Run([table(2, "a", "c")]);
    const moved = v.withMovedTables([1, 2], 6);
    expect(runIds(moved.level(6))).toEqual([[2], [1]]);
    expect(moved.level(0).isEmpty).toBe(true);
    const removed = moved.withRemovedTables([2]);
    expect(runIds(removed.level(6))).toEqual([[1]]);
    expect(removed.levelOf(2)).toBeUndefined();
    expect(runIds(v.level(0))).toEqual([[2], [1]]);
  });

  it("refuses unknown ids, duplicate ids, bad levels and overlapping outputs", () => {
    const v = empty.withNewL0Run([table(1, "a", "b")]);
    expect(() => v.withRemovedTables([9])).toThrow(/not in version/);
    expect(() => v.withNewL0Run([table(1, "x", "y")])).toThrow(/already/);
    expect(() => v.withMovedTables([1], 7)).toThrow(RangeError);
    expect(() => v.withReplacedTables([1], [table(2, "a", "c"), table(3, "b", "d")], 1)).toThrow(RangeError);
    expect(() => Version.fromLevels(1, "standard", BYTEWISE_COMPARATOR, [[[table(1, "a", "b")], [table(1, "c", "d")]], [], [], [], [], [], []])).toThrow(/twice/);
  });

  it("keeps persisted run order in fromLevels and re-packs only on transition", () => {
    const v = Version.fromLevels<T>(5, "blob", BYTEWISE_COMPARATOR, [[[table(1, "a", "b")], [table(2, "c", "d")]], [], [], [], [], [], []]);
    expect(runIds(v.level(0))).toEqual([[1], [2]]);
    expect(v.treeKind).toBe("blob");
    expect(runIds(v.withNewL0Run([table(3, "x", "y")]).level(0))).toEqual([[1, 2, 3]]);
  });

  it("tracks blob files by id", () => {
    const v = empty.withBlobFiles([{ id: 4 }, { id: 2 }]);
    expect(v.blobFiles.map((b) => b.id)).toEqual([2, 4]);
    expect(v.withBlobFiles([{ id: 5 }], [2]).blobFiles.map((b) => b.id)).toEqual([4, 5]);
    expect(() => v.withBlobFiles([], [9])).toThrow(RangeError);
    expect(() => v.withBlobFiles([{ id: 4 }])).toThrow(/twice/);
  });

  it("maps to a record and back", () => {
    const v = empty.withNewL0Run([table(1, "a", "f")]).withNewL0Run([table(2, "c", "d")]).withMovedTables([1], 2);
    const record = versionToRecord(v, (t) => ({ id: t.id, globalSeqno: 0, fileSize: t.size * 10, fileChecksum: t.id * 7 }));
    expect(record.levels[0]).toEqual([[{ id: 2, globalSeqno: 0, fileSize: 100, fileChecksum: 14 }]]);
    expect(record.comparatorName).toBe("bytewise");
    const byId = new Map([...v.tables()].map((t) => [t.id, t]));
    const back = versionFromRecord<T>(record, BYTEWISE_COMPARATOR, "/db/v3", (r) => byId.get(r.id) as T);
    expect(back.id).toBe(v.id);
    expect(back.levels.map(runIds)).toEqual(v.levels.map(runIds));
    expect(() => versionFromRecord<T>(record, REVERSE, "/db/v3", (r) => byId.get(r.id) as T)).toThrow(
      expect.objectContaining({ code: "COMPARATOR_MISMATCH" }),
    );
    const bad = { ...record, levels: [[[record.levels[0]![0]![0]!, { id: 9, globalSeqno: 0, fileSize: 1, fileChecksum: 1 }]], [], [], [], [], [], []] };
    let caught: unknown;
    try {
      versionFromRecord<T>(bad, BYTEWISE_COMPARATOR, "/db/v3", (r) => (r.id === 9 ? table(9, "c", "z") : (byId.get(r.id) as T)));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LsmError);
    expect((caught as LsmError).code).toBe("CORRUPTION");
    expect((caught as LsmError).message).toContain("/db/v3");
  });
});
