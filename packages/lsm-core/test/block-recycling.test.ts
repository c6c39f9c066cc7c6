// Data block memory is recycled from blocks the block cache drops (src/table/block-buffers.ts): these
// tests make the cache drop blocks all the time and check that nothing still read ever sees its memory
// reused, through table cursors, point lookups, and point reads that probe several L0 runs.
import { MemFs } from "@talus/fs";
import { Random } from "@talus/testkit";
import { describe, expect, it } from "vitest";
import { SEQNO_MAX, Tree } from "../src/index.ts";
import { newPointLookup } from "../src/iter/cursor.ts";
import { BYTEWISE_COMPARATOR } from "../src/key/comparator.ts";
import { ValueKind } from "../src/key/value-kind.ts";
import { BlockBufferPool, capacityFor } from "../src/table/block-buffers.ts";
import { caches, enc, modelGet, openTable, writeTable, type ModelEntry } from "./table-support.ts";

describe("BlockBufferPool", () => {
  it("hands a given-back piece to the next block of its size class, and only to one", () => {
    const pool = new BlockBufferPool();
    const a = pool.take(4101);
    expect(a.length).toBe(4101);
    expect(a.byteOffset + capacityFor(4101)).toBeLessThanOrEqual(a.buffer.byteLength);
    pool.give(a, capacityFor(4101));
    expect(pool.bytes).toBe(capacityFor(4101));
    const b = pool.take(4110);
    expect(b.buffer).toBe(a.buffer);
    expect(b.byteOffset).toBe(a.byteOffset);
    expect(b.length).toBe(4110);
    expect(pool.bytes).toBe(0);
    const c = pool.take(4110);
    expect(c.buffer === b.buffer && c.byteOffset === b.byteOffset).toBe(false);
    // Another size class does not take it.
    pool.give(b, capacityFor(4110));
    const d = pool.take(100);
    expect(d.buffer === b.buffer && d.byteOffset === b.byteOffset).toBe(false);
  });

  it("carves pieces that never overlap, from slabs shared by several blocks", () => {
    const pool = new BlockBufferPool();
    const pieces = Array.from({ length: 200 }, (_, i) => pool.take(100 + ((i * 997) % 9000)));
    const byBuffer = new Map<ArrayBufferLike, Uint8Array[]>();
    for (const p of pieces) byBuffer.set(p.buffer, [...(byBuffer.get(p.buffer) ?? []), p]);
    // Slabs, not one buffer per block.
    expect(byBuffer.size).toBeLessThan(pieces.length / 4);
    for (const list of byBuffer.values()) {
      const sorted = [...list].sort((x, y) => x.byteOffset - y.byteOffset);
      for (let i = 1; i < sorted.length; i++) {
        const prev = sorted[i - 1] as Uint8Array;
        expect(prev.byteOffset + capacityFor(prev.length)).toBeLessThanOrEqual((sorted[i] as Uint8Array).byteOffset);
      }
    }
    // Writing every piece in full leaves every other piece as it was.
    pieces.forEach((p, i) => p.fill(i & 0xff));
    pieces.forEach((p, i) => expect(p.every((b) => b === (i & 0xff))).toBe(true));
    // Blocks too big for a slab still come back whole.
    const big = pool.take(40_000);
    expect(big.length).toBe(40_000);
    expect(big.buffer.byteLength).toBeGreaterThanOrEqual(capacityFor(40_000));
  });

  it("keeps at most a bounded number of bytes and ignores pieces it did not size", () => {
    const pool = new BlockBufferPool();
    for (let i = 0; i < 1000; i++) pool.give(new Uint8Array(4096), 4096);
    expect(pool.bytes).toBeLessThanOrEqual(1024 * 1024);
    const other = new BlockBufferPool();
    other.give(new Uint8Array(1000), 1000);
    other.give(new Uint8Array(0), 0);
    other.give(new Uint8Array(1 << 20), 1 << 20);
    // A capacity that runs past the buffer.
    other.give(new Uint8Array(new ArrayBuffer(8192), 4096, 64), 8192);
    expect(other.bytes).toBe(0);
  });
});

