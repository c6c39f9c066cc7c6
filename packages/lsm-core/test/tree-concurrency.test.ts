// Async safety of the tree: flush, compaction, dropRange, clear and close are jobs that yield to the
// event loop (every 2048 entries written), while writes and reads stay synchronous. No reference file
// ports to this directly (upstream runs jobs on threads); it checks the rules in src/tree/jobs.ts: one
// flush or clear at a time, a table in at most one compaction, a job whose inputs vanished installs
// nothing, inputs stay readable meanwhile, and close() waits for jobs.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { Leveled, SEQNO_MAX, SequenceNumberCounter, SizeTiered, Tree, type CompactionResult } from "../src/index.ts";
import { dec } from "./helpers.ts";
import { isLsmError, k, tableFiles, tick } from "./tree-support.ts";

/** A tree on a MemFs whose writers draw seqnos from `seqno`, plus a model of the latest values. */
async function setup() {
  const fs = new MemFs();
  const seqno = new SequenceNumberCounter();
  const tree = await Tree.open({ path: "/db", fs, seqno });
  const model = new Map<string, string>();
  let writes = 0;
  const put = (key: string, value: string): void => {
    tree.insert(key, value, seqno.next());
    model.set(key, value);
    writes++;
  };
  /** Every key of the model reads back its latest value, and nothing else is visible. */
  const checkAll = (): void => {
    const s = seqno.get();
    for (const [key, value] of model) if (dec(tree.get(key, s)) !== value) expect.fail(`${key}: expected ${value}, got ${dec(tree.get(key, s))}`);
    expect(tree.len(s)).toBe(model.size);
  };
  /** Table files on disk are exactly the live tables (nothing leaked, nothing missing). */
  const checkFiles = (): void => {
    const live = [...tree.currentVersion().tables()].map((t) => String(t.id)).sort((a, b) => Number(a) - Number(b));
    expect(tableFiles(fs, "/db/tables")).toEqual(live);
  };
  return { fs, seqno, tree, model, put, checkAll, checkFiles, writes: () => writes };
}

/** Flushed L0 tables of `perTable` keys each, overlapping (every table spans the key space). */
async function fillL0(env: Awaited<ReturnType<typeof setup>>, tables: number, perTable: number, keySpace = perTable * 2): Promise<void> {
  for (let t = 0; t < tables; t++) {
    for (let i = 0; i < perTable; i++) env.put(k((i * 7 + t * 13) % keySpace), `t${t}i${i}`);
    await env.tree.flushActiveMemtable(0);
  }
}

describe("concurrent flushes", () => {
  it("several un-awaited flushes with writes and reads between them lose no write", async () => {
    const env = await setup();
    const { tree, put, model, seqno } = env;
    const flushes: Array<Promise<number>> = [];
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 3000; i++) put(k((i * 3 + round * 1000) % 9000), `r${round}-${i}`);
      flushes.push(tree.flushActiveMemtable(0));
      for (let j = 0; j < 3; j++) {
        await tick();
        for (const key of [k(0), k(4500), k(8999), k(round * 1000)]) expect(dec(tree.get(key, seqno.get()))).toBe(model.get(key));
      }
    }
    const flushed = await Promise.all(flushes);
    expect(tree.sealedMemtableCount()).toBe(0);
    expect(tree.tableCount()).toBe(flushed.filter((bytes) => bytes > 0).length);
    expect(tree.approximateLen()).toBe(env.writes());
    env.checkAll();
    env.checkFiles();
    await tree.close();
  });

  it("reads in setImmediate callbacks run while a long flush of 100k keys yields, and see every write", async () => {
    const env = await setup();
    const { tree, put, model, seqno } = env;
    for (let i = 0; i < 100_000; i++) put(k(i, "key", 6), `v${i}`);
    let done = false;
    let reads = 0;
    let failures = 0;
    const reader = (): void => {
      if (done) return;
      const i = (reads * 7919) % 100_000;
      if (dec(tree.get(k(i, "key", 6), seqno.get())) !== `v${i}`) failures++;
      // A write during the flush goes to the new active memtable and is readable at once.
      put(k(reads, "late", 6), `late${reads}`);
      if (dec(tree.get(k(reads, "late", 6), seqno.get())) !== `late${reads}`) failures++;
      reads++;
      setImmediate(reader);
    };
    setImmediate(reader);
    const flushing = tree.flushActiveMemtable(0);
    expect(tree.sealedMemtableCount() + tree.tableCount()).toBeLessThanOrEqual(1);
    await flushing;
    done = true;
    expect(reads).toBeGreaterThan(10);
    expect(failures).toBe(0);
    expect(tree.tableCount()).toBe(1);
    expect(tree.approximateLen()).toBe(100_000 + reads);
    expect(model.size).toBe(100_000 + reads);
    env.checkAll();
    await tree.close();
  });
});

