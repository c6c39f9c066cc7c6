// Key-value separation hooks (src/separation/value-log.ts) with a simple fake value log: what lsm-core
// does on its own side of the contract (separating at flush, compaction and ingestion; resolving on
// every read; listing, recovering and deleting blob files). @talus/vlog tests the real blob format.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { appendMerge, Fifo, Leveled, SequenceNumberCounter, Tree, ValueKind, type CompactionFilter, type TreeOptions } from "../src/index.ts";
import { dec, enc } from "./helpers.ts";
import { isLsmError, k, keysOf, pairsOf } from "./tree-support.ts";
import { FakeValueLog } from "./value-log-support.ts";

const THRESHOLD = 64;
const big = (i: number, fill = "v"): string => `${i}:`.padEnd(THRESHOLD + (i % 5) * 10, fill);
const small = (i: number): string => `s${i}`;

async function open(fs = new MemFs(), seqno = new SequenceNumberCounter(), extra: Partial<TreeOptions> = {}): Promise<{ tree: Tree; log: FakeValueLog; fs: MemFs; seqno: SequenceNumberCounter }> {
  const log = new FakeValueLog(fs, "/db", THRESHOLD);
  const tree = await Tree.open({ path: "/db", fs, seqno, valueLog: log, blockSize: 256, ...extra });
  return { tree, log, fs, seqno };
}

/** Half the values large (separated), half small (inline). */
function fill(tree: Tree, seqno: SequenceNumberCounter, n: number, from = 0): void {
  for (let i = from; i < from + n; i++) tree.insert(k(i), i % 2 === 0 ? big(i) : small(i), seqno.next());
}

const expected = (i: number): string => (i % 2 === 0 ? big(i) : small(i));

