// Flush and compaction on a filesystem whose syncs and removals complete later (as on StdFs, where they
// run on libuv's threadpool): jobs interleave at every such await, and version changes queue behind
// each other's publication.
import { describe, expect, it } from "vitest";
import { Leveled, SEQNO_MAX, SequenceNumberCounter, Tree } from "../src/index.ts";
import { SlowAsyncFs } from "./async-io-support.ts";
import { dec } from "./helpers.ts";
import { k, tableFiles } from "./tree-support.ts";

describe("a tree on a filesystem with slow async syncs", () => {
  it("keeps every write through overlapping flushes, compactions and a drop, and reopens to the same data", async () => {
    const fs = new SlowAsyncFs(1);
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: "/db", fs, seqno, flushTableSize: 16 * 1024 });
    const syncsAtOpen = fs.counts.syncs;
    const expected = new Map<string, string>();
    const jobs: Promise<unknown>[] = [];
    const strategy = new Leveled({ l0Threshold: 2, tableTargetSize: 16 * 1024 });
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < 600; i++) {
        const key = k((i * 7 + round * 131) % 3000);
        const value = `r${round}-${i}`;
        tree.insert(key, value, seqno.next());
        expect(dec(tree.get(key, SEQNO_MAX))).toBe(value);
        expected.set(key, value);
      }
      jobs.push(tree.flushActiveMemtable(seqno.get()));
      // Let the jobs get going (a strategy chooses when called: it must see the flushed tables), so
      // the next round's jobs overlap them.
      await new Promise((resolve) => setTimeout(resolve, 1 + (round % 3)));
      jobs.push(tree.compact(strategy, seqno.get()));
      if (round % 4 === 3) jobs.push(tree.majorCompact(16 * 1024, seqno.get()));
      if (round === 6) {
        jobs.push(tree.dropRange({ gte: k(2900), lt: k(3000) }));
        for (const key of [...expected.keys()]) if (key >= k(2900)) expected.delete(key);
      }
    }
    await Promise.all(jobs);
    await tree.flushActiveMemtable(seqno.get());
    while ((await tree.compact(strategy, seqno.get())).action !== "nothing");
    // The drop ran while older rounds were still in memtables: their keys above the range start may be back.
    const check = (t: Tree): void => {
      for (const [key, value] of expected) expect(dec(t.get(key, SEQNO_MAX)), key).toBe(value);
    };
    check(tree);
    expect(fs.counts.asyncSyncs).toBeGreaterThan(0);
    expect(fs.counts.asyncRemovals).toBeGreaterThan(0);
    expect((await Promise.all(jobs)).some((r) => typeof r === "object" && r !== null && (r as { action?: string }).action === "merged")).toBe(true);
    // Only creating the tree syncs the blocking way; every job awaits the async forms.
    expect(fs.counts.syncs).toBe(syncsAtOpen);
    await tree.close();
    const reopened = await Tree.open({ path: "/db", fs });
    check(reopened);
    const live = [...reopened.currentVersion().tables()].map((t) => String(t.id)).sort((a, b) => Number(a) - Number(b));
    expect(tableFiles(fs, "/db/tables")).toEqual(live);
    await reopened.close();
  });

  it("a flush whose async sync fails rejects, leaves no table behind, keeps the data readable, and can be retried", async () => {
    const fs = new SlowAsyncFs(1);
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: "/db", fs, seqno });
    for (let i = 0; i < 500; i++) tree.insert(k(i), `v${i}`, seqno.next());
    fs.failAsyncSync = true;
    await expect(tree.flushActiveMemtable(0)).rejects.toMatchObject({ code: "EIO" });
    expect(tableFiles(fs, "/db/tables")).toEqual([]);
    expect(tree.tableCount()).toBe(0);
    expect(dec(tree.get(k(42), SEQNO_MAX))).toBe("v42");
    fs.failAsyncSync = false;
    await tree.flushActiveMemtable(0);
    expect(tree.tableCount()).toBe(1);
    await tree.close();
    const reopened = await Tree.open({ path: "/db", fs });
    expect(dec(reopened.get(k(499), SEQNO_MAX))).toBe("v499");
    await reopened.close();
  });
});
