// Ports of the reference's ingestion tests (tests/tree_bulk_ingest.rs, tests/ingestion_api.rs,
// tests/ingestion_invariants.rs, tests/ingestion_seqno.rs, tests/ingest_dirty_snapshot.rs and the
// ingestion case of tests/custom_comparator_compaction.rs) in Talus's terms: `tree.ingestion()` with
// write / writeTombstone / writeWeakTombstone, `finish()` flushing the memtables and then installing
// every ingested table at ONE new seqno above everything written before, `abort()` leaving nothing.
// Blob-tree variants are left out (Talus has no KV separation); where upstream panics, Talus throws.
// Upstream writes at literal seqnos (often 0); here writes take seqnos from the tree's counter unless the
// test is about a literal seqno.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { Random } from "@talus/testkit";
import { Leveled, LsmError, SEQNO_MAX, SequenceNumberCounter, Tree, type Comparator } from "../src/index.ts";
import { dec } from "./helpers.ts";
import { keysOf, pairsOf, tableFiles } from "./tree-support.ts";

const ReverseComparator: Comparator = { name: "reverse-lexicographic", compare: (a, b) => Buffer.compare(b, a) };

const be64 = (n: number): Uint8Array => {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(n));
  return new Uint8Array(out);
};

interface Opened {
  tree: Tree;
  fs: MemFs;
  seqno: SequenceNumberCounter;
}

async function open(
  options: { fs?: MemFs; seqno?: SequenceNumberCounter; visibleSeqno?: SequenceNumberCounter; comparator?: Comparator; path?: string } = {},
): Promise<Opened> {
  const fs = options.fs ?? new MemFs();
  const seqno = options.seqno ?? new SequenceNumberCounter();
  const tree = await Tree.open({
    path: options.path ?? "/db",
    fs,
    seqno,
    ...(options.visibleSeqno === undefined ? {} : { visibleSeqno: options.visibleSeqno }),
    ...(options.comparator === undefined ? {} : { comparator: options.comparator }),
    flushTableSize: 64 * 1024,
  });
  return { tree, fs, seqno };
}

/** A random 21-character value, like upstream's nanoid. */
const nanoid = (rng: Random): string => {
  const alphabet = "_-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  let s = "";
  for (let i = 0; i < 21; i++) s += alphabet[rng.int(alphabet.length)];
  return s;
};

// Upstream ingests 100,000 items; 100,000 keeps the structure and runs in a few seconds on MemFs.
const ITEM_COUNT = 100_000;

