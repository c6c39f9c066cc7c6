// Write batches (WriteBatch, Tree.applyBatch): a port of the reference's tests/write_batch.rs (the merge
// cases without a merge operator: reads return the newest operand; the blob tree case left out until the
// blob log exists), then what our contract adds: all-or-nothing visibility at every read seqno, also while
// flushes and rotations are in flight and across reopen; MIXED_OPERATION_BATCH and oversize values
// refused before anything lands; validation as operations are added; range deletions in a batch.
import { describe, expect, it } from "vitest";
import { MemFs, type Fs } from "@talus/fs";
import { Random } from "@talus/testkit";
import {
  Leveled,
  MAX_KEY_BYTES,
  MAX_TABLE_VALUE_BYTES,
  SEQNO_MAX,
  SequenceNumberCounter,
  Tree,
  ValueKind,
  WriteBatch,
  type Comparator,
  type TreeOptions,
} from "../src/index.ts";
import { dec } from "./helpers.ts";
import { isLsmError, keysOf, tick } from "./tree-support.ts";
import { expectReadsAt, RtOracle, upTo } from "./range-tombstone-support.ts";

const open = (extra: Partial<TreeOptions> = {}, fs: Fs = new MemFs()): Promise<Tree> => Tree.open({ path: "/db", fs, ...extra });
const k4 = (i: number, prefix = "key_"): string => `${prefix}${String(i).padStart(4, "0")}`;
const pairs = (tree: Tree, seqno: number): string[] => [...tree.iter(seqno)].map(([k, v]) => `${dec(k)}=${dec(v)}`);

