// The reference engine's blob-tree integration tests,
// ported to BlobTree: basics, garbage accounting, relocation, dropRange, FIFO, multiGet, flush eviction,
// ingestion and recovery. Each test names the reference file it ports.
//
// Adaptations that hold throughout:
// - Seqnos are drawn from the tree's own counter (`seqno.next()`), as the reference recommends; a read
//   at S sees the entries with seqno < S, so "read at MAX" is `seqno.get()` (or SEQNO_MAX).
// - The reference keeps garbage statistics (`gc_stats`) beside the version; ours are derived from the
//   tables' blob references, so they cannot drift and need no "recording" compaction. Observable: a
//   blob file nothing references leaves the version in the same change that drops its last reference
//   (the reference keeps it until the next compaction), and `staleBlobBytes()` is the stored bytes no
//   table references.
// - `majorCompact` leaves no stale blob file: its first pass drops old versions, and when that leaves a
//   file stale a second pass relocates it (ageCutoff does not apply to a major compaction). The
//   reference needs a second majorCompact call for that ("relocation needs two compactions").
//   To watch garbage accumulate without relocation, tests use stalenessThreshold 1 (never stale).
// - MVCC history is pruned only by a version change whose GC watermark lies above older snapshots;
//   our promise is that reads at S >= W keep their answers. The reference keeps old snapshots readable
//   even below the watermark.
// - Large value sizes are the reference's ("neptune!" x 128000 = 1,024,000 B) where cheap, scaled down
//   elsewhere; each assertion keeps its structure.
import { describe, expect, it } from "vitest";
import { MemFs, readFileBytes, writeFileBytes } from "@talus/fs";
import { appendMerge, Fifo, Leveled, LsmError, SEQNO_MAX, SequenceNumberCounter, Tree, WriteBatch, type CompactionFilter, type CompactionVerdict } from "@talus/lsm-core";
import { BlobTree, MAX_OPEN_BLOB_FILES, type KvSeparationOptions } from "../src/index.ts";
import { BLOBS, blobFileIds, dec, enc, entriesAt, expectCleanBlobTreeDir, expectReadsAgree, k, openBlobTree, PATH, tableFileIds, versionBlobIds, type TreeExtras } from "./blob-tree-support.ts";

const MiB = 1024 * 1024;
const TARGET = 64 * MiB;
const neptune = (times = 128_000): string => "neptune!".repeat(times);
const winter = (times = 128_000): string => "winter!".repeat(times);

async function fresh(kv: KvSeparationOptions = {}, extra: TreeExtras = {}): Promise<{ tree: Tree; fs: MemFs; seqno: SequenceNumberCounter; reopen: (kv2?: KvSeparationOptions) => Promise<Tree> }> {
  const fs = new MemFs();
  const seqno = new SequenceNumberCounter();
  const tree = await openBlobTree(fs, seqno, kv, extra);
  return { tree, fs, seqno, reopen: (kv2 = kv) => openBlobTree(fs, seqno, kv2, extra) };
}

const str = (b: Uint8Array | undefined): string | undefined => dec(b);
/** Compares long strings by length and a digest-free equality (vitest prints a megabyte otherwise). */
const same = (a: Uint8Array | undefined, b: string): boolean => a !== undefined && Buffer.from(a).equals(Buffer.from(b));

/** After a change with a watermark above every old snapshot, only the version's blob files are on disk. */
async function settle(tree: Tree, seqno: SequenceNumberCounter): Promise<void> {
  tree.insert("~settle", "x", seqno.next());
  await tree.flushActiveMemtable(seqno.get());
}