describe("tree_bulk_ingest.rs", () => {
  it("tree_bulk_ingest: 100,000 be64 keys, visible == seqno after finish, len == forward == reverse", async () => {
    const seqno = new SequenceNumberCounter();
    const visible = new SequenceNumberCounter();
    const { tree } = await open({ seqno, visibleSeqno: visible });
    const rng = new Random(1);
    const ingestion = tree.ingestion();
    for (let x = 0; x < ITEM_COUNT; x++) ingestion.write(be64(x), nanoid(rng));
    const before = seqno.get();
    const result = await ingestion.finish();
    expect(result.entries).toBe(ITEM_COUNT);
    expect(result.tables).toBe(tree.tableCount());
    expect(visible.get()).toBe(seqno.get());
    expect(tree.len(SEQNO_MAX)).toBe(ITEM_COUNT);
    let forward = 0;
    for (const _ of tree.iter(SEQNO_MAX)) forward++;
    let backward = 0;
    for (const _ of tree.iter(SEQNO_MAX, { reverse: true })) backward++;
    expect(forward).toBe(ITEM_COUNT);
    expect(backward).toBe(ITEM_COUNT);
    // Reading at the visible watermark sees everything too (one seqno for the whole ingestion).
    expect(tree.len(visible.get())).toBe(ITEM_COUNT);
    expect(tree.len(before)).toBe(0);
    await tree.close();
  }, 60_000);

  it("with the default counters, visibleSeqnoCounter.get() === seqnoCounter.get() after finish", async () => {
    const { tree, seqno } = await open();
    tree.insert("m", "memtable", seqno.next());
    const ingestion = tree.ingestion();
    for (let i = 0; i < 50; i++) ingestion.write(`k${String(i).padStart(3, "0")}`, "v");
    await ingestion.finish();
    expect(tree.visibleSeqnoCounter.get()).toBe(tree.seqnoCounter.get());
    expect(tree.seqnoCounter).toBe(seqno);
    await tree.close();
  });

  it("tree_copy: a tree copied by iterating it into another tree's ingestion", async () => {
    const seqno = new SequenceNumberCounter();
    const visible = new SequenceNumberCounter();
    const fs = new MemFs();
    const src = (await open({ fs, seqno, visibleSeqno: visible, path: "/src" })).tree;
    const rng = new Random(2);
    const ingestion = src.ingestion();
    for (let x = 0; x < ITEM_COUNT; x++) ingestion.write(be64(x), nanoid(rng));
    await ingestion.finish();
    expect(visible.get()).toBe(seqno.get());
    expect(src.len(SEQNO_MAX)).toBe(ITEM_COUNT);

    const dest = (await open({ fs, seqno, visibleSeqno: visible, path: "/dest" })).tree;
    const copy = dest.ingestion();
    for (const [key, value] of src.iter(SEQNO_MAX)) copy.write(key, value);
    expect((await copy.finish()).entries).toBe(ITEM_COUNT);
    expect(visible.get()).toBe(seqno.get());
    expect(dest.len(SEQNO_MAX)).toBe(ITEM_COUNT);
    let backward = 0;
    for (const _ of dest.iter(SEQNO_MAX, { reverse: true })) backward++;
    expect(backward).toBe(ITEM_COUNT);
    // Same contents, entry for entry.
    const a = src.iter(SEQNO_MAX)[Symbol.iterator]();
    for (const [key, value] of dest.iter(SEQNO_MAX)) {
      const next = a.next();
      expect(next.done).toBe(false);
      const [k2, v2] = next.value as [Uint8Array, Uint8Array];
      if (Buffer.compare(key, k2) !== 0 || Buffer.compare(value, v2) !== 0) throw new Error(`copy differs at ${Buffer.from(key).toString("hex")}`);
    }
    expect(a.next().done).toBe(true);
    await src.close();
    await dest.close();
  }, 60_000);
});

