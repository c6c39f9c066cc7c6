import { deflateSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { hash32, keyStream, pick, prefixEnd, prefixKeyInto, randomKeyInto, sequentialKeyInto, ValuePool } from "../src/data.ts";

const compare = (a: Uint8Array, b: Uint8Array): number => Buffer.compare(a, b);

describe("keys", () => {
  it("sequential keys are big-endian indexes, zero-padded, in byte order", () => {
    const k = new Uint8Array(16);
    sequentialKeyInto(0x0102030405, k);
    expect([...k]).toEqual([0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0, 0, 0, 0, 0, 0, 0, 0]);
    const keys = [0, 1, 255, 256, 65535, 1 << 24, 2 ** 32 + 7].map((i) => {
      const out = new Uint8Array(16);
      sequentialKeyInto(i, out);
      return out;
    });
    for (let i = 1; i < keys.length; i++) expect(compare(keys[i - 1] as Uint8Array, keys[i] as Uint8Array)).toBeLessThan(0);
  });

  it("random keys are deterministic per seed and index and fill the whole key", () => {
    const a = new Uint8Array(16);
    const b = new Uint8Array(16);
    randomKeyInto(7, 42, a);
    randomKeyInto(7, 42, b);
    expect(a).toEqual(b);
    randomKeyInto(8, 42, b);
    expect(a).not.toEqual(b);
    const odd = new Uint8Array(13);
    randomKeyInto(7, 1, odd);
    expect(odd.filter((x) => x !== 0).length).toBeGreaterThan(8);
  });

  it("random keys almost never collide", () => {
    const seen = new Set<string>();
    const k = new Uint8Array(16);
    for (let i = 0; i < 20_000; i++) {
      randomKeyInto(1, i, k);
      seen.add(Buffer.from(k).toString("hex"));
    }
    expect(seen.size).toBe(20_000);
  });

  it("existing keys are uniform over the data set", () => {
    const stream = keyStream("existing", 16, 3, 100);
    const counts = new Array<number>(100).fill(0);
    const k = new Uint8Array(16);
    for (let i = 0; i < 100_000; i++) {
      stream.keyInto(i, k);
      const index = (k[4] as number) * 2 ** 24 + (k[5] as number) * 2 ** 16 + (k[6] as number) * 256 + (k[7] as number);
      expect(index).toBeLessThan(100);
      counts[index] = (counts[index] ?? 0) + 1;
    }
    expect(Math.min(...counts)).toBeGreaterThan(800);
    expect(Math.max(...counts)).toBeLessThan(1200);
  });

  it("pick stays in range and hash32 mixes", () => {
    for (let i = 0; i < 1000; i++) expect(pick(1, i, 7)).toBeLessThan(7);
    expect(hash32(1, 1)).not.toBe(hash32(1, 2));
    expect(hash32(1, 2 ** 40)).not.toBe(hash32(1, 0));
  });

  it("prefix keys spread over 256 two-byte prefixes", () => {
    const k = new Uint8Array(16);
    prefixKeyInto(256 * 3 + 5, k);
    expect([...k.subarray(0, 4)]).toEqual([0, 5, 0, 3]);
    expect(prefixEnd(Uint8Array.of(0, 5))).toEqual(Uint8Array.of(0, 6));
    expect(prefixEnd(Uint8Array.of(1, 0xff))).toEqual(Uint8Array.of(2));
    expect(prefixEnd(Uint8Array.of(0xff, 0xff))).toBeUndefined();
  });
});

describe("values", () => {
  it("have the requested size and are deterministic by seed", () => {
    for (const size of [1, 2, 7, 100, 4096]) {
      const pool = new ValuePool(size, 5, 64);
      expect(pool.value(3).length).toBe(size);
    }
    expect(new ValuePool(100, 5, 64).value(9)).toEqual(new ValuePool(100, 5, 64).value(9));
    expect(new ValuePool(100, 5, 64).value(9)).not.toEqual(new ValuePool(100, 6, 64).value(9));
    expect(new ValuePool(100, 5, 64).value(1)).not.toEqual(new ValuePool(100, 5, 64).value(2));
  });

  it("compress to about half", () => {
    const pool = new ValuePool(100, 1);
    const sample = Buffer.concat(Array.from({ length: 2000 }, (_, i) => pool.value(i)));
    const ratio = deflateSync(sample).length / sample.length;
    expect(ratio).toBeGreaterThan(0.4);
    expect(ratio).toBeLessThan(0.65);
  });
});
