import { describe, expect, it } from "vitest";
import { ValuePool } from "../src/data.ts";
import type { BenchDb, Tally } from "../src/engines/types.ts";
import { readWhileWriting } from "../src/workloads/mixed.ts";

/** Spins for `us` microseconds: an op of a known cost. */
function spin(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
}

/** A database whose reads cost `readUs` and writes `writeUs` per op, counting what it was asked to do. */
function fakeDb(readUs: number, writeUs: number): BenchDb & { reads: number; writes: number } {
  const db = {
    reads: 0,
    writes: 0,
    write(_k: unknown, _v: unknown, from: number, to: number): void {
      spin((to - from) * writeUs);
      db.writes += to - from;
    },
    get(_k: unknown, from: number, to: number, _r: unknown, tally: Tally): void {
      spin((to - from) * readUs);
      db.reads += to - from;
      tally.hits += to - from;
    },
    settle: async () => {},
    scanner: () => ({ next: () => false, close: () => {} }),
    seek: () => {},
    deleteRange: () => {},
    merge: () => {},
    read: () => undefined,
    prefix: () => {},
    ingest: () => {},
    finishIngest: async () => undefined,
    writeDurable: async () => {},
    stats: () => ({}),
    close: async () => {},
  };
  return db;
}

describe("readwhilewriting", () => {
  it("gives the reader and the writer equal time, so cheap writes show as many more writes than reads", async () => {
    const db = fakeDb(40, 4);
    const m = await readWhileWriting({
      db,
      values: new ValuePool(16, 1, 8),
      num: 1000,
      reads: 2000,
      maxSeconds: 30,
      keySize: 16,
      valueSize: 16,
      seed: 1,
      batch: 1000,
      seekNexts: 0,
      progress: () => {},
    });
    expect(m.ops).toBe(2000);
    expect(db.reads).toBe(2000);
    expect(m.writes?.ops).toBe(db.writes);
    // Equal turns and a write 10x cheaper than a read: about 10x the ops (loosely: timers are coarse).
    expect(db.writes).toBeGreaterThan(4 * db.reads);
    // ... and the writer writes past --num: it runs as long as the reader does.
    expect(db.writes).toBeGreaterThan(1000);
  });
});
