import { MemFs } from "@talus/fs";
import { LsmError } from "@talus/lsm-core";
import { Random, useTempDirs } from "@talus/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { checksum } from "../src/coding/checksum.ts";
import {
  BLOB_FILE_HEADER_SIZE,
  BLOB_MAGIC,
  BlobFile,
  BlobFileWriter,
  MAX_BLOB_KEY_BYTES,
  MAX_BLOB_VALUE_BYTES,
  RECORD_HEADER_SIZE,
  type BlobCodecName,
} from "../src/index.ts";
import { backends, enc, expectReadsBack, lsmErrorOf, readFile, valueOf, writeBlobFile, type WrittenRecord } from "./blob-support.ts";

const dirs = useTempDirs(afterEach);
const MiB = 1024 * 1024;
const CODECS: readonly BlobCodecName[] = ["none", "lz4"];

describe.each(backends(dirs))("blob files on $name", (backend) => {
  describe.each(CODECS)("codec %s", (codec) => {
    it("round-trips values of many sizes, from empty to several MiB", () => {
      const place = backend.make();
      const rng = new Random(1);
      const sizes = [0, 1, 2, 7, 64, 100, 1000, 4095, 4096, 65_536, 128 * 1024 + 3, 256 * 1024, 300_000, 3 * MiB + 5];
      const values = sizes.flatMap((size) => [valueOf(rng, size, true), valueOf(rng, size, false)]);
      const { path, meta, records } = writeBlobFile(place, 5, values, codec);

      expect(meta.id).toBe(5);
      expect(meta.recordCount).toBe(values.length);
      expect(meta.uncompressedBytes).toBe(values.reduce((sum, v) => sum + v.length, 0));
      expect(meta.fileSize).toBe(place.fs.metadata(path).len);
      expect(meta.codec).toBe(codec);
      expect(meta.createdAtMs).toBe(1_700_000_000_000);
      expect(Buffer.from(meta.minKey).toString()).toBe("key-0000");
      expect(Buffer.from(meta.maxKey).toString()).toBe(`key-${String(values.length - 1).padStart(4, "0")}`);
      const bytes = readFile(place.fs, path);
      // The file checksum chains the file header and every record header, in file order.
      let chained = checksum(bytes.subarray(0, BLOB_FILE_HEADER_SIZE));
      for (const record of records) chained = checksum(bytes.subarray(record.handle.offset, record.handle.offset + RECORD_HEADER_SIZE), chained);
      expect(meta.fileChecksum).toBe(chained);
      expect(bytes.subarray(0, 8)).toEqual(BLOB_MAGIC);
      expect(bytes.subarray(bytes.length - 8)).toEqual(BLOB_MAGIC);
      if (codec === "none") expect(meta.storedBytes).toBe(meta.uncompressedBytes);
      else expect(meta.storedBytes).toBeLessThan(meta.uncompressedBytes * 0.6);

      expectReadsBack(place.fs, path, records);
      const file = BlobFile.open(place.fs, path, { expectedId: 5, expectedFileSize: meta.fileSize, expectedFileChecksum: meta.fileChecksum });
      try {
        expect(file.meta).toEqual(meta);
        file.verify();
        expectScanMatches(file, records);
      } finally {
        file.close();
      }
    });

    it("handles: first record right after the header, sizes as stored, compressed only when smaller", () => {
      const place = backend.make();
      const rng = new Random(2);
      const { records } = writeBlobFile(place, 1, [valueOf(rng, 10_000, true), valueOf(rng, 10_000, false), new Uint8Array(0), enc("abc")], codec);
      const [compressible, random, empty, tiny] = records.map((r) => r.handle);
      expect(compressible?.offset).toBe(BLOB_FILE_HEADER_SIZE);
      expect(random?.offset).toBe(BLOB_FILE_HEADER_SIZE + RECORD_HEADER_SIZE + 8 + compressible!.storedSize);
      expect(compressible?.uncompressedSize).toBe(10_000);
      if (codec === "lz4") expect(compressible!.storedSize).toBeLessThan(1000);
      else expect(compressible?.storedSize).toBe(10_000);
      // Random bytes do not compress: stored as is, whatever the codec.
      expect(random?.storedSize).toBe(10_000);
      expect(empty).toMatchObject({ storedSize: 0, uncompressedSize: 0 });
      expect(tiny).toMatchObject({ storedSize: 3, uncompressedSize: 3 });
    });

    it("scan() yields stored bytes that copyRecord() relocates into another file without recompressing", () => {
      const place = backend.make();
      const rng = new Random(3);
      const values = Array.from({ length: 200 }, (_, i) => valueOf(rng, rng.int(3000), i % 3 !== 0));
      const { path, records } = writeBlobFile(place, 1, values, codec);
      const source = BlobFile.open(place.fs, path);
      const targetPath = `${place.dir}/2`;
      const target = new BlobFileWriter(place.fs, targetPath, { blobFileId: 2, codec });
      const relocated: WrittenRecord[] = [];
      try {
        for (const record of source.scan()) {
          if (record.seqno % 2 === 0) continue; // "dead": left behind
          const handle = target.copyRecord(record);
          expect(handle.storedSize).toBe(record.handle.storedSize);
          relocated.push({ key: record.key, seqno: record.seqno, value: record.value(), handle });
        }
      } finally {
        source.close();
      }
      const meta = target.finish();
      expect(meta.recordCount).toBe(100);
      expectReadsBack(place.fs, targetPath, relocated);
      expect(relocated.map((r) => Buffer.from(r.value))).toEqual(records.filter((r) => r.seqno % 2 === 1).map((r) => Buffer.from(r.value)));
    });
    it("sequentialReader() reads what readStored() reads, in order, out of order, and past its window", () => {
      const place = backend.make();
      const rng = new Random(4);
      // Values from tiny to larger than the window, so reads cross window edges and bypass it.
      const values = Array.from({ length: 120 }, (_, i) => valueOf(rng, i % 40 === 0 ? 200_000 : rng.int(6000), i % 2 === 0));
      const { path, records } = writeBlobFile(place, 1, values, codec);
      const file = BlobFile.open(place.fs, path);
      try {
        const reader = file.sequentialReader(16 * 1024);
        const same = (record: WrittenRecord): void => {
          const direct = file.readStored(record.handle, record.key);
          const windowed = reader.readStored(record.handle, record.key);
          expect(Buffer.from(windowed.stored)).toEqual(Buffer.from(direct.stored));
          expect({ ...windowed, stored: undefined, key: undefined }).toEqual({ ...direct, stored: undefined, key: undefined });
        };
        for (const record of records) same(record);
        for (let i = 0; i < 60; i++) same(records[rng.int(records.length)] as WrittenRecord);
        // Without the key, too.
        const last = records.at(-1) as WrittenRecord;
        expect(Buffer.from(reader.readStored(last.handle).key)).toEqual(Buffer.from(last.key));
      } finally {
        file.close();
      }
    });

    it("a relocated record keeps the data checksum it was read with, and the copy verifies", () => {
      const place = backend.make();
      const rng = new Random(5);
      const { path, records } = writeBlobFile(place, 1, Array.from({ length: 30 }, (_, i) => valueOf(rng, 5000, i % 2 === 0)), codec);
      const source = BlobFile.open(place.fs, path);
      const targetPath = `${place.dir}/2`;
      const target = new BlobFileWriter(place.fs, targetPath, { blobFileId: 2, codec });
      const reader = source.sequentialReader();
      const relocated: WrittenRecord[] = [];
      try {
        for (const record of records) {
          const stored = reader.readStored(record.handle, record.key);
          expect(stored.dataChecksum).toBeTypeOf("number");
          relocated.push({ ...record, seqno: record.seqno + 1000, handle: target.copyRecord({ ...stored, seqno: record.seqno + 1000 }) });
        }
      } finally {
        source.close();
      }
      target.finish();
      expectReadsBack(place.fs, targetPath, relocated);
      const copy = BlobFile.open(place.fs, targetPath);
      try {
        copy.verify();
      } finally {
        copy.close();
      }
    });
  });

  it("copyRecord() recompresses a record whose codec is not the target file's", () => {
    const place = backend.make();
    const rng = new Random(4);
    const values = Array.from({ length: 20 }, () => valueOf(rng, 5000, true));
    const { path } = writeBlobFile(place, 1, values, "lz4");
    const source = BlobFile.open(place.fs, path);
    const target = new BlobFileWriter(place.fs, `${place.dir}/2`, { blobFileId: 2, codec: "none" });
    const relocated: WrittenRecord[] = [];
    for (const record of source.scan()) {
      expect(record.codecId).toBe(1);
      relocated.push({ key: record.key, seqno: record.seqno, value: record.value(), handle: target.copyRecord(record) });
    }
    source.close();
    target.finish();
    for (const r of relocated) expect(r.handle.storedSize).toBe(5000);
    expectReadsBack(place.fs, `${place.dir}/2`, relocated);
  });
});

