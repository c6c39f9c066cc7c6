import { MemFs } from "@talus/fs";
import { Random } from "@talus/testkit";
import { describe, expect, it } from "vitest";
import { ByteWriter } from "../src/coding/byte-writer.ts";
import { checksum } from "../src/coding/checksum.ts";
import { LsmError } from "../src/errors.ts";
import { BYTEWISE_COMPARATOR } from "../src/key/comparator.ts";
import { appendBlock, decodeBlock, maskChecksum } from "../src/table/block-framing.ts";
import { codecById, codecByName, DEFLATE_CODEC, LZ4_CODEC, NONE_CODEC, registerCodec, type CompressionCodec } from "../src/table/index.ts";
import { lz4Compress, lz4CompressReusingBuffer, lz4Decompress, Lz4Error } from "../src/table/lz4.ts";
import { openTable, randomEntries, scanAll, show, writeTable } from "./table-support.ts";

function samples(rng: Random): Uint8Array[] {
  const out: Uint8Array[] = [new Uint8Array(0), new Uint8Array(1), new Uint8Array(12), new Uint8Array(13), new Uint8Array(100_000)];
  for (let i = 0; i < 200; i++) {
    const n = rng.int(i < 100 ? 64 : 70_000);
    const alphabet = 1 + rng.int(rng.chance(0.3) ? 256 : 8);
    const data = new Uint8Array(n);
    for (let j = 0; j < n; j++) data[j] = rng.chance(0.05) ? rng.int(256) : rng.int(alphabet);
    out.push(data);
  }
  out.push(rng.bytes(50_000));
  return out;
}

