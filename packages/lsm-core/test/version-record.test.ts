import { describe, expect, it } from "vitest";
import { Random } from "@talus/testkit";
import { ByteWriter } from "../src/coding/byte-writer.ts";
import { checksum } from "../src/coding/checksum.ts";
import { LsmError } from "../src/errors.ts";
import { decodeCurrent, encodeCurrent } from "../src/version/current.ts";
import {
  decodeVersionRecord,
  encodeVersionRecord,
  VERSION_FILE_MAGIC,
  type VersionRecord,
  type VersionTableRecord,
} from "../src/version/version-record.ts";

const FILE = "/db/v42";

function randomRecord(rng: Random, maxTables = 12): VersionRecord {
  let nextId = rng.int(1000);
  const u64 = (): number => (rng.chance(0.2) ? Number.MAX_SAFE_INTEGER - rng.int(1000) : rng.int(1_000_000));
  const levels = Array.from({ length: 7 }, () =>
    Array.from({ length: rng.chance(0.5) ? 0 : rng.range(1, 3) }, () =>
      Array.from({ length: rng.range(1, maxTables) }, (): VersionTableRecord => ({
        id: nextId++,
        globalSeqno: rng.chance(0.7) ? 0 : u64(),
        fileSize: u64(),
        fileChecksum: rng.nextU32(),
      })),
    ),
  );
  const names = ["bytewise", "", "reverse-bytewise", "ünïcödé ✓ 名前", "x".repeat(256), "é".repeat(128)];
  return {
    id: u64(),
    treeKind: rng.chance(0.5) ? "standard" : "blob",
    comparatorName: rng.pick(names),
    levels,
    blobFiles: Array.from({ length: rng.int(4) }, (_, i) => ({ id: i * 3 + rng.int(3), fileSize: u64(), fileChecksum: rng.nextU32() })),
    ...(rng.chance(0.5) ? { journalFloor: 1 + rng.int(1000) } : {}),
  };
}

function expectLsmError(fn: () => unknown, code: string, name?: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught, "expected an LsmError").toBeInstanceOf(LsmError);
  expect((caught as LsmError).code).toBe(code);
  if (name !== undefined) expect((caught as LsmError).message).toContain(name);
}

/** `bytes` with the trailing CRC recomputed, so the structure check (not the checksum) is what is tested. */
function resealed(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(out.length - 4, checksum(out.subarray(0, out.length - 4)), true);
  return out;
}

const sample: VersionRecord = {
  id: 42,
  treeKind: "standard",
  comparatorName: "bytewise",
  levels: [
    [[{ id: 7, globalSeqno: 0, fileSize: 4096, fileChecksum: 0xdeadbeef }], [{ id: 3, globalSeqno: 0, fileSize: 100, fileChecksum: 1 }]],
    [[{ id: 1, globalSeqno: 5, fileSize: 9, fileChecksum: 2 }, { id: 2, globalSeqno: 0, fileSize: 9, fileChecksum: 3 }]],
    [],
    [],
    [],
    [],
    [[{ id: 9, globalSeqno: 0, fileSize: 1, fileChecksum: 0 }]],
  ],
  blobFiles: [{ id: 4, fileSize: 77, fileChecksum: 0xffffffff }],
};