describe("blob file writer", () => {
  function place(): { fs: MemFs; dir: string } {
    const fs = new MemFs();
    fs.createDirAll("/b");
    return { fs, dir: "/b" };
  }

  it("creates its file exclusively", () => {
    const { fs } = place();
    writeBlobFile({ fs, dir: "/b" }, 1, [enc("x")]);
    expect(() => new BlobFileWriter(fs, "/b/1", { blobFileId: 1 })).toThrow(expect.objectContaining({ code: "EEXIST" }));
  });

  it("refuses to finish an empty file; abort() removes it", () => {
    const { fs } = place();
    const writer = new BlobFileWriter(fs, "/b/1", { blobFileId: 1 });
    expect(fs.exists("/b/1")).toBe(true);
    expect(() => writer.finish()).toThrow(/no records/);
    writer.abort();
    expect(fs.exists("/b/1")).toBe(false);
    writer.abort();
  });

  it("abort() of a half-written file removes it; a finished file is not touched by abort()", () => {
    const { fs } = place();
    const writer = new BlobFileWriter(fs, "/b/1", { blobFileId: 1 });
    writer.add(enc("a"), 1, new Uint8Array(600_000));
    writer.abort();
    expect(fs.readDir("/b")).toEqual([]);
    expect(() => writer.add(enc("a"), 2, enc("v"))).toThrow(/aborted/);
    const { meta } = writeBlobFile({ fs, dir: "/b" }, 2, [enc("v")]);
    const again = new BlobFileWriter(fs, "/b/3", { blobFileId: 3 });
    again.add(enc("k"), 1, enc("v"));
    again.finish();
    again.abort();
    expect(fs.exists("/b/3")).toBe(true);
    expect(meta.recordCount).toBe(1);
  });

  it("checks arguments before writing anything", () => {
    const { fs } = place();
    const writer = new BlobFileWriter(fs, "/b/1", { blobFileId: 1 });
    expect(() => writer.add(new Uint8Array(0), 1, enc("v"))).toThrow(RangeError);
    expect(() => writer.add(new Uint8Array(MAX_BLOB_KEY_BYTES + 1), 1, enc("v"))).toThrow(RangeError);
    expect(() => writer.add(enc("k"), -1, enc("v"))).toThrow(RangeError);
    expect(() => writer.add(enc("k"), 1.5, enc("v"))).toThrow(RangeError);
    expect(() => writer.add("k" as unknown as Uint8Array, 1, enc("v"))).toThrow(TypeError);
    expect(() => writer.add(enc("k"), 1, "v" as unknown as Uint8Array)).toThrow(TypeError);
    // A view longer than the limit, without allocating 256 MiB.
    const huge = new Uint8Array(new ArrayBuffer(MAX_BLOB_VALUE_BYTES + 1), 0);
    expect(() => writer.add(enc("k"), 1, huge)).toThrow(RangeError);
    expect(() => writer.copyRecord({ key: enc("k"), seqno: 1, codecId: 0, stored: enc("ab"), uncompressedSize: 3 })).toThrow(RangeError);
    expect(() => writer.copyRecord({ key: enc("k"), seqno: 1, codecId: 1, stored: enc("abc"), uncompressedSize: 3 })).toThrow(RangeError);
    expect(() => writer.copyRecord({ key: enc("k"), seqno: 1, codecId: 99, stored: enc("ab"), uncompressedSize: 3 })).toThrow(RangeError);
    expect(() => writer.copyRecord({ key: enc("k"), seqno: 1, codecId: 0, stored: enc("ab"), uncompressedSize: 2, dataChecksum: -1 })).toThrow(RangeError);
    expect(() => writer.copyRecord({ key: enc("k"), seqno: 1, codecId: 0, stored: enc("ab"), uncompressedSize: 2, dataChecksum: 2 ** 32 })).toThrow(RangeError);
    expect(() => new BlobFileWriter(fs, "/b/2", { blobFileId: -1 })).toThrow(RangeError);
    expect(() => new BlobFileWriter(fs, "/b/2", { blobFileId: 2, codec: "zstd" as BlobCodecName })).toThrow(RangeError);
    expect(writer.recordCount).toBe(0);
    writer.add(enc("k"), 2 ** 53 - 1, enc("v"));
    writer.add(new Uint8Array(MAX_BLOB_KEY_BYTES).fill(0xff), 0, new Uint8Array(0));
    writer.finish();
    const file = BlobFile.open(fs, "/b/1");
    expect([...file.scan()].map((r) => [r.key.length, r.seqno])).toEqual([
      [1, 2 ** 53 - 1],
      [MAX_BLOB_KEY_BYTES, 0],
    ]);
    expect(file.meta.maxKey.length).toBe(MAX_BLOB_KEY_BYTES);
    file.verify();
    file.close();
  });

  it("keeps the bytewise key range whatever the order of the keys", () => {
    const { fs } = place();
    const writer = new BlobFileWriter(fs, "/b/1", { blobFileId: 1 });
    for (const key of ["m", "b", "zz", "z", "a\u0000", "c"]) writer.add(enc(key), 1, enc(key));
    const meta = writer.finish();
    expect(Buffer.from(meta.minKey).toString()).toBe("a\u0000");
    expect(Buffer.from(meta.maxKey).toString()).toBe("zz");
  });

  it("estimatedSize tracks the file as it grows", () => {
    const { fs } = place();
    const writer = new BlobFileWriter(fs, "/b/1", { blobFileId: 1 });
    const start = writer.estimatedSize;
    writer.add(enc("key"), 1, new Uint8Array(1000));
    expect(writer.estimatedSize).toBeGreaterThanOrEqual(start + 1000 + RECORD_HEADER_SIZE);
    const estimate = writer.estimatedSize;
    const meta = writer.finish();
    expect(Math.abs(meta.fileSize - estimate)).toBeLessThan(16);
  });

  it("finishAsync() finishes like finish()", async () => {
    const { fs } = place();
    const writer = new BlobFileWriter(fs, "/b/1", { blobFileId: 1, codec: "lz4" });
    const handle = writer.add(enc("k"), 9, new Uint8Array(10_000).fill(7));
    const meta = await writer.finishAsync();
    expect(meta.storedBytes).toBeLessThan(200);
    const file = BlobFile.open(fs, "/b/1");
    expect(file.read(handle, enc("k"))).toEqual(new Uint8Array(10_000).fill(7));
    file.close();
  });
});

