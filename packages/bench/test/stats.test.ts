import { describe, expect, it } from "vitest";
import { LatencyRecorder, median, percentileSorted, spread } from "../src/stats.ts";

describe("percentiles", () => {
  it("uses nearest rank", () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentileSorted(sorted, 50)).toBe(50);
    expect(percentileSorted(sorted, 99)).toBe(99);
    expect(percentileSorted(sorted, 100)).toBe(100);
    expect(percentileSorted(sorted, 0)).toBe(1);
    expect(percentileSorted([7], 99)).toBe(7);
    expect(percentileSorted([], 50)).toBeNaN();
    expect(() => percentileSorted(sorted, 101)).toThrow(RangeError);
  });

  it("median and spread", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
    expect(spread([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5 });
    expect(spread([2, Number.NaN, 4])).toEqual({ median: 3, min: 2, max: 4 });
    expect(spread([]).median).toBeNaN();
  });

  it("the recorder grows and summarises", () => {
    const rec = new LatencyRecorder();
    for (let i = 5000; i >= 1; i--) rec.add(i);
    rec.addBatch(1000, 0);
    expect(rec.count).toBe(5000);
    expect(rec.summary()).toEqual({ p50: 2500, p99: 4950, max: 5000 });
    rec.addBatch(10_000, 10);
    expect(rec.count).toBe(5001);
  });
});