describe("version file codec", () => {
  it("round-trips random records", () => {
    const rng = new Random(1234);
    for (let i = 0; i < 300; i++) {
      const record = randomRecord(rng);
      expect(decodeVersionRecord(encodeVersionRecord(record), FILE)).toEqual(record);
    }
  });

  it("lays out the header as documented", () => {
    const bytes = encodeVersionRecord(sample);
    expect([...bytes.subarray(0, 4)]).toEqual([...VERSION_FILE_MAGIC]);
    expect(bytes[4]).toBe(1);
    expect(new DataView(bytes.buffer).getUint32(5, true)).toBe(42);
    expect(bytes[13]).toBe(0);
    expect(new DataView(bytes.buffer).getUint16(14, true)).toBe(8);
    expect(new TextDecoder().decode(bytes.subarray(16, 24))).toBe("bytewise");
    expect(bytes[24]).toBe(7);
    // 7 run counts, 4 run table counts, 5 tables, blob count, 1 blob, crc
    expect(bytes.length).toBe(25 + 7 * 4 + 4 * 4 + 5 * 28 + 4 + 20 + 4);
  });

  it("writes format 1 without a journal floor and format 2, with the floor after the blob files, with one", () => {
    const plain = encodeVersionRecord(sample);
    expect(plain[4]).toBe(1);
    expect(encodeVersionRecord({ ...sample, journalFloor: 0 })).toEqual(plain);
    const journaled = encodeVersionRecord({ ...sample, journalFloor: 77 });
    expect(journaled[4]).toBe(2);
    expect(journaled.length).toBe(plain.length + 8);
    expect(new DataView(journaled.buffer).getUint32(journaled.length - 12, true)).toBe(77);
    expect(decodeVersionRecord(journaled, FILE).journalFloor).toBe(77);
    expect(decodeVersionRecord(plain, FILE).journalFloor).toBeUndefined();
    // Format 2 always carries a floor: one of 0 is damage.
    const zero = journaled.slice();
    zero.fill(0, journaled.length - 12, journaled.length - 4);
    expectLsmError(() => decodeVersionRecord(resealed(zero), FILE), "CORRUPTION", FILE);
    // Every bit flip of a format-2 file is caught as well.
    for (let i = 0; i < journaled.length; i++) {
      const damaged = journaled.slice();
      damaged[i] = (damaged[i] as number) ^ 0x10;
      expectLsmError(() => decodeVersionRecord(damaged, FILE), "CORRUPTION", FILE);
    }
  });

  it("reports every single-bit flip as CORRUPTION naming the file", () => {
    const bytes = encodeVersionRecord(sample);
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const damaged = bytes.slice();
        damaged[i] = (damaged[i] as number) ^ (1 << bit);
        expectLsmError(() => decodeVersionRecord(damaged, FILE), "CORRUPTION", FILE);
      }
    }
  });

  it("reports every truncation as CORRUPTION naming the file", () => {
    const bytes = encodeVersionRecord(sample);
    for (let n = 0; n < bytes.length; n++) expectLsmError(() => decodeVersionRecord(bytes.subarray(0, n), FILE), "CORRUPTION", FILE);
    expectLsmError(() => decodeVersionRecord(Uint8Array.of(...bytes, 0), FILE), "CORRUPTION", FILE);
  });

  it("tells an unknown format version from a bad magic", () => {
    const bytes = encodeVersionRecord(sample);
    const future = bytes.slice();
    future[4] = 3;
    expectLsmError(() => decodeVersionRecord(resealed(future), FILE), "UNSUPPORTED_FORMAT", FILE);
    const foreign = bytes.slice();
    foreign[0] = 0x4c;
    expectLsmError(() => decodeVersionRecord(resealed(foreign), FILE), "CORRUPTION", "bad magic");
  });

  it("refuses structurally impossible files even with a valid checksum", () => {
    const base = encodeVersionRecord(sample);
    const patch = (offset: number, write: (view: DataView) => void): Uint8Array => {
      const out = base.slice();
      write(new DataView(out.buffer, offset));
      return resealed(out);
    };
    expectLsmError(() => decodeVersionRecord(patch(13, (v) => v.setUint8(0, 9)), FILE), "CORRUPTION", "tree kind");
    expectLsmError(() => decodeVersionRecord(patch(14, (v) => v.setUint16(0, 300, true)), FILE), "CORRUPTION", "comparator name");
    expectLsmError(() => decodeVersionRecord(patch(16, (v) => v.setUint8(0, 0xff)), FILE), "CORRUPTION", "UTF-8");
    expectLsmError(() => decodeVersionRecord(patch(24, (v) => v.setUint8(0, 6)), FILE), "CORRUPTION", "level count");
    // A run count of 4 billion must be refused before anything is allocated for it.
    expectLsmError(() => decodeVersionRecord(patch(25, (v) => v.setUint32(0, 0xffff_ffff, true)), FILE), "CORRUPTION", "does not fit");
    expectLsmError(() => decodeVersionRecord(patch(29, (v) => v.setUint32(0, 0, true)), FILE), "CORRUPTION", "empty run");
    // Second table of L0 (run 2) gets the id of the first: id at 29+4+28+4 = 65.
    expectLsmError(() => decodeVersionRecord(patch(65, (v) => v.setUint32(0, 7, true)), FILE), "CORRUPTION", "twice");
    // An id above 2^53.
    expectLsmError(() => decodeVersionRecord(patch(5, (v) => v.setUint32(4, 0x0020_0000, true)), FILE), "CORRUPTION", FILE);
  });

  it("answers random garbage with LsmError only", () => {
    const rng = new Random(99);
    const valid = encodeVersionRecord(sample);
    for (let i = 0; i < 3000; i++) {
      let bytes: Uint8Array;
      const mode = i % 3;
      if (mode === 0) bytes = rng.bytes(rng.int(300));
      else if (mode === 1) {
        // Magic + format, random body, valid checksum: exercises the structural checks.
        const w = new ByteWriter();
        w.raw(VERSION_FILE_MAGIC).u8(1).raw(rng.bytes(rng.int(200))).u32(0);
        bytes = resealed(w.toBytes());
      } else {
        bytes = valid.slice();
        for (let k = rng.range(1, 4); k > 0; k--) bytes[rng.int(bytes.length - 4) + 0] = rng.int(256);
        bytes = resealed(bytes);
      }
      try {
        decodeVersionRecord(bytes, FILE);
      } catch (error) {
        expect(error).toBeInstanceOf(LsmError);
        expect(["CORRUPTION", "UNSUPPORTED_FORMAT"]).toContain((error as LsmError).code);
      }
    }
  });

  it("refuses to encode what it could not read back", () => {
    expect(() => encodeVersionRecord({ ...sample, comparatorName: "x".repeat(257) })).toThrow(RangeError);
    expect(() => encodeVersionRecord({ ...sample, comparatorName: "é".repeat(129) })).toThrow(RangeError);
    expect(() => encodeVersionRecord({ ...sample, levels: sample.levels.slice(1) })).toThrow(RangeError);
    expect(() => encodeVersionRecord({ ...sample, levels: [[[]], [], [], [], [], [], []] })).toThrow(RangeError);
    expect(() => encodeVersionRecord({ ...sample, id: -1 })).toThrow(RangeError);
    expect(() => encodeVersionRecord({ ...sample, id: 2 ** 53 })).toThrow(RangeError);
    expect(() => encodeVersionRecord({ ...sample, blobFiles: [{ id: 1, fileSize: 1, fileChecksum: 2 ** 32 }] })).toThrow(RangeError);
  });
});