describe("write_batch.rs", () => {
  it("write_batch_insert_and_read", async () => {
    const tree = await open();
    const batch = new WriteBatch();
    batch.insert("a", "val_a");
    batch.insert("b", "val_b");
    batch.insert("c", "val_c");
    const size = tree.applyBatch(batch, 0);
    expect(size).toBeGreaterThan(0);
    expect(dec(tree.get("a", 1))).toBe("val_a");
    expect(dec(tree.get("b", 1))).toBe("val_b");
    expect(dec(tree.get("c", 1))).toBe("val_c");
    await tree.close();
  });

  it("write_batch_insert_and_remove_different_keys", async () => {
    const tree = await open();
    tree.insert("existing", "old_value", 0);
    tree.applyBatch(new WriteBatch().insert("new_key", "new_value").remove("existing"), 1);
    expect(dec(tree.get("new_key", 2))).toBe("new_value");
    expect(tree.get("existing", 2)).toBeUndefined();
    expect(dec(tree.get("existing", 1))).toBe("old_value");
    await tree.close();
  });

  it("write_batch_empty_is_noop: returns the memtable's size and leaves the memtable empty", async () => {
    const tree = await open();
    const empty = tree.applyBatch(new WriteBatch(), 0);
    expect(tree.rotateMemtable()).toBe(false);
    expect(tree.applyBatch(new WriteBatch(), 5)).toBe(empty);
    tree.insert("a", "1", 1);
    const size = tree.applyBatch(new WriteBatch(), 2);
    expect(size).toBeGreaterThan(empty);
    expect(tree.applyBatch(new WriteBatch(), 3)).toBe(size);
    expect(tree.approximateLen()).toBe(1);
    await tree.close();
  });

  it("write_batch_shared_seqno_atomic_visibility: nothing at the batch's seqno, everything above it", async () => {
    const tree = await open();
    tree.applyBatch(new WriteBatch().insert("x", "vx").insert("y", "vy").insert("z", "vz"), 5);
    for (const key of ["x", "y", "z"]) expect(tree.get(key, 5), key).toBeUndefined();
    expect(tree.len(5)).toBe(0);
    expect(tree.multiGet(["x", "y", "z"], 6).map(dec)).toEqual(["vx", "vy", "vz"]);
    expect(tree.len(6)).toBe(3);
    await tree.close();
  });

  it("write_batch_with_capacity / write_batch_clear: len, isEmpty, clear", () => {
    const batch = new WriteBatch();
    expect(batch.isEmpty()).toBe(true);
    expect(batch.len).toBe(0);
    expect(batch.insert("a", "b")).toBe(batch);
    batch.remove("c").removeWeak("d").merge("e", "1").removeRange("f", "g").removeRange("z", "a");
    expect(batch.len).toBe(6); // a no-op range still counts as an operation added
    expect(batch.isEmpty()).toBe(false);
    batch.clear();
    expect(batch.isEmpty()).toBe(true);
    expect(batch.len).toBe(0);
    batch.insert("again", "1");
    expect(batch.len).toBe(1);
  });

  it("write_batch_survives_flush (and reopen)", async () => {
    const fs = new MemFs();
    let tree = await open({}, fs);
    const batch = new WriteBatch();
    for (let i = 0; i < 50; i++) batch.insert(k4(i), `val_${i}`);
    tree.applyBatch(batch, 0);
    await tree.flushActiveMemtable(0);
    for (let i = 0; i < 50; i++) expect(dec(tree.get(k4(i), 1)), k4(i)).toBe(`val_${i}`);
    await tree.close();
    tree = await open({}, fs);
    expect(tree.len(1)).toBe(50);
    expect(tree.len(0)).toBe(0);
    for (let i = 0; i < 50; i++) expect(dec(tree.get(k4(i), 1)), k4(i)).toBe(`val_${i}`);
    await tree.close();
  });

  it("write_batch_with_merge_operand: without a merge operator the newest operand (the batch's last) is read", async () => {
    const tree = await open();
    tree.insert("counter", "A", 0);
    tree.applyBatch(new WriteBatch().merge("counter", "B").merge("counter", "C"), 1);
    expect(dec(tree.get("counter", 2))).toBe("C");
    expect(dec(tree.get("counter", 1))).toBe("A");
    await tree.close();
  });

  it("write_batch_many_merges_keep_their_order: the last operand stays the newest in memtables, tables, compactions and after reopen", async () => {
    const fs = new MemFs();
    let tree = await open({}, fs);
    tree.insert("counter", "<", 0);
    const batch = new WriteBatch();
    for (let i = 0; i < 64; i++) batch.merge("counter", String.fromCharCode(48 + i));
    tree.applyBatch(batch, 1);
    const newest = String.fromCharCode(48 + 63);
    expect(dec(tree.get("counter", 2))).toBe(newest);
    await tree.flushActiveMemtable(0);
    expect(dec(tree.get("counter", 2)), "L0").toBe(newest);
    expect(pairs(tree, 2), "L0 scan").toEqual([`counter=${newest}`]);
    await tree.majorCompact(1 << 20, 0);
    expect(dec(tree.get("counter", 2)), "compacted, watermark 0").toBe(newest);
    tree.merge("counter", ">", 2);
    expect(dec(tree.get("counter", 3))).toBe(">");
    expect(dec(tree.get("counter", 2))).toBe(newest);
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(1 << 20, 2);
    expect(dec(tree.get("counter", 2)), "compacted, watermark 2").toBe(newest);
    expect(dec(tree.get("counter", 3))).toBe(">");
    await tree.close();
    tree = await open({}, fs);
    expect(dec(tree.get("counter", 2)), "reopened").toBe(newest);
    expect(dec(tree.get("counter", 3)), "reopened").toBe(">");
    tree.verify();
    await tree.close();
  });

  it("write_batch_remove_weak", async () => {
    const tree = await open();
    tree.insert("a", "val", 0);
    tree.applyBatch(new WriteBatch().removeWeak("a"), 1);
    expect(tree.get("a", 2)).toBeUndefined();
    expect(dec(tree.get("a", 1))).toBe("val");
    await tree.flushActiveMemtable(0);
    expect(tree.get("a", 2)).toBeUndefined();
    await tree.close();
  });

  it("write_batch_multi_get_after_batch: across a table and the memtable, and missing keys", async () => {
    const tree = await open();
    const first = new WriteBatch();
    for (let i = 0; i < 20; i++) first.insert(k4(i), `val_${i}`);
    tree.applyBatch(first, 0);
    await tree.flushActiveMemtable(0);
    const second = new WriteBatch();
    for (let i = 20; i < 40; i++) second.insert(k4(i), `val_${i}`);
    tree.applyBatch(second, 1);
    const keys = Array.from({ length: 45 }, (_, i) => k4(i));
    const results = tree.multiGet(keys, SEQNO_MAX);
    expect(results).toHaveLength(45);
    for (let i = 0; i < 45; i++) expect(dec(results[i]), k4(i)).toBe(i < 40 ? `val_${i}` : undefined);
    await tree.close();
  });

  it("write_batch_mixed_ops_rejected: MIXED_OPERATION_BATCH", async () => {
    const tree = await open();
    const batch = new WriteBatch().insert("conflict", "value").remove("conflict");
    let error: unknown;
    try {
      tree.applyBatch(batch, 0);
    } catch (e) {
      error = e;
    }
    expect(isLsmError("MIXED_OPERATION_BATCH")(error)).toBe(true);
    expect((error as Error).message).toContain("0x636f6e666c696374"); // names the key
    expect(tree.isEmpty(SEQNO_MAX)).toBe(true);
    expect(tree.rotateMemtable()).toBe(false);
    await tree.close();
  });

  it("write_batch_repeated_merge_accepted (and repeated inserts, removes and weak removes of one key)", async () => {
    const tree = await open();
    tree.applyBatch(new WriteBatch().merge("k", "A").merge("k", "B"), 0);
    tree.applyBatch(new WriteBatch().insert("i", "1").insert("i", "2").insert("i", "3"), 1);
    tree.applyBatch(new WriteBatch().remove("r").remove("r").removeWeak("w").removeWeak("w"), 2);
    expect(dec(tree.get("k", 3))).toBe("B");
    expect(dec(tree.get("i", 3))).toBe("3");
    expect(tree.get("r", 3)).toBeUndefined();
    expect(tree.get("w", 3)).toBeUndefined();
    await tree.flushActiveMemtable(0);
    expect(dec(tree.get("k", 3))).toBe("B");
    expect(dec(tree.get("i", 3))).toBe("3");
    expect(pairs(tree, 3)).toEqual(["i=3", "k=B"]);
    await tree.close();
  });
});

