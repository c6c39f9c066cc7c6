import { StdFs } from "@talus/fs";
import { SequenceNumberCounter } from "@talus/lsm-core";
import { Random, useTempDirs } from "@talus/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { BlobFile, BlobTree, RECORD_HEADER_SIZE } from "../src/index.ts";
import { enc, flipBit, lsmErrorOf, readFile, valueOf, writeBlobFile, writeFile } from "./blob-support.ts";

const dirs = useTempDirs(afterEach);

/** Reads of blob files served from memory maps (StdFs with its addon; the tree's `mapTables`). */
describe.skipIf(!StdFs.mapsFiles())("blob files read through memory maps", () => {
  it("reads every value as the positional reads do, compressed or not, each a copy the caller may write", () => {
    const fs = new StdFs();
    const rng = new Random(3);
    const values = [0, 1, 64, 65, 100, 4096, 8192, 8193, 70_000].flatMap((size) => [valueOf(rng, size, true), valueOf(rng, size, false)]);
    for (const codec of ["none", "lz4"] as const) {
      const { path, records } = writeBlobFile({ fs, dir: dirs.make("vlog-map") }, 3, values, codec);
      const mapped = BlobFile.open(fs, path, { map: true });
      const plain = BlobFile.open(fs, path, { map: false });
      try {
        for (const record of records) {
          const a = mapped.read(record.handle, record.key);
          expect(Buffer.from(a).equals(record.value)).toBe(true);
          expect(Buffer.from(mapped.read(record.handle)).equals(record.value)).toBe(true);
          expect(Buffer.from(plain.read(record.handle, record.key)).equals(record.value)).toBe(true);
          // The map is read-only memory: a value handed out must be a copy (writing a view would crash).
          a.fill(0xee);
          expect(Buffer.from(mapped.read(record.handle, record.key)).equals(record.value)).toBe(true);
        }
      } finally {
        mapped.close();
        plain.close();
      }
    }
  });

  it("a damaged record read through the map is CORRUPTION naming the file, and only that record fails", () => {
    const fs = new StdFs();
    const rng = new Random(4);
    const { path, records } = writeBlobFile({ fs, dir: dirs.make("vlog-map") }, 4, [valueOf(rng, 5000, false), valueOf(rng, 5000, false), valueOf(rng, 5000, false)], "none");
    const target = records[1]!;
    const bytes = readFile(fs, path);
    // A bit in the second record's value.
    writeFile(fs, path, flipBit(bytes, (target.handle.offset + RECORD_HEADER_SIZE + target.key.length + 100) * 8));
    const file = BlobFile.open(fs, path, { map: true });
    try {
      const error = lsmErrorOf(() => file.read(target.handle, target.key));
      expect(error?.code).toBe("CORRUPTION");
      expect(error?.message).toContain(path);
      expect(Buffer.from(file.read(records[0]!.handle, records[0]!.key)).equals(records[0]!.value)).toBe(true);
      expect(Buffer.from(file.read(records[2]!.handle, records[2]!.key)).equals(records[2]!.value)).toBe(true);
      // A handle past the end of the records is refused, never read out of the map's bounds.
      expect(lsmErrorOf(() => file.read({ ...target.handle, offset: bytes.length - 10 }))?.code).toBe("CORRUPTION");
    } finally {
      file.close();
    }
  });

  it("a blob tree answers the same with mapTables on and off, across flush, compaction and reopen", async () => {
    const rng = new Random(5);
    const model = new Map<string, Uint8Array>();
    const dir = dirs.make("vlog-map-tree");
    const seqno = new SequenceNumberCounter();
    const open = (mapTables: boolean) => BlobTree.open({ path: dir, fs: new StdFs(), seqno, mapTables, workers: false, kvSeparation: { separationThreshold: 256 } });
    let tree = await open(true);
    for (let i = 0; i < 300; i++) {
      const key = `k${String(rng.int(100)).padStart(3, "0")}`;
      const value = valueOf(rng, rng.pick([10, 300, 5000]), rng.int(2) === 0);
      tree.insert(key, value, seqno.next());
      model.set(key, value);
      if (i % 100 === 99) await tree.flushActiveMemtable(0);
    }
    await tree.majorCompact(64 * 1024 * 1024, seqno.get());
    for (const mapTables of [true, false, true]) {
      await tree.close();
      tree = await open(mapTables);
      for (const [key, value] of model) expect(Buffer.from(tree.get(key, seqno.get()) ?? enc("missing")).equals(value), `${key} (mapTables ${mapTables})`).toBe(true);
    }
    await tree.close();
  });
});