describe("current pointer codec", () => {
  it("round-trips", () => {
    for (const pointer of [
      { versionId: 0, versionChecksum: 0 },
      { versionId: 17, versionChecksum: 0xffffffff },
      { versionId: Number.MAX_SAFE_INTEGER, versionChecksum: 123 },
    ]) {
      const bytes = encodeCurrent(pointer);
      expect(bytes.length).toBe(21);
      expect(decodeCurrent(bytes, "/db/current")).toEqual(pointer);
    }
  });

  it("reports every bit flip and truncation as CORRUPTION naming current", () => {
    const bytes = encodeCurrent({ versionId: 5, versionChecksum: 0x1234 });
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const damaged = bytes.slice();
        damaged[i] = (damaged[i] as number) ^ (1 << bit);
        expectLsmError(() => decodeCurrent(damaged, "/db/current"), "CORRUPTION", "current");
      }
    }
    for (let n = 0; n < bytes.length; n++) expectLsmError(() => decodeCurrent(bytes.subarray(0, n), "/db/current"), "CORRUPTION", "current");
  });

  it("reports another format as UNSUPPORTED_FORMAT", () => {
    const bytes = encodeCurrent({ versionId: 5, versionChecksum: 1 });
    bytes[4] = 9;
    expectLsmError(() => decodeCurrent(resealed(bytes), "/db/current"), "UNSUPPORTED_FORMAT", "current");
  });

  it("answers random garbage with CORRUPTION", () => {
    const rng = new Random(5);
    for (let i = 0; i < 1000; i++) expectLsmError(() => decodeCurrent(rng.bytes(rng.int(40)), "/db/current"), "CORRUPTION", "current");
  });
});