describe("concurrent compactions", () => {
  it("Leveled, SizeTiered and major compactions started together never take a table twice", async () => {
    const env = await setup();
    const { tree, put, seqno } = env;
    await fillL0(env, 8, 2500);
    const jobs: Array<Promise<CompactionResult>> = [
      tree.compact(new SizeTiered({ minMergeWidth: 2, maxMergeWidth: 3, maxSpaceAmplificationPercent: Infinity }), 0),
      tree.compact(new SizeTiered({ minMergeWidth: 2, maxMergeWidth: 3, maxSpaceAmplificationPercent: Infinity }), 0),
      tree.compact(new Leveled({ l0Threshold: 2 }), 0),
      tree.majorCompact(64 * 1024, 0),
    ];
    for (let i = 0; i < 500; i++) {
      put(k(i * 11), `during${i}`);
      if (i % 100 === 0) {
        await tick();
        expect(dec(tree.get(k(i * 11), seqno.get()))).toBe(`during${i}`);
      }
    }
    jobs.push(tree.flushActiveMemtable(0).then(() => tree.compact(new Leveled({ l0Threshold: 2 }), 0)));
    const results = await Promise.all(jobs);
    expect(results.filter((r) => r.action === "merged").length).toBeGreaterThanOrEqual(2);
    // With watermark 0 every version survives: a table merged twice would duplicate its entries.
    expect(tree.approximateLen()).toBe(env.writes());
    const ids = [...tree.currentVersion().tables()].map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    env.checkAll();
    env.checkFiles();
    tree.verify();
    await tree.close();
  });

  it("an iterator opened before a compaction finishes correctly while and after it runs", async () => {
    const env = await setup();
    const { tree, put, seqno } = env;
    await fillL0(env, 4, 5000, 5000);
    const snapshot = seqno.get();
    const expected = [...env.model].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, v]) => `${key}=${v}`);
    const forward = tree.iter(snapshot);
    const backward = tree.iter(snapshot, { reverse: true });
    for (let i = 0; i < 5000; i += 3) put(k(i), "newer");
    await tree.flushActiveMemtable(0);
    // A watermark above the snapshot lets the compaction drop the versions the iterators still read.
    const compaction = tree.majorCompact(16 * 1024, seqno.get());
    const seen: string[] = [];
    const seenBack: string[] = [];
    for (let i = 0; ; i++) {
      const a = forward.next();
      const b = backward.next();
      if (a.done === true || b.done === true) {
        expect(a.done && b.done).toBe(true);
        break;
      }
      seen.push(`${dec(a.value[0])}=${dec(a.value[1])}`);
      seenBack.push(`${dec(b.value[0])}=${dec(b.value[1])}`);
      if (i % 250 === 0) await tick();
    }
    expect(await compaction).toMatchObject({ action: "merged" });
    expect(seen).toEqual(expected);
    expect(seenBack).toEqual([...expected].reverse());
    env.checkAll();
    await tree.close();
  });
});