describe("ingestion_api.rs", () => {
  it("tree_ingestion_tombstones_delete_existing_keys (memtable keys, deleted by ingested tombstones)", async () => {
    const { tree, seqno } = await open();
    const key = (i: number): string => `k${String(i).padStart(3, "0")}`;
    for (let i = 0; i < 10; i++) tree.insert(key(i), "v", seqno.next());
    const ingestion = tree.ingestion();
    for (let i = 0; i < 10; i++) ingestion.writeTombstone(key(i));
    expect(await ingestion.finish()).toEqual({ tables: 1, entries: 10 });
    for (let i = 0; i < 10; i++) expect(tree.get(key(i), SEQNO_MAX), key(i)).toBeUndefined();
    expect(tree.isEmpty(SEQNO_MAX)).toBe(true);
    // Upstream counts 10 tombstones in the tables: the 10 flushed values plus 10 ingested tombstones.
    expect(tree.approximateLen()).toBe(20);
    await tree.close();
  });

  it("sealed_memtable_value_overrides_table_value", async () => {
    const { tree, seqno } = await open();
    const ingestion = tree.ingestion();
    ingestion.write("k", "old");
    await ingestion.finish();
    tree.insert("k", "new", seqno.next());
    expect(tree.rotateMemtable()).toBe(true);
    expect(dec(tree.get("k", SEQNO_MAX))).toBe("new");
    await tree.close();
  });

  it("sealed_memtable_tombstone_overrides_table_value", async () => {
    const { tree, seqno } = await open();
    const ingestion = tree.ingestion();
    ingestion.write("k", "old");
    await ingestion.finish();
    tree.remove("k", seqno.next());
    expect(tree.rotateMemtable()).toBe(true);
    expect(tree.get("k", SEQNO_MAX)).toBeUndefined();
    await tree.close();
  });

  it("tables_newest_first_returns_highest_seqno: the later of two ingestions wins", async () => {
    const { tree, fs, seqno } = await open();
    let between = 0;
    for (const v of ["v1", "v2"]) {
      between = seqno.get();
      const ingestion = tree.ingestion();
      ingestion.write("k", v);
      await ingestion.finish();
    }
    expect(dec(tree.get("k", SEQNO_MAX))).toBe("v2");
    expect(dec(tree.get("k", between))).toBe("v1");
    await tree.close();
    const reopened = (await open({ fs, seqno })).tree;
    expect(dec(reopened.get("k", SEQNO_MAX))).toBe("v2");
    expect(dec(reopened.get("k", between))).toBe("v1");
    await reopened.majorCompact(1 << 20, 0);
    expect(dec(reopened.get("k", SEQNO_MAX))).toBe("v2");
    await reopened.close();
  });

  it("ingestion_enforces_order: a smaller or equal key throws RangeError; the ingestion can still be aborted", async () => {
    const { tree, fs, seqno } = await open();
    tree.insert("existing", "x", seqno.next());
    const ingestion = tree.ingestion();
    ingestion.write("k2", "v");
    expect(() => ingestion.write("k1", "v")).toThrow(RangeError);
    expect(() => ingestion.write("k2", "again")).toThrow(RangeError);
    expect(() => ingestion.writeTombstone("k0")).toThrow(RangeError);
    expect(() => ingestion.writeWeakTombstone("k2")).toThrow(RangeError);
    // The refused writes were not taken: the next larger key is accepted.
    ingestion.write("k3", "v");
    expect(ingestion.entries).toBe(2);
    await ingestion.abort();
    await ingestion.abort();
    // finish() after abort is refused (thrown at once or as a rejection).
    await expect((async () => ingestion.finish())()).rejects.toThrow(LsmError);
    expect(tree.tableCount()).toBe(0);
    expect(tableFiles(fs, "/db/tables")).toEqual([]);
    expect(pairsOf(tree.iter(SEQNO_MAX))).toEqual(["existing=x"]);
    await tree.close();
  });

  it("memtable_put_overrides_table_tombstone", async () => {
    const { tree, seqno } = await open();
    const first = tree.ingestion();
    first.write("k", "v1");
    await first.finish();
    const second = tree.ingestion();
    second.writeTombstone("k");
    await second.finish();
    expect(tree.get("k", SEQNO_MAX)).toBeUndefined();
    tree.insert("k", "v3", seqno.next());
    expect(dec(tree.get("k", SEQNO_MAX))).toBe("v3");
    await tree.close();
  });

  it("tree_ingestion_finish_no_writes_noop", async () => {
    const { tree, seqno } = await open();
    const before = tree.tableCount();
    const counter = seqno.get();
    expect(await tree.ingestion().finish()).toEqual({ tables: 0, entries: 0 });
    expect(tree.tableCount()).toBe(before);
    expect(tree.isEmpty(SEQNO_MAX)).toBe(true);
    expect(seqno.get()).toBe(counter);
    await tree.close();
  });

  it("a weak tombstone ingested over a key written once hides it, through flush and compaction", async () => {
    const { tree, seqno } = await open();
    tree.insert("a", "1", seqno.next());
    tree.insert("b", "2", seqno.next());
    await tree.flushActiveMemtable(0);
    const ingestion = tree.ingestion();
    ingestion.writeWeakTombstone("a");
    await ingestion.finish();
    expect(keysOf(tree.iter(SEQNO_MAX))).toEqual(["b"]);
    await tree.majorCompact(1 << 20, seqno.get());
    expect(keysOf(tree.iter(SEQNO_MAX))).toEqual(["b"]);
    expect(tree.get("a", SEQNO_MAX)).toBeUndefined();
    await tree.close();
  });
});

