import { existsSync } from "node:fs";
import { join } from "node:path";
import { MemFs } from "@talus/fs";
import { describe, expect, it } from "vitest";
import { COUNTER_BYTES, keyStream, sequentialKeyInto, ValuePool } from "../src/data.ts";
import type { BenchDb } from "../src/engines/types.ts";
import { LatencyRecorder } from "../src/stats.ts";
import { mergeRandom } from "../src/workloads/mergerandom.ts";
import { openTestEngine, useTempDir } from "./helpers.ts";

/**
 * The engine tests open every Talus engine at the same path ("/db" in helpers.ts) on a MemFs of its own.
 * An engine that ignored `config.fs` would open that path on the disk instead: one database shared by
 * every test (test files run in parallel) and left behind for the next run, so a test could read what
 * another wrote (#15: mergerandom's `getSync()` found a 16-byte value of deleterange's prefill where it
 * wrote an 8-byte counter).
 */
describe("talus-level on the config's filesystem", () => {
  const dir = useTempDir();

  async function fill(db: BenchDb, num: number, valueSize: number): Promise<void> {
    const w = db.write(keyStream("sequential", 16, 1, num), new ValuePool(valueSize, 1, 8), 0, num, new LatencyRecorder());
    if (w !== undefined) await w;
    await db.settle();
  }

  it("opens its TalusLevel on config.fs, not the disk", async () => {
    const fs = new MemFs();
    // A path in the test's temp directory, so that a database wrongly put on the disk is removed afterwards.
    const path = join(dir(), "db");
    const db = await openTestEngine("talus-level", dir, { fs, dir: path });
    try {
      await fill(db, 100, 16);
    } finally {
      await db.close();
    }
    expect(fs.exists(path)).toBe(true);
    expect(existsSync(path)).toBe(false);
  });

  it("two engines at one path on different filesystems share nothing (mergerandom reads its own 8-byte counters)", async () => {
    const path = join(dir(), "db");
    const other = await openTestEngine("talus-level", dir, { fs: new MemFs(), dir: path });
    try {
      // What deleterange's test prefills: 16-byte values under the sequential keys mergerandom's counters use.
      await fill(other, 1000, 16);
    } finally {
      await other.close();
    }
    const db = await openTestEngine("talus-level", dir, { fs: new MemFs(), dir: path });
    try {
      const num = 2000;
      const values = new ValuePool(16, 1, 8);
      const m = await mergeRandom({ db, values, num, reads: 500, maxSeconds: 60, keySize: 16, valueSize: 16, seed: 1, batch: 250, seekNexts: 0, progress: () => {} });
      expect(m.merge?.merges).toBe(num);
      // Every key of the other database is a counter's here: each reads as 8 bytes or not at all.
      const key = new Uint8Array(16);
      const lengths = new Set<number>();
      for (let k = 0; k < 1000; k++) {
        sequentialKeyInto(k, key);
        const r = db.read(key);
        const value = r instanceof Promise ? await r : r;
        if (value !== undefined) lengths.add(value.length);
      }
      expect([...lengths]).toEqual([COUNTER_BYTES]);
    } finally {
      await db.close();
    }
  });
});