describe("dropRange and clear racing other jobs", () => {
  it("dropRange skips tables a running compaction holds, and drops the others meanwhile", async () => {
    const env = await setup();
    const { tree, put, model, seqno } = env;
    for (let i = 0; i < 3000; i++) put(k(i, "a"), "a");
    for (let i = 0; i < 3000; i++) put(k(i, "b"), "b");
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(8 * 1024, 0);
    for (let i = 0; i < 3000; i++) put(k(i, "a"), "a2");
    await tree.flushActiveMemtable(0);
    const l6 = tree.levelTableCount(6) ?? 0;
    // Leveled merges L0 (all "a" keys) with the L6 tables it overlaps; the "b" tables are free.
    const compaction = tree.compact(new Leveled({ l0Threshold: 1 }), 0);
    expect(await tree.dropRange({ gte: "a", lt: "b" })).toMatchObject({ action: "nothing" });
    const dropped = await tree.dropRange({ gte: "b", lt: "c" });
    expect(dropped.action).toBe("dropped");
    expect(await compaction).toMatchObject({ action: "merged", destLevel: 6 });
    expect(dropped.tablesIn + (await compaction).tablesIn).toBeLessThanOrEqual(l6 + 1);
    // The L6 table straddling "a…"/"b…" was an input of the compaction: its "b" keys stay; the rest went.
    const s = seqno.get();
    const kept = [...model.keys()].filter((key) => key.startsWith("b") && tree.get(key, s) !== undefined);
    expect(kept.length).toBeLessThan(1000);
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => k(i, "b")));
    for (const key of [...model.keys()]) if (key.startsWith("b") && !kept.includes(key)) model.delete(key);
    env.checkAll();
    // Reads from before the drop still see the dropped tables.
    expect(dec(tree.get(k(2999, "b"), 6001))).toBe("b");
    await tree.close();
  });

  it("a clear() racing a compaction does not resurrect cleared data", async () => {
    const env = await setup();
    const { tree, put, seqno } = env;
    await fillL0(env, 4, 5000);
    const compaction = tree.majorCompact(32 * 1024, 0);
    const tiered = tree.compact(new SizeTiered({ minMergeWidth: 2 }), 0);
    await tick();
    await tree.clear();
    put("after-clear", "y");
    expect(await compaction).toMatchObject({ action: "nothing" });
    expect((await tiered).action).toBe("nothing");
    expect(tree.tableCount()).toBe(0);
    const s = seqno.get();
    expect([...tree.iter(s)].map(([key]) => dec(key))).toEqual(["after-clear"]);
    expect(tree.get(k(0), s)).toBeUndefined();
    await tree.flushActiveMemtable(s);
    expect(tree.tableCount()).toBe(1);
    expect(tree.len(seqno.get())).toBe(1);
    env.checkFiles();
    await tree.close();
  });

  it("a clear() queued behind a running flush clears what that flush wrote", async () => {
    const env = await setup();
    const { tree, put, seqno } = env;
    for (let i = 0; i < 20_000; i++) put(k(i), "v");
    const flushing = tree.flushActiveMemtable(0);
    await tick();
    put("during-flush", "x");
    const clearing = tree.clear();
    expect(await flushing).toBeGreaterThan(0);
    await clearing;
    expect(tree.tableCount()).toBe(0);
    expect(tree.isEmpty(seqno.get())).toBe(true);
    put("later", "y");
    await tree.flushActiveMemtable(seqno.get());
    expect([...tree.iter(seqno.get())].map(([key]) => dec(key))).toEqual(["later"]);
    env.checkFiles();
    await tree.close();
  });
});

describe("everything at once", () => {
  it("flush, Leveled, major, SizeTiered, dropRange and clear in flight together, with writes and reads between", async () => {
    const env = await setup();
    const { tree, put, model, seqno } = env;
    const jobs: Array<Promise<unknown>> = [];
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 2500; i++) put(k((i * 5 + round * 777) % 6000), `r${round}`);
      for (let i = 0; i < 50; i++) put(`tmp${round}-${i}`, "t");
      jobs.push(
        tree.flushActiveMemtable(0),
        tree.compact(new Leveled({ l0Threshold: 2, tableTargetSize: 16 * 1024 }), 0),
        tree.majorCompact(32 * 1024, 0),
        tree.dropRange({ gte: "tmp", lt: "tmq" }),
        tree.compact(new SizeTiered({ minMergeWidth: 2 }), 0),
      );
      await tick();
      for (const key of [k(0), k(round * 777), k(5999)]) expect(dec(tree.get(key, seqno.get()))).toBe(model.get(key));
    }
    await Promise.all(jobs);
    await tree.flushActiveMemtable(0);
    // dropRange removes whole tables only: a "tmp" key is either gone or intact, never altered.
    const s = seqno.get();
    for (const key of [...model.keys()]) {
      if (!key.startsWith("tmp")) continue;
      const value = tree.get(key, s);
      if (value === undefined) model.delete(key);
      else expect(dec(value)).toBe("t");
    }
    env.checkAll();
    tree.verify();
    // Compactions ran with watermark 0: every version of every kept key is still there.
    await tree.majorCompact(Number.POSITIVE_INFINITY, seqno.get());
    expect(tree.approximateLen()).toBe(model.size);
    // The super version before that compaction (stamp < its watermark) is kept for reads at exactly the
    // watermark; the next change with a higher watermark lets its tables go.
    put("one-more", "1");
    await tree.flushActiveMemtable(seqno.get());
    env.checkFiles();

    // A clear in the same batch as other jobs: nothing written before it survives.
    for (let i = 0; i < 3000; i++) put(k(i, "x"), "x");
    const last = [tree.flushActiveMemtable(0), tree.compact(new Leveled(), 0), tree.clear(), tree.majorCompact(1024, 0)];
    await Promise.all(last);
    model.clear();
    env.checkAll();
    expect(tree.tableCount()).toBe(0);
    await tree.close();
  });
});