describe("BlobTree ported: basics", () => {
  it("blob_simple: size_of, MVCC reads of an overwritten large value, prefix, reopen", async () => {
    const { tree, seqno, reopen } = await fresh();
    const big = neptune();
    const s0 = seqno.next();
    tree.insert("big", big, s0);
    tree.insert("smol", "small value", s0);
    expect(same(tree.get("big", seqno.get()), big)).toBe(true);
    expect(str(tree.get("smol", seqno.get()))).toBe("small value");
    await tree.flushActiveMemtable(0);
    expect(tree.sizeOf("big", seqno.get())).toBe(1_024_000);
    expect(tree.tableCount()).toBe(1);
    expect(tree.blobFileCount()).toBe(1);
    expect(same(tree.get("big", seqno.get()), big)).toBe(true);

    const newBig = winter();
    tree.insert("big", newBig, seqno.next());
    await tree.flushActiveMemtable(0);
    expect(same(tree.get("big", seqno.get()), newBig)).toBe(true);
    // The reference reads at seqno 1 (its first write was @0): here, just above the first write.
    expect(same(tree.get("big", s0 + 1), big)).toBe(true);
    const [first] = [...tree.prefix("big", s0 + 1)];
    expect(first?.[1].length).toBe(1_024_000);
    expect(tree.sizeOf("big", s0 + 1)).toBe(1_024_000);
    expect(tree.sizeOf("big", seqno.get())).toBe(896_000);
    await tree.close();

    const again = await reopen();
    expect(str(again.get("smol", seqno.get()))).toBe("small value");
    expect(same(again.get("big", seqno.get()), newBig)).toBe(true);
    again.verify();
    await again.close();
  });

  it("blob_sep_threshold: a value of threshold - 1 bytes stays inline, one of threshold bytes is separated", async () => {
    const { tree, fs, seqno } = await fresh({ separationThreshold: 1024 });
    tree.insert("a", "a".repeat(1023), seqno.next());
    await tree.flushActiveMemtable(0);
    expect(tree.blobFileCount()).toBe(0);
    tree.insert("b", "b".repeat(1024), seqno.next());
    await tree.flushActiveMemtable(0);
    expect(tree.blobFileCount()).toBe(1);
    expect(blobFileIds(fs)).toHaveLength(1);
    expect(tree.len(SEQNO_MAX)).toBe(2);
    expect(str(tree.get("a", SEQNO_MAX))).toBe("a".repeat(1023));
    expect(str(tree.get("b", SEQNO_MAX))).toBe("b".repeat(1024));
    await tree.close();
  });

  it("blob_empty_flush: a flush with no value above the default threshold leaves blobs/ empty", async () => {
    const { tree, fs, seqno } = await fresh();
    tree.insert("a", "x".repeat(500), seqno.next());
    await tree.flushActiveMemtable(0);
    expect(tree.tableCount()).toBe(1);
    expect(tree.blobFileCount()).toBe(0);
    expect(fs.readDir(BLOBS)).toEqual([]);
    expectCleanBlobTreeDir(fs, tree, "after the flush");
    await tree.close();
  });

  it("blob_tree_guarded_size: value sizes over an iteration, in the memtable and from tables", async () => {
    const { tree, seqno, reopen } = await fresh();
    const s = seqno.next();
    tree.insert("a", "abc", s);
    tree.insert("b", "a".repeat(10_000), s);
    const sum = (t: Tree): number => [...t.iter(SEQNO_MAX)].reduce((n, [, v]) => n + v.length, 0);
    expect(sum(tree)).toBe(10_003);
    await tree.flushActiveMemtable(0);
    expect(tree.blobFileCount()).toBe(1);
    expect(sum(tree)).toBe(10_003);
    expect(tree.sizeOf("b", SEQNO_MAX)).toBe(10_000);
    await tree.close();
    const again = await reopen();
    expect(sum(again)).toBe(10_003);
    await again.close();
  });

  it("blob_tree_reload_blob: an empty blob tree reopens as one; 2 x 2000 values survive a reopen", async () => {
    const fs = new MemFs();
    for (let i = 0; i < 3; i++) {
      const seqno = new SequenceNumberCounter();
      const tree = await openBlobTree(fs, seqno);
      expect(tree.len(SEQNO_MAX)).toBe(0);
      expect([...tree.iter(SEQNO_MAX)]).toHaveLength(0);
      expect([...tree.iter(SEQNO_MAX, { reverse: true })]).toHaveLength(0);
      expect(await tree.flushActiveMemtable(0)).toBe(0);
      await tree.close();
      // Still a blob tree: a standard open is refused.
      await expect(Tree.open({ path: PATH, fs })).rejects.toSatisfy((e: unknown) => e instanceof LsmError && e.code === "UNRECOVERABLE");
    }

    // The reference writes 2 x 10,000 random values under be64 keys; scaled to 2 x 2000, half of them separated.
    const { tree, seqno, reopen } = await fresh();
    const be64 = (n: number): Uint8Array => {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setBigUint64(0, BigInt(n));
      return out;
    };
    const valueOf = (n: number): Uint8Array => enc(`${n}:`.padEnd(n % 2 === 0 ? 1100 + (n % 7) : 20, String.fromCharCode(97 + (n % 26))));
    for (let n = 0; n < 2000; n++) tree.insert(be64(n), valueOf(n), seqno.next());
    await tree.flushActiveMemtable(0);
    for (let n = 2000; n < 4000; n++) tree.insert(be64(n), valueOf(n), seqno.next());
    await tree.flushActiveMemtable(0);
    const check = (t: Tree): void => {
      expect(t.len(SEQNO_MAX)).toBe(4000);
      const forward = [...t.iter(SEQNO_MAX)];
      expect(forward).toHaveLength(4000);
      expect([...t.iter(SEQNO_MAX, { reverse: true })]).toHaveLength(4000);
      forward.forEach(([key, value], n) => {
        expect(Buffer.from(key).equals(be64(n))).toBe(true);
        expect(Buffer.from(value).equals(valueOf(n))).toBe(true);
      });
    };
    check(tree);
    expect(tree.blobFileCount()).toBe(2);
    await tree.close();
    const again = await reopen();
    check(again);
    await again.close();
  });

  it("blob_recovery: one key of 32,768 B flushed five times is there after a reopen", async () => {
    const { tree, seqno, reopen } = await fresh();
    for (let i = 0; i < 5; i++) {
      tree.insert("big", neptune(4096), seqno.next());
      await tree.flushActiveMemtable(0);
    }
    expect(tree.blobFileCount()).toBe(5);
    await tree.close();
    const again = await reopen();
    expect(again.isEmpty(SEQNO_MAX)).toBe(false);
    expect(again.sizeOf("big", SEQNO_MAX)).toBe(32_768);
    expect(same(again.get("big", SEQNO_MAX), neptune(4096))).toBe(true);
    again.verify();
    await again.close();
  });

  it("tree_recover_large_value: a 100,000-byte value survives a reopen", async () => {
    const { tree, seqno, reopen } = await fresh();
    tree.insert("a", "a".repeat(100_000), seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.close();
    const again = await reopen();
    expect(same(again.get("a", SEQNO_MAX), "a".repeat(100_000))).toBe(true);
    await again.close();
  });

  it(`blob_pinned_fd: reads stay right with more blob files than the open-file cache holds (${MAX_OPEN_BLOB_FILES})`, async () => {
    // The reference disables its descriptor table; ours always caches at most MAX_OPEN_BLOB_FILES open
    // files, so this reads through more files than that, closing and reopening files as it goes.
    const { tree, seqno, reopen } = await fresh({ separationThreshold: 16, fileTargetSize: 1 });
    const n = MAX_OPEN_BLOB_FILES + 22;
    const v = (i: number): string => `value ${i} `.padEnd(40 + (i % 9), "#");
    for (let i = 0; i < n; i++) tree.insert(k(i), v(i), seqno.next());
    await tree.flushActiveMemtable(0);
    // fileTargetSize 1: every value is a file of its own.
    expect(tree.blobFileCount()).toBe(n);
    for (let round = 0; round < 2; round++) for (let i = 0; i < n; i++) expect(str(tree.get(k(i), SEQNO_MAX))).toBe(v(i));
    for (let i = n - 1; i >= 0; i -= 3) expect(str(tree.get(k(i), SEQNO_MAX))).toBe(v(i));
    await tree.close();
    const again = await reopen();
    expect(entriesAt(again)).toEqual(Array.from({ length: n }, (_, i) => `${k(i)}=${v(i)}`));
    again.verify();
    await again.close();
  });

  it("blob_tree_clear_reopen: clear then reopen works; cleared blob files go once unpinned", async () => {
    const { tree, fs, seqno, reopen } = await fresh({ separationThreshold: 8 });
    tree.insert("foo", "bar", seqno.next());
    await tree.clear();
    await tree.close();
    const again = await reopen();
    expect(again.isEmpty(SEQNO_MAX)).toBe(true);
    // With a flushed blob file too.
    again.insert("big", "b".repeat(100), seqno.next());
    await again.flushActiveMemtable(0);
    const before = seqno.get();
    expect(again.blobFileCount()).toBe(1);
    await again.clear();
    expect(again.blobFileCount()).toBe(0);
    // A read from before the clear still resolves the value from the file it keeps pinned.
    expect(str(again.get("big", before))).toBe("b".repeat(100));
    expect(blobFileIds(fs)).toHaveLength(1);
    await again.close();
    const third = await reopen();
    expect(third.isEmpty(SEQNO_MAX)).toBe(true);
    expectCleanBlobTreeDir(fs, third, "reopened after clear");
    expect(blobFileIds(fs)).toEqual([]);
    await third.close();
  });

  it("tree_l0_point_read / tree_l0_range: overwrites across five L0 flushes of a blob tree", async () => {
    const { tree, seqno } = await fresh({ separationThreshold: 1 });
    const write = async (pairs: Array<[string, string]>): Promise<void> => {
      const s = seqno.next();
      for (const [key, value] of pairs) tree.insert(key, value, s);
      await tree.flushActiveMemtable(0);
    };
    await write([["a", "a"], ["b", "b"], ["c", "c"]]);
    await write([["a", "A"], ["b", "B"]]);
    await write([["c", "C"], ["d", "d"], ["e", "e"]]);
    await write([["f", "f"]]);
    await write([["g", "g".repeat(10_000)]]);
    expect(tree.tableCount()).toBe(5);
    expect(tree.blobFileCount()).toBe(5);
    const want: Record<string, string> = { a: "A", b: "B", c: "C", d: "d", e: "e", f: "f", g: "g".repeat(10_000) };
    for (const [key, value] of Object.entries(want)) expect(str(tree.get(key, SEQNO_MAX))).toBe(value);
    expect([...tree.range({ gte: "c", lte: "e" }, SEQNO_MAX)].map(([, v]) => str(v))).toEqual(["C", "d", "e"]);
    expect([...tree.range({ gte: "f", lte: "g", reverse: true }, SEQNO_MAX)].map(([, v]) => str(v))).toEqual(["g".repeat(10_000), "f"]);
    await tree.close();
  });

  it("tree_range (blob variant): bounds over two versions in tables and a third in the memtable", async () => {
    const { tree, seqno } = await fresh();
    const big = (tag: string, key: string): string => `${tag}${key}`.padEnd(100_000, key);
    const write = (tag: string): void => {
      for (const key of ["a", "f", "g"]) tree.insert(key, big(tag, key), seqno.next());
    };
    const check = (stage: string): void => {
      expect([...tree.range({ gte: "a", lte: "f" }, SEQNO_MAX)], stage).toHaveLength(2);
      expect([...tree.range({ gte: "f", lte: "g" }, SEQNO_MAX)], stage).toHaveLength(2);
      expect([...tree.range({ gt: "f" }, SEQNO_MAX)], stage).toHaveLength(1);
      expect(dec(tree.get("f", SEQNO_MAX))?.length, stage).toBe(100_000);
    };
    write("1");
    write("2");
    check("memtable");
    await tree.flushActiveMemtable(0);
    check("flushed");
    write("3");
    check("third version in the memtable");
    expect(str(tree.get("g", SEQNO_MAX))).toBe(big("3", "g"));
    await tree.close();
  });

  it("tree_shadowing (blob variant): an upsert and a delete across a flush", async () => {
    const { tree, seqno } = await fresh({ separationThreshold: 1 });
    tree.insert("a", "old".repeat(50), seqno.next());
    expect(tree.len(SEQNO_MAX)).toBe(1);
    await tree.flushActiveMemtable(0);
    tree.insert("a", "new".repeat(50), seqno.next());
    expect(tree.len(SEQNO_MAX)).toBe(1);
    expect(str(tree.get("a", SEQNO_MAX))).toBe("new".repeat(50));
    await tree.flushActiveMemtable(0);
    expect(tree.len(SEQNO_MAX)).toBe(1);
    expect(str(tree.get("a", SEQNO_MAX))).toBe("new".repeat(50));
    tree.remove("a", seqno.next());
    expect(tree.len(SEQNO_MAX)).toBe(0);
    await tree.flushActiveMemtable(0);
    expect(tree.len(SEQNO_MAX)).toBe(0);
    expect(tree.get("a", SEQNO_MAX)).toBeUndefined();
    await tree.close();
  });

  it("write_batch (blob variant): a batch of large values lands at one seqno and reads back after a flush", async () => {
    const { tree, seqno } = await fresh({ separationThreshold: 64 });
    const batch = new WriteBatch().insert("a", "A".repeat(100)).insert("b", "B".repeat(200)).insert("c", "c");
    const s = seqno.next();
    tree.applyBatch(batch, s);
    expect(tree.get("a", s)).toBeUndefined();
    expect(tree.multiGet(["a", "b", "c"], s + 1).map(str)).toEqual(["A".repeat(100), "B".repeat(200), "c"]);
    await tree.flushActiveMemtable(0);
    expect(tree.blobFileCount()).toBe(1);
    expect(tree.get("b", s)).toBeUndefined();
    expect(tree.multiGet(["a", "b", "c"], s + 1).map(str)).toEqual(["A".repeat(100), "B".repeat(200), "c"]);
    await tree.close();
  });

  it("tree_approx_len (blob variant): approximateLen counts versions and tombstones, len counts keys", async () => {
    const { tree, seqno } = await fresh({ separationThreshold: 1 });
    const trace: Array<[number, number]> = [];
    const note = (): void => {
      trace.push([tree.approximateLen(), tree.len(SEQNO_MAX)]);
    };
    note();
    tree.insert("a", "a".repeat(10), seqno.next());
    note();
    tree.insert("b", "b".repeat(10), seqno.next());
    note();
    tree.insert("b", "c".repeat(10), seqno.next());
    note();
    tree.remove("a", seqno.next());
    note();
    await tree.flushActiveMemtable(0);
    note();
    tree.remove("b", seqno.next());
    note();
    await tree.flushActiveMemtable(0);
    note();
    await tree.majorCompact(TARGET, seqno.get());
    note();
    expect(trace).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 2],
      [4, 1],
      [4, 1],
      [5, 0],
      [5, 0],
      [0, 0],
    ]);
    expect(tree.blobFileCount()).toBe(0);
    await tree.close();
  });
  it("tree_kv (blob): first/last key-value pairs of separated values, before and after reopens", async () => {
    const { tree, seqno, reopen } = await fresh({ separationThreshold: 16 });
    const big = (c: string): string => c.repeat(64);
    expect(tree.firstKeyValue(SEQNO_MAX)).toBeUndefined();
    expect(tree.lastKeyValue(SEQNO_MAX)).toBeUndefined();
    tree.insert("b", big("b"), seqno.next());
    expect(str(tree.firstKeyValue(SEQNO_MAX)?.[1])).toBe(big("b"));
    await tree.flushActiveMemtable(0);
    await tree.close();
    let t = await reopen();
    expect(t.len(SEQNO_MAX)).toBe(1);
    expect(str(t.firstKeyValue(SEQNO_MAX)?.[1])).toBe(big("b"));
    expect(str(t.lastKeyValue(SEQNO_MAX)?.[1])).toBe(big("b"));
    t.insert("a", big("a"), seqno.next());
    t.insert("c", "c", seqno.next());
    await t.flushActiveMemtable(0);
    const check = (tr: Tree): void => {
      expect(tr.len(SEQNO_MAX)).toBe(3);
      const first = tr.firstKeyValue(SEQNO_MAX);
      const last = tr.lastKeyValue(SEQNO_MAX);
      expect([str(first?.[0]), str(first?.[1])]).toEqual(["a", big("a")]);
      expect([str(last?.[0]), str(last?.[1])]).toEqual(["c", "c"]);
    };
    check(t);
    await t.close();
    t = await reopen();
    check(t);
    await t.close();
  });

  it("merge_operator (blob): operands fold onto a separated base in memtables, tables, compaction and reads", async () => {
    const { tree, seqno, reopen } = await fresh({ separationThreshold: 32 }, { mergeOperator: appendMerge({ separator: "+" }) });
    const base = "B".repeat(40);
    tree.insert("k", base, seqno.next());
    tree.insert("other", "o".repeat(50), seqno.next());
    await tree.flushActiveMemtable(0);
    tree.merge("k", "m1", seqno.next());
    await tree.flushActiveMemtable(0);
    tree.merge("k", "m2", seqno.next());
    const want = `${base}+m1+m2`;
    const check = (t: Tree, stage: string): void => {
      expect(str(t.get("k", SEQNO_MAX)), stage).toBe(want);
      expect(t.multiGet(["other", "k", "k"], SEQNO_MAX).map(str), stage).toEqual(["o".repeat(50), want, want]);
      expect(entriesAt(t), stage).toEqual([`k=${want}`, `other=${"o".repeat(50)}`]);
      expect(str(t.firstKeyValue(SEQNO_MAX)?.[1]), stage).toBe(want);
      expect(t.sizeOf("k", SEQNO_MAX), stage).toBe(want.length);
      expect(t.len(SEQNO_MAX), stage).toBe(2);
    };
    check(tree, "operands over a separated base");
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(TARGET, seqno.get());
    check(tree, "compacted");
    await tree.close();
    const again = await reopen();
    check(again, "reopened");
    await again.close();
  });
});