describe("ingestion_invariants.rs", () => {
  it("ingestion_autoflushes_active_memtable (an ingestion with entries)", async () => {
    const { tree, seqno } = await open();
    for (let i = 0; i < 10; i++) tree.insert(`a${String(i).padStart(3, "0")}`, "v", seqno.next());
    const tablesBefore = tree.tableCount();
    expect(tree.sealedMemtableCount()).toBe(0);
    const ingestion = tree.ingestion();
    ingestion.write("z", "ingested");
    await ingestion.finish();
    expect(tree.sealedMemtableCount()).toBe(0);
    // The flush of the memtable plus the ingested table.
    expect(tree.tableCount()).toBe(tablesBefore + 2);
    for (let i = 0; i < 10; i++) expect(dec(tree.get(`a${String(i).padStart(3, "0")}`, SEQNO_MAX))).toBe("v");
    await tree.close();
  });

  it("ingestion_autoflushes_active_memtable (upstream's empty ingestion flushes too)", async () => {
    // Upstream: `tree.ingestion()?.finish()?` with no writes still flushes the active memtable.
    const { tree, seqno } = await open();
    for (let i = 0; i < 10; i++) tree.insert(`a${String(i).padStart(3, "0")}`, "v", seqno.next());
    const tablesBefore = tree.tableCount();
    await tree.ingestion().finish();
    expect(tree.sealedMemtableCount()).toBe(0);
    expect(tree.tableCount()).toBeGreaterThan(tablesBefore);
    for (let i = 0; i < 10; i++) expect(dec(tree.get(`a${String(i).padStart(3, "0")}`, SEQNO_MAX))).toBe("v");
    await tree.close();
  });

  it("ingestion_flushes_sealed_memtables", async () => {
    const { tree, seqno } = await open();
    for (let i = 0; i < 8; i++) tree.insert(`s${String(i).padStart(3, "0")}`, "x", seqno.next());
    expect(tree.rotateMemtable()).toBe(true);
    tree.insert("t", "active", seqno.next());
    expect(tree.sealedMemtableCount()).toBeGreaterThan(0);
    const tablesBefore = tree.tableCount();
    const ingestion = tree.ingestion();
    ingestion.write("u", "ingested");
    await ingestion.finish();
    expect(tree.sealedMemtableCount()).toBe(0);
    expect(tree.tableCount()).toBeGreaterThan(tablesBefore);
    for (let i = 0; i < 8; i++) expect(dec(tree.get(`s${String(i).padStart(3, "0")}`, SEQNO_MAX))).toBe("x");
    expect(dec(tree.get("t", SEQNO_MAX))).toBe("active");
    await tree.close();
  });

  it("ingestion_blocks_memtable_writes_until_finish: a write while an ingestion is open is not blocked and is visible after finish", async () => {
    const { tree, seqno } = await open();
    const ingestion = tree.ingestion();
    ingestion.write("a", "ingested");
    // Writes are synchronous: they never wait for an open ingestion.
    tree.insert("k_block", "v", seqno.next());
    expect(dec(tree.get("k_block", SEQNO_MAX))).toBe("v");
    ingestion.write("b", "ingested");
    await ingestion.finish();
    expect(dec(tree.get("k_block", SEQNO_MAX))).toBe("v");
    expect(pairsOf(tree.iter(SEQNO_MAX))).toEqual(["a=ingested", "b=ingested", "k_block=v"]);
    await tree.close();
  });
});

describe("ingestion_seqno.rs", () => {
  it("ingestion_persisted_seqno: each ingestion on a fresh tree takes the next seqno", async () => {
    const { tree, seqno } = await open();
    // finish() takes ONE seqno (the global seqno); nothing else is written, so the counter moves by one.
    const first = tree.ingestion();
    first.write("a", "a");
    await first.finish();
    expect(tree.highestSeqno()).toBe(0);
    expect(seqno.get()).toBe(1);
    expect(tree.visibleSeqnoCounter.get()).toBe(1);
    const second = tree.ingestion();
    second.write("b", "b");
    await second.finish();
    expect(tree.highestSeqno()).toBe(1);
    expect(seqno.get()).toBe(2);
    await tree.close();
  });

  it("ingestion_seqno_after_regular_inserts: the ingested table reports the global seqno", async () => {
    const seqno = new SequenceNumberCounter();
    const visible = new SequenceNumberCounter();
    const { tree } = await open({ seqno, visibleSeqno: visible });
    const s0 = seqno.next();
    tree.insert("x", "x0", s0);
    visible.fetchMax(s0 + 1);
    const s1 = seqno.next();
    tree.insert("y", "y0", s1);
    visible.fetchMax(s1 + 1);
    await tree.flushActiveMemtable(0);
    expect(tree.highestSeqno()).toBe(s1);
    const global = seqno.get();
    const ingestion = tree.ingestion();
    ingestion.write("a", "a0");
    ingestion.write("b", "b0");
    await ingestion.finish();
    expect(tree.highestSeqno()).toBe(global);
    expect(visible.get()).toBe(seqno.get());
    expect(dec(tree.get("a", SEQNO_MAX))).toBe("a0");
    expect(dec(tree.get("b", SEQNO_MAX))).toBe("b0");
    expect(tree.get("a", global)).toBeUndefined();
    expect(dec(tree.get("a", global + 1))).toBe("a0");
    await tree.close();
  });

  it("an_ingestion_stays_ahead_of_a_flush_it_installs_after (a write at the same seqno), before and after reopen", async () => {
    const seqno = new SequenceNumberCounter();
    const visible = new SequenceNumberCounter();
    const fs = new MemFs();
    {
      const { tree } = await open({ fs, seqno, visibleSeqno: visible });
      const tie = seqno.get();
      const ingestion = tree.ingestion();
      ingestion.write("k", "ingested");
      tree.insert("k", "flushed", tie);
      visible.fetchMax(tie + 1);
      await ingestion.finish();
      expect(dec(tree.get("k", SEQNO_MAX))).toBe("ingested");
      await tree.close();
    }
    const { tree } = await open({ fs, seqno, visibleSeqno: visible });
    expect(dec(tree.get("k", SEQNO_MAX))).toBe("ingested");
    await tree.majorCompact(1 << 20, 0);
    expect(dec(tree.get("k", SEQNO_MAX))).toBe("ingested");
    await tree.close();
  });
});