describe("blob file reader", () => {
  it("reads after close throw CLOSED; close is idempotent", () => {
    const fs = new MemFs();
    fs.createDirAll("/b");
    const { path, records } = writeBlobFile({ fs, dir: "/b" }, 1, [enc("v")]);
    const file = BlobFile.open(fs, path);
    file.close();
    file.close();
    expect(lsmErrorOf(() => file.read(records[0]!.handle))?.code).toBe("CLOSED");
    expect(lsmErrorOf(() => [...file.scan()])?.code).toBe("CLOSED");
  });

  it("a missing file is the filesystem's ENOENT", () => {
    expect(() => BlobFile.open(new MemFs(), "/nope")).toThrow(expect.objectContaining({ code: "ENOENT" }));
  });

  it("a handle with non-integer fields is a RangeError, not corruption", () => {
    const fs = new MemFs();
    fs.createDirAll("/b");
    const { path, records } = writeBlobFile({ fs, dir: "/b" }, 1, [enc("v")]);
    const file = BlobFile.open(fs, path);
    expect(() => file.read({ ...records[0]!.handle, offset: 12.5 })).toThrow(RangeError);
    expect(() => file.read(records[0]!.handle, "key" as unknown as Uint8Array)).toThrow(TypeError);
    file.close();
  });

  it("refuses a file that is not what the version file says", () => {
    const fs = new MemFs();
    fs.createDirAll("/b");
    const { path, meta } = writeBlobFile({ fs, dir: "/b" }, 1, [enc("v")]);
    for (const options of [{ expectedId: 2 }, { expectedFileSize: meta.fileSize + 1 }, { expectedFileChecksum: (meta.fileChecksum + 1) >>> 0 }]) {
      const error = lsmErrorOf(() => BlobFile.open(fs, path, options));
      expect(error).toBeInstanceOf(LsmError);
      expect(error?.code).toBe("CORRUPTION");
      expect(error?.message).toContain(path);
    }
  });
});

function expectScanMatches(file: BlobFile, records: readonly WrittenRecord[]): void {
  const scanned = [...file.scan()];
  expect(scanned.length).toBe(records.length);
  scanned.forEach((record, i) => {
    const expected = records[i]!;
    expect(record.handle).toEqual(expected.handle);
    expect(Buffer.from(record.key).equals(expected.key)).toBe(true);
    expect(record.seqno).toBe(expected.seqno);
    expect(record.stored.length).toBe(expected.handle.storedSize);
    expect(Buffer.from(record.value()).equals(expected.value)).toBe(true);
  });
}
