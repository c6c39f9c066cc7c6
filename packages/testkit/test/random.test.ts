import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { Random } from "../src/random.ts";

describe("Random", () => {
  it("replays the same stream for the same seed", () => {
    const a = new Random(7);
    const b = new Random(7);
    const xs = Array.from({ length: 100 }, () => a.nextU32());
    expect(xs).toEqual(Array.from({ length: 100 }, () => b.nextU32()));
    expect(new Set(xs).size).toBeGreaterThan(95);
  });

  it("gives different streams for different seeds", () => {
    expect(new Random(1).nextU32()).not.toBe(new Random(2).nextU32());
  });

  it("keeps int, range and float inside their bounds and covers them", () => {
    const rng = new Random(3);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const n = rng.int(10);
      expect(n).toBeGreaterThanOrEqual(0);
      expect(n).toBeLessThan(10);
      seen.add(n);
      const r = rng.range(-3, 3);
      expect(r).toBeGreaterThanOrEqual(-3);
      expect(r).toBeLessThanOrEqual(3);
      const f = rng.float();
      expect(f >= 0 && f < 1).toBe(true);
    }
    expect(seen.size).toBe(10);
  });

  it("rejects a non-integer seed and empty picks", () => {
    expect(() => new Random(1.5)).toThrow(TypeError);
    expect(() => new Random(1).pick([])).toThrow(RangeError);
    expect(() => new Random(1).int(0)).toThrow(RangeError);
  });

  it("shuffles to a permutation and fills byte arrays of any length", () => {
    const rng = new Random(9);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const shuffled = rng.shuffle([...items]);
    expect([...shuffled].sort((x, y) => x - y)).toEqual(items);
    expect(shuffled).not.toEqual(items);
    expect(rng.bytes(7)).toHaveLength(7);
  });

  it("resolves workspace packages to their sources", () => {
    expect(new MemFs().backendId()).toMatch(/^memfs:\d+$/);
  });
});
