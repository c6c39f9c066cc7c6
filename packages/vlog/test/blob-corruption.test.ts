import { MemFs, type Fs } from "@talus/fs";
import { LsmError } from "@talus/lsm-core";
import { Random, useTempDirs } from "@talus/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { checksum } from "../src/coding/checksum.ts";
import { encodeBlobFooter } from "../src/blob-file/footer.ts";
import { encodeBlobFileHeader, encodeRecordHeader, recordDataChecksum } from "../src/blob-file/format.ts";
import { BLOB_FILE_HEADER_SIZE, BLOB_FOOTER_TAIL_SIZE, BlobFile, RECORD_HEADER_SIZE, type BlobFileMeta, type BlobHandle } from "../src/index.ts";
import { backends, enc, expectBlobError, flipBit, lsmErrorOf, readFile, smallFixture, valueOf, writeBlobFile, writeFile, type WrittenRecord } from "./blob-support.ts";

const dirs = useTempDirs(afterEach);

/** The byte regions of a blob file: its header, each record's header, key and stored value, the footer's two parts. */
function regionsOf(bytes: Uint8Array, records: readonly WrittenRecord[], meta: BlobFileMeta): { name: string; start: number; end: number; record?: number }[] {
  const out: { name: string; start: number; end: number; record?: number }[] = [{ name: "file header", start: 0, end: BLOB_FILE_HEADER_SIZE }];
  records.forEach((r, i) => {
    const keyAt = r.handle.offset + RECORD_HEADER_SIZE;
    out.push({ name: `record ${i} header`, start: r.handle.offset, end: keyAt, record: i });
    out.push({ name: `record ${i} key`, start: keyAt, end: keyAt + r.key.length, record: i });
    if (r.handle.storedSize > 0) out.push({ name: `record ${i} value`, start: keyAt + r.key.length, end: keyAt + r.key.length + r.handle.storedSize, record: i });
  });
  const last = out.at(-1)!;
  out.push({ name: "footer properties", start: last.end, end: bytes.length - BLOB_FOOTER_TAIL_SIZE });
  out.push({ name: "footer tail", start: bytes.length - BLOB_FOOTER_TAIL_SIZE, end: bytes.length });
  expect(bytes.length - BLOB_FOOTER_TAIL_SIZE - last.end).toBe(49 + meta.minKey.length + meta.maxKey.length);
  return out;
}

/** Reads every record of a possibly damaged file: each read is the exact value or CORRUPTION naming the file. Returns the records that failed. */
function readsAreRightOrCorrupt(fs: Fs, path: string, records: readonly WrittenRecord[]): { failed: Set<number>; openError: LsmError | undefined } {
  const failed = new Set<number>();
  let file: BlobFile | undefined;
  const openError = lsmErrorOf(() => (file = BlobFile.open(fs, path)));
  if (openError !== undefined) {
    expect(["CORRUPTION", "UNSUPPORTED_FORMAT"]).toContain(openError.code);
    expect(openError.message).toContain(path);
    return { failed, openError };
  }
  try {
    records.forEach((record, i) => {
      for (const key of [record.key, undefined]) {
        let value: Uint8Array | undefined;
        const error = lsmErrorOf(() => (value = file!.read(record.handle, key)));
        if (error !== undefined) {
          expectBlobError(error, path);
          failed.add(i);
        } else {
          expect(Buffer.from(value!).equals(record.value)).toBe(true);
        }
      }
    });
    expectBlobError(lsmErrorOf(() => file!.verify()), path);
    expectBlobError(lsmErrorOf(() => [...file!.scan()].forEach((r) => r.value())), path);
  } finally {
    file?.close();
  }
  return { failed, openError };
}

