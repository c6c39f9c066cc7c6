import { LsmError } from "@talus/lsm-core";
import { Random } from "@talus/testkit";
import { describe, expect, it } from "vitest";
import { decodeBlobHandle, encodeBlobHandle, MAX_BLOB_HANDLE_BYTES, MAX_BLOB_VALUE_BYTES, type BlobHandle } from "../src/index.ts";

function lsmErrorOf(fn: () => unknown): LsmError | undefined {
  try {
    fn();
    return undefined;
  } catch (error) {
    if (error instanceof LsmError) return error;
    throw error;
  }
}

describe("blob handles", () => {
  it("round-trip, from the smallest to the largest fields", () => {
    const handles: BlobHandle[] = [
      { blobFileId: 0, offset: 12, storedSize: 0, uncompressedSize: 0 },
      { blobFileId: 3, offset: 12, storedSize: 100, uncompressedSize: 100 },
      { blobFileId: 127, offset: 128, storedSize: 16_383, uncompressedSize: 16_384 },
      { blobFileId: 2 ** 40, offset: 2 ** 45 + 17, storedSize: 1, uncompressedSize: MAX_BLOB_VALUE_BYTES },
      { blobFileId: Number.MAX_SAFE_INTEGER, offset: Number.MAX_SAFE_INTEGER, storedSize: MAX_BLOB_VALUE_BYTES, uncompressedSize: MAX_BLOB_VALUE_BYTES },
    ];
    for (const handle of handles) {
      const bytes = encodeBlobHandle(handle);
      expect(bytes.length).toBeLessThanOrEqual(MAX_BLOB_HANDLE_BYTES);
      expect(decodeBlobHandle(bytes)).toEqual(handle);
    }
    expect([...encodeBlobHandle({ blobFileId: 3, offset: 12, storedSize: 100, uncompressedSize: 100 })]).toEqual([3, 12, 100, 100]);
  });

  it("round-trips random handles", () => {
    const rng = new Random(11);
    for (let i = 0; i < 2000; i++) {
      const uncompressedSize = rng.int(MAX_BLOB_VALUE_BYTES + 1);
      const handle = { blobFileId: rng.int(2 ** 31), offset: 12 + rng.int(2 ** 31), storedSize: rng.int(uncompressedSize + 1), uncompressedSize };
      expect(decodeBlobHandle(encodeBlobHandle(handle))).toEqual(handle);
    }
  });

  it("reports malformed bytes as CORRUPTION naming where the handle came from", () => {
    const good = encodeBlobHandle({ blobFileId: 300, offset: 70_000, storedSize: 200, uncompressedSize: 5000 });
    const cases: [string, Uint8Array][] = [
      ["empty", new Uint8Array(0)],
      ["truncated", good.subarray(0, good.length - 1)],
      ["cut inside a varint", good.subarray(0, 1)],
      ["trailing byte", Uint8Array.of(...good, 0)],
      ["overlong varint", Uint8Array.of(0x83, 0x00, 12, 1, 1)],
      ["nine-byte varint", Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 12, 1, 1)],
      ["above 2^53", Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 12, 1, 1)],
      ["offset inside the file header", Uint8Array.of(1, 11, 1, 1)],
      ["stored larger than the value", Uint8Array.of(1, 12, 5, 4)],
      ["value over 256 MiB", encodeFields([1, 12, 1, MAX_BLOB_VALUE_BYTES + 1])],
      ["too long", new Uint8Array(MAX_BLOB_HANDLE_BYTES + 1).fill(0x80)],
    ];
    for (const [name, bytes] of cases) {
      const error = lsmErrorOf(() => decodeBlobHandle(bytes, "table 9, key user:1"));
      expect(error, name).toBeInstanceOf(LsmError);
      expect(error?.code, name).toBe("CORRUPTION");
      expect(error?.message, name).toContain("table 9, key user:1");
    }
  });

  it("never crashes or decodes garbage into an out-of-range handle", () => {
    const rng = new Random(5);
    for (let i = 0; i < 5000; i++) {
      const bytes = rng.bytes(rng.int(20));
      const error = lsmErrorOf(() => {
        const handle = decodeBlobHandle(bytes);
        expect(handle.offset).toBeGreaterThanOrEqual(12);
        expect(handle.storedSize).toBeLessThanOrEqual(handle.uncompressedSize);
        expect(handle.uncompressedSize).toBeLessThanOrEqual(MAX_BLOB_VALUE_BYTES);
        expect(encodeBlobHandle(handle)).toEqual(bytes);
      });
      if (error !== undefined) expect(error.code).toBe("CORRUPTION");
    }
  });

  it("refuses to encode a handle no reader would accept", () => {
    const base = { blobFileId: 1, offset: 12, storedSize: 1, uncompressedSize: 1 };
    expect(() => encodeBlobHandle({ ...base, offset: 4 })).toThrow(RangeError);
    expect(() => encodeBlobHandle({ ...base, storedSize: 2 })).toThrow(RangeError);
    expect(() => encodeBlobHandle({ ...base, blobFileId: -1 })).toThrow(RangeError);
    expect(() => encodeBlobHandle({ ...base, offset: 12.5 })).toThrow(RangeError);
    expect(() => encodeBlobHandle({ ...base, uncompressedSize: MAX_BLOB_VALUE_BYTES + 1, storedSize: 1 })).toThrow(RangeError);
  });
});

function encodeFields(fields: readonly number[]): Uint8Array {
  const out: number[] = [];
  for (let v of fields) {
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
  }
  return Uint8Array.from(out);
}