describe("key-value separation hooks", () => {
  it("flush separates large values; every read resolves them", async () => {
    const { tree, log, seqno } = await open();
    fill(tree, seqno, 40);
    const beforeFlush = seqno.get();
    await tree.flushActiveMemtable(0);
    expect(tree.blobFileCount()).toBe(1);
    const table = [...tree.currentVersion().tables()][0];
    expect(table?.table.meta.indirectionCount).toBe(20);
    const now = seqno.get();
    for (let i = 0; i < 40; i++) expect(dec(tree.get(k(i), now))).toBe(expected(i));
    expect(tree.multiGet([k(0), k(1), k(99)], now).map((v) => (v === undefined ? undefined : dec(v)))).toEqual([big(0), small(1), undefined]);
    expect(pairsOf(tree.iter(now))).toEqual(Array.from({ length: 40 }, (_, i) => `${k(i)}=${expected(i)}`));
    expect(pairsOf(tree.iter(now, { reverse: true }))).toEqual(Array.from({ length: 40 }, (_, i) => `${k(39 - i)}=${expected(39 - i)}`));
    expect(pairsOf(tree.range({ gte: k(10), lt: k(14) }, now))).toEqual([10, 11, 12, 13].map((i) => `${k(i)}=${expected(i)}`));
    expect(pairsOf(tree.prefix("key0001", now, { reverse: true }))).toEqual([19, 18, 17, 16, 15, 14, 13, 12, 11, 10].map((i) => `${k(i)}=${expected(i)}`));
    expect(dec(tree.firstKeyValue(now)?.[1])).toBe(big(0));
    expect(dec(tree.lastKeyValue(now)?.[1])).toBe(small(39));
    // A snapshot from before the flush reads the same.
    expect(dec(tree.get(k(38), beforeFlush))).toBe(big(38));
    await tree.close();
  });

  it("sizeOf and len do not read blobs", async () => {
    const { tree, log, seqno } = await open();
    fill(tree, seqno, 20);
    await tree.flushActiveMemtable(0);
    const reads = log.reads;
    expect(tree.sizeOf(k(4), seqno.get())).toBe(big(4).length);
    expect(tree.sizeOf(k(5), seqno.get())).toBe(small(5).length);
    expect(tree.sizeOf(k(99), seqno.get())).toBeUndefined();
    expect(tree.len(seqno.get())).toBe(20);
    expect(log.reads).toBe(reads);
    // Deleted by a range tombstone: no size either.
    tree.removeRange(k(0), k(10), seqno.next());
    expect(tree.sizeOf(k(4), seqno.get())).toBeUndefined();
    expect(tree.len(seqno.get())).toBe(10);
    await tree.close();
  });

  it("reopens with its blob files; the other kind of open fails with UNRECOVERABLE", async () => {
    const { tree, fs, seqno } = await open();
    fill(tree, seqno, 30);
    await tree.flushActiveMemtable(0);
    fill(tree, seqno, 30, 30);
    await tree.flushActiveMemtable(0);
    await tree.close();
    await expect(Tree.open({ path: "/db", fs })).rejects.toSatisfy(isLsmError("UNRECOVERABLE"));
    const again = await open(fs, seqno);
    expect(again.tree.blobFileCount()).toBe(2);
    expect(pairsOf(again.tree.iter(seqno.get()))).toEqual(Array.from({ length: 60 }, (_, i) => `${k(i)}=${expected(i)}`));
    again.tree.verify();
    await again.tree.close();

    const plainFs = new MemFs();
    const plain = await Tree.open({ path: "/db", fs: plainFs });
    plain.insert("a", "b", 0);
    await plain.flushActiveMemtable(0);
    await plain.close();
    await expect(open(plainFs)).rejects.toSatisfy(isLsmError("UNRECOVERABLE"));
  });

  it("removes orphan blob files on open and refuses a missing or changed one", async () => {
    const { tree, fs, seqno } = await open();
    fill(tree, seqno, 10);
    await tree.flushActiveMemtable(0);
    await tree.close();
    // An orphan: written by a job that never got installed.
    const orphan = fs.open("/db/blobs/77", { write: true, createNew: true });
    orphan.write(enc("left over"));
    orphan.close();
    const again = await open(fs, seqno);
    expect(fs.exists("/db/blobs/77")).toBe(false);
    await again.tree.close();
    // A listed file that changed is refused, naming it.
    const listed = fs.readDir("/db/blobs").map((e) => e.fileName);
    expect(listed).toHaveLength(1);
    const file = fs.open(`/db/blobs/${listed[0]}`, { write: true, append: true });
    file.write(enc("x"));
    file.close();
    await expect(open(fs, seqno)).rejects.toSatisfy((e: unknown) => isLsmError("CORRUPTION")(e) && String(e).includes(`/db/blobs/${listed[0]}`));
    fs.removeFile(`/db/blobs/${listed[0]}`);
    await expect(open(fs, seqno)).rejects.toSatisfy(isLsmError("UNRECOVERABLE"));
  });

  it("compaction carries handles without rewriting blobs; dropped data's files go once unreferenced", async () => {
    const { tree, log, seqno } = await open();
    fill(tree, seqno, 40);
    await tree.flushActiveMemtable(0);
    fill(tree, seqno, 40);
    await tree.flushActiveMemtable(0);
    expect(tree.blobFileCount()).toBe(2);
    const reads = log.reads;
    await tree.majorCompact(1 << 20, seqno.get());
    // Handles moved; no blob was read or copied. The first file's values were all overwritten: dead.
    expect(log.reads).toBe(reads);
    expect(tree.blobFileCount()).toBe(1);
    expect(pairsOf(tree.iter(seqno.get()))).toEqual(Array.from({ length: 40 }, (_, i) => `${k(i)}=${expected(i)}`));
    await tree.close();
  });

  it("counts garbage from the tables' references and drops blob files nothing references", async () => {
    const { tree, log, fs, seqno } = await open();
    // Never stale: this test watches garbage accumulate, without relocation.
    log.stalenessThreshold = 1;
    fill(tree, seqno, 40);
    await tree.flushActiveMemtable(0);
    const first = fs.readDir("/db/blobs").map((e) => e.fileName);
    expect(tree.staleBlobBytes()).toBe(0);
    // Overwrite half of the large values (keys 0, 4, 8, ...) with small ones.
    for (let i = 0; i < 40; i += 4) tree.insert(k(i), "small now", seqno.next());
    await tree.flushActiveMemtable(0);
    // Both tables are live: the old versions still count until compaction drops them.
    expect(tree.staleBlobBytes()).toBe(0);
    await tree.majorCompact(1 << 20, seqno.get());
    const overwritten = [0, 4, 8, 12, 16, 20, 24, 28, 32, 36].reduce((n, i) => n + big(i).length, 0);
    expect(tree.staleBlobBytes()).toBe(overwritten);
    expect(tree.blobFileCount()).toBe(1);
    // Delete the rest; an iterator opened before keeps reading the old values meanwhile.
    const before = tree.iter(seqno.get());
    for (let i = 0; i < 40; i++) tree.remove(k(i), seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(1 << 20, seqno.get());
    expect(tree.tableCount()).toBe(0);
    expect(tree.blobFileCount()).toBe(0);
    expect(tree.staleBlobBytes()).toBe(0);
    expect(fs.exists(`/db/blobs/${first[0]}`)).toBe(true);
    expect(pairsOf(before)).toHaveLength(40);
    // The iterator is done, and a change with a watermark above the old snapshots lets them go.
    tree.insert("x", "y", seqno.next());
    await tree.flushActiveMemtable(seqno.get());
    expect(fs.readDir("/db/blobs")).toEqual([]);
    await tree.close();
    const again = await open(fs, seqno);
    expect(again.tree.blobFileCount()).toBe(0);
    await again.tree.close();
  });

  it("a major compaction relocates the live values of blob files it leaves stale, which then go", async () => {
    const { tree, log, fs, seqno } = await open();
    fill(tree, seqno, 40);
    await tree.flushActiveMemtable(0);
    const [oldFile] = fs.readDir("/db/blobs").map((e) => e.fileName);
    const snapshot = seqno.get();
    const before = Array.from({ length: 40 }, (_, i) => `${k(i)}=${expected(i)}`);
    // Overwrite 12 of the 20 large values: once compacted, 60% of the file is garbage.
    for (let i = 0; i < 24; i += 2) tree.insert(k(i), `new${i}`, seqno.next());
    await tree.flushActiveMemtable(0);
    // An iterator opened at the old snapshot pins what it reads.
    const pinned = tree.iter(snapshot);
    // The first pass drops the old versions and finds the file stale; a second pass moves its 8 live values.
    const result = await tree.majorCompact(1 << 20, seqno.get());
    expect(result).toMatchObject({ action: "merged", tablesIn: 2 });
    expect(log.relocations).toBe(8);
    expect(tree.blobFileCount()).toBe(1);
    expect(tree.staleBlobBytes()).toBe(0);
    expect(fs.readDir("/db/blobs").map((e) => e.fileName)).toContain(oldFile);
    const want = Array.from({ length: 40 }, (_, i) => `${k(i)}=${i < 24 && i % 2 === 0 ? `new${i}` : expected(i)}`);
    expect(pairsOf(tree.iter(seqno.get()))).toEqual(want);
    // The reader opened before still sees the old values, from the old file.
    expect(pairsOf(pinned)).toEqual(before);
    // Once older snapshots may go, so does the old file.
    tree.insert("zz", "1", seqno.next());
    await tree.flushActiveMemtable(seqno.get());
    expect(fs.readDir("/db/blobs").map((e) => e.fileName)).not.toContain(oldFile);
    await tree.close();
    const again = await open(fs, seqno);
    expect(pairsOf(again.tree.range({ lt: "zz" }, seqno.get()))).toEqual(want);
    await again.tree.close();
  });

  it("an incremental merge relocates only the oldest ageCutoff of its stale candidates (rounded up)", async () => {
    const { tree, log, seqno } = await open();
    log.stalenessThreshold = 1;
    // Three blob files, one per flush, each with 10 large values of its own keys.
    for (let f = 0; f < 3; f++) {
      for (let i = 0; i < 10; i++) tree.insert(k(f * 100 + i), big(2 * i), seqno.next());
      await tree.flushActiveMemtable(0);
    }
    // Overwrite 6 of each file's values, then fold everything into one table without relocating.
    for (let f = 0; f < 3; f++) for (let i = 0; i < 6; i++) tree.insert(k(f * 100 + i), "small", seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(1 << 20, seqno.get());
    expect(tree.blobFileCount()).toBe(3);
    // Now stale; a Leveled merge of L0 with that table relocates ceil(3 * 0.34) = 2 files: the two oldest.
    log.stalenessThreshold = 0.5;
    log.ageCutoff = 0.34;
    tree.insert(k(5), big(5), seqno.next());
    await tree.flushActiveMemtable(0);
    const result = await tree.compact(new Leveled({ l0Threshold: 1 }), seqno.get());
    expect(result.action).toBe("merged");
    expect(log.relocations).toBe(8);
    expect(tree.blobFileCount()).toBe(3);
    await tree.close();
  });

  it("does not relocate a stale file that only tables outside the compaction reference", async () => {
    const { tree, log, seqno } = await open();
    log.stalenessThreshold = 1;
    fill(tree, seqno, 40);
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(1 << 20, 0);
    for (let i = 0; i < 24; i += 2) tree.insert(k(i), `new${i}`, seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(1 << 20, seqno.get());
    expect(tree.staleBlobBytes()).toBeGreaterThan(0);
    log.stalenessThreshold = 0.5;
    // Two small L0 runs merge; the stale file's references live in the big run outside the merge.
    tree.insert(k(1000), big(1000), seqno.next());
    await tree.flushActiveMemtable(0);
    tree.insert(k(1000), big(1001), seqno.next());
    await tree.flushActiveMemtable(0);
    const result = await tree.compact(new Leveled({ l0Threshold: 2 }), 0);
    expect(result).toMatchObject({ action: "merged", tablesIn: 2 });
    expect(log.relocations).toBe(0);
    expect(tree.staleBlobBytes()).toBeGreaterThan(0);
    await tree.close();
  });

  it("FIFO counts blob bytes and frees the blob files of the tables it drops", async () => {
    const { tree, fs, seqno } = await open();
    for (let batch = 0; batch < 4; batch++) {
      fill(tree, seqno, 20, batch * 100);
      await tree.flushActiveMemtable(0);
    }
    expect(tree.blobFileCount()).toBe(4);
    const tables = [...tree.currentVersion().tables()];
    const tableBytes = tables.reduce((n, t) => n + t.size, 0);
    const blobBytes = tree.currentVersion().blobFiles.reduce((n, b) => n + b.info.storedBytes, 0);
    expect(tables.every((t) => t.referencedBlobBytes > 0)).toBe(true);
    // Room for a bit more than half: the two oldest batches go with their blob files.
    const limit = Math.ceil((tableBytes + blobBytes) * 0.55);
    const result = await tree.compact(new Fifo({ limitBytes: limit }), seqno.get());
    expect(result).toMatchObject({ action: "dropped", tablesIn: 2 });
    expect(tree.blobFileCount()).toBe(2);
    expect(keysOf(tree.iter(seqno.get()))[0]).toBe(k(200));
    tree.insert("x", "y", seqno.next());
    await tree.flushActiveMemtable(seqno.get());
    expect(fs.readDir("/db/blobs")).toHaveLength(2);
    await tree.close();
  });

  it("dropRange and clear make blob files dead", async () => {
    const { tree, fs, seqno } = await open();
    fill(tree, seqno, 40);
    await tree.flushActiveMemtable(0);
    fill(tree, seqno, 40, 100);
    await tree.flushActiveMemtable(0);
    expect(tree.blobFileCount()).toBe(2);
    await tree.dropRange({ gte: k(100) });
    expect(tree.blobFileCount()).toBe(1);
    await tree.clear();
    expect(tree.blobFileCount()).toBe(0);
    // Reads at old seqnos keep the files until a change with a watermark above them.
    expect(fs.readDir("/db/blobs")).toHaveLength(2);
    tree.insert("x", "y", seqno.next());
    await tree.flushActiveMemtable(seqno.get());
    expect(fs.readDir("/db/blobs")).toEqual([]);
    await tree.close();
  });

  it("ingestion separates large values too, visible at finish", async () => {
    const { tree, seqno } = await open();
    tree.insert(k(5), "old", seqno.next());
    const ingestion = tree.ingestion();
    for (let i = 0; i < 30; i++) ingestion.write(k(i), expected(i));
    expect(tree.blobFileCount()).toBe(0);
    await ingestion.finish();
    expect(tree.blobFileCount()).toBe(1);
    expect(pairsOf(tree.iter(seqno.get()))).toEqual(Array.from({ length: 30 }, (_, i) => `${k(i)}=${expected(i)}`));
    await tree.close();
  });

  it("an aborted ingestion leaves no blob file", async () => {
    const { tree, fs } = await open();
    const ingestion = tree.ingestion();
    for (let i = 0; i < 30; i++) ingestion.write(k(i), expected(i));
    await ingestion.abort();
    expect(fs.readDir("/db/blobs")).toEqual([]);
    await tree.close();
  });

  it("accepts values larger than a table holds, and merges onto separated bases", async () => {
    const { tree, seqno } = await open(new MemFs(), new SequenceNumberCounter(), { mergeOperator: appendMerge({ separator: "+" }) });
    // Above what a table holds (256 MiB blocks) only a blob file could take it; above the log's limit, nothing.
    expect(() => tree.insert("huge", new Uint8Array(64 * 1024 * 1024 + 1), seqno.next())).toThrow(RangeError);
    tree.insert("base", big(2), seqno.next());
    await tree.flushActiveMemtable(0);
    tree.merge("base", "m1", seqno.next());
    await tree.flushActiveMemtable(0);
    tree.merge("base", "m2", seqno.next());
    const want = `${big(2)}+m1+m2`;
    expect(dec(tree.get("base", seqno.get()))).toBe(want);
    expect(pairsOf(tree.iter(seqno.get()))).toEqual([`base=${want}`]);
    expect(pairsOf(tree.iter(seqno.get(), { reverse: true }))).toEqual([`base=${want}`]);
    // Compaction collapses operands onto the separated base: the result is large, so separated again.
    await tree.majorCompact(1 << 20, seqno.get());
    expect(dec(tree.get("base", seqno.get()))).toBe(want);
    const tables = [...tree.currentVersion().tables()];
    expect(tables.reduce((n, t) => n + t.table.meta.mergeOperandCount, 0)).toBe(0);
    expect(tables.reduce((n, t) => n + t.table.meta.indirectionCount, 0)).toBe(1);
    await tree.close();
  });

  it("compaction filters see separated values (read on demand) and may replace them", async () => {
    const seen: string[] = [];
    const filter: CompactionFilter = {
      name: "upper-big",
      create: () => ({
        filter(item) {
          const value = dec(item.value()) as string;
          seen.push(dec(item.key) as string);
          if (value.length >= THRESHOLD && value.startsWith("0:")) return "destroy";
          return value.length >= THRESHOLD ? { replace: enc(value.toUpperCase()) } : "keep";
        },
      }),
    };
    const { tree, seqno } = await open(new MemFs(), new SequenceNumberCounter(), { compactionFilter: filter });
    fill(tree, seqno, 6);
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(1 << 20, seqno.get());
    expect(seen).toEqual([0, 1, 2, 3, 4, 5].map((i) => k(i)));
    expect(pairsOf(tree.iter(seqno.get()))).toEqual([1, 2, 3, 4, 5].map((i) => `${k(i)}=${i % 2 === 0 ? big(i).toUpperCase() : small(i)}`));
    expect(keysOf(tree.iter(seqno.get()))).not.toContain(k(0));
    await tree.close();
  });

  it("writes indirection entries only for values at or above the threshold", async () => {
    const { tree, seqno } = await open();
    tree.insert("below", "x".repeat(THRESHOLD - 1), seqno.next());
    tree.insert("at", "x".repeat(THRESHOLD), seqno.next());
    tree.remove("gone", seqno.next());
    tree.merge("op", "y".repeat(THRESHOLD * 2), seqno.next());
    await tree.flushActiveMemtable(0);
    const meta = [...tree.currentVersion().tables()][0]?.table.meta;
    expect(meta?.indirectionCount).toBe(1);
    expect(meta?.mergeOperandCount).toBe(1);
    expect(ValueKind.Indirection).toBe(4);
    await tree.close();
  });
});