describe("LZ4 block codec", () => {
  it("round-trips random, repetitive and edge-sized inputs", () => {
    for (const data of samples(new Random(1))) {
      const packed = lz4Compress(data);
      expect(packed.length).toBeLessThanOrEqual(data.length + Math.floor(data.length / 255) + 16);
      expect(Buffer.compare(lz4Decompress(packed, data.length), data)).toBe(0);
    }
    expect(lz4Compress(new Uint8Array(100_000)).length).toBeLessThan(500);
  });

  it("finds a repeat reached one byte at a time through incompressible bytes", () => {
    // The encoder carries the four bytes under its cursor along while it steps one byte at a time;
    // were that word wrong (high bytes, sign), the second copy of `a` would find no match.
    const rng = new Random(9);
    for (let i = 0; i < 50; i++) {
      const lead = rng.bytes(1 + rng.int(30));
      const a = rng.bytes(30);
      const data = new Uint8Array([...lead, ...a, ...a]);
      const packed = lz4Compress(data);
      expect(Buffer.compare(lz4Decompress(packed, data.length), data)).toBe(0);
      // Token, length byte and literals of `lead` and `a`; offset and length byte of the match (all but
      // the last 5 bytes, which must be literals); a final token and those 5 bytes.
      expect(packed.length).toBeLessThanOrEqual(lead.length + a.length + 2 + 3 + 1 + 5);
    }
  });

  it("extends a match backwards when skipping stepped past the start of the repeat", () => {
    // After 64 misses the encoder moves several bytes per probe, so it lands inside the second copy of
    // `a`; the match must still start at that copy's first byte: literals are exactly `a` and `noise`.
    const rng = new Random(4);
    for (let i = 0; i < 40; i++) {
      const a = rng.bytes(40);
      const noise = rng.bytes(150 + rng.int(100));
      const data = new Uint8Array([...a, ...noise, ...a]);
      const packed = lz4Compress(data);
      expect(Buffer.compare(lz4Decompress(packed, data.length), data)).toBe(0);
      const literals = a.length + noise.length;
      // Token nibble 15, then length bytes adding up to the rest (255 means "more follows").
      expect((packed[0] as number) >> 4).toBe(15);
      let sum = 15;
      let p = 1;
      for (;;) {
        const b = packed[p++] as number;
        sum += b;
        if (b !== 255) break;
      }
      expect(sum).toBe(literals);
    }
  });

  it("compresses into a reused buffer exactly as into a fresh one", () => {
    const inputs = samples(new Random(2));
    for (const data of inputs) expect(Buffer.compare(lz4CompressReusingBuffer(data), lz4Compress(data))).toBe(0);
    // The buffer has grown to the largest input: from now on nothing is allocated per block.
    const buffers = new Set(inputs.map((data) => lz4CompressReusingBuffer(data).buffer));
    expect(buffers.size).toBe(1);
  });

  it("decodes blocks made by another encoder (lz4js 0.2.0)", () => {
    const text = "The quick brown fox jumps over the lazy dog. ".repeat(4) + "0123456789abcdef";
    const packed = Buffer.from(
      "ff1e54686520717569636b2062726f776e20666f78206a756d7073206f76657220746865206c617a7920646f672e202d0074f00130313233343536373839616263646566",
      "hex",
    );
    expect(new TextDecoder().decode(lz4Decompress(packed, text.length))).toBe(text);
    // 1 literal "a", then a 14-byte match at distance 1 (a run), then the 5 final literals.
    const handMade = new Uint8Array([0x1a, 0x61, 0x01, 0x00, 0x50, ...new TextEncoder().encode("bbbbb")]);
    expect(new TextDecoder().decode(lz4Decompress(handMade, 20))).toBe("a".repeat(15) + "bbbbb");
  });

  it("keeps the LZ4 end-of-block rules other decoders rely on", () => {
    const rng = new Random(3);
    for (const data of samples(rng)) {
      if (data.length < 13) continue;
      const packed = lz4Compress(data);
      // Walk the sequences: the last one has >= 5 literals and no match starts within 12 bytes of the end.
      let ip = 0;
      let op = 0;
      for (;;) {
        const token = packed[ip++] as number;
        let literals = token >>> 4;
        if (literals === 15) for (let b = 255; b === 255; literals += b) b = packed[ip++] as number;
        ip += literals;
        op += literals;
        if (ip === packed.length) {
          expect(literals).toBeGreaterThanOrEqual(5);
          break;
        }
        if (op > data.length - 12) expect.fail(`a match starts at ${op} of ${data.length}`);
        ip += 2;
        let length = token & 15;
        if (length === 15) for (let b = 255; b === 255; length += b) b = packed[ip++] as number;
        op += length + 4;
      }
      expect(op).toBe(data.length);
    }
  });

  it("rejects malformed input with Lz4Error, never a wrong-sized result", () => {
    const rng = new Random(4);
    const text = new TextEncoder().encode("abcabcabcabcabcabcabcabcabcabcabcabc-the-end-of-it");
    const good = lz4Compress(text);
    for (let i = 0; i < 3000; i++) {
      const input = i % 2 === 0 ? rng.bytes(rng.int(64)) : good.map((b) => (rng.chance(0.1) ? rng.int(256) : b));
      const max = rng.int(200);
      try {
        expect(lz4Decompress(input, max).length).toBeLessThanOrEqual(max);
      } catch (error) {
        expect(error).toBeInstanceOf(Lz4Error);
      }
    }
    const full = text.length;
    expect(lz4Decompress(good, full).length).toBe(full);
    for (let cut = 0; cut < good.length; cut++) {
      // A cut after a literal run reads as a shorter block; the framing layer's length check catches that.
      try {
        expect(lz4Decompress(good.subarray(0, cut), full).length).toBeLessThan(full);
      } catch (error) {
        expect(error).toBeInstanceOf(Lz4Error);
      }
    }
    expect(() => lz4Decompress(good, full - 1)).toThrow(/exceeds/);
  });
});