describe("WriteBatch: what is refused, and when", () => {
  const mixes: Array<[string, (b: WriteBatch) => WriteBatch]> = [
    ["insert + remove", (b) => b.insert("x", "1").remove("x")],
    ["remove + insert", (b) => b.remove("x").insert("x", "1")],
    ["insert + merge", (b) => b.insert("x", "1").merge("x", "2")],
    ["merge + insert", (b) => b.merge("x", "2").insert("x", "1")],
    ["remove + removeWeak", (b) => b.remove("x").removeWeak("x")],
    ["removeWeak + insert", (b) => b.removeWeak("x").insert("x", "1")],
    ["merge + remove", (b) => b.merge("x", "1").remove("x")],
    ["string and bytes spellings of one key", (b) => b.insert("x", "1").remove(new Uint8Array([0x78]))],
  ];
  for (const [name, build] of mixes) {
    it(`${name}: MIXED_OPERATION_BATCH, and nothing of the batch lands (even ops before the conflict)`, async () => {
      const seqno = new SequenceNumberCounter();
      const tree = await open({ seqno });
      tree.insert("x", "before", seqno.next());
      tree.insert("y", "before", seqno.next());
      await tree.flushActiveMemtable(0);
      tree.insert("z", "before", seqno.next());
      const view = (): unknown => [pairs(tree, SEQNO_MAX), tree.len(SEQNO_MAX), tree.approximateLen(), tree.highestSeqno(), tree.tableCount()];
      const before = view();
      const batch = new WriteBatch();
      for (let i = 0; i < 10; i++) batch.insert(`a${i}`, "batch");
      batch.removeRange("y", "z").remove("y");
      build(batch);
      for (let i = 0; i < 10; i++) batch.insert(`b${i}`, "batch");
      const s = seqno.next();
      expect(() => tree.applyBatch(batch, s)).toThrow(expect.objectContaining({ code: "MIXED_OPERATION_BATCH" }));
      expect(view()).toEqual(before);
      expect(tree.get("a0", SEQNO_MAX)).toBeUndefined();
      expect(dec(tree.get("y", SEQNO_MAX))).toBe("before");
      // The batch itself is unchanged.
      expect(batch.len).toBe(24);
      await tree.flushActiveMemtable(0);
      expect(pairs(tree, SEQNO_MAX)).toEqual(["x=before", "y=before", "z=before"]);
      await tree.close();
    });
  }

  it("a range deletion and a point write of a key inside it are not a mix", async () => {
    const tree = await open();
    tree.applyBatch(new WriteBatch().removeRange("a", "c").insert("b", "1").remove("a"), 1);
    expect(pairs(tree, 2)).toEqual(["b=1"]);
    await tree.close();
  });

  it("bad keys, values and operands throw as they are added (TypeError / RangeError) and leave the batch as it was", () => {
    const batch = new WriteBatch().insert("ok", "1");
    const attempts: Array<[string, () => unknown, ErrorConstructor]> = [
      ["empty key", () => batch.insert("", "v"), RangeError],
      ["too long key", () => batch.insert(new Uint8Array(MAX_KEY_BYTES + 1), "v"), RangeError],
      ["number key", () => batch.insert(5 as unknown as string, "v"), TypeError],
      ["null value", () => batch.insert("k", null as unknown as string), TypeError],
      ["remove empty key", () => batch.remove(""), RangeError],
      ["removeWeak object key", () => batch.removeWeak({} as unknown as string), TypeError],
      ["merge empty key", () => batch.merge("", "1"), RangeError],
      ["merge undefined operand", () => batch.merge("k", undefined as unknown as string), TypeError],
      ["range empty start", () => batch.removeRange("", "b"), RangeError],
      ["range empty end", () => batch.removeRange("a", ""), RangeError],
      ["range too long end", () => batch.removeRange("a", new Uint8Array(MAX_KEY_BYTES + 1)), RangeError],
      ["range number start", () => batch.removeRange(1 as unknown as string, "b"), TypeError],
    ];
    for (const [name, attempt, type] of attempts) expect(attempt, name).toThrow(type);
    expect(batch.len).toBe(1);
    batch.insert(new Uint8Array(MAX_KEY_BYTES).fill(7), "max key is fine");
    expect(batch.len).toBe(2);
  });

  it("an oversize value is refused by applyBatch before anything lands", async () => {
    const tree = await open();
    tree.insert("x", "before", 1);
    const batch = new WriteBatch().insert("a", "small").insert("big", new Uint8Array(MAX_TABLE_VALUE_BYTES + 1)).insert("z", "small");
    expect(() => tree.applyBatch(batch, 2)).toThrow(RangeError);
    expect(pairs(tree, SEQNO_MAX)).toEqual(["x=before"]);
    expect(tree.approximateLen()).toBe(1);
    const operand = new WriteBatch().merge("m", new Uint8Array(MAX_TABLE_VALUE_BYTES + 1)).removeRange("a", "z");
    expect(() => tree.applyBatch(operand, 3)).toThrow(RangeError);
    expect(pairs(tree, SEQNO_MAX)).toEqual(["x=before"]);
    await tree.flushActiveMemtable(0);
    expect(tree.tableCount()).toBe(1);
    await tree.close();
  });

  it("applyBatch checks its arguments: a non-batch, a bad seqno, a closed tree", async () => {
    const tree = await open();
    expect(() => tree.applyBatch({ operations: () => [] } as unknown as WriteBatch, 1)).toThrow(TypeError);
    expect(() => tree.applyBatch(new WriteBatch().insert("a", "1"), -1)).toThrow(RangeError);
    expect(() => tree.applyBatch(new WriteBatch().insert("a", "1"), 1.5)).toThrow(TypeError);
    expect(() => tree.applyBatch(new WriteBatch().insert("a", "1"), SEQNO_MAX + 1)).toThrow(RangeError);
    expect(tree.isEmpty(SEQNO_MAX)).toBe(true);
    await tree.close();
    expect(() => tree.applyBatch(new WriteBatch().insert("a", "1"), 1)).toThrow(expect.objectContaining({ code: "CLOSED" }));
  });

  it("keys and values are copied when added: the caller may reuse its buffers", async () => {
    const tree = await open();
    const key = Buffer.from("key1");
    const value = Buffer.from("value1");
    const batch = new WriteBatch().insert(key, value).merge(Buffer.from("m"), value).removeRange(key, Buffer.from("key9"));
    key.write("XXXX");
    value.write("YYYYYY");
    tree.insert("key5", "old", 1);
    tree.applyBatch(batch, 2);
    expect(pairs(tree, 3)).toEqual(["key1=value1", "m=value1"]);
    await tree.close();
  });

  it("a batch is not consumed: applied again at a later seqno it writes again", async () => {
    const tree = await open();
    const batch = new WriteBatch().insert("a", "1").merge("m", "x");
    tree.applyBatch(batch, 1);
    tree.applyBatch(batch, 5);
    expect(tree.approximateLen()).toBe(4);
    expect(pairs(tree, 6)).toEqual(["a=1", "m=x"]);
    await tree.close();
  });
});

