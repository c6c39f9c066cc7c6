// When obsolete table files leave the disk: the tree's DeletionPause (the reference's checkpoint guard)
// defers deletions while held; otherwise a file goes once no iterator, running job or kept snapshot (the
// super-version history, src/tree/super-version.ts) can reach it. The pause itself is unit-tested in
// version-deletion-pause.test.ts; here it is driven through the tree.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { SEQNO_MAX, SequenceNumberCounter, Tree } from "../src/index.ts";
import { setTurnBudgetMs } from "../src/sched/turns.ts";
import { dec } from "./helpers.ts";
import { k, tableFiles, tick } from "./tree-support.ts";

/** A tree with two overlapping flushed tables (keys 0..199), on a MemFs. */
async function twoTables() {
  const fs = new MemFs();
  const seqno = new SequenceNumberCounter();
  const tree = await Tree.open({ path: "/db", fs, seqno });
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 200; i++) tree.insert(k(i), `r${round}`, seqno.next());
    await tree.flushActiveMemtable(0);
  }
  const files = (): string[] => tableFiles(fs, "/db/tables");
  return { fs, seqno, tree, files, before: files() };
}

describe("deletion pause held by the caller", () => {
  it("keeps a compaction's obsolete inputs on disk until the guard is released", async () => {
    const { tree, files, before } = await twoTables();
    expect(before).toEqual(["0", "1"]);
    const guard = tree.deletionPause.acquire();
    await tree.majorCompact(Number.POSITIVE_INFINITY, 0);
    expect(tree.tableCount()).toBe(1);
    expect(files()).toEqual(["0", "1", "2"]);
    expect(tree.deletionPause.pendingCount()).toBe(2);
    // The data is served from the new table meanwhile.
    expect(dec(tree.get(k(7), SEQNO_MAX))).toBe("r1");
    guard.release();
    expect(files()).toEqual(["2"]);
    expect(tree.deletionPause.pendingCount()).toBe(0);
    await tree.close();
  });

  it("waits for the last of several guards, across several jobs, and `using` releases", async () => {
    const { tree, files, seqno } = await twoTables();
    const outer = tree.deletionPause.acquire();
    {
      using inner = tree.deletionPause.acquire();
      expect(inner.released).toBe(false);
      await tree.majorCompact(Number.POSITIVE_INFINITY, 0);
      tree.insert("x", "x", seqno.next());
      await tree.flushActiveMemtable(0);
      await tree.majorCompact(Number.POSITIVE_INFINITY, 0);
    }
    expect(files()).toEqual(["0", "1", "2", "3", "4"]);
    outer.release();
    outer.release();
    expect(files()).toEqual(["4"]);
    expect(tree.len(SEQNO_MAX)).toBe(201);
    await tree.close();
  });

  it("defers deletions on a routed tier's own filesystem too", async () => {
    const main = new MemFs();
    const hot = new MemFs();
    const tree = await Tree.open({ path: "/db", fs: main, levelRoutes: [{ levels: [0, 1], path: "/hot", fs: hot }] });
    for (let round = 0; round < 2; round++) {
      tree.insert(k(round), "v", round);
      await tree.flushActiveMemtable(0);
    }
    const guard = tree.deletionPause.acquire();
    await tree.majorCompact(Number.POSITIVE_INFINITY, 0);
    expect(tableFiles(hot, "/hot/tables")).toEqual(["0", "1"]);
    expect(tableFiles(main, "/db/tables")).toEqual(["2"]);
    guard.release();
    expect(tableFiles(hot, "/hot/tables")).toEqual([]);
    expect(tree.len(SEQNO_MAX)).toBe(2);
    await tree.close();
  });

  it("defers dropRange's and clear's deletions as well", async () => {
    const { tree, files, seqno } = await twoTables();
    const guard = tree.deletionPause.acquire();
    await tree.dropRange({});
    await tree.clear();
    tree.insert("y", "y", seqno.next());
    // A flush whose GC watermark is past every earlier stamp prunes the old snapshots.
    await tree.flushActiveMemtable(seqno.get());
    expect(files()).toEqual(["0", "1", "2"]);
    guard.release();
    expect(files()).toEqual(["2"]);
    await tree.close();
  });
});