describe("BlobTree ported: garbage accounting", () => {
  it("blob_compression (lz4): garbage of a removed value, then relocation by the same majorCompact", async () => {
    // Reference: threshold 1, staleness 1e-7, age cutoff 1; the first majorCompact records
    // gc_stats {0: len 1, bytes 4, on_disk 5} and a second one rewrites. Ours derives the garbage from
    // the tables (4 stored bytes: LZ4 does not shrink "smol", so it is stored as is), and the same
    // majorCompact relocates the stale file.
    const kv: KvSeparationOptions = { separationThreshold: 1, stalenessThreshold: 1e-7, ageCutoff: 1, compression: "lz4" };
    const { tree, fs, seqno } = await fresh(kv);
    const s = seqno.next();
    tree.insert("a", "abc".repeat(50), s);
    tree.insert("b", "smol", s);
    await tree.flushActiveMemtable(0);
    expect([tree.tableCount(), tree.blobFileCount()]).toEqual([1, 1]);
    const [firstFile] = versionBlobIds(tree);
    tree.remove("b", seqno.next());
    await tree.flushActiveMemtable(0);
    expect([tree.tableCount(), tree.blobFileCount()]).toEqual([2, 1]);
    expect(tree.staleBlobBytes()).toBe(0);
    await tree.majorCompact(SEQNO_MAX, 1000);
    expect([tree.tableCount(), tree.blobFileCount()]).toEqual([1, 1]);
    expect(tree.staleBlobBytes()).toBe(0);
    expect(versionBlobIds(tree)).not.toContain(firstFile);
    await tree.majorCompact(SEQNO_MAX, 1000);
    expect([tree.tableCount(), tree.blobFileCount()]).toEqual([1, 1]);
    expect(str(tree.get("a", SEQNO_MAX))).toBe("abc".repeat(50));
    expect(tree.containsKey("b", SEQNO_MAX)).toBe(false);
    await settle(tree, seqno);
    expectCleanBlobTreeDir(fs, tree, "after compaction");
    await tree.close();

    // The garbage itself, with relocation off (stalenessThreshold 1 never calls a file stale).
    const off = await fresh({ ...kv, stalenessThreshold: 1 });
    off.tree.insert("a", "abc".repeat(50), off.seqno.next());
    off.tree.insert("b", "smol", off.seqno.next());
    await off.tree.flushActiveMemtable(0);
    off.tree.remove("b", off.seqno.next());
    await off.tree.flushActiveMemtable(0);
    await off.tree.majorCompact(SEQNO_MAX, off.seqno.get());
    expect(off.tree.staleBlobBytes()).toBe(4);
    expect(off.tree.blobFileCount()).toBe(1);
    await off.tree.majorCompact(SEQNO_MAX, off.seqno.get());
    // The reference empties gc_stats on the second compaction; derived garbage stays until relocated.
    expect(off.tree.staleBlobBytes()).toBe(4);
    expect(str(off.tree.get("a", SEQNO_MAX))).toBe("abc".repeat(50));
    await off.tree.close();
  });

  for (const variant of ["overwritten", "removed"] as const) {
    it(`blob_flush_gc_stats (${variant}): a large value superseded before its flush never reaches a blob file`, async () => {
      const { tree, fs, seqno } = await fresh();
      const s = seqno.next();
      tree.insert("big", neptune(), s);
      tree.insert("smol", "small value", s);
      if (variant === "overwritten") tree.insert("big", "winter!", seqno.next());
      else tree.remove("big", seqno.next());
      await tree.flushActiveMemtable(1000);
      expect(tree.approximateLen()).toBe(2);
      // The new value is small (inline) or a tombstone: no blob file at all.
      expect(tree.blobFileCount()).toBe(0);
      expect(fs.readDir(BLOBS)).toEqual([]);
      expect(tree.staleBlobBytes()).toBe(0);
      expect(str(tree.get("big", SEQNO_MAX))).toBe(variant === "overwritten" ? "winter!" : undefined);
      await tree.close();
    });
  }

  it("blob_gc_watermark: old snapshots keep their values while the watermark is below them", async () => {
    const { tree, fs, seqno } = await fresh({ separationThreshold: 50, stalenessThreshold: 0.01, ageCutoff: 1 });
    tree.insert("a", "neptune".repeat(50), seqno.next());
    const snapshot = seqno.get();
    tree.insert("a", "neptune2".repeat(50), seqno.next());
    tree.insert("a", "neptune3".repeat(50), seqno.next());
    await tree.flushActiveMemtable(0);
    const check = (stage: string, old: boolean): void => {
      if (old) expect(str(tree.get("a", snapshot)), stage).toBe("neptune".repeat(50));
      expect(str(tree.get("a", SEQNO_MAX)), stage).toBe("neptune3".repeat(50));
    };
    check("flushed", true);
    for (let i = 0; i < 2; i++) {
      await tree.majorCompact(SEQNO_MAX, 0);
      check(`majorCompact #${i} at watermark 0`, true);
      expect(tree.staleBlobBytes()).toBe(0);
    }
    // Our GC watermark promise: reads at S >= W keep their answers; at W = snapshot, a snapshot read does.
    await tree.majorCompact(SEQNO_MAX, snapshot);
    check("majorCompact at watermark = snapshot", true);
    expect(tree.blobFileCount()).toBe(1);
    const [file] = versionBlobIds(tree);
    // Above the snapshot (the reference's watermark 1000): the two old versions become garbage, 2/3 of
    // the file, and the same majorCompact relocates neptune3 into a new file. Unlike the reference, the
    // snapshot below the watermark is not kept (the history is pruned), so only the newest read is checked.
    await tree.majorCompact(SEQNO_MAX, 1000);
    check("majorCompact at watermark 1000", false);
    expect(tree.blobFileCount()).toBe(1);
    expect(versionBlobIds(tree)).not.toEqual([file]);
    expect(tree.staleBlobBytes()).toBe(0);
    await tree.majorCompact(SEQNO_MAX, 1000);
    check("second majorCompact at watermark 1000", false);
    expect(tree.staleBlobBytes()).toBe(0);
    expect(blobFileIds(fs)).toEqual(versionBlobIds(tree));
    await tree.close();
  });

  it("blob_major_compact_drop_dead_files: four dead blob files leave the version with the compaction that kills them", async () => {
    const { tree, fs, seqno } = await fresh();
    for (let i = 0; i < 4; i++) {
      tree.insert("big", neptune(12_800), seqno.next());
      await tree.flushActiveMemtable(0);
    }
    tree.insert("big", winter(12_800), seqno.next());
    await tree.flushActiveMemtable(0);
    expect([tree.tableCount(), tree.blobFileCount()]).toEqual([5, 5]);
    expect(tree.staleBlobBytes()).toBe(0);
    const last = versionBlobIds(tree).at(-1);
    await tree.majorCompact(TARGET, 1000);
    // Reference: 1 table, 5 blob files, gc_stats for 0..3 until the second compaction drops them.
    expect([tree.tableCount(), tree.blobFileCount()]).toEqual([1, 1]);
    expect(versionBlobIds(tree)).toEqual([last]);
    expect(tree.staleBlobBytes()).toBe(0);
    expect(str(tree.get("big", SEQNO_MAX))).toBe(winter(12_800));
    await tree.majorCompact(TARGET, 1000);
    expect([tree.tableCount(), tree.blobFileCount()]).toEqual([1, 1]);
    expect(str(tree.get("big", SEQNO_MAX))).toBe(winter(12_800));
    expect(blobFileIds(fs)).toEqual([last]);
    await tree.close();
  });

  it("blob_major_compact_gc_stats (a): an overwritten value's file is dead and goes; stale bytes of a shared file", async () => {
    const { tree, seqno } = await fresh();
    tree.insert("big", neptune(), seqno.next());
    tree.insert("smol", "small value", seqno.next());
    await tree.flushActiveMemtable(0);
    tree.insert("big", winter(), seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(TARGET, 1000);
    // Reference: 2 blob files and stale 1,024,000 (file 0 holds only the dead value). Ours drops it.
    expect(tree.blobFileCount()).toBe(1);
    expect(tree.staleBlobBytes()).toBe(0);
    expect(tree.sizeOf("big", SEQNO_MAX)).toBe(896_000);
    await tree.close();
  });

  it("blob_major_compact_gc_stats (b): five versions in one flush: 4,096,000 stale bytes, then relocation", async () => {
    for (const staleness of [1, 0.25]) {
      const { tree, fs, seqno } = await fresh({ stalenessThreshold: staleness });
      for (let i = 0; i < 4; i++) tree.insert("big", neptune(), seqno.next());
      tree.insert("big", winter(), seqno.next());
      await tree.flushActiveMemtable(0);
      expect(tree.blobFileCount()).toBe(1);
      await tree.majorCompact(TARGET, 1000);
      expect(tree.blobFileCount()).toBe(1);
      expect(same(tree.get("big", SEQNO_MAX), winter())).toBe(true);
      if (staleness === 1) {
        // Relocation off: the reference's numbers, {0: (4, 4,096,000, 4,096,000)}.
        expect(tree.staleBlobBytes()).toBe(4_096_000);
      } else {
        // Default staleness: 80% garbage, so the same majorCompact moves the live value to a new file.
        expect(tree.staleBlobBytes()).toBe(0);
        await settle(tree, seqno);
        const [id] = versionBlobIds(tree);
        expect(readFileBytes(fs, `${BLOBS}/${id}`).length).toBeLessThan(1_000_000);
      }
      await tree.close();
    }
  });

  it("blob_major_compact_gc_stats (c): removing one of two values in a file", async () => {
    for (const staleness of [1, 0.25]) {
      const { tree, seqno } = await fresh({ stalenessThreshold: staleness });
      tree.insert("big", neptune(), seqno.next());
      tree.insert("another_big", neptune(), seqno.next());
      await tree.flushActiveMemtable(0);
      tree.remove("big", seqno.next());
      await tree.flushActiveMemtable(0);
      await tree.majorCompact(TARGET, 1000);
      expect([tree.tableCount(), tree.blobFileCount()]).toEqual([1, 1]);
      expect(tree.staleBlobBytes()).toBe(staleness === 1 ? 1_024_000 : 0);
      expect(tree.get("big", SEQNO_MAX)).toBeUndefined();
      expect(same(tree.get("another_big", SEQNO_MAX), neptune())).toBe(true);
      await tree.close();
    }
  });

  it("blob_major_compact_relink: compaction relinks handles, the blob file is not rewritten", async () => {
    const { tree, fs, seqno } = await fresh();
    tree.insert("big", neptune(), seqno.next());
    tree.insert("smol", "small value", seqno.next());
    await tree.flushActiveMemtable(0);
    const [id] = versionBlobIds(tree);
    const bytes = readFileBytes(fs, `${BLOBS}/${id}`);
    expect(await tree.flushActiveMemtable(1)).toBe(0);
    await tree.majorCompact(TARGET, 1000);
    expect([tree.tableCount(), tree.blobFileCount()]).toEqual([1, 1]);
    expect(versionBlobIds(tree)).toEqual([id]);
    expect(Buffer.from(readFileBytes(fs, `${BLOBS}/${id}`)).equals(Buffer.from(bytes))).toBe(true);
    expect(tree.staleBlobBytes()).toBe(0);
    await tree.close();
  });

  it("blob_ingest / blob_ingest_relink: ingested large values go to a blob file; a re-ingested one kills it", async () => {
    const { tree, fs, seqno } = await fresh();
    const first = tree.ingestion();
    first.write("big", neptune());
    first.write("smol", "small value");
    await first.finish();
    expect([tree.tableCount(), tree.blobFileCount()]).toEqual([1, 1]);
    const [firstFile] = versionBlobIds(tree);
    // Relink: a major compaction carries the handle, the file stays as it is.
    await tree.majorCompact(TARGET, 1000);
    expect([tree.tableCount(), tree.blobFileCount()]).toEqual([1, 1]);
    expect(versionBlobIds(tree)).toEqual([firstFile]);
    const second = tree.ingestion();
    second.write("big", winter());
    await second.finish();
    expect(tree.blobFileCount()).toBe(2);
    await tree.majorCompact(TARGET, 1000);
    // Reference: 1 table, 2 blob files, gc_stats {0: (1, 1,024,000)}. The first file is dead here: gone.
    expect([tree.tableCount(), tree.blobFileCount()]).toEqual([1, 1]);
    expect(versionBlobIds(tree)).not.toContain(firstFile);
    expect(same(tree.get("big", seqno.get()), winter())).toBe(true);
    expect(str(tree.get("smol", seqno.get()))).toBe("small value");
    await settle(tree, seqno);
    expectCleanBlobTreeDir(fs, tree, "after the compaction");
    await tree.close();
  });

  for (const verdict of ["destroy", "remove", "removeWeak"] as const) {
    it(`compaction_filter_gc_stats_${verdict === "removeWeak" ? "remove_weak" : verdict}: a filtered large value is garbage`, async () => {
      const filter: CompactionFilter = { name: "drop-removethis", create: () => ({ filter: (item) => (dec(item.key) === "removethis" ? verdict : "keep") }) };
      const { tree, seqno } = await fresh({ stalenessThreshold: 1 }, { compactionFilter: filter });
      tree.insert("removethis", winter(), seqno.next());
      tree.insert("keepthis", neptune(), seqno.next());
      await tree.flushActiveMemtable(0);
      await tree.majorCompact(TARGET, 1000);
      expect([tree.tableCount(), tree.blobFileCount()]).toEqual([1, 1]);
      expect(tree.staleBlobBytes()).toBe(896_000);
      expect(tree.get("removethis", SEQNO_MAX)).toBeUndefined();
      expect(same(tree.get("keepthis", SEQNO_MAX), neptune())).toBe(true);
      await tree.close();
    });
  }

  it("compaction_filter_gc_stats_change: a replaced large value goes to a new file; a replaced small one too", async () => {
    const replaceWith = (value: string): CompactionFilter => ({
      name: "change",
      create: () => ({ filter: (item): CompactionVerdict => (dec(item.key) === "changethis" ? { replace: enc(value) } : "keep") }),
    });
    // (a) 768,000 B replaced by "winter2" x 128000: the old value is garbage in file 0, the new one in a new file.
    {
      const { tree, seqno } = await fresh({ stalenessThreshold: 1 }, { compactionFilter: replaceWith("winter2".repeat(128_000)) });
      tree.insert("changethis", "asdasd".repeat(128_000), seqno.next());
      tree.insert("keep", neptune(), seqno.next());
      await tree.flushActiveMemtable(0);
      await tree.majorCompact(TARGET, 1000);
      expect([tree.tableCount(), tree.blobFileCount()]).toEqual([1, 2]);
      expect(tree.staleBlobBytes()).toBe(768_000);
      expect(same(tree.get("changethis", SEQNO_MAX), "winter2".repeat(128_000))).toBe(true);
      await tree.close();
    }
    // (b) a file holding only the replaced value: dead, gone; the small replacement is inline.
    {
      const { tree, seqno } = await fresh({ stalenessThreshold: 1 }, { compactionFilter: replaceWith("winter2") });
      tree.insert("changethis", "asdasd".repeat(128_000), seqno.next());
      await tree.flushActiveMemtable(0);
      await tree.majorCompact(TARGET, 1000);
      expect([tree.tableCount(), tree.blobFileCount()]).toEqual([1, 0]);
      expect(tree.staleBlobBytes()).toBe(0);
      expect(str(tree.get("changethis", SEQNO_MAX))).toBe("winter2");
      await tree.close();
    }
  });
});

describe("BlobTree ported: relocation", () => {
  it("blob_major_compact_relocation (simple): big2 moves out of the file whose other value was overwritten", async () => {
    const { tree, fs, seqno } = await fresh({ ageCutoff: 1 });
    tree.insert("big", neptune(), seqno.next());
    tree.insert("big2", neptune(), seqno.next());
    tree.insert("smol", "small value", seqno.next());
    await tree.flushActiveMemtable(0);
    const [file0] = versionBlobIds(tree);
    tree.insert("big", winter(), seqno.next());
    await tree.flushActiveMemtable(0);
    const [, file1] = versionBlobIds(tree);
    await tree.majorCompact(TARGET, 1000);
    // Reference after c1: 2 blob files, gc_stats {0: 1,024,000}; after c2: 2 blob files (big2 relocated).
    // Ours: one majorCompact does both.
    expect(tree.blobFileCount()).toBe(2);
    expect(tree.staleBlobBytes()).toBe(0);
    const ids = versionBlobIds(tree);
    expect(ids).not.toContain(file0);
    expect(ids).toContain(file1);
    await tree.majorCompact(TARGET, 1000);
    expect(versionBlobIds(tree)).toEqual(ids);
    expect(same(tree.get("big", SEQNO_MAX), winter())).toBe(true);
    expect(same(tree.get("big2", SEQNO_MAX), neptune())).toBe(true);
    expect(str(tree.get("smol", SEQNO_MAX))).toBe("small value");
    await settle(tree, seqno);
    expectCleanBlobTreeDir(fs, tree, "after relocation");
    await tree.close();
  });

  it("blob_major_compact_relocation (repeated_key, interleaved): the survivors of a half-dead file move to one new file", async () => {
    const layouts: Array<{ name: string; values: Array<[string, string]>; removed: string }> = [
      {
        name: "repeated_key",
        values: [["a", neptune(2000)], ["b", neptune(2000)], ["c", winter(128_000)], ["d", neptune(2000)], ["e", neptune(2000)]],
        removed: "c",
      },
      {
        name: "interleaved",
        values: [["a", "small a"], ["b", neptune(2000)], ["c", "small c"], ["d", neptune(2000)], ["e", "small e"], ["f", neptune(2000)]],
        removed: "d",
      },
    ];
    for (const layout of layouts) {
      const { tree, seqno } = await fresh({ ageCutoff: 1 });
      for (const [key, value] of layout.values) tree.insert(key, value, seqno.next());
      await tree.flushActiveMemtable(0);
      const [file0] = versionBlobIds(tree);
      tree.remove(layout.removed, seqno.next());
      await tree.flushActiveMemtable(0);
      await tree.majorCompact(TARGET, 1000);
      expect(tree.blobFileCount(), layout.name).toBe(1);
      expect(versionBlobIds(tree), layout.name).not.toEqual([file0]);
      expect(tree.staleBlobBytes(), layout.name).toBe(0);
      await tree.majorCompact(TARGET, 1000);
      expect(tree.blobFileCount(), layout.name).toBe(1);
      for (const [key, value] of layout.values) {
        const got = tree.get(key, SEQNO_MAX);
        if (key === layout.removed) expect(got, `${layout.name} ${key}`).toBeUndefined();
        else expect(same(got, value), `${layout.name} ${key}`).toBe(true);
      }
      await tree.close();
    }
  });

  it("an incremental merge relocates a lone stale candidate: ageCutoff is rounded up (the reference rounds down)", async () => {
    // Default kvSeparation (staleness 0.25, age cutoff 0.25). The reference's floor(1 * 0.25) = 0 would
    // never relocate a single stale file in an incremental compaction; ours relocates ceil(0.25) = 1.
    const reopenWith = async (fs: MemFs, seqno: SequenceNumberCounter, staleness: number): Promise<Tree> => openBlobTree(fs, seqno, { separationThreshold: 64, stalenessThreshold: staleness });
    const fs = new MemFs();
    const seqno = new SequenceNumberCounter();
    let tree = await reopenWith(fs, seqno, 1);
    const v = (i: number, tag: string): string => `${tag}${i}:`.padEnd(100, "x");
    for (let i = 0; i < 10; i++) tree.insert(k(i), v(i, "a"), seqno.next());
    await tree.flushActiveMemtable(0);
    const [file0] = versionBlobIds(tree);
    for (let i = 0; i < 6; i++) tree.insert(k(i), `small${i}`, seqno.next());
    await tree.flushActiveMemtable(0);
    // Staleness 1 while the garbage is made: the old versions drop, nothing is relocated.
    await tree.majorCompact(TARGET, seqno.get());
    expect(versionBlobIds(tree)).toEqual([file0]);
    expect(tree.staleBlobBytes()).toBe(600);
    await tree.close();
    // Reopened with the defaults, the file is stale (60% garbage). A Leveled merge of a new L0 table with it relocates.
    tree = await reopenWith(fs, seqno, 0.25);
    tree.insert(k(3), v(3, "b"), seqno.next());
    await tree.flushActiveMemtable(0);
    const result = await tree.compact(new Leveled({ l0Threshold: 1 }), seqno.get());
    expect(result.action).toBe("merged");
    expect(versionBlobIds(tree)).not.toContain(file0);
    expect(tree.staleBlobBytes()).toBe(0);
    expect(entriesAt(tree)).toEqual(Array.from({ length: 10 }, (_, i) => `${k(i)}=${i === 3 ? v(3, "b") : i < 6 ? `small${i}` : v(i, "a")}`));
    await settle(tree, seqno);
    expectCleanBlobTreeDir(fs, tree, "after the relocating merge");
    await tree.close();
  });

  it("static_iterators (blob): an iterator and a snapshot keep reading a relocated file until released", async () => {
    const { tree, fs, seqno } = await fresh({ separationThreshold: 32 });
    const v = (i: number, tag: string): string => `${tag}${i}:`.padEnd(60, "v");
    for (let i = 0; i < 20; i++) tree.insert(k(i), v(i, "v1-"), seqno.next());
    await tree.flushActiveMemtable(0);
    const [file0] = versionBlobIds(tree);
    const snapshot = seqno.get();
    const iterator = tree.iter(snapshot);
    for (let i = 0; i < 12; i++) tree.insert(k(i), v(i, "v2-"), seqno.next());
    await tree.flushActiveMemtable(0);
    // Watermark 0: the old versions stay readable; nothing is garbage yet.
    await tree.majorCompact(TARGET, 0);
    expect(versionBlobIds(tree)).toContain(file0);
    // Watermark above the snapshot: v1 of keys 0..11 is garbage, 60% of file 0, which is relocated.
    await tree.majorCompact(TARGET, seqno.get());
    expect(versionBlobIds(tree)).not.toContain(file0);
    // The iterator opened before pinned its super version: it still reads v1 from the old file.
    expect(fs.exists(`${BLOBS}/${file0}`)).toBe(true);
    expect([...iterator].map(([key, value]) => `${dec(key)}=${dec(value)}`)).toEqual(Array.from({ length: 20 }, (_, i) => `${k(i)}=${v(i, "v1-")}`));
    expect(entriesAt(tree)).toEqual(Array.from({ length: 20 }, (_, i) => `${k(i)}=${v(i, i < 12 ? "v2-" : "v1-")}`));
    await settle(tree, seqno);
    expect(fs.exists(`${BLOBS}/${file0}`)).toBe(false);
    await tree.close();
  });

  it("recover_cleanup_orphans (blob) and recovery_mac_ds_store: an orphan blob file goes on open, junk stays", async () => {
    const { tree, fs, seqno, reopen } = await fresh({ separationThreshold: 32 });
    for (let i = 0; i < 10; i++) tree.insert(k(i), `${i}`.padEnd(50, "o"), seqno.next());
    await tree.flushActiveMemtable(0);
    const [file0] = versionBlobIds(tree);
    const orphanBytes = readFileBytes(fs, `${BLOBS}/${file0}`);
    for (let i = 0; i < 6; i++) tree.insert(k(i), `${i}`.padEnd(50, "n"), seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(TARGET, seqno.get());
    await settle(tree, seqno);
    expect(blobFileIds(fs)).not.toContain(file0);
    const live = blobFileIds(fs);
    await tree.close();
    // The relocated file comes back (as after a crash before its deletion was durable), with junk beside it.
    writeFileBytes(fs, `${BLOBS}/${file0}`, orphanBytes);
    writeFileBytes(fs, `${BLOBS}/.DS_Store`, enc("junk"));
    writeFileBytes(fs, `${BLOBS}/._0`, enc("junk"));
    const again = await reopen();
    expect(fs.exists(`${BLOBS}/${file0}`)).toBe(false);
    expect(fs.exists(`${BLOBS}/.DS_Store`)).toBe(true);
    expect(fs.exists(`${BLOBS}/._0`)).toBe(true);
    expect(versionBlobIds(again)).toEqual(live);
    expect(entriesAt(again).filter((line) => !line.startsWith("~"))).toEqual(Array.from({ length: 10 }, (_, i) => `${k(i)}=${`${i}`.padEnd(50, i < 6 ? "n" : "o")}`));
    // The tree goes on writing blob files.
    again.insert("z", "z".repeat(40), seqno.next());
    await again.flushActiveMemtable(0);
    expect(again.blobFileCount()).toBe(live.length + 1);
    expect(str(again.get("z", SEQNO_MAX))).toBe("z".repeat(40));
    await again.close();
  });
});

describe("BlobTree ported: dropRange", () => {
  for (const versions of [1, 2]) {
    it(`blob_nuke_gc_stats (${versions} version${versions > 1 ? "s" : ""}): dropRange(..) leaves no table and no blob file`, async () => {
      const { tree, fs, seqno } = await fresh();
      for (let i = 0; i < versions; i++) tree.insert("big", neptune(12_800), seqno.next());
      await tree.flushActiveMemtable(0);
      expect([tree.tableCount(), tree.blobFileCount()]).toEqual([1, 1]);
      const before = seqno.get();
      await tree.dropRange({});
      expect([tree.tableCount(), tree.blobFileCount()]).toEqual([0, 0]);
      expect(tree.staleBlobBytes()).toBe(0);
      // dirty_snapshot: a read from before the drop still resolves the value from the pinned file.
      expect(str(tree.get("big", before))).toBe(neptune(12_800));
      expect(tree.get("big", SEQNO_MAX)).toBeUndefined();
      await settle(tree, seqno);
      expect(blobFileIds(fs)).toEqual([]);
      await tree.close();
    });
  }

  it("tree_drop_range (blob variant): drops whole tables with their blob files, keeps the rest", async () => {
    const { tree, fs, seqno } = await fresh({ separationThreshold: 10 });
    for (const key of ["a", "b", "c", "d", "e"]) {
      tree.insert(key, key.repeat(20), seqno.next());
      await tree.flushActiveMemtable(0);
    }
    expect([tree.tableCount(), tree.blobFileCount()]).toEqual([5, 5]);
    await tree.dropRange({ gte: "a", lte: "c" });
    expect([tree.tableCount(), tree.blobFileCount()]).toEqual([2, 2]);
    expect(tree.l0RunCount()).toBe(1);
    expect(entriesAt(tree)).toEqual(["d=" + "d".repeat(20), "e=" + "e".repeat(20)]);
    await settle(tree, seqno);
    expectCleanBlobTreeDir(fs, tree, "after dropRange");
    // A table only partly inside the range stays, with its blob file.
    const { tree: one, seqno: s2 } = await fresh({ separationThreshold: 10 });
    for (const key of ["a", "b", "c", "d", "e"]) one.insert(key, key.repeat(20), s2.next());
    await one.flushActiveMemtable(0);
    await one.dropRange({ gte: "b", lt: "d" });
    expect([one.tableCount(), one.blobFileCount()]).toEqual([1, 1]);
    expect(one.len(SEQNO_MAX)).toBe(5);
    await one.close();
    await tree.close();
  });

  it("model_2: a blob tree (threshold 5) flushed and compacted after each write, then dropRange(..) leaves nothing", async () => {
    const { tree, fs, seqno } = await fresh({ separationThreshold: 5 });
    const counts: Array<[number, number]> = [];
    for (const key of ["a", "b", "a"]) {
      tree.insert(key, `${key}-value-${seqno.get()}`, seqno.next());
      await tree.flushActiveMemtable(seqno.get());
      await tree.compact(new Leveled(), seqno.get());
      counts.push([tree.tableCount(), tree.blobFileCount()]);
    }
    // Engine-specific counts: Leveled (L0 threshold 4) does nothing to three L0 tables here, as in the reference.
    expect(counts).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    await tree.dropRange({});
    expect([tree.tableCount(), tree.blobFileCount()]).toEqual([0, 0]);
    await settle(tree, seqno);
    expect(blobFileIds(fs)).toEqual([]);
    await tree.close();
  });
});

describe("BlobTree ported: FIFO", () => {
  it("blob_fifo_limit: FIFO with a 10-byte limit keeps the blob file count bounded", async () => {
    const { tree, fs, seqno } = await fresh({ separationThreshold: 1 });
    let state = 12345;
    const nextKey = (): string => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return `key-${state.toString(16)}`;
    };
    for (let round = 0; round < 20; round++) {
      tree.insert(nextKey(), "$", seqno.next());
      await tree.flushActiveMemtable(0);
      await tree.compact(new Fifo({ limitBytes: 10 }), seqno.get());
      expect(tree.blobFileCount(), `round ${round}`).toBeGreaterThanOrEqual(0);
      expect(tree.blobFileCount(), `round ${round}`).toBeLessThan(10);
      expect(blobFileIds(fs).length, `round ${round}: files on disk`).toBeLessThan(10);
    }
    await tree.close();
  });

  it("fifo_ttl (blob bytes count toward the limit): tables that fit alone are dropped for their blob bytes", async () => {
    const { tree, seqno } = await fresh({ separationThreshold: 1 });
    for (let i = 0; i < 3; i++) {
      tree.insert(`k${i}`, `${i}`.repeat(1000), seqno.next());
      await tree.flushActiveMemtable(0);
    }
    expect([tree.tableCount(), tree.blobFileCount()]).toEqual([3, 3]);
    const tableBytes = [...tree.currentVersion().tables()].reduce((n, t) => n + t.size, 0);
    // The tables alone fit the limit; with 3000 blob bytes they do not.
    const result = await tree.compact(new Fifo({ limitBytes: tableBytes + 100 }), seqno.get());
    expect(result.action).toBe("dropped");
    expect(tree.tableCount()).toBeLessThan(3);
    expect(tree.blobFileCount()).toBe(tree.tableCount());
    // The reference's case: limit 10 B and three blob-backed tables.
    const { tree: t2, seqno: s2 } = await fresh({ separationThreshold: 1 });
    for (let i = 0; i < 3; i++) {
      t2.insert(`k${i}`, "v", s2.next());
      await t2.flushActiveMemtable(0);
    }
    await t2.compact(new Fifo({ limitBytes: 10 }), s2.get());
    expect(t2.tableCount()).toBeLessThan(3);
    expect(t2.blobFileCount()).toBe(t2.tableCount());
    await t2.close();
    await tree.close();
  });
});

describe("BlobTree ported: multi_get", () => {
  it("multi_get (blob): input order, duplicates, missing keys, snapshots, memtable over tables, range tombstones", async () => {
    const { tree, seqno } = await fresh({ separationThreshold: 8 });
    const big = (tag: string): string => `${tag}`.padEnd(40, "*");
    const s1 = seqno.next();
    for (const key of ["a", "b", "c"]) tree.insert(key, big(`${key}-v1`), s1);
    await tree.flushActiveMemtable(0);
    const s2 = seqno.next();
    for (const key of ["a", "b"]) tree.insert(key, big(`${key}-v2`), s2);
    tree.insert("d", "d-small", s2);
    expect(tree.multiGet(["a", "b"], s1 + 1).map(str)).toEqual([big("a-v1"), big("b-v1")]);
    expect(tree.multiGet(["a", "b"], s2 + 1).map(str)).toEqual([big("a-v2"), big("b-v2")]);
    expect(tree.multiGet(["c", "a", "b", "a", "missing"], SEQNO_MAX).map(str)).toEqual([big("c-v1"), big("a-v2"), big("b-v2"), big("a-v2"), undefined]);
    expect(tree.multiGet([], SEQNO_MAX)).toEqual([]);
    expect(tree.multiGet(["a", "d"], s1).map(str)).toEqual([undefined, undefined]);
    await tree.flushActiveMemtable(0);
    tree.removeRange("b", "d", seqno.next());
    expect(tree.multiGet(["a", "b", "c", "d"], SEQNO_MAX).map(str)).toEqual([big("a-v2"), undefined, undefined, "d-small"]);
    tree.remove("a", seqno.next());
    expect(tree.multiGet(["a", "d"], SEQNO_MAX).map(str)).toEqual([undefined, "d-small"]);
    // Level shadowing: 0..4 in L6, 5..9 in L0, 10..19 in the memtable, 20..24 never written.
    const { tree: t2, seqno: q } = await fresh({ separationThreshold: 8 });
    const val = (i: number, where: string): string => `${where}-${i}`.padEnd(30, "#");
    for (let i = 0; i < 10; i++) t2.insert(k(i), val(i, "L6"), q.next());
    await t2.flushActiveMemtable(0);
    await t2.majorCompact(TARGET, 0);
    for (let i = 5; i < 10; i++) t2.insert(k(i), val(i, "L0"), q.next());
    await t2.flushActiveMemtable(0);
    for (let i = 10; i < 20; i++) t2.insert(k(i), val(i, "mem"), q.next());
    const keys = Array.from({ length: 25 }, (_, i) => k(24 - i));
    const want = keys.map((_, j) => {
      const i = 24 - j;
      return i < 5 ? val(i, "L6") : i < 10 ? val(i, "L0") : i < 20 ? val(i, "mem") : undefined;
    });
    expect(t2.multiGet(keys, SEQNO_MAX).map(str)).toEqual(want);
    expect(keys.map((key) => str(t2.get(key, SEQNO_MAX)))).toEqual(want);
    await t2.close();
    await tree.close();
  });

  it("multi_get (blob): 500 keys in reverse order agree with get and survive a reopen", async () => {
    const { tree, seqno, reopen } = await fresh({ separationThreshold: 16 });
    const val = (i: number): string => (i % 3 === 0 ? `short${i}` : `long-${i}-`.padEnd(16 + (i % 50), "L"));
    for (let i = 0; i < 500; i++) tree.insert(k(i), val(i), seqno.next());
    await tree.flushActiveMemtable(0);
    const keys = Array.from({ length: 500 }, (_, i) => k(499 - i));
    expect(tree.multiGet(keys, SEQNO_MAX).map(str)).toEqual(keys.map((_, j) => val(499 - j)));
    await tree.close();
    const again = await reopen();
    expectReadsAgree(again, keys.slice(0, 60), SEQNO_MAX, "reopened");
    expect(again.multiGet(keys, SEQNO_MAX).map(str)).toEqual(keys.map((_, j) => val(499 - j)));
    await again.close();
  });
});

describe("BlobTree ported: flush eviction", () => {
  it("tree_flush_eviction (blob): weak and strong deletes of separated values at flush", async () => {
    const kv = { separationThreshold: 1 };
    // Weak delete, flush(0): both versions kept, one table, nothing visible.
    {
      const { tree, seqno } = await fresh(kv);
      tree.insert("a", "a".repeat(20), seqno.next());
      tree.removeWeak("a", seqno.next());
      await tree.flushActiveMemtable(0);
      expect(tree.tableCount()).toBe(1);
      expect(tree.len(SEQNO_MAX)).toBe(0);
      await tree.close();
    }
    // Weak delete, flush(watermark above both): annihilated, no table and no blob file written.
    {
      const { tree, fs, seqno } = await fresh(kv);
      tree.insert("a", "a".repeat(20), seqno.next());
      tree.removeWeak("a", seqno.next());
      await tree.flushActiveMemtable(seqno.get());
      expect(tree.tableCount()).toBe(0);
      expect(tree.blobFileCount()).toBe(0);
      expect(fs.readDir(BLOBS)).toEqual([]);
      await tree.close();
    }
    // Strong delete, flush(watermark): the tombstone stays in L0 (the value never reaches a blob file),
    // then goes at the last level.
    {
      const { tree, fs, seqno } = await fresh(kv);
      tree.insert("a", "a".repeat(20), seqno.next());
      tree.remove("a", seqno.next());
      await tree.flushActiveMemtable(seqno.get());
      expect(tree.tableCount()).toBe(1);
      expect(tree.blobFileCount()).toBe(0);
      expect(fs.readDir(BLOBS)).toEqual([]);
      await tree.majorCompact(TARGET, seqno.get());
      expect(tree.tableCount()).toBe(0);
      await tree.close();
    }
    // a@0, del@1, a@2 with flush(watermark): a tombstone and the newest value stay; the oldest value is
    // evicted before it reaches a blob file.
    {
      const { tree, seqno } = await fresh(kv);
      tree.insert("a", "first".repeat(5), seqno.next());
      tree.remove("a", seqno.next());
      tree.insert("a", "third".repeat(5), seqno.next());
      await tree.flushActiveMemtable(seqno.get());
      expect(tree.len(SEQNO_MAX)).toBe(1);
      expect(tree.blobFileCount()).toBe(1);
      expect(tree.staleBlobBytes()).toBe(0);
      expect(str(tree.get("a", SEQNO_MAX))).toBe("third".repeat(5));
      await tree.majorCompact(TARGET, seqno.get());
      expect(tree.approximateLen()).toBe(1);
      expect(tree.len(SEQNO_MAX)).toBe(1);
      await tree.close();
    }
  });

  it("tree_weak_delete_eviction (blob): 26 large values weak-deleted, then flushed above the watermark", async () => {
    const { tree, fs, seqno } = await fresh({ separationThreshold: 8 });
    const letters = "abcdefghijklmnopqrstuvwxyz".split("");
    for (const c of letters) tree.insert(c, c.repeat(32), seqno.next());
    for (const c of letters) tree.removeWeak(c, seqno.next());
    expect(tree.len(SEQNO_MAX)).toBe(0);
    await tree.flushActiveMemtable(seqno.get());
    expect(tree.len(SEQNO_MAX)).toBe(0);
    expect(tree.blobFileCount()).toBe(0);
    expect(fs.readDir(BLOBS)).toEqual([]);
    await tree.close();
  });
});

describe("BlobTree ported: ingestion and recovery", () => {
  it("ingestion_api (blob): out-of-order keys fail without a blob file; tombstones only write no blob file; small thresholds separate", async () => {
    {
      const { tree, fs } = await fresh({ separationThreshold: 8 });
      const ingestion = tree.ingestion();
      ingestion.write("b", "b".repeat(32));
      expect(() => ingestion.write("a", "a".repeat(32))).toThrow(RangeError);
      await ingestion.abort();
      expect(tree.blobFileCount()).toBe(0);
      expect(fs.readDir(BLOBS)).toEqual([]);
      await tree.close();
    }
    {
      const { tree, fs, seqno } = await fresh({ separationThreshold: 8 });
      for (let i = 0; i < 8; i++) tree.insert(k(i), "x".repeat(32), seqno.next());
      await tree.flushActiveMemtable(0);
      const files = blobFileIds(fs);
      const ingestion = tree.ingestion();
      for (let i = 0; i < 8; i++) ingestion.writeTombstone(k(i));
      await ingestion.finish();
      expect(tree.blobFileCount()).toBe(1);
      expect(blobFileIds(fs)).toEqual(files);
      expect(tree.len(SEQNO_MAX)).toBe(0);
      await tree.close();
    }
    {
      const { tree, seqno } = await fresh({ separationThreshold: 8 });
      const ingestion = tree.ingestion();
      ingestion.write("a", "a".repeat(16));
      ingestion.write("b", "b".repeat(32));
      ingestion.write("c", "tiny");
      await ingestion.finish();
      expect(tree.blobFileCount()).toBeGreaterThanOrEqual(1);
      expect([tree.sizeOf("a", seqno.get()), tree.sizeOf("b", seqno.get()), tree.sizeOf("c", seqno.get())]).toEqual([16, 32, 4]);
      expect(tree.multiGet(["a", "b", "c"], seqno.get()).map(str)).toEqual(["a".repeat(16), "b".repeat(32), "tiny"]);
      await tree.close();
    }
  });

  it("tree_bulk_ingest (blob, threshold 1): 10,000 ingested keys in one blob file; copying a tree through an ingestion", async () => {
    const { tree, seqno, reopen } = await fresh({ separationThreshold: 1 });
    const n = 10_000;
    const ingestion = tree.ingestion();
    for (let i = 0; i < n; i++) ingestion.write(k(i, "key", 6), `v${i}`);
    await ingestion.finish();
    expect(tree.visibleSeqnoCounter.get()).toBe(seqno.get());
    expect(tree.blobFileCount()).toBe(1);
    expect(tree.len(SEQNO_MAX)).toBe(n);
    expect([...tree.iter(SEQNO_MAX)]).toHaveLength(n);
    expect([...tree.iter(SEQNO_MAX, { reverse: true })]).toHaveLength(n);
    await tree.close();
    const source = await reopen();
    // Copy: iterate the source into a destination's ingestion.
    const { tree: destination, fs: destFs } = await fresh({ separationThreshold: 1 });
    const copy = destination.ingestion();
    for (const [key, value] of source.iter(SEQNO_MAX)) copy.write(key, value);
    await copy.finish();
    expect(destination.blobFileCount()).toBe(1);
    expect(destination.len(SEQNO_MAX)).toBe(n);
    expect([...destination.iter(SEQNO_MAX, { reverse: true })].map(([key, value]) => `${dec(key)}=${dec(value)}`)).toEqual(
      [...source.iter(SEQNO_MAX, { reverse: true })].map(([key, value]) => `${dec(key)}=${dec(value)}`),
    );
    expectCleanBlobTreeDir(destFs, destination, "copy");
    await destination.close();
    await source.close();
  });

  it("tree_reload (blob smoke): a blob tree keeps its blob files, tables and contents across reopens", async () => {
    const { tree, fs, seqno, reopen } = await fresh({ separationThreshold: 64 });
    const v = (i: number): string => (i % 2 === 0 ? `${i}`.padEnd(100, "L") : `s${i}`);
    for (let i = 0; i < 100; i++) tree.insert(k(i), v(i), seqno.next());
    await tree.flushActiveMemtable(0);
    for (let i = 100; i < 200; i++) tree.insert(k(i), v(i), seqno.next());
    await tree.flushActiveMemtable(0);
    const blobs = versionBlobIds(tree);
    await tree.close();
    for (let round = 0; round < 3; round++) {
      const again = await reopen();
      expect(versionBlobIds(again)).toEqual(blobs);
      expect(again.len(SEQNO_MAX)).toBe(200);
      expectReadsAgree(again, [k(0), k(1), k(150), k(199), "missing"], SEQNO_MAX, `round ${round}`);
      expectCleanBlobTreeDir(fs, again, `round ${round}`);
      await again.close();
    }
    expect(tableFileIds(fs)).toHaveLength(2);
    // Reopened as a standard tree, or as a blob tree on a standard tree's directory: refused.
    await expect(Tree.open({ path: PATH, fs })).rejects.toSatisfy((e: unknown) => e instanceof LsmError && e.code === "UNRECOVERABLE");
    const last = await BlobTree.open({ path: PATH, fs });
    expect(last.len(SEQNO_MAX)).toBe(200);
    await last.close();
  });
});