function sequentialModel(count: number, rng: Random): ModelEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    key: enc(`key${String(i).padStart(6, "0")}`),
    seqno: i + 1,
    kind: ValueKind.Value,
    value: rng.bytes(60 + rng.int(60)),
  }));
}

describe("data block recycling", () => {
  it("never recycles a block a table cursor is in, however many blocks the cache drops meanwhile", () => {
    const rng = new Random(3);
    const fs = new MemFs();
    const model = sequentialModel(3000, rng);
    writeTable(fs, "/t.sst", model, { blockSize: 1024 });
    // Room for about two blocks: every read of another block drops one.
    const table = openTable(fs, "/t.sst", caches(2 * 1200));
    const cursor = table.cursor();
    cursor.seek(enc("key001000"));
    const out = newPointLookup();
    for (let step = 0; step < 200; step++) {
      // Point reads all over the table recycle dropped blocks into new reads.
      for (let j = 0; j < 20; j++) {
        const e = model[rng.int(model.length)] as ModelEntry;
        expect(table.get(e.key, SEQNO_MAX, out)).toBe(true);
        expect(out.value).toEqual(e.value);
      }
      const e = model[1000 + step] as ModelEntry;
      expect([cursor.key(), cursor.seqno(), cursor.value()]).toEqual([e.key, e.seqno, e.value]);
      cursor.next();
    }
    cursor.close();
    table.close();
  });

  it("answers point lookups right while every miss reuses a dropped block's memory", () => {
    const rng = new Random(4);
    const fs = new MemFs();
    const model = sequentialModel(2000, rng);
    writeTable(fs, "/t.sst", model, { blockSize: 512 });
    const table = openTable(fs, "/t.sst", caches(3 * 700));
    const out = newPointLookup();
    for (let i = 0; i < 5000; i++) {
      const e = model[rng.int(model.length)] as ModelEntry;
      const probe = rng.chance(0.2) ? enc(`${new TextDecoder().decode(e.key)}x`) : e.key;
      const expected = modelGet(BYTEWISE_COMPARATOR, model, probe, SEQNO_MAX);
      expect(table.get(probe, SEQNO_MAX, out)).toBe(expected !== undefined);
      if (expected !== undefined) expect(out.value).toEqual(expected.value);
    }
    table.close();
  });

  it("keeps a point read's value intact while it probes older L0 runs that read more blocks", async () => {
    // Three flushes of the same keys make three overlapping L0 runs; the newest holds the answer, but
    // the read goes on probing the older runs (the answer's seqno is not just below the snapshot), and
    // with room for about one block in the cache each probe drops the block the answer lies in.
    const fs = new MemFs();
    const tree = await Tree.open({ path: "/db", fs, cacheBytes: 6000 });
    const keys = Array.from({ length: 300 }, (_, i) => `k${String(i).padStart(4, "0")}`);
    const valueOf = (flush: number, key: string): string => `${key}-flush${flush}-`.padEnd(100, String(flush));
    let seqno = 1;
    for (let flush = 1; flush <= 3; flush++) {
      for (const key of keys) tree.insert(key, valueOf(flush, key), seqno++);
      await tree.flushActiveMemtable(0);
    }
    expect(tree.l0RunCount()).toBe(3);
    const rng = new Random(9);
    const kept: [string, Uint8Array][] = [];
    for (let i = 0; i < 2000; i++) {
      const key = keys[rng.int(keys.length)] as string;
      const value = tree.get(key, SEQNO_MAX);
      expect(new TextDecoder().decode(value), key).toBe(valueOf(3, key));
      if (i % 50 === 0) kept.push([key, value as Uint8Array]);
    }
    // Returned values are the caller's: later reads never change them.
    for (const [key, value] of kept) expect(new TextDecoder().decode(value)).toBe(valueOf(3, key));
    await tree.close();
  });
});