describe("codecs and block framing", () => {
  it("deflate round-trips and stops at the length limit", () => {
    const data = new Uint8Array(50_000).map((_, i) => i % 13);
    const packed = DEFLATE_CODEC.compress(data);
    expect(Buffer.compare(DEFLATE_CODEC.decompress(packed, data.length), data)).toBe(0);
    expect(() => DEFLATE_CODEC.decompress(packed, 1000)).toThrow();
  });

  it("stores a block compressed only when that saves space", () => {
    const out = new ByteWriter();
    const random = new Random(5).bytes(4000);
    const size = appendBlock(out, random, LZ4_CODEC);
    expect(size).toBe(random.length);
    expect(out.bytes()[size]).toBe(0);
    const block = new Uint8Array(4000).fill(7);
    const start = out.length;
    const packedSize = appendBlock(out, block, LZ4_CODEC);
    expect(packedSize).toBeLessThan(100);
    expect(out.bytes()[start + packedSize]).toBe(LZ4_CODEC.id);
    expect(decodeBlock(out.bytes().slice(start), "f", start, "data")).toEqual(block);
  });

  it("turns undecodable compressed payloads with good checksums into CORRUPTION", () => {
    const rng = new Random(6);
    for (let i = 0; i < 2000; i++) {
      const codecId = rng.pick([1, 2]);
      const framed = new ByteWriter();
      framed.varint(rng.int(5000)).raw(rng.bytes(rng.int(40))).u8(codecId);
      framed.u32(maskChecksum(checksum(framed.bytes())));
      try {
        decodeBlock(framed.toBytes(), "/fuzz.sst", 77, "data");
      } catch (error) {
        expect(error).toBeInstanceOf(LsmError);
        expect((error as LsmError).code).toBe("CORRUPTION");
        expect((error as LsmError).message).toContain("/fuzz.sst");
      }
    }
    const huge = new ByteWriter().varint(2 ** 40).u8(1);
    huge.u32(maskChecksum(checksum(huge.bytes())));
    expect(() => decodeBlock(huge.toBytes(), "/f", 0, "data")).toThrow(/exceeds/);
  });

  it("refuses a block with an unregistered codec as UNSUPPORTED_FORMAT", () => {
    const framed = new ByteWriter().varint(3).raw(new Uint8Array([1, 2, 3])).u8(250);
    framed.u32(maskChecksum(checksum(framed.bytes())));
    expect(() => decodeBlock(framed.toBytes(), "/f.sst", 0, "data")).toThrow(expect.objectContaining({ code: "UNSUPPORTED_FORMAT" }));
  });

  it("registers application codecs by id and finds codecs by name", () => {
    const xor: CompressionCodec = {
      id: 200,
      name: "test-halve",
      compress: (data) => data.subarray(0, Math.ceil(data.length / 2)).map((b, i) => b ^ (data[i + Math.ceil(data.length / 2)] ?? 0)),
      decompress: () => {
        throw new Error("this codec cannot decode");
      },
    };
    registerCodec(xor);
    registerCodec(xor);
    expect(codecById(200)).toBe(xor);
    expect(() => registerCodec({ ...xor })).toThrow(/already registered/);
    expect(() => registerCodec({ ...xor, id: 0 })).toThrow(RangeError);
    expect(codecByName("lz4")).toBe(LZ4_CODEC);
    expect(codecByName("none")).toBe(NONE_CODEC);
    expect(() => codecByName("zstd")).toThrow(/unknown compression codec/);
  });

  it("round-trips tables through every built-in codec", () => {
    for (const codec of [NONE_CODEC, LZ4_CODEC, DEFLATE_CODEC]) {
      const fs = new MemFs();
      const model = randomEntries(new Random(7), BYTEWISE_COMPARATOR, 1500, { maxValue: 300 });
      writeTable(fs, "/t.sst", model, { codec, blockSize: 700 });
      const table = openTable(fs, "/t.sst");
      expect(show(scanAll(table))).toEqual(show(model));
      table.verify();
    }
  });
});