describe("WriteBatch with range deletions", () => {
  it("a range deletion in a batch deletes what was there before, not the batch's own writes (memtable, table, compactions with and without GC, reopen)", async () => {
    const fs = new MemFs();
    const seqno = new SequenceNumberCounter();
    let tree = await open({ seqno }, fs);
    for (const key of ["a0", "a1", "a2", "a5", "b0"]) tree.insert(key, "old", seqno.next());
    await tree.flushActiveMemtable(0);
    const t = seqno.next();
    tree.applyBatch(new WriteBatch().insert("a1", "batch").removeRange("a", "b").insert("a3", "batch").merge("a4", "op"), t);
    const check = (stage: string): void => {
      expect(pairs(tree, t + 1), stage).toEqual(["a1=batch", "a3=batch", "a4=op", "b0=old"]);
      expect(keysOf(tree.iter(t + 1, { reverse: true })), stage).toEqual(["b0", "a4", "a3", "a1"]);
      expect(pairs(tree, t), stage).toEqual(["a0=old", "a1=old", "a2=old", "a5=old", "b0=old"]);
      expect(tree.get("a0", SEQNO_MAX), stage).toBeUndefined();
      expect(dec(tree.get("a1", SEQNO_MAX)), stage).toBe("batch");
    };
    check("memtable");
    await tree.flushActiveMemtable(0);
    check("L0");
    await tree.majorCompact(1 << 20, 0);
    check("L6, watermark 0");
    await tree.majorCompact(1 << 20, seqno.get());
    expect(pairs(tree, SEQNO_MAX), "L6, collected").toEqual(["a1=batch", "a3=batch", "a4=op", "b0=old"]);
    expect(tree.approximateLen()).toBe(4);
    await tree.close();
    tree = await open({ seqno }, fs);
    expect(pairs(tree, SEQNO_MAX), "reopened").toEqual(["a1=batch", "a3=batch", "a4=op", "b0=old"]);
    await tree.close();
  });

  it("a batch of only empty ranges writes nothing", async () => {
    const tree = await open();
    tree.applyBatch(new WriteBatch().removeRange("b", "a").removeRange("c", "c"), 1);
    expect(tree.rotateMemtable()).toBe(false);
    await tree.close();
  });

  it("a batch holding only a range deletion seals and flushes like a removeRange", async () => {
    const tree = await open();
    tree.insert("k1", "v", 1);
    tree.insert("k2", "v", 2);
    await tree.flushActiveMemtable(0);
    tree.applyBatch(new WriteBatch().removeRange("k", "l"), 3);
    expect(tree.rotateMemtable()).toBe(true);
    await tree.flushActiveMemtable(0);
    expect(tree.tableCount()).toBe(2);
    expect(tree.isEmpty(4)).toBe(true);
    expect(tree.len(3)).toBe(2);
    await tree.close();
  });

  it("ranges follow the tree's comparator", async () => {
    const reverse: Comparator = { name: "reverse", compare: (a, b) => Buffer.compare(b, a) };
    const tree = await open({ comparator: reverse });
    for (const [i, key] of ["a", "b", "c", "d", "e"].entries()) tree.insert(key, key, i + 1);
    tree.applyBatch(new WriteBatch().removeRange("d", "b").removeRange("b", "d").insert("f", "f"), 10);
    expect(keysOf(tree.iter(11))).toEqual(["f", "e", "b", "a"]);
    await tree.close();
  });
});

