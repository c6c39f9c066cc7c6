// Checkpoints of blob trees: scenario 3 of the reference's checkpoint_pitr.rs (blob files captured, the
// checkpoint opens as an independent BlobTree with every value readable), relocation while a checkpoint
// is in flight, and cross-backend checkpoints (MemFs to disk and back).
import { join } from "node:path";
import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { MemFs, StdFs, type Fs } from "@talus/fs";
import { SEQNO_MAX, SequenceNumberCounter, type Tree } from "@talus/lsm-core";
import { BlobTree } from "@talus/vlog";
import { useTempDirs } from "@talus/testkit";
import { createCheckpoint } from "../src/index.ts";

const dirs = useTempDirs(afterEach);
const std = new StdFs();
const dec = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));
const key = (i: number): string => `key${String(i).padStart(5, "0")}`;
/** 4 KiB values, each different. */
const big = (i: number, tag = "v"): string => `${tag}${i}:`.padEnd(4096, String.fromCharCode(97 + (i % 26)));

async function openBlob(fs: Fs, path: string, seqno = new SequenceNumberCounter(), stalenessThreshold = 0.5): Promise<Tree> {
  return BlobTree.open({ path, fs, seqno, kvSeparation: { separationThreshold: 1, stalenessThreshold, ageCutoff: 1 } });
}

async function readAll(fs: Fs, path: string): Promise<Map<string, string>> {
  const tree = await openBlob(fs, path);
  try {
    const out = new Map<string, string>();
    for (const [k, v] of tree.iter(SEQNO_MAX)) out.set(dec(k) as string, dec(v) as string);
    tree.verify();
    return out;
  } finally {
    await tree.close();
  }
}

describe("checkpoints of blob trees", () => {
  it("3 blob_tree_checkpoint_captures_blobs: blob files are linked under blobs/ and the checkpoint opens as a BlobTree", async () => {
    const base = dirs.make("ck-blob");
    const seqno = new SequenceNumberCounter();
    const tree = await openBlob(std, join(base, "db"), seqno);
    for (let i = 0; i < 10; i++) tree.insert(key(i), big(i), seqno.next());
    const info = await createCheckpoint(tree, join(base, "ck"));
    expect(info.sstFiles).toBeGreaterThanOrEqual(1);
    expect(info.blobFiles).toBeGreaterThanOrEqual(1);
    const onDisk = [...std.readDir(join(base, "ck", "tables")), ...std.readDir(join(base, "ck", "blobs"))].reduce((n, e) => n + std.metadata(e.path).len, 0);
    expect(info.totalBytes).toBe(onDisk);
    expect(std.readDir(join(base, "ck", "blobs"))).toHaveLength(info.blobFiles);
    await tree.close();
    rmSync(join(base, "db"), { recursive: true });
    const copy = await readAll(std, join(base, "ck"));
    expect([...copy.entries()]).toEqual(Array.from({ length: 10 }, (_, i) => [key(i), big(i)]));
  });

  it("captures the blob files of the version it captured while a relocating compaction runs", async () => {
    const fs = new MemFs();
    const seqno = new SequenceNumberCounter();
    // A lenient staleness threshold first, so the major compaction leaves the first blob file 75% garbage
    // without relocating it; reopened with 0.5, that file is stale and the next merge relocates it.
    const lenient = await openBlob(fs, "/db", seqno, 0.9);
    for (let i = 0; i < 40; i++) lenient.insert(key(i), big(i), seqno.next());
    await lenient.flushActiveMemtable(0);
    for (let i = 0; i < 30; i++) lenient.insert(key(i), big(i, "w"), seqno.next());
    await lenient.flushActiveMemtable(0);
    await lenient.majorCompact(1 << 30, seqno.get());
    expect(lenient.staleBlobBytes()).toBeGreaterThan(0);
    await lenient.close();
    const tree = await openBlob(fs, "/db", seqno);
    expect(tree.staleBlobBytes()).toBeGreaterThan(0);
    const expected = new Map(Array.from({ length: 40 }, (_, i) => [key(i), i < 30 ? big(i, "w") : big(i)]));
    // Started together: the compaction relocates (and obsoletes a blob file) while the checkpoint links.
    const [info] = await Promise.all([createCheckpoint(tree, "/ck"), tree.majorCompact(1 << 30, seqno.get())]);
    expect(info.blobFiles).toBeGreaterThanOrEqual(1);
    expect(tree.staleBlobBytes()).toBe(0);
    await tree.close();
    fs.removeDirAll("/db");
    expect(await readAll(fs, "/ck")).toEqual(expected);
  });

  it("copies across backends, MemFs to disk and back, and the copies are independent", async () => {
    const mem = new MemFs();
    const seqno = new SequenceNumberCounter();
    const tree = await openBlob(mem, "/db", seqno);
    for (let i = 0; i < 20; i++) tree.insert(key(i), i % 2 === 0 ? big(i) : `small${i}`, seqno.next());
    const base = dirs.make("ck-cross");
    const info = await createCheckpoint(tree, join(base, "ck"), { fs: std });
    expect(info.blobFiles).toBe(1);
    await tree.close();
    const expected = new Map(Array.from({ length: 20 }, (_, i) => [key(i), i % 2 === 0 ? big(i) : `small${i}`]));
    expect(await readAll(std, join(base, "ck"))).toEqual(expected);

    const fromDisk = await openBlob(std, join(base, "ck"), new SequenceNumberCounter());
    const mem2 = new MemFs();
    const back = await createCheckpoint(fromDisk, "/back", { fs: mem2 });
    expect(back.blobFiles).toBe(1);
    // Writes to the disk copy after the checkpoint do not reach the MemFs one.
    fromDisk.insert(key(0), big(0, "changed"), fromDisk.seqnoCounter.next());
    await fromDisk.flushActiveMemtable(0);
    await fromDisk.close();
    expect(await readAll(mem2, "/back")).toEqual(expected);
  });

  it("a checkpoint of an empty blob tree holds an empty blobs/ and opens as a blob tree", async () => {
    const fs = new MemFs();
    const tree = await openBlob(fs, "/db");
    const info = await createCheckpoint(tree, "/ck");
    expect(info).toMatchObject({ sstFiles: 0, blobFiles: 0, totalBytes: 0 });
    expect(fs.readDir("/ck/blobs")).toEqual([]);
    await tree.close();
    expect((await readAll(fs, "/ck")).size).toBe(0);
  });
});
