import { afterAll, afterEach, describe, expect, it } from "vitest";
import { MemFs, StdFs } from "@talus/fs";
import { useTempDirs } from "@talus/testkit";
import { LsmError, MAX_TABLE_VALUE_BYTES, SequenceNumberCounter, SEQNO_MAX, Tree, Leveled } from "../src/index.ts";
import { dec } from "./helpers.ts";
import { IOURING_UNAVAILABLE, useIoUringFs } from "./backends.ts";

const dirs = useTempDirs(afterEach);
const ioUringFs = useIoUringFs(afterAll);
const open = (fs = new MemFs(), path = "/db", extra: Partial<Parameters<typeof Tree.open>[0]> = {}) => Tree.open({ path, fs, ...extra });
const keys = (tree: Tree, s = SEQNO_MAX, bounds = {}): string[] => [...tree.range(bounds, s)].map(([k, v]) => `${dec(k)}=${dec(v)}`);

describe("Tree: writes and point reads", () => {
  it("reads what it wrote, with strict seqno visibility", async () => {
    const tree = await open();
    tree.insert("a", "1", 5);
    expect(tree.get("a", 5)).toBeUndefined();
    expect(dec(tree.get("a", 6))).toBe("1");
    expect(tree.get("a", 0)).toBeUndefined();
    expect(dec(tree.get("a", SEQNO_MAX))).toBe("1");
    tree.insert("a", "2", 7);
    expect(dec(tree.get("a", 7))).toBe("1");
    expect(dec(tree.get("a", 8))).toBe("2");
    await tree.close();
  });

  it("hides deleted keys from the tombstone's seqno on, for strong and weak deletes", async () => {
    const tree = await open();
    tree.insert("a", "1", 1);
    tree.insert("b", "1", 2);
    tree.remove("a", 3);
    tree.removeWeak("b", 4);
    expect(dec(tree.get("a", 3))).toBe("1");
    expect(tree.get("a", 4)).toBeUndefined();
    expect(dec(tree.get("b", 4))).toBe("1");
    expect(tree.get("b", 5)).toBeUndefined();
    expect(tree.containsKey("b", 5)).toBe(false);
    await tree.close();
  });

  it("returns the newest merge operand's bytes while no merge operator exists", async () => {
    const tree = await open();
    tree.merge("counter", "+1", 1);
    tree.merge("counter", "+2", 2);
    expect(dec(tree.get("counter", 3))).toBe("+2");
    await tree.close();
  });

  it("answers sizeOf, multiGet, first/last, len and isEmpty", async () => {
    const tree = await open();
    expect(tree.isEmpty(SEQNO_MAX)).toBe(true);
    tree.insert("b", "22", 1);
    tree.insert("a", "1", 2);
    tree.insert("c", "333", 3);
    expect(tree.sizeOf("c", 10)).toBe(3);
    expect(tree.multiGet(["a", "x", "c"], 10).map(dec)).toEqual(["1", undefined, "333"]);
    expect(tree.firstKeyValue(10)?.map(dec)).toEqual(["a", "1"]);
    expect(tree.lastKeyValue(10)?.map(dec)).toEqual(["c", "333"]);
    expect(tree.len(10)).toBe(3);
    expect(tree.len(2)).toBe(1);
    await tree.close();
  });

  it("returns copies: mutating a result or an input buffer changes nothing stored", async () => {
    const tree = await open();
    const value = Buffer.from("value");
    tree.insert("k", value, 1);
    value.write("XXXXX");
    const got = tree.get("k", 2) as Uint8Array;
    got[0] = 0;
    expect(dec(tree.get("k", 2))).toBe("value");
    await tree.flushActiveMemtable(0);
    const fromTable = tree.get("k", 2) as Uint8Array;
    fromTable[0] = 0;
    expect(dec(tree.get("k", 2))).toBe("value");
    await tree.close();
  });
});

