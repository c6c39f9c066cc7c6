// Arena chunk recycling (src/memtable/chunk-pool.ts): a retired memtable's full-size chunks serve the
// next memtables, and only once nothing can read the retired one: not a pinned iterator, not a read at
// an older seqno served by the history.
import { MemFs } from "@talus/fs";
import { describe, expect, it } from "vitest";
import { BYTEWISE_COMPARATOR } from "../src/key/comparator.ts";
import { ValueKind } from "../src/key/value-kind.ts";
import { ArenaChunkPool, MAX_CHUNK_BYTES, Memtable } from "../src/memtable/index.ts";
import { newPointLookup } from "../src/iter/cursor.ts";
import { SequenceNumberCounter, Tree } from "../src/index.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const key = (i: number): Uint8Array => enc(`key${String(i).padStart(6, "0")}`);
/** 4 KiB values whose bytes say which key and which round wrote them. */
const big = (i: number, round: number): Uint8Array => enc(`${round}:${i}:`.padEnd(4096, String.fromCharCode(97 + ((i + round) % 26))));

function fill(m: Memtable, round: number, n: number): void {
  for (let i = 0; i < n; i++) m.insert(key(i), round * 100_000 + i + 1, ValueKind.Value, big(i, round));
}

describe("ArenaChunkPool", () => {
  it("takes zeroed chunks, keeps at most maxChunks idle, ignores other sizes", () => {
    const pool = new ArenaChunkPool(1024, 2);
    const a = pool.take();
    expect(a.length).toBe(1024);
    a.fill(9);
    pool.give(a);
    pool.give(new Uint8Array(1024));
    pool.give(new Uint8Array(1024));
    pool.give(new Uint8Array(512));
    expect(pool.size).toBe(2);
    const again = [pool.take(), pool.take()];
    expect(again.every((c) => c.every((b) => b === 0))).toBe(true);
    expect(pool.size).toBe(0);
    pool.give(again[0] as Uint8Array);
    pool.clear();
    expect(pool.size).toBe(0);
  });
});

describe("Memtable arena recycling", () => {
  it("gives full-size chunks back on the last unref, never before, and the next memtable reuses them", () => {
    const pool = new ArenaChunkPool(MAX_CHUNK_BYTES, 64);
    const first = new Memtable(BYTEWISE_COMPARATOR, 1, pool);
    first.ref();
    first.ref();
    fill(first, 1, 1000); // ~4 MiB: several full-size chunks
    first.unref();
    expect(pool.size).toBe(0);
    // Still readable: one count is left.
    const out = newPointLookup();
    expect(first.get(key(7), Number.MAX_SAFE_INTEGER, out)).toBe(true);
    expect(Buffer.from(out.value).equals(big(7, 1))).toBe(true);
    first.unref();
    const recycled = pool.size;
    expect(recycled).toBeGreaterThanOrEqual(3);
    expect(() => first.insert(key(1), 1, ValueKind.Value, big(1, 9))).toThrow(/retired|recycle/);
    expect(() => first.ref()).toThrow(/retired/);

    const second = new Memtable(BYTEWISE_COMPARATOR, 2, pool);
    second.ref();
    fill(second, 2, 1000);
    expect(pool.size).toBeLessThan(recycled);
    for (let i = 0; i < 1000; i += 37) {
      expect(second.get(key(i), Number.MAX_SAFE_INTEGER, out)).toBe(true);
      expect(Buffer.from(out.value).equals(big(i, 2)), `key ${i}`).toBe(true);
    }
  });

  it("a memtable without a pool recycles nothing and stays correct", () => {
    const m = new Memtable(BYTEWISE_COMPARATOR, 1);
    m.ref();
    fill(m, 1, 300);
    m.unref();
    expect(() => m.insert(key(1), 1, ValueKind.Value, big(1, 1))).toThrow();
  });
});

describe("Tree: recycled arenas never change what a reader sees", () => {
  it("an iterator opened before a flush reads its memtable's values after the flush and after new memtables fill", async () => {
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: "/db", fs: new MemFs(), seqno });
    for (let i = 0; i < 1500; i++) tree.insert(key(i), big(i, 1), seqno.next());
    const at = seqno.get();
    const iter = tree.iter(at)[Symbol.iterator]();
    const firstEntry = iter.next();
    expect(firstEntry.done).toBe(false);
    // The memtable is flushed and its super version leaves the history (watermark above it)...
    await tree.flushActiveMemtable(seqno.get());
    // ...and new memtables fill, rotate and flush: they would take its chunks if it were retired.
    for (let round = 2; round < 5; round++) {
      for (let i = 0; i < 1500; i++) tree.insert(key(i), big(i, round), seqno.next());
      await tree.flushActiveMemtable(seqno.get());
    }
    // Buffer#equals, not toEqual: a deep comparison of 1500 4 KiB arrays takes seconds.
    let n = 1;
    const wrong: string[] = [];
    for (let r = iter.next(); !r.done; r = iter.next()) {
      const [k, v] = r.value;
      if (!Buffer.from(v).equals(big(n, 1))) wrong.push(new TextDecoder().decode(k));
      n++;
    }
    expect(wrong).toEqual([]);
    expect(n).toBe(1500);
    await tree.close();
  });

  it("a read at an older seqno, served by the history, keeps seeing the flushed memtable's values", async () => {
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: "/db", fs: new MemFs(), seqno });
    for (let i = 0; i < 1500; i++) tree.insert(key(i), big(i, 1), seqno.next());
    const old = seqno.get();
    // A clear replaces the memtable; the history keeps the old super version for reads below it
    // (flushes with watermark 0 below never prune it).
    await tree.clear();
    for (let round = 2; round < 5; round++) {
      for (let i = 0; i < 1500; i++) tree.insert(key(i), big(i, round), seqno.next());
      await tree.flushActiveMemtable(0);
    }
    for (let i = 0; i < 1500; i += 29) expect(Buffer.from(tree.get(key(i), old) ?? []).equals(big(i, 1)), `key ${i}`).toBe(true);
    await tree.close();
  });
});