describe("close()", () => {
  it("waits for running jobs, keeps what they wrote, then every call throws CLOSED", async () => {
    const env = await setup();
    const { fs, tree, put } = env;
    await fillL0(env, 3, 4000);
    for (let i = 0; i < 20_000; i++) put(k(i, "late"), "v");
    const order: string[] = [];
    const jobs = Promise.allSettled([
      tree.flushActiveMemtable(0).finally(() => order.push("flush")),
      tree.compact(new SizeTiered({ minMergeWidth: 2 }), 0).finally(() => order.push("compaction")),
    ]);
    await tick(); // both jobs are running now (the flush holds its lock and is writing)
    const closing = tree.close().then(() => order.push("close"));
    // Closing: no new call is accepted.
    expect(() => tree.flushActiveMemtable(0)).toThrow(expect.objectContaining({ code: "CLOSED" }));
    expect(() => tree.insert("x", "y", 1)).toThrow(expect.objectContaining({ code: "CLOSED" }));
    await closing;
    expect(order.at(-1)).toBe("close");
    const [flush, compaction] = await jobs;
    expect(flush).toEqual({ status: "fulfilled", value: expect.any(Number) });
    expect(compaction).toMatchObject({ status: "fulfilled", value: { action: "merged" } });
    const calls: Array<[string, () => unknown]> = [
      ["insert", () => tree.insert("a", "b", 1)],
      ["remove", () => tree.remove("a", 1)],
      ["get", () => tree.get("a", 1)],
      ["range", () => tree.range({}, 1)],
      ["rotateMemtable", () => tree.rotateMemtable()],
      ["flushActiveMemtable", () => tree.flushActiveMemtable(0)],
      ["compact", () => tree.compact(new Leveled(), 0)],
      ["majorCompact", () => tree.majorCompact(1024, 0)],
      ["dropRange", () => tree.dropRange({})],
      ["clear", () => tree.clear()],
      ["verify", () => tree.verify()],
    ];
    for (const [name, call] of calls) {
      let thrown: unknown;
      try {
        await call();
      } catch (error) {
        thrown = error;
      }
      expect(isLsmError("CLOSED")(thrown), name).toBe(true);
    }
    await tree.close();
    const reopened = await Tree.open({ path: "/db", fs });
    expect(reopened.len(SEQNO_MAX)).toBe(env.model.size);
    const live = [...reopened.currentVersion().tables()].map((t) => String(t.id)).sort((a, b) => Number(a) - Number(b));
    expect(tableFiles(fs, "/db/tables")).toEqual(live);
    await reopened.close();
  });

  // Fails today (see the report): after close() the history is emptied, so introspection crashes with
  // a TypeError ("reading 'version'") instead of the documented CLOSED.
  it("introspection after close() throws CLOSED too", async () => {
    const { tree, put } = await setup();
    put("a", "1");
    await tree.flushActiveMemtable(0);
    await tree.close();
    const calls: Array<[string, () => unknown]> = [
      ["tableCount", () => tree.tableCount()],
      ["levelTableCount", () => tree.levelTableCount(0)],
      ["l0RunCount", () => tree.l0RunCount()],
      ["approximateLen", () => tree.approximateLen()],
      ["diskSpace", () => tree.diskSpace()],
      ["sealedMemtableCount", () => tree.sealedMemtableCount()],
      ["highestSeqno", () => tree.highestSeqno()],
      ["currentVersion", () => tree.currentVersion()],
    ];
    const outcomes = calls.map(([name, call]) => {
      try {
        call();
        return `${name}: no error`;
      } catch (error) {
        return `${name}: ${isLsmError("CLOSED")(error) ? "CLOSED" : String(error)}`;
      }
    });
    expect(outcomes).toEqual(calls.map(([name]) => `${name}: CLOSED`));
  });

  // Fails today (see the report): the second close() resumes after the first has emptied the history
  // and crashes reading `state.latest.version`.
  it("is idempotent when called twice while a job runs", async () => {
    const env = await setup();
    await fillL0(env, 3, 4000);
    const compaction = env.tree.compact(new SizeTiered({ minMergeWidth: 2 }), 0);
    const closes = await Promise.allSettled([env.tree.close(), env.tree.close(), compaction]);
    expect(closes.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
    await env.tree.close();
  });

  // Fails today (see the report): a flush accepted before close() but not yet holding the flush lock
  // re-checks `closing` inside the lock and rejects with CLOSED, so its memtable is lost.
  it("completes flushes requested before close(), including one queued behind another", async () => {
    const env = await setup();
    const { fs, tree, put } = env;
    for (let i = 0; i < 10_000; i++) put(k(i), "first");
    const first = tree.flushActiveMemtable(0);
    await tick();
    for (let i = 0; i < 100; i++) put(k(i, "second"), "second");
    const second = tree.flushActiveMemtable(0);
    put("last", "third");
    const third = tree.flushActiveMemtable(0);
    const settled = Promise.allSettled([first, second, third]);
    await tree.close();
    expect((await settled).map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
    const reopened = await Tree.open({ path: "/db", fs });
    expect(reopened.len(SEQNO_MAX)).toBe(env.model.size);
    await reopened.close();
  });
});