describe("WriteBatch: all or nothing, at every read seqno", () => {
  /**
   * Batch i writes `n` keys `b<i>:<j>` = `v<i>`, deletes batch i-1's keys with a range, and removes one key
   * of batch i-2: at any read seqno each batch is either wholly visible (all its keys, in their state
   * after that batch) or not at all.
   */
  function batchFor(i: number, n: number): WriteBatch {
    const batch = new WriteBatch();
    for (let j = 0; j < n; j++) batch.insert(`b${String(i).padStart(3, "0")}:${String(j).padStart(2, "0")}`, `v${i}`);
    if (i > 0) batch.removeRange(`b${String(i - 1).padStart(3, "0")}:`, `b${String(i - 1).padStart(3, "0")};`);
    if (i > 1) batch.remove(`b${String(i - 2).padStart(3, "0")}:00`);
    batch.merge("counter", `c${i}`);
    return batch;
  }

  /** What a read at `s` must see when batches 0..applied-1 were applied at `seqnos`. */
  function expectedAt(seqnos: readonly number[], s: number, n: number): string[] {
    let last = -1;
    for (const [i, seq] of seqnos.entries()) if (seq < s) last = i;
    if (last < 0) return [];
    const out = [`counter=c${last}`];
    for (let j = 0; j < n; j++) out.push(`b${String(last).padStart(3, "0")}:${String(j).padStart(2, "0")}=v${last}`);
    return out.sort();
  }

  function checkAll(tree: Tree, seqnos: readonly number[], upper: number, n: number, context: string): void {
    for (const s of [...upTo(upper), SEQNO_MAX]) {
      const want = expectedAt(seqnos, s, n);
      expect(pairs(tree, s), `${context} @${s}`).toEqual(want);
      expect(tree.len(s), `${context} len @${s}`).toBe(want.length);
    }
  }

  it("while flushes and rotations are in flight", async () => {
    const fs = new MemFs();
    const seqno = new SequenceNumberCounter();
    const visible = new SequenceNumberCounter();
    const tree = await open({ seqno, visibleSeqno: visible, blockSize: 128, flushTableSize: 1024 }, fs);
    const n = 40;
    const seqnos: number[] = [];
    const flushes: Array<Promise<number>> = [];
    const rng = new Random(11);
    for (let i = 0; i < 60; i++) {
      const s = seqno.next();
      tree.applyBatch(batchFor(i, n), s);
      seqnos.push(s);
      visible.fetchMax(s + 1);
      // A reader at the visible watermark sees the whole batch.
      expect(tree.len(visible.get()), `batch ${i} at the watermark`).toBe(n + 1);
      const action = rng.int(6);
      if (action === 0) flushes.push(tree.flushActiveMemtable(0)); // not awaited: batches land while it runs
      if (action === 1) tree.rotateMemtable();
      if (action === 2) await tick();
      if (action === 3 && i % 10 === 0) flushes.push(tree.majorCompact(1024, 0).then(() => 0));
      if (i % 7 === 0) checkAll(tree, seqnos, seqno.get(), n, `after batch ${i} (${flushes.length} jobs started)`);
    }
    checkAll(tree, seqnos, seqno.get(), n, "all applied, jobs still running");
    await Promise.all(flushes);
    checkAll(tree, seqnos, seqno.get(), n, "jobs done");
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(1024, 0);
    checkAll(tree, seqnos, seqno.get(), n, "all in tables");
    tree.verify();
    await tree.close();
  });

  it("batches applied while a flush runs are whole in every read; a reopen finds a whole prefix of the batches", async () => {
    const fs = new MemFs();
    const seqno = new SequenceNumberCounter();
    const tree = await open({ seqno, blockSize: 128, flushTableSize: 512 }, fs);
    const n = 30;
    const seqnos: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = seqno.next();
      tree.applyBatch(batchFor(i, n), s);
      seqnos.push(s);
    }
    // The flush seals the memtable once it holds the flush lock (after this synchronous code), so the
    // batches applied before the first await may or may not be in it; each one is whole either way.
    const flushing = tree.flushActiveMemtable(0);
    for (let i = 5; i < 10; i++) {
      const s = seqno.next();
      tree.applyBatch(batchFor(i, n), s);
      seqnos.push(s);
      await tick();
      checkAll(tree, seqnos, seqno.get(), n, `batch ${i} during the flush`);
    }
    await flushing;
    checkAll(tree, seqnos, seqno.get(), n, "after the flush");
    await tree.close({ discard: true }); // what the flush did not take is lost
    const reopened = await open({}, fs);
    const durable = pairs(reopened, SEQNO_MAX);
    const m = seqnos.findIndex((_, i) => JSON.stringify(expectedAt(seqnos.slice(0, i + 1), SEQNO_MAX, n)) === JSON.stringify(durable)) + 1;
    expect(m, `the reopened tree holds a whole prefix of the batches: ${durable.slice(0, 3).join(",")}...`).toBeGreaterThanOrEqual(5);
    expect(m).toBeLessThan(10);
    for (const s of upTo(seqnos[m - 1] as number)) expect(pairs(reopened, s + 1), `reopened @${s + 1}`).toEqual(expectedAt(seqnos, s + 1, n));
    await reopened.close();
  });

  it("random batches against the oracle, through flushes, compactions (with rising watermarks) and reopen", async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const fs = new MemFs();
      const seqno = new SequenceNumberCounter();
      const options = { seqno, blockSize: 64, flushTableSize: 256 } as const;
      let tree = await open(options, fs);
      const oracle = new RtOracle();
      const rng = new Random(seed);
      const key = (): string => `k${rng.int(30)}`;
      let watermark = 0;
      for (let step = 0; step < 60; step++) {
        const s = seqno.next();
        const batch = new WriteBatch();
        // Plan the ops: one kind per key, last write per key wins, ranges hide only older versions.
        const kinds = new Map<string, string>();
        const finals = new Map<string, string | undefined>();
        const ranges: Array<[string, string]> = [];
        for (let i = 1 + rng.int(8); i > 0; i--) {
          const r = rng.int(10);
          const k = key();
          if (r < 5 && (kinds.get(k) ?? "insert") === "insert") {
            const v = `v${s}-${i}`;
            batch.insert(k, v);
            kinds.set(k, "insert");
            finals.set(k, v);
          } else if (r < 7 && (kinds.get(k) ?? "remove") === "remove") {
            batch.remove(k);
            kinds.set(k, "remove");
            finals.set(k, undefined);
          } else if (r < 9) {
            const other = key();
            const [a, b] = k < other ? [k, other] : [other, k];
            batch.removeRange(a, b);
            ranges.push([a, b]);
          }
        }
        tree.applyBatch(batch, s);
        for (const [k, v] of finals) v === undefined ? oracle.remove(k, s) : oracle.insert(k, v, s);
        for (const [a, b] of ranges) oracle.removeRange(a, b, s);
        const op = rng.int(10);
        if (op === 0) await tree.flushActiveMemtable(0);
        if (op === 1) tree.rotateMemtable();
        if (op === 2) {
          watermark = seqno.get();
          await tree.majorCompact(256, watermark);
        }
        if (op === 3) await tree.compact(new Leveled({ l0Threshold: 2, tableTargetSize: 256 }), 0);
        if (op === 4 && step % 3 === 0) {
          await tree.flushActiveMemtable(0);
          await tree.close();
          tree = await open(options, fs);
          watermark = seqno.get();
        }
      }
      const reads = upTo(seqno.get()).filter((r) => r >= watermark);
      expectReadsAt(tree, oracle, reads, { bounds: ["k0", "k15", "k3", "k9"], prefixes: ["k1", "k2"], context: `seed ${seed}` });
      await tree.close();
    }
  });
});

describe("WriteBatch: operations() lists what was added", () => {
  it("in order, with kinds and copied bytes", () => {
    const batch = new WriteBatch().insert("a", "1").remove("b").removeWeak("c").merge("d", "2").removeRange("e", "f");
    const ops = batch.operations();
    expect(ops.map((o) => o.kind)).toEqual([ValueKind.Value, ValueKind.Tombstone, ValueKind.WeakTombstone, ValueKind.MergeOperand, "range"]);
  });
});
