// BlobTree end to end on the real blob format: separation, reads, reopen, garbage collection,
// relocation and corruption reporting.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { LsmError, SequenceNumberCounter, Tree } from "@talus/lsm-core";
import { BlobTree } from "../src/index.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : new TextDecoder().decode(b));
const key = (i: number): string => `key${String(i).padStart(5, "0")}`;
const THRESHOLD = 100;
const value = (i: number, tag = "v"): string => (i % 2 === 0 ? `${tag}${i}:`.padEnd(THRESHOLD + i, "x") : `${tag}${i}`);

async function open(fs = new MemFs(), seqno = new SequenceNumberCounter(), compression: "none" | "lz4" = "none"): Promise<{ tree: BlobTree; fs: MemFs; seqno: SequenceNumberCounter }> {
  const tree = await BlobTree.open({ path: "/db", fs, seqno, kvSeparation: { separationThreshold: THRESHOLD, stalenessThreshold: 0.5, ageCutoff: 1, compression } });
  return { tree, fs, seqno };
}

describe("BlobTree", () => {
  for (const compression of ["none", "lz4"] as const) {
    it(`separates, reads, survives reopen and collects garbage (${compression})`, async () => {
      const { tree, fs, seqno } = await open(new MemFs(), new SequenceNumberCounter(), compression);
      for (let i = 0; i < 200; i++) tree.insert(key(i), value(i), seqno.next());
      await tree.flushActiveMemtable(0);
      expect(tree.blobFileCount()).toBe(1);
      expect(fs.readDir("/db/blobs")).toHaveLength(1);
      for (let i = 0; i < 200; i++) expect(dec(tree.get(key(i), seqno.get()))).toBe(value(i));
      expect(tree.sizeOf(key(10), seqno.get())).toBe(value(10).length);
      await tree.close();
      const again = await open(fs, seqno, compression);
      expect([...again.tree.iter(seqno.get(), { reverse: true })].map(([k, v]) => `${dec(k)}=${dec(v)}`)).toEqual(
        Array.from({ length: 200 }, (_, j) => `${key(199 - j)}=${value(199 - j)}`),
      );
      again.tree.verify();
      // Overwrite most large values; one major compaction drops the old versions, finds the first blob
      // file stale and relocates its live values: the file is gone, its values in a new one.
      for (let i = 0; i < 160; i += 2) again.tree.insert(key(i), value(i, "w"), seqno.next());
      await again.tree.flushActiveMemtable(0);
      await again.tree.majorCompact(1 << 20, seqno.get());
      expect(again.tree.staleBlobBytes()).toBe(0);
      expect(again.tree.blobFileCount()).toBe(2);
      for (let i = 0; i < 200; i++) expect(dec(again.tree.get(key(i), seqno.get()))).toBe(i < 160 && i % 2 === 0 ? value(i, "w") : value(i));
      // Everything deleted and compacted twice: no blob file left.
      for (let i = 0; i < 200; i++) again.tree.remove(key(i), seqno.next());
      await again.tree.flushActiveMemtable(0);
      await again.tree.majorCompact(1 << 20, seqno.get());
      await again.tree.majorCompact(1 << 20, seqno.get());
      expect(again.tree.blobFileCount()).toBe(0);
      again.tree.insert("z", "z", seqno.next());
      await again.tree.flushActiveMemtable(seqno.get());
      expect(fs.readDir("/db/blobs")).toEqual([]);
      await again.tree.close();
    });
  }

  it("takes values larger than a table holds", async () => {
    const { tree, seqno } = await open();
    const huge = new Uint8Array(3 * 1024 * 1024).fill(9);
    tree.insert("huge", huge, seqno.next());
    await tree.flushActiveMemtable(0);
    const read = tree.get("huge", seqno.get());
    // Buffer.compare: a deep equality of 3 MiB element by element takes seconds.
    expect(read !== undefined && Buffer.compare(read, huge) === 0).toBe(true);
    await tree.close();
  });

  it("refuses to open as the other kind of tree", async () => {
    const { tree, fs, seqno } = await open();
    tree.insert("a", "b".repeat(200), seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.close();
    await expect(Tree.open({ path: "/db", fs })).rejects.toSatisfy((e: unknown) => e instanceof LsmError && e.code === "UNRECOVERABLE");
    const plain = new MemFs();
    const t = await Tree.open({ path: "/db", fs: plain });
    await t.close();
    await expect(BlobTree.open({ path: "/db", fs: plain })).rejects.toSatisfy((e: unknown) => e instanceof LsmError && e.code === "UNRECOVERABLE");
  });

  it("reports a damaged blob as CORRUPTION naming the file, on read and in verify()", async () => {
    const { tree, fs, seqno } = await open();
    tree.insert("a", "A".repeat(500), seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.close();
    const [name] = fs.readDir("/db/blobs").map((e) => e.fileName);
    const path = `/db/blobs/${name}`;
    const reader = fs.open(path, { read: true });
    const bytes = new Uint8Array(reader.len());
    reader.readAt(bytes, 0);
    reader.close();
    // A byte of the value (after the 12-byte file header, 28-byte record header and 1-byte key).
    bytes[12 + 28 + 1 + 100] = (bytes[12 + 28 + 1 + 100] as number) ^ 0xff;
    const writer = fs.open(path, { write: true, truncate: true });
    writer.write(bytes);
    writer.close();
    const again = await open(fs, seqno);
    const isCorruption = (e: unknown): boolean => e instanceof LsmError && e.code === "CORRUPTION" && e.message.includes(path);
    expect(() => again.tree.get("a", seqno.get())).toThrow();
    try {
      again.tree.get("a", seqno.get());
    } catch (error) {
      expect(isCorruption(error)).toBe(true);
    }
    expect(() => again.tree.verify()).toThrow(/blobs/);
    await again.tree.close();
  });

  it("validates kvSeparation", async () => {
    await expect(BlobTree.open({ path: "/db", fs: new MemFs(), kvSeparation: { separationThreshold: 0 } })).rejects.toThrow(RangeError);
    await expect(BlobTree.open({ path: "/db", fs: new MemFs(), kvSeparation: { stalenessThreshold: 2 } })).rejects.toThrow(RangeError);
    await expect(BlobTree.open({ path: "/db", fs: new MemFs(), kvSeparation: { compression: "zstd" as "lz4" } })).rejects.toThrow(RangeError);
  });

  it("counts blob files in diskSpace()", async () => {
    const { tree, fs, seqno } = await open();
    for (let i = 0; i < 50; i++) tree.insert(key(i), "L".repeat(2000), seqno.next());
    await tree.flushActiveMemtable(0);
    const onDisk = (dir: string): number => fs.readDir(dir).reduce((n, e) => n + fs.metadata(e.path).len, 0);
    const blobBytes = onDisk("/db/blobs");
    expect(blobBytes).toBeGreaterThan(100_000);
    expect(tree.diskSpace()).toBe(onDisk("/db/tables") + blobBytes);
    await tree.close();
  });

  it("refuses to open when a blob file the version lists is missing, naming its path", async () => {
    const { tree, fs, seqno } = await open();
    tree.insert("a", "A".repeat(500), seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.close();
    const [entry] = fs.readDir("/db/blobs");
    fs.removeFile(entry!.path);
    await expect(open(fs, seqno)).rejects.toSatisfy((e: unknown) => e instanceof LsmError && e.code === "UNRECOVERABLE" && e.message.includes(entry!.path));
  });
});