describe("damaged blob files", () => {
  it("every flipped bit is caught: in a header or footer at open, in a record by reading that record (and only it)", () => {
    const { fs, path, records, meta } = smallFixture();
    const bytes = readFile(fs, path);
    const regions = regionsOf(bytes, records, meta);
    for (const region of regions) {
      for (let bit = region.start * 8; bit < region.end * 8; bit++) {
        writeFile(fs, path, flipBit(bytes, bit));
        const { failed, openError } = readsAreRightOrCorrupt(fs, path, records);
        if (region.record === undefined) {
          expect(openError, `${region.name}, bit ${bit}`).toBeDefined();
          if (region.name === "footer tail" && !(bit >= (bytes.length - 12) * 8 && bit < (bytes.length - 8) * 8)) expect(openError?.code).toBe("CORRUPTION");
        } else {
          expect(openError, `${region.name}, bit ${bit}`).toBeUndefined();
          expect([...failed], `${region.name}, bit ${bit}`).toEqual([region.record]);
        }
      }
    }
  });

  it("a flipped format version in the tail reads as UNSUPPORTED_FORMAT; in the header as CORRUPTION", () => {
    const { fs, path, records } = smallFixture();
    const bytes = readFile(fs, path);
    writeFile(fs, path, flipBit(bytes, (bytes.length - 12) * 8));
    expectBlobError(lsmErrorOf(() => BlobFile.open(fs, path)), path, "UNSUPPORTED_FORMAT");
    writeFile(fs, path, flipBit(bytes, 8 * 8 + 1));
    expectBlobError(lsmErrorOf(() => BlobFile.open(fs, path)), path, "CORRUPTION");
    expect(records.length).toBeGreaterThan(0);
  });

  it("every truncation is a torn file, refused at open", () => {
    const { fs, path } = smallFixture();
    const bytes = readFile(fs, path);
    for (let length = 0; length < bytes.length; length++) {
      writeFile(fs, path, bytes.subarray(0, length));
      const error = lsmErrorOf(() => BlobFile.open(fs, path));
      expectBlobError(error, path);
      if (length < bytes.length - 8) expect(error?.message).toMatch(/torn/);
    }
    // Bytes appended after the footer hide it just the same.
    writeFile(fs, path, Uint8Array.of(...bytes, 0));
    expectBlobError(lsmErrorOf(() => BlobFile.open(fs, path)), path);
  });

  it("a file of garbage, or of zeros, is refused", () => {
    const fs = new MemFs();
    const rng = new Random(3);
    for (const bytes of [new Uint8Array(4096), rng.bytes(4096), encodeBlobFileHeader()]) {
      writeFile(fs, "/garbage", bytes);
      expectBlobError(lsmErrorOf(() => BlobFile.open(fs, "/garbage")), "/garbage");
    }
  });
});

describe("handles that do not lead to their record", () => {
  function fixture(): { file: BlobFile; path: string; records: WrittenRecord[]; size: number } {
    const { fs, path, records, meta } = smallFixture();
    return { file: BlobFile.open(fs, path), path, records, size: meta.fileSize };
  }

  it("past the end of the records, or of the file: CORRUPTION naming the file", () => {
    const { file, path, records, size } = fixture();
    const last = records.at(-1)!.handle;
    const recordsEnd = last.offset + RECORD_HEADER_SIZE + 8 + last.storedSize;
    const bad: BlobHandle[] = [
      { ...last, offset: recordsEnd },
      { ...last, offset: size - 5 },
      { ...last, offset: size + 1000 },
      { ...last, offset: 2 ** 50 },
      { ...last, storedSize: last.storedSize + 1, uncompressedSize: last.uncompressedSize + 1 },
      { ...last, storedSize: 100_000, uncompressedSize: 100_000 },
    ];
    for (const handle of bad) {
      expectBlobError(lsmErrorOf(() => file.read(handle)), path);
      expectBlobError(lsmErrorOf(() => file.read(handle, records.at(-1)!.key)), path);
    }
    file.close();
  });

  it("with sizes that are not the record's, into the middle of a record, or to another file: CORRUPTION naming the file", () => {
    const { file, path, records } = fixture();
    const compressed = records.find((r) => r.handle.storedSize < r.handle.uncompressedSize)!;
    const h = compressed.handle;
    const bad: BlobHandle[] = [
      { ...h, storedSize: h.storedSize - 1 },
      { ...h, uncompressedSize: h.uncompressedSize + 1 },
      { ...h, uncompressedSize: h.uncompressedSize - 1 },
      { ...h, offset: h.offset + 1 },
      { ...h, offset: h.offset + RECORD_HEADER_SIZE },
      { ...h, offset: records[0]!.handle.offset },
      { ...h, blobFileId: h.blobFileId + 1 },
    ];
    for (const handle of bad) {
      for (const key of [compressed.key, undefined]) {
        const error = lsmErrorOf(() => file.read(handle, key));
        expectBlobError(error, path);
      }
    }
    file.close();
  });

  it("to a record of another key: CORRUPTION when the key is given", () => {
    const { file, path, records } = fixture();
    const record = records[3]!;
    expectBlobError(lsmErrorOf(() => file.read(record.handle, enc("key-9999"))), path);
    expectBlobError(lsmErrorOf(() => file.read(record.handle, enc("other"))), path);
    expect(Buffer.from(file.read(record.handle)).equals(record.value)).toBe(true);
    file.close();
  });

  it("random handles never return wrong bytes", () => {
    const { file, path, records, size } = fixture();
    const rng = new Random(9);
    const byOffset = new Map(records.map((r) => [r.handle.offset, r]));
    for (let i = 0; i < 5000; i++) {
      const base = rng.pick(records).handle;
      const uncompressedSize = rng.chance(0.5) ? base.uncompressedSize : rng.int(2000);
      const storedSize = rng.chance(0.5) ? Math.min(base.storedSize, uncompressedSize) : rng.int(uncompressedSize + 1);
      const handle = { blobFileId: 7, offset: rng.chance(0.3) ? base.offset : 12 + rng.int(size), storedSize, uncompressedSize };
      let value: Uint8Array | undefined;
      const error = lsmErrorOf(() => (value = file.read(handle)));
      if (error !== undefined) expectBlobError(error, path);
      else expect(Buffer.from(value!).equals(byOffset.get(handle.offset)!.value)).toBe(true);
    }
    file.close();
  });
});