describe("Tree: bad input changes nothing", () => {
  it("rejects bad keys, values and seqnos with TypeError/RangeError", async () => {
    const tree = await open();
    expect(() => tree.insert("", "v", 1)).toThrow(RangeError);
    expect(() => tree.insert(new Uint8Array(65536), "v", 1)).toThrow(RangeError);
    expect(() => tree.insert(5 as unknown as string, "v", 1)).toThrow(TypeError);
    expect(() => tree.insert("k", null as unknown as string, 1)).toThrow(TypeError);
    expect(() => tree.insert("k", "v", -1)).toThrow(RangeError);
    expect(() => tree.insert("k", "v", 1.5)).toThrow(TypeError);
    expect(() => tree.insert("k", "v", SEQNO_MAX + 1)).toThrow(RangeError);
    expect(() => tree.get("k", -1)).toThrow(RangeError);
    expect(() => tree.range({ limit: -5 }, 1)).toThrow(RangeError);
    expect(tree.isEmpty(SEQNO_MAX)).toBe(true);
    tree.insert(new Uint8Array(65535).fill(1), "max key", 1);
    expect(tree.len(SEQNO_MAX)).toBe(1);
    await tree.close();
  });

  it("throws CLOSED after close, for reads, writes and jobs", async () => {
    const tree = await open();
    await tree.close();
    await tree.close();
    const closed = expect.objectContaining({ code: "CLOSED" });
    expect(() => tree.insert("a", "b", 1)).toThrow(closed);
    expect(() => tree.get("a", 1)).toThrow(closed);
    expect(() => tree.iter(1)).toThrow(closed);
    expect(() => tree.flushActiveMemtable(0)).toThrow(closed);
  });
});