describe("without a pause", () => {
  it("deletes obsolete inputs as soon as the compaction installs", async () => {
    const { tree, files } = await twoTables();
    await tree.majorCompact(Number.POSITIVE_INFINITY, 0);
    expect(files()).toEqual(["2"]);
    await tree.close();
  });

  it("keeps inputs an open iterator reads until it is exhausted", async () => {
    const { tree, files } = await twoTables();
    const it = tree.iter(SEQNO_MAX);
    expect(it.next().done).toBe(false);
    await tree.majorCompact(Number.POSITIVE_INFINITY, 0);
    expect(files()).toEqual(["0", "1", "2"]);
    let n = 1;
    for (const _ of it) n++;
    expect(n).toBe(200);
    expect(files()).toEqual(["2"]);
    await tree.close();
  });

  it("releases on break, return(), `using`, a limit, and firstKeyValue", async () => {
    const { tree, files } = await twoTables();
    const broken = tree.iter(SEQNO_MAX);
    const returned = tree.range({ gte: k(50) }, SEQNO_MAX);
    const limited = tree.iter(SEQNO_MAX, { limit: 3 });
    const disposed = tree.iter(SEQNO_MAX, { reverse: true });
    returned.next();
    disposed.next();
    await tree.majorCompact(Number.POSITIVE_INFINITY, 0);
    expect(files()).toEqual(["0", "1", "2"]);
    for (const _ of broken) break;
    returned.return();
    expect([...limited]).toHaveLength(3);
    expect(files()).toEqual(["0", "1", "2"]);
    {
      using held = disposed;
      expect(held.next().done).toBe(false);
    }
    expect(files()).toEqual(["2"]);
    expect(tree.firstKeyValue(SEQNO_MAX)).toBeDefined();
    expect(files()).toEqual(["2"]);
    await tree.close();
  });

  it("keeps tables an old snapshot may read (dropRange, clear) until a GC watermark passes them", async () => {
    const { tree, files, seqno } = await twoTables();
    const snapshot = seqno.get();
    await tree.dropRange({});
    expect(tree.tableCount()).toBe(0);
    // A read at a seqno from before the drop still sees the dropped tables, so their files stay.
    expect(files()).toEqual(["0", "1"]);
    expect(dec(tree.get(k(3), snapshot))).toBe("r1");
    tree.insert("z", "z", seqno.next());
    await tree.flushActiveMemtable(seqno.get());
    expect(files()).toEqual(["2"]);
    await tree.close();
  });

  it("deletes what only old snapshots held when the tree closes", async () => {
    const { fs, tree, files } = await twoTables();
    await tree.clear();
    expect(files()).toEqual(["0", "1"]);
    await tree.close();
    expect(files()).toEqual([]);
    const reopened = await Tree.open({ path: "/db", fs });
    expect(reopened.isEmpty(SEQNO_MAX)).toBe(true);
    await reopened.close();
  });

  it("a running compaction's inputs stay until it ends, even if a clear dropped them meanwhile", async () => {
    const fs = new MemFs();
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: "/db", fs, seqno });
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 6000; i++) tree.insert(k(i), `r${round}`, seqno.next());
      await tree.flushActiveMemtable(0);
    }
    // Jobs slice by time: with no budget, the compaction yields every few entries and is still
    // reading when the clear and the flush are done, however fast the machine.
    const budget = setTurnBudgetMs(0);
    let compaction: Promise<unknown>;
    try {
      compaction = tree.majorCompact(Number.POSITIVE_INFINITY, 0);
      await tick();
      await tree.clear();
      tree.insert("after", "a", seqno.next());
      await tree.flushActiveMemtable(seqno.get());
      // The clear's snapshot history is pruned, but the compaction still reads its inputs.
      expect(tableFiles(fs, "/db/tables")).toEqual(expect.arrayContaining(["0", "1"]));
    } finally {
      setTurnBudgetMs(budget);
    }
    expect(await compaction).toMatchObject({ action: "nothing" });
    const live = [...tree.currentVersion().tables()].map((t) => String(t.id));
    expect(tableFiles(fs, "/db/tables")).toEqual(live);
    await tree.close();
  });
});

describe("abandoned iterators", () => {
  // vitest.config.ts runs these tests with --expose-gc: an iterator dropped without being finished must
  // not pin files forever; its FinalizationRegistry entry releases them once it is collected.
  it("releases the files of an iterator dropped without return()", async () => {
    const gc = globalThis.gc;
    expect(typeof gc, "tests run with --expose-gc (packages/lsm-core/vitest.config.ts)").toBe("function");
    const { tree, files } = await twoTables();
    (() => {
      const it = tree.iter(SEQNO_MAX);
      it.next();
    })();
    await tree.majorCompact(Number.POSITIVE_INFINITY, 0);
    expect(files()).toEqual(["0", "1", "2"]);
    for (let i = 0; i < 20 && files().length > 1; i++) {
      gc?.();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(files()).toEqual(["2"]);
    await tree.close();
  });

  it("an exhausted iterator holds nothing, even while still referenced", async () => {
    const { tree, files } = await twoTables();
    const it = tree.range({ gte: k(190) }, SEQNO_MAX);
    expect([...it]).toHaveLength(10);
    await tree.majorCompact(Number.POSITIVE_INFINITY, 0);
    expect(files()).toEqual(["2"]);
    expect(it.next().done).toBe(true);
    await tree.close();
  });
});