describe("records with forged checksums", () => {
  /** A one-record file built by hand, with CRCs that match whatever the record claims. */
  function forge(codecId: number, stored: Uint8Array, uncompressedSize: number): { fs: MemFs; handle: BlobHandle } {
    const key = enc("k");
    const header = new Uint8Array(RECORD_HEADER_SIZE);
    encodeRecordHeader({ seqno: 1, keyLength: 1, codecId, uncompressedSize, storedSize: stored.length, dataChecksum: recordDataChecksum(key, stored) }, header, 0);
    const body = Uint8Array.of(...encodeBlobFileHeader(), ...header, ...key, ...stored);
    const footer = encodeBlobFooter(
      { id: 1, fileChecksum: checksum(body), recordCount: 1, uncompressedBytes: uncompressedSize, storedBytes: stored.length, minKey: key, maxKey: key, codec: "lz4", createdAtMs: 0 },
      1,
    );
    const fs = new MemFs();
    writeFile(fs, "/forged", Uint8Array.of(...body, ...footer));
    return { fs, handle: { blobFileId: 1, offset: 12, storedSize: stored.length, uncompressedSize } };
  }

  it("stored bytes that do not decode are CORRUPTION, never garbage", () => {
    const { fs, handle } = forge(1, Uint8Array.of(0xff, 0xff, 0xff, 0xff), 100);
    const file = BlobFile.open(fs, "/forged");
    expectBlobError(lsmErrorOf(() => file.read(handle)), "/forged");
    expectBlobError(lsmErrorOf(() => file.verify()), "/forged");
    file.close();
  });

  it("stored bytes that decode to another length are CORRUPTION", () => {
    // A valid LZ4 block of 20 literal bytes, claimed to be 30.
    const { fs, handle } = forge(1, Uint8Array.of(0xf0, 5, ...new Uint8Array(20).fill(65)), 30);
    const file = BlobFile.open(fs, "/forged");
    expectBlobError(lsmErrorOf(() => file.read(handle)), "/forged");
    file.close();
  });

  it("a codec blob files do not know is UNSUPPORTED_FORMAT", () => {
    const { fs, handle } = forge(77, Uint8Array.of(1, 2, 3), 10);
    const file = BlobFile.open(fs, "/forged");
    expectBlobError(lsmErrorOf(() => file.read(handle)), "/forged", "UNSUPPORTED_FORMAT");
    file.close();
  });
});

describe.each(backends(dirs))("damage on $name", (backend) => {
  it("a flipped byte in each region and a truncated file are CORRUPTION naming the file", () => {
    const place = backend.make();
    const rng = new Random(12);
    const values = [valueOf(rng, 5000, true), valueOf(rng, 300_000, false), valueOf(rng, 2_000_000, true), new Uint8Array(0)];
    const { path, records, meta } = writeBlobFile(place, 3, values, "lz4");
    const bytes = readFile(place.fs, path);
    for (const region of regionsOf(bytes, records, meta)) {
      const at = region.start + rng.int(region.end - region.start);
      const damaged = bytes.slice();
      damaged[at] = (damaged[at] as number) ^ 0x5a;
      writeFile(place.fs, path, damaged);
      const { failed, openError } = readsAreRightOrCorrupt(place.fs, path, records);
      if (region.record === undefined) expect(openError, region.name).toBeDefined();
      else expect([...failed], region.name).toEqual([region.record]);
    }
    writeFile(place.fs, path, bytes.subarray(0, bytes.length - 1));
    expectBlobError(lsmErrorOf(() => BlobFile.open(place.fs, path)), path);
  });
});