describe("ingest_dirty_snapshot.rs", () => {
  it("ingestion_dirty_snapshot: a snapshot from before the ingestion keeps reading what it saw", async () => {
    const { tree, fs, seqno } = await open();
    tree.insert("a", "a", seqno.next());
    tree.insert("a", "b", seqno.next());
    const snapshot = 1;
    expect(dec(tree.get("a", snapshot))).toBe("a");
    const before = seqno.get();
    const ingestion = tree.ingestion();
    ingestion.write("b", "b");
    await ingestion.finish();
    expect(dec(tree.get("a", snapshot))).toBe("a");
    expect(pairsOf(tree.iter(before))).toEqual(["a=b"]);
    expect(pairsOf(tree.iter(SEQNO_MAX))).toEqual(["a=b", "b=b"]);
    // The same after reopen: the global seqno is recorded with the table.
    await tree.close();
    const reopened = (await open({ fs, seqno })).tree;
    expect(dec(reopened.get("a", snapshot))).toBe("a");
    expect(pairsOf(reopened.iter(before))).toEqual(["a=b"]);
    expect(pairsOf(reopened.iter(SEQNO_MAX))).toEqual(["a=b", "b=b"]);
    await reopened.close();
  });
});

describe("ingestion order and seqno: custom comparator (custom_comparator_compaction.rs) and memtable interplay", () => {
  it("under a reverse comparator, keys are ingested in the comparator's order (c, b, a) and read back in it", async () => {
    const { tree, fs, seqno } = await open({ comparator: ReverseComparator });
    const refused = tree.ingestion();
    refused.write("a", "1");
    expect(() => refused.write("b", "2")).toThrow(RangeError);
    await refused.abort();

    const ingestion = tree.ingestion();
    for (const key of ["c", "b", "a"]) ingestion.write(key, `val_${key}`);
    expect(await ingestion.finish()).toEqual({ tables: 1, entries: 3 });
    expect(keysOf(tree.iter(SEQNO_MAX))).toEqual(["c", "b", "a"]);
    expect(keysOf(tree.iter(SEQNO_MAX, { reverse: true }))).toEqual(["a", "b", "c"]);
    expect(keysOf(tree.range({ gte: "c", lt: "a" }, SEQNO_MAX))).toEqual(["c", "b"]);
    for (const key of ["a", "b", "c"]) expect(dec(tree.get(key, SEQNO_MAX))).toBe(`val_${key}`);
    await tree.close();
    const reopened = (await open({ fs, seqno, comparator: ReverseComparator })).tree;
    reopened.insert("d", "val_d", seqno.next());
    await reopened.flushActiveMemtable(0);
    await reopened.majorCompact(1 << 20, 0);
    expect(keysOf(reopened.iter(SEQNO_MAX))).toEqual(["d", "c", "b", "a"]);
    reopened.verify();
    await reopened.close();
  });

  for (const [name, comparator] of [
    ["bytewise", undefined],
    ["reverse", ReverseComparator],
  ] as const) {
    it(`(${name}) an ingested key is newer than the same key in the memtable before finish, older than a write after it`, async () => {
      const { tree, fs, seqno } = await open(comparator === undefined ? {} : { comparator });
      const keys = comparator === undefined ? ["k1", "k2", "k3", "k4"] : ["k4", "k3", "k2", "k1"];
      tree.insert("k1", "flushed", seqno.next());
      tree.insert("k2", "flushed", seqno.next());
      await tree.flushActiveMemtable(0);
      // Written before the ingestion began, and while it is open, both before finish().
      tree.insert("k2", "memtable", seqno.next());
      tree.insert("k3", "memtable", seqno.next());
      const ingestion = tree.ingestion();
      for (const key of keys) ingestion.write(key, `ingested-${key}`);
      tree.insert("k4", "memtable-during", seqno.next());
      const beforeFinish = seqno.get();
      await ingestion.finish();
      const afterFinish = seqno.get();
      const expectedIngested = keys.map((k) => `${k}=ingested-${k}`);
      expect(pairsOf(tree.iter(SEQNO_MAX))).toEqual(expectedIngested);
      // A snapshot taken before finish still sees the memtable versions.
      const before = comparator === undefined ? ["k1=flushed", "k2=memtable", "k3=memtable", "k4=memtable-during"] : ["k4=memtable-during", "k3=memtable", "k2=memtable", "k1=flushed"];
      expect(pairsOf(tree.iter(beforeFinish))).toEqual(before);
      // A write after finish is newer than the ingested version.
      tree.insert("k3", "after", seqno.next());
      expect(dec(tree.get("k3", SEQNO_MAX))).toBe("after");
      expect(dec(tree.get("k3", afterFinish))).toBe("ingested-k3");
      tree.remove("k4", seqno.next());
      expect(tree.get("k4", SEQNO_MAX)).toBeUndefined();
      const final = keys.filter((k) => k !== "k4").map((k) => (k === "k3" ? "k3=after" : `${k}=ingested-${k}`));
      expect(pairsOf(tree.iter(SEQNO_MAX))).toEqual(final);
      expect(tree.multiGet(["k1", "k2", "k3", "k4"], SEQNO_MAX).map(dec)).toEqual(["ingested-k1", "ingested-k2", "after", undefined]);
      // The order holds through flush, compaction and reopen.
      await tree.flushActiveMemtable(0);
      await tree.compact(new Leveled({ l0Threshold: 1 }), 0);
      await tree.majorCompact(1 << 20, 0);
      expect(pairsOf(tree.iter(SEQNO_MAX))).toEqual(final);
      expect(pairsOf(tree.iter(beforeFinish))).toEqual(before);
      await tree.close();
      const reopened = (await open({ fs, seqno, ...(comparator === undefined ? {} : { comparator }) })).tree;
      expect(pairsOf(reopened.iter(SEQNO_MAX))).toEqual(final);
      expect(pairsOf(reopened.iter(beforeFinish))).toEqual(before);
      expect(dec(reopened.get("k3", afterFinish))).toBe("ingested-k3");
      await reopened.close();
    });
  }

  it("point reads agree with scans when memtable versions are older than ingested tables (several tables)", async () => {
    const { tree, seqno } = await open();
    const rng = new Random(7);
    const model = new Map<string, string>();
    const key = (i: number): string => `key${String(i).padStart(5, "0")}`;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 300; i++) {
        const k = key(rng.int(3000));
        tree.insert(k, `mem${round}`, seqno.next());
        model.set(k, `mem${round}`);
      }
      if (round % 2 === 0) await tree.flushActiveMemtable(0);
      const ingestion = tree.ingestion();
      for (let i = round; i < 3000; i += 1 + rng.int(4)) {
        if (rng.int(10) === 0) {
          ingestion.writeTombstone(key(i));
          model.delete(key(i));
        } else {
          ingestion.write(key(i), `ing${round}-${"x".repeat(40)}`);
          model.set(key(i), `ing${round}-${"x".repeat(40)}`);
        }
      }
      await ingestion.finish();
    }
    const expected = [...model].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`);
    expect(pairsOf(tree.iter(SEQNO_MAX))).toEqual(expected);
    for (let i = 0; i < 3000; i += 7) expect(dec(tree.get(key(i), SEQNO_MAX)), key(i)).toBe(model.get(key(i)));
    expect(tree.tableCount()).toBeGreaterThan(4);
    await tree.close();
  });
});
