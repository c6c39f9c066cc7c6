// Port of the reference's tests/mem_fs_tree.rs: a tree entirely on the in-memory filesystem. Upstream
// gives each test a path inside a real temp directory, so that "nothing reached the host disk" can be
// checked at exactly the path the tree used; so do we. (The checkpoint case waits for checkpoints.)
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { useTempDirs } from "@talus/testkit";
import { Leveled, SEQNO_MAX, SequenceNumberCounter, Tree } from "../src/index.ts";
import { dec } from "./helpers.ts";
import { k, pairsOf, tableFiles } from "./tree-support.ts";

const dirs = useTempDirs(afterEach);

/** A path under a fresh, empty host temp dir, and the check that the host dir stayed empty. */
function hostPath(name: string): { path: string; hostUntouched(): void } {
  const parent = dirs.make("memfs");
  return { path: join(parent, name), hostUntouched: () => expect(readdirSync(parent)).toEqual([]) };
}

describe("mem_fs_tree.rs", () => {
  it("open_tree_with_memfs: insert, len, get", async () => {
    const { path, hostUntouched } = hostPath("tree");
    const tree = await Tree.open({ path, fs: new MemFs() });
    expect(tree.isEmpty(SEQNO_MAX)).toBe(true);
    tree.insert("key1", "value1", 0);
    tree.insert("key2", "value2", 1);
    tree.insert("key3", "value3", 2);
    expect(tree.len(SEQNO_MAX)).toBe(3);
    expect(dec(tree.get("key2", SEQNO_MAX))).toBe("value2");
    await tree.close();
    hostUntouched();
  });

  it("memfs_tree_flush_and_read: 100 keys flushed into an in-memory table", async () => {
    const { path, hostUntouched } = hostPath("flush");
    const fs = new MemFs();
    const tree = await Tree.open({ path, fs });
    for (let i = 0; i < 100; i++) tree.insert(k(i, "key_"), `val_${i}`, i);
    await tree.flushActiveMemtable(0);
    expect(tree.tableCount()).toBe(1);
    expect(tableFiles(fs, join(path, "tables"))).toHaveLength(1);
    expect(dec(tree.get("key_00050", SEQNO_MAX))).toBe("val_50");
    expect(tree.len(SEQNO_MAX)).toBe(100);
    tree.verify();
    await tree.close();
    hostUntouched();
  });

  it("memfs_tree_delete_and_range: a deleted key is skipped by iteration", async () => {
    const { path, hostUntouched } = hostPath("range");
    const tree = await Tree.open({ path, fs: new MemFs() });
    tree.insert("a", "1", 0);
    tree.insert("b", "2", 1);
    tree.insert("c", "3", 2);
    tree.remove("b", 3);
    expect(pairsOf(tree.iter(SEQNO_MAX))).toEqual(["a=1", "c=3"]);
    await tree.flushActiveMemtable(0);
    expect(pairsOf(tree.iter(SEQNO_MAX))).toEqual(["a=1", "c=3"]);
    expect(pairsOf(tree.iter(SEQNO_MAX, { reverse: true }))).toEqual(["c=3", "a=1"]);
    await tree.close();
    hostUntouched();
  });

  it("memfs_tree_multiple_flushes: two overlapping flushes, newest wins", async () => {
    const { path, hostUntouched } = hostPath("multi_flush");
    const tree = await Tree.open({ path, fs: new MemFs() });
    for (let i = 0; i < 50; i++) tree.insert(k(i, "key_"), `batch1_${i}`, i);
    await tree.flushActiveMemtable(0);
    for (let i = 25; i < 75; i++) tree.insert(k(i, "key_"), `batch2_${i}`, 50 + i);
    await tree.flushActiveMemtable(0);
    expect(tree.tableCount()).toBe(2);
    expect(tree.l0RunCount()).toBe(2);
    expect(dec(tree.get("key_00030", SEQNO_MAX))).toBe("batch2_30");
    expect(dec(tree.get("key_00010", SEQNO_MAX))).toBe("batch1_10");
    expect(tree.len(SEQNO_MAX)).toBe(75);
    // Compaction on MemFs works too (upstream notes it did not, at that commit).
    await tree.majorCompact(1 << 20, SEQNO_MAX);
    expect(tree.tableCount()).toBe(1);
    expect(dec(tree.get("key_00030", SEQNO_MAX))).toBe("batch2_30");
    expect(tree.len(SEQNO_MAX)).toBe(75);
    await tree.close();
    hostUntouched();
  });

  it("memfs_shared_across_trees: two trees on one MemFs at different paths are isolated", async () => {
    const one = hostPath("shared_tree1");
    const two = hostPath("shared_tree2");
    const fs = new MemFs();
    const tree1 = await Tree.open({ path: one.path, fs });
    const tree2 = await Tree.open({ path: two.path, fs });
    tree1.insert("from_tree1", "hello", 0);
    tree2.insert("from_tree2", "world", 0);
    await tree1.flushActiveMemtable(0);
    await tree2.flushActiveMemtable(0);
    expect(tree1.get("from_tree1", SEQNO_MAX)).toBeDefined();
    expect(tree1.get("from_tree2", SEQNO_MAX)).toBeUndefined();
    expect(tree2.get("from_tree2", SEQNO_MAX)).toBeDefined();
    expect(tree2.get("from_tree1", SEQNO_MAX)).toBeUndefined();
    // Both trees number their tables from 0: the same file names, in different folders.
    expect(tableFiles(fs, join(one.path, "tables"))).toEqual(["0"]);
    expect(tableFiles(fs, join(two.path, "tables"))).toEqual(["0"]);
    expect(existsSync(join(one.path, "tables")) || existsSync(join(two.path, "tables"))).toBe(false);

    // Structural changes in one tree leave the other alone.
    await tree1.clear();
    expect(tree1.isEmpty(SEQNO_MAX)).toBe(true);
    expect(dec(tree2.get("from_tree2", SEQNO_MAX))).toBe("world");
    tree2.insert("more", "m", 1);
    await tree2.flushActiveMemtable(0);
    await tree2.compact(new Leveled(), SEQNO_MAX);
    expect(tree2.len(SEQNO_MAX)).toBe(2);
    await tree1.close();
    await tree2.close();
    one.hostUntouched();
    two.hostUntouched();
  });

  it("memfs_reopen_recovers_flushed_data: reopen from the same MemFs", async () => {
    const { path, hostUntouched } = hostPath("reopen");
    const fs = new MemFs();
    let tree = await Tree.open({ path, fs });
    tree.insert("alpha", "one", 0);
    tree.insert("beta", "two", 1);
    tree.insert("gamma", "three", 2);
    await tree.flushActiveMemtable(0);
    expect(tree.len(SEQNO_MAX)).toBe(3);
    await tree.close();

    const seqno = new SequenceNumberCounter();
    tree = await Tree.open({ path, fs, seqno });
    expect(tree.len(SEQNO_MAX)).toBe(3);
    expect(dec(tree.get("alpha", SEQNO_MAX))).toBe("one");
    expect(dec(tree.get("beta", SEQNO_MAX))).toBe("two");
    expect(dec(tree.get("gamma", SEQNO_MAX))).toBe("three");
    expect(seqno.get()).toBeGreaterThanOrEqual(3);
    await tree.close();
    // A different MemFs at the same path is another volume: a new, empty tree.
    const fresh = await Tree.open({ path, fs: new MemFs() });
    expect(fresh.isEmpty(SEQNO_MAX)).toBe(true);
    await fresh.close();
    hostUntouched();
  });

  it("keeps many flushes, compactions and a reopen entirely in memory", async () => {
    const { path, hostUntouched } = hostPath("churn");
    const fs = new MemFs();
    const seqno = new SequenceNumberCounter();
    let tree = await Tree.open({ path, fs, seqno });
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 200; i++) tree.insert(k(i), `r${round}`, seqno.next());
      await tree.flushActiveMemtable(0);
      await tree.compact(new Leveled({ l0Threshold: 2 }), seqno.get());
    }
    await tree.close();
    tree = await Tree.open({ path, fs, seqno });
    expect(tree.len(SEQNO_MAX)).toBe(200);
    expect(dec(tree.get(k(123), SEQNO_MAX))).toBe("r7");
    // Only live tables remain in the in-memory folder.
    expect(tableFiles(fs, join(path, "tables"))).toEqual([...tree.currentVersion().tables()].map((t) => String(t.id)).sort((a, b) => Number(a) - Number(b)));
    await tree.close();
    hostUntouched();
  });
});