describe("Tree: flush, reopen, recovery", () => {
  it("keeps flushed data across reopen; a close with discard loses only what was never flushed", async () => {
    const fs = new MemFs();
    const seqno = new SequenceNumberCounter();
    let tree = await open(fs, "/db", { seqno });
    for (let i = 0; i < 100; i++) tree.insert(`key${i}`, `val_${i}`, seqno.next());
    await tree.flushActiveMemtable(0);
    tree.insert("unflushed", "x", seqno.next());
    expect(tree.tableCount()).toBe(1);
    await tree.close({ discard: true });
    tree = await open(fs, "/db");
    expect(tree.len(SEQNO_MAX)).toBe(100);
    expect(dec(tree.get("key50", SEQNO_MAX))).toBe("val_50");
    expect(tree.get("unflushed", SEQNO_MAX)).toBeUndefined();
    await tree.close();
  });

  it("a clean close flushes the memtables: every write is there after reopen", async () => {
    const fs = new MemFs();
    const seqno = new SequenceNumberCounter();
    let tree = await open(fs, "/db", { seqno });
    for (let i = 0; i < 50; i++) tree.insert(`key${i}`, `val_${i}`, seqno.next());
    await tree.flushActiveMemtable(0);
    tree.insert("late", "x", seqno.next());
    tree.rotateMemtable();
    tree.remove("key7", seqno.next());
    tree.removeRange("key2", "key3", seqno.next());
    await tree.close();
    // Idempotent, whatever the options of the later call.
    await tree.close({ discard: true });
    tree = await open(fs, "/db");
    expect(dec(tree.get("late", SEQNO_MAX))).toBe("x");
    expect(tree.get("key7", SEQNO_MAX)).toBeUndefined();
    expect(tree.get("key2", SEQNO_MAX)).toBeUndefined();
    expect(tree.get("key25", SEQNO_MAX)).toBeUndefined();
    expect(dec(tree.get("key30", SEQNO_MAX))).toBe("val_30");
    expect(tree.len(SEQNO_MAX)).toBe(50 + 1 - 1 - 11);
    await tree.close();
  });

  it("raises fresh counters past the data on disk when reopened", async () => {
    const fs = new MemFs();
    let tree = await open(fs);
    tree.insert("a", "old", 41);
    await tree.flushActiveMemtable(0);
    await tree.close();
    const seqno = new SequenceNumberCounter();
    tree = await open(fs, "/db", { seqno });
    expect(seqno.get()).toBeGreaterThan(41);
    tree.insert("a", "new", seqno.next());
    expect(dec(tree.get("a", seqno.get()))).toBe("new");
    await tree.close();
  });

  it("works the same on the real disk", async () => {
    const path = dirs.make("tree");
    const seqno = new SequenceNumberCounter();
    let tree = await Tree.open({ path, fs: new StdFs(), seqno });
    for (let i = 0; i < 1000; i++) tree.insert(`k${String(i).padStart(4, "0")}`, `v${i}`, seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.close();
    tree = await Tree.open({ path, seqno });
    expect(tree.len(SEQNO_MAX)).toBe(1000);
    tree.verify();
    await tree.close();
  });

  it.skipIf(IOURING_UNAVAILABLE !== undefined)(
    `works the same on the real disk through IoUringFs, whose files StdFs reads back${IOURING_UNAVAILABLE === undefined ? "" : ` (skipped: io_uring is unavailable, ${IOURING_UNAVAILABLE})`}`,
    async () => {
      const path = dirs.make("tree-iouring");
      const seqno = new SequenceNumberCounter();
      const fs = ioUringFs();
      let tree = await Tree.open({ path, fs, seqno, flushTableSize: 8192, blockSize: 512 });
      for (let i = 0; i < 1000; i++) tree.insert(`k${String(i).padStart(4, "0")}`, `v${i}`, seqno.next());
      await tree.flushActiveMemtable(0);
      // Compaction on worker threads that make their own IoUringFs (threadShare).
      await tree.majorCompact(8192, 0);
      await tree.close();
      for (const reader of [fs, new StdFs()]) {
        tree = await Tree.open({ path, fs: reader, seqno, mapTables: false });
        expect(tree.len(SEQNO_MAX)).toBe(1000);
        expect(dec(tree.get("k0500", SEQNO_MAX))).toBe("v500");
        expect(tree.multiGet(["k0001", "k0999", "k1000"], SEQNO_MAX).map(dec)).toEqual(["v1", "v999", undefined]);
        tree.verify();
        await tree.close();
      }
    },
  );

  it("refuses a directory with version artifacts but no current (INVALID_DATA naming current)", async () => {
    const fs = new MemFs();
    const tree = await open(fs);
    tree.insert("a", "1", 1);
    await tree.flushActiveMemtable(0);
    await tree.close();
    fs.removeFile("/db/current");
    await expect(open(fs)).rejects.toSatisfy((e: unknown) => e instanceof LsmError && e.code === "INVALID_DATA" && e.message.includes("current"));
    expect(fs.exists("/db/tables")).toBe(true);
  });

  it("reports a corrupt current as CORRUPTION, never as an empty tree", async () => {
    const fs = new MemFs();
    const tree = await open(fs);
    await tree.close();
    const f = fs.open("/db/current", { write: true, truncate: true });
    f.write(new TextEncoder().encode("garbage that is not a pointer"));
    f.close();
    await expect(open(fs)).rejects.toMatchObject({ code: "CORRUPTION" });
  });

  it("refuses another comparator on reopen with COMPARATOR_MISMATCH", async () => {
    const fs = new MemFs();
    await (await open(fs)).close();
    const reverse = { name: "reverse", compare: (a: Uint8Array, b: Uint8Array) => Buffer.compare(b, a) };
    await expect(open(fs, "/db", { comparator: reverse })).rejects.toMatchObject({ code: "COMPARATOR_MISMATCH" });
  });

  it("deletes orphan tables on open and keeps foreign files", async () => {
    const fs = new MemFs();
    const tree = await open(fs);
    tree.insert("a", "1", 1);
    await tree.flushActiveMemtable(0);
    await tree.close();
    fs.open("/db/tables/999", { write: true, createNew: true }).close();
    fs.open("/db/tables/notes.txt", { write: true, createNew: true }).close();
    const reopened = await open(fs);
    expect(fs.exists("/db/tables/999")).toBe(false);
    expect(fs.exists("/db/tables/notes.txt")).toBe(true);
    expect(reopened.len(SEQNO_MAX)).toBe(1);
    await reopened.close();
  });

  it("reports a missing table as UNRECOVERABLE", async () => {
    const fs = new MemFs();
    const tree = await open(fs);
    tree.insert("a", "1", 1);
    await tree.flushActiveMemtable(0);
    await tree.close();
    for (const e of fs.readDir("/db/tables")) fs.removeFile(e.path);
    await expect(open(fs)).rejects.toMatchObject({ code: "UNRECOVERABLE" });
  });
});

describe("Tree: MVCC across flush and compaction", () => {
  it("keeps old snapshots readable across flush and major compaction (watermark 0)", async () => {
    const tree = await open();
    tree.insert("a", "v1", 1);
    tree.insert("a", "v2", 2);
    await tree.flushActiveMemtable(0);
    tree.insert("a", "v3", 3);
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(64 * 1024 * 1024, 0);
    expect(tree.tableCount()).toBe(1);
    expect(dec(tree.get("a", 2))).toBe("v1");
    expect(dec(tree.get("a", 3))).toBe("v2");
    expect(dec(tree.get("a", 4))).toBe("v3");
    await tree.close();
  });

  it("lets an open iterator finish over tables a compaction replaced", async () => {
    const tree = await open();
    for (let i = 0; i < 200; i++) tree.insert(`k${String(i).padStart(3, "0")}`, `v${i}`, i + 1);
    await tree.flushActiveMemtable(0);
    for (let i = 0; i < 200; i += 2) tree.insert(`k${String(i).padStart(3, "0")}`, `w${i}`, 300 + i);
    await tree.flushActiveMemtable(0);
    const it = tree.iter(250);
    const firstHalf = Array.from({ length: 100 }, () => it.next().value as [Uint8Array, Uint8Array]);
    await tree.majorCompact(64 * 1024 * 1024, 0);
    const rest = [...it];
    expect([...firstHalf, ...rest].map(([, v]) => dec(v))).toEqual(Array.from({ length: 200 }, (_, i) => `v${i}`));
    await tree.close();
  });

  it("a read at an old seqno still sees data cleared or dropped later (dirty_snapshot)", async () => {
    const seqno = new SequenceNumberCounter();
    const tree = await open(new MemFs(), "/db", { seqno });
    tree.insert("a", "a", seqno.next());
    await tree.flushActiveMemtable(0);
    tree.insert("b", "b", seqno.next());
    await tree.flushActiveMemtable(0);
    const snapshot = seqno.get();
    await tree.dropRange({ gte: "a", lte: "a" });
    expect(dec(tree.get("a", snapshot))).toBe("a");
    expect(tree.get("a", seqno.get())).toBeUndefined();
    await tree.clear();
    expect(dec(tree.get("b", snapshot))).toBe("b");
    expect(tree.isEmpty(seqno.get())).toBe(true);
    expect(tree.tableCount()).toBe(0);
    await tree.close();
  });

  it("consumes one seqno per version change and raises the visible counter past it", async () => {
    const seqno = new SequenceNumberCounter();
    const visibleSeqno = new SequenceNumberCounter();
    const tree = await open(new MemFs(), "/db", { seqno, visibleSeqno });
    tree.insert("a", "a", seqno.next());
    expect(seqno.get()).toBe(1);
    tree.rotateMemtable();
    expect(seqno.get()).toBe(1);
    await tree.flushActiveMemtable(0);
    expect(seqno.get()).toBe(2);
    expect(visibleSeqno.get()).toBe(2);
    await tree.majorCompact(1 << 20, 0);
    expect(seqno.get()).toBe(3);
    expect(visibleSeqno.get()).toBe(3);
    await tree.close();
  });

  it("finds nothing for an absent key after several flushes (latest_snapshot)", async () => {
    const tree = await open();
    tree.insert("a", "a", 1);
    await tree.flushActiveMemtable(0);
    tree.insert("b", "b", 2);
    await tree.flushActiveMemtable(0);
    tree.insert("c", "c", 3);
    tree.insert("d", "d", 4);
    expect(tree.get("e", 5)).toBeUndefined();
    await tree.close();
  });

  it("does not resurrect a deleted key after leveled compaction (model_1)", async () => {
    const tree = await open();
    tree.insert("a", "a", 0);
    await tree.flushActiveMemtable(0);
    tree.insert("b", "b", 1);
    await tree.flushActiveMemtable(0);
    tree.remove("b", 2);
    await tree.flushActiveMemtable(0);
    tree.insert("c", "c", 3);
    await tree.flushActiveMemtable(0);
    await tree.compact(new Leveled(), 0);
    expect(tree.containsKey("b", 5)).toBe(false);
    await tree.close();
  });
});

describe("Tree: iteration", () => {
  it("merges memtables, L0 and deeper levels in order, both ways, with bounds", async () => {
    const tree = await open();
    tree.insert("a", "1", 1);
    tree.insert("c", "1", 2);
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(64 << 20, 0);
    tree.insert("b", "2", 3);
    tree.insert("c", "2", 4);
    await tree.flushActiveMemtable(0);
    tree.insert("d", "3", 5);
    tree.remove("a", 6);
    expect(keys(tree)).toEqual(["b=2", "c=2", "d=3"]);
    expect(keys(tree, 5)).toEqual(["a=1", "b=2", "c=2"]);
    expect(keys(tree, SEQNO_MAX, { reverse: true })).toEqual(["d=3", "c=2", "b=2"]);
    expect(keys(tree, SEQNO_MAX, { gt: "b", lte: "d" })).toEqual(["c=2", "d=3"]);
    expect(keys(tree, SEQNO_MAX, { gte: "b", lt: "d", reverse: true, limit: 1 })).toEqual(["c=2"]);
    expect([...tree.prefix("c", SEQNO_MAX)].map(([k]) => dec(k))).toEqual(["c"]);
    await tree.close();
  });
});

describe("Tree: values a table cannot hold", () => {
  it("refuses a value too large for a table block at insert, instead of failing every flush later", async () => {
    const tree = await open();
    expect(() => tree.insert("big", new Uint8Array(MAX_TABLE_VALUE_BYTES + 1), 1)).toThrow(RangeError);
    expect(tree.isEmpty(SEQNO_MAX)).toBe(true);
    await tree.flushActiveMemtable(0);
    expect(tree.tableCount()).toBe(0);
    await tree.close();
  });
});
