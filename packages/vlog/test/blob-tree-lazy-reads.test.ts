// What reads a blob tree's blob files, counted at the filesystem (a ForwardingFs counting positional
// reads of paths under /blobs/): len() and sizeOf() answer from the handles in the tables and read no
// blob; iterators resolve a separated value only when they yield it (none for an iterator never
// consumed, only the yielded ones for a loop that stops early or a limit); get / multiGet read each
// separated value they return once (one positional read of its record), and none for inline values,
// tombstones or missing keys; a compaction that only carries handles reads no blob.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { SEQNO_MAX, SequenceNumberCounter, type Tree } from "@talus/lsm-core";
import { BlobReadCountingFs, dec, k, openBlobTree, staleBlobFileIds } from "./blob-tree-support.ts";

const THRESHOLD = 32;
const N = 60;
/** Keys with an even index hold large (separated) values, odd ones small (inline). */
const isLarge = (i: number): boolean => i % 2 === 0;
const value = (i: number, tag = "v"): string => (isLarge(i) ? `${tag}${i}:`.padEnd(THRESHOLD + 10 + (i % 13), "L") : `${tag}${i}`);

interface Setup {
  readonly fs: BlobReadCountingFs;
  readonly tree: Tree;
  readonly seqno: SequenceNumberCounter;
  /** A read seqno before the overwrites. */
  readonly before: number;
  /** key -> value at SEQNO_MAX. */
  readonly contents: Map<string, string>;
}

/**
 * A reopened blob tree (its blob files opened by recovery, their reads not counted) with two flushes:
 * N keys, then overwrites of keys 0..9 (large again) and deletions of 10..14.
 */
async function setup(): Promise<Setup> {
  const fs = new BlobReadCountingFs(new MemFs());
  const seqno = new SequenceNumberCounter();
  const kv = { separationThreshold: THRESHOLD, fileTargetSize: 1000 };
  let tree = await openBlobTree(fs, seqno, kv);
  const contents = new Map<string, string>();
  for (let i = 0; i < N; i++) {
    tree.insert(k(i), value(i), seqno.next());
    contents.set(k(i), value(i));
  }
  await tree.flushActiveMemtable(0);
  const before = seqno.get();
  for (let i = 0; i < 10; i++) {
    tree.insert(k(i), value(i, "w"), seqno.next());
    contents.set(k(i), value(i, "w"));
  }
  for (let i = 10; i < 15; i++) {
    tree.remove(k(i), seqno.next());
    contents.delete(k(i));
  }
  await tree.flushActiveMemtable(0);
  await tree.close();
  tree = await openBlobTree(fs, seqno, kv);
  expect(tree.blobFileCount()).toBeGreaterThan(2);
  fs.reset();
  return { fs, tree, seqno, before, contents };
}

/** How many of `keys` hold a separated value at SEQNO_MAX. */
const largeCount = (s: Setup, keys: Iterable<string>): number => [...keys].filter((key) => (s.contents.get(key)?.length ?? 0) >= THRESHOLD).length;

