import { describe, expect, it } from "vitest";
import { Random } from "@talus/testkit";
import { compareBytes, compareBytewise } from "../src/key/bytewise.ts";
import { BYTEWISE_COMPARATOR } from "../src/key/comparator.ts";
import { copyForCaller } from "../src/key/copy.ts";

const sign = (n: number): number => Math.sign(n);

describe("bytewise comparison", () => {
  it("orders like Buffer.compare, across the loop and the native tail", () => {
    const rng = new Random(7);
    for (let trial = 0; trial < 3000; trial++) {
      // Long shared prefixes send the comparison past the loop's 64 bytes into Buffer.compare.
      const prefix = rng.bytes(rng.pick([0, 3, 63, 64, 65, 200]));
      const a = Buffer.concat([prefix, rng.bytes(rng.int(4))]);
      const b = rng.chance(0.2) ? Buffer.from(a) : Buffer.concat([prefix, rng.bytes(rng.int(4))]);
      const expected = sign(Buffer.compare(a, b));
      expect(sign(compareBytewise(a, b)), `${a.toString("hex")} vs ${b.toString("hex")}`).toBe(expected);
      expect(sign(BYTEWISE_COMPARATOR.compare(a, b))).toBe(expected);
      // The same comparison on ranges inside larger arrays.
      const pa = Buffer.concat([Buffer.from([9, 9]), a, Buffer.from([0])]);
      const pb = Buffer.concat([Buffer.from([1]), b]);
      expect(sign(compareBytes(pa, 2, 2 + a.length, pb, 1, 1 + b.length))).toBe(expected);
    }
  });

  it("sorts a shorter key first when it is a prefix of the longer", () => {
    expect(compareBytewise(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0))).toBeLessThan(0);
    expect(compareBytewise(new Uint8Array(100), new Uint8Array(99))).toBeGreaterThan(0);
    expect(compareBytewise(new Uint8Array(0), new Uint8Array(0))).toBe(0);
  });
});

describe("copyForCaller", () => {
  it("hands out copies that never change, whatever is copied after them", () => {
    const rng = new Random(11);
    const kept: { copy: Uint8Array; expected: Uint8Array }[] = [];
    const source = new Uint8Array(9000);
    // Enough copies to fill many slabs; the source is rewritten after every copy.
    for (let i = 0; i < 3000; i++) {
      const length = rng.pick([0, 1, 16, 64, 65, 100, 700, 1024, 1025, 2048, 4096, 8191, 8192, 8193, 9000]);
      source.set(rng.bytes(length));
      const original = source.subarray(0, length);
      const copy = copyForCaller(original);
      // Buffer comparisons: vitest's deep equality walks a typed array element by element, which for
      // 3000 copies of up to 9000 bytes takes a minute on a loaded machine.
      expect(Buffer.from(copy).equals(original)).toBe(true);
      expect(copy.buffer).not.toBe(source.buffer);
      kept.push({ copy, expected: Uint8Array.from(original) });
    }
    for (const { copy, expected } of kept) expect(Buffer.from(copy).equals(expected)).toBe(true);
  });

  it("gives every copy its own bytes even when copies share a buffer", () => {
    const a = copyForCaller(new Uint8Array(100).fill(1));
    const b = copyForCaller(new Uint8Array(100).fill(2));
    a.fill(7);
    expect(b.every((x) => x === 2)).toBe(true);
    expect(a.length).toBe(100);
    expect(Object.getPrototypeOf(a)).toBe(Uint8Array.prototype);
  });

  it("shares buffers only between copies of 65 bytes to 8 KiB, each 8-byte aligned", () => {
    const medium = [copyForCaller(new Uint8Array(4096).fill(3)), copyForCaller(new Uint8Array(4000).fill(4))];
    expect(medium[0]?.buffer).toBe(medium[1]?.buffer);
    expect((medium[1]?.byteOffset ?? 1) % 8).toBe(0);
    expect(copyForCaller(new Uint8Array(8193)).byteLength).toBe(copyForCaller(new Uint8Array(8193)).buffer.byteLength);
    expect(copyForCaller(new Uint8Array(64)).buffer.byteLength).toBe(64);
  });
});