describe("BlobTree: which reads touch blob files", () => {
  it("len(), sizeOf() and containsKey() read no blob, at any snapshot", async () => {
    const s = await setup();
    expect(s.tree.len(SEQNO_MAX)).toBe(s.contents.size);
    expect(s.tree.len(s.before)).toBe(N);
    for (let i = 0; i < N + 5; i++) {
      expect(s.tree.sizeOf(k(i), SEQNO_MAX), k(i)).toBe(s.contents.get(k(i))?.length);
      expect(s.tree.sizeOf(k(i), s.before), k(i)).toBe(i < N ? value(i).length : undefined);
      expect(s.tree.containsKey(k(i), SEQNO_MAX), k(i)).toBe(s.contents.has(k(i)));
      expect(s.tree.containsKey(k(i), s.before), k(i)).toBe(i < N);
    }
    expect(s.fs.reads, s.fs.paths.join(", ")).toBe(0);
    await s.tree.close();
  });

  it("iterators resolve only what they yield", async () => {
    const s = await setup();
    const keys = [...s.contents.keys()].sort();
    // Created, not consumed: nothing read.
    const idle = s.tree.iter(SEQNO_MAX);
    const idleRange = s.tree.range({ gte: k(20), reverse: true }, SEQNO_MAX);
    expect(s.fs.reads).toBe(0);
    // A loop that stops after five entries reads at most those five's blobs.
    let seen: string[] = [];
    for (const [key] of s.tree.iter(SEQNO_MAX)) {
      seen.push(dec(key) as string);
      if (seen.length === 5) break;
    }
    expect(s.fs.reads).toBe(largeCount(s, seen));
    s.fs.reset();
    // A limit, forward and reverse.
    seen = [...s.tree.range({ gte: k(20), limit: 7 }, SEQNO_MAX)].map(([key]) => dec(key) as string);
    expect(seen).toEqual(keys.filter((key) => key >= k(20)).slice(0, 7));
    expect(s.fs.reads).toBe(largeCount(s, seen));
    s.fs.reset();
    seen = [...s.tree.iter(SEQNO_MAX, { reverse: true, limit: 4 })].map(([key]) => dec(key) as string);
    expect(s.fs.reads).toBe(largeCount(s, seen));
    s.fs.reset();
    // A full scan reads each separated value once, and returns the right bytes.
    const all = [...idle].map(([key, v]) => `${dec(key)}=${dec(v)}`);
    expect(all).toEqual(keys.map((key) => `${key}=${s.contents.get(key)}`));
    expect(s.fs.reads).toBe(largeCount(s, keys));
    s.fs.reset();
    expect([...idleRange]).toHaveLength(keys.filter((key) => key >= k(20)).length);
    expect(s.fs.reads).toBe(largeCount(s, keys.filter((key) => key >= k(20))));
    s.fs.reset();
    // first/last resolve one value each.
    expect(dec(s.tree.firstKeyValue(SEQNO_MAX)?.[1])).toBe(s.contents.get(keys[0] as string));
    expect(dec(s.tree.lastKeyValue(SEQNO_MAX)?.[1])).toBe(s.contents.get(keys.at(-1) as string));
    expect(s.fs.reads).toBe(largeCount(s, [keys[0] as string, keys.at(-1) as string]));
    await s.tree.close();
  });

  it("get and multiGet read each returned separated value once; inline, deleted and missing keys read none", async () => {
    const s = await setup();
    const wanted = [k(3), k(4), k(12), k(20), k(21), k(999), k(58)];
    expect(s.tree.multiGet(wanted, SEQNO_MAX).map(dec)).toEqual(wanted.map((key) => s.contents.get(key)));
    expect(s.fs.reads).toBe(largeCount(s, wanted));
    s.fs.reset();
    for (const key of [k(1), k(11), k(999)]) expect(dec(s.tree.get(key, SEQNO_MAX))).toBe(s.contents.get(key));
    expect(s.fs.reads).toBe(0);
    expect(dec(s.tree.get(k(40), SEQNO_MAX))).toBe(value(40));
    expect(s.fs.reads).toBe(1);
    s.fs.reset();
    // An old snapshot reads the old value from the first flush's file.
    expect(dec(s.tree.get(k(2), s.before))).toBe(value(2));
    expect(s.fs.reads).toBe(1);
    s.fs.reset();
    // Duplicates: at most one read per occurrence.
    expect(s.tree.multiGet([k(6), k(6), k(6)], SEQNO_MAX).map(dec)).toEqual([value(6, "w"), value(6, "w"), value(6, "w")]);
    expect(s.fs.reads).toBeGreaterThanOrEqual(1);
    expect(s.fs.reads).toBeLessThanOrEqual(3);
    await s.tree.close();
  });

  it("a compaction that only carries handles reads no blob; one that relocates reads the values it moves", async () => {
    const s = await setup();
    // Watermark 0: nothing is dropped, nothing is garbage, so nothing is relocated.
    await s.tree.majorCompact(1 << 20, 0);
    expect(s.fs.reads).toBe(0);
    expect(s.tree.len(SEQNO_MAX)).toBe(s.contents.size);
    expect(s.fs.reads).toBe(0);
    // At the current watermark the overwritten and deleted values become garbage; files left stale are relocated.
    await s.tree.majorCompact(1 << 20, s.seqno.get());
    expect(staleBlobFileIds(s.tree, 0.25)).toEqual([]);
    const moved = s.fs.reads;
    expect(moved).toBeGreaterThan(0);
    // At most one read per live separated value (each relocated record is read once).
    expect(moved).toBeLessThanOrEqual(largeCount(s, s.contents.keys()));
    s.fs.reset();
    expect([...s.tree.iter(SEQNO_MAX)].map(([key, v]) => `${dec(key)}=${dec(v)}`)).toEqual([...s.contents].sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, v]) => `${key}=${v}`));
    await s.tree.close();
  });
});
