import { MemFs, type Fs } from "@talus/fs";
import { Random } from "@talus/testkit";
import { describe, expect, it } from "vitest";
import { BLOCK_CACHE_ENTRY_OVERHEAD, BlockCache, DEFAULT_BLOCK_CACHE_BYTES, DEFAULT_MAX_OPEN_FILES, FileDescriptorCache, newCacheNamespace } from "../src/cache/index.ts";

const W = BLOCK_CACHE_ENTRY_OVERHEAD;
const block = (tag: number): { tag: number } => ({ tag });

describe("BlockCache", () => {
  it("evicts the least recently used entry first", () => {
    const cache = new BlockCache(3 * (100 + W));
    cache.insert(1, 1, 0, block(0), 100);
    cache.insert(1, 1, 100, block(1), 100);
    cache.insert(1, 1, 200, block(2), 100);
    expect(cache.get(1, 1, 0)).toEqual(block(0));
    cache.insert(1, 1, 300, block(3), 100);
    expect(cache.get(1, 1, 100)).toBeUndefined();
    expect(cache.get(1, 1, 0)).toEqual(block(0));
    expect(cache.get(1, 1, 200)).toEqual(block(2));
    cache.insert(1, 1, 400, block(4), 100);
    expect(cache.get(1, 1, 300)).toBeUndefined();
    expect(cache.count).toBe(3);
    expect(cache.hits).toBe(3);
    expect(cache.misses).toBe(2);
  });

  it("moves a hit entry only when a quarter of its entry count has been stored since it last moved", () => {
    const cache = new BlockCache(8 * (100 + W));
    for (let k = 0; k < 8; k++) cache.insert(1, 1, k, block(k), 100);
    // Entry 6 moved (was stored) one store ago: the hit leaves it where it is. Entry 0 moved 7 stores ago.
    expect(cache.get(1, 1, 6)).toEqual(block(6));
    expect(cache.get(1, 1, 0)).toEqual(block(0));
    for (let k = 8; k < 14; k++) cache.insert(1, 1, k, block(k), 100);
    // Exact LRU would have dropped 7 (hit before 6); here 6 went in its place, and 0 stays.
    expect(cache.get(1, 1, 6)).toBeUndefined();
    expect(cache.get(1, 1, 7)).toEqual(block(7));
    expect(cache.get(1, 1, 0)).toEqual(block(0));
  });

  it("never holds more bytes than its capacity", () => {
    const rng = new Random(1);
    const capacity = 50_000;
    const cache = new BlockCache(capacity);
    const present = new Map<string, number>();
    for (let i = 0; i < 20_000; i++) {
      const ns = 1 + rng.int(3);
      const table = rng.int(5);
      const offset = rng.int(40) * 4096;
      if (rng.chance(0.6)) {
        const bytes = rng.int(8000);
        cache.insert(ns, table, offset, block(i), bytes);
        present.set(`${ns}/${table}/${offset}`, bytes + W);
      } else if (rng.chance(0.9)) {
        cache.get(ns, table, offset);
      } else {
        cache.evictTable(ns, table);
      }
      expect(cache.size).toBeLessThanOrEqual(capacity);
    }
    let sum = 0;
    for (const [key, weight] of present) {
      const [ns, table, offset] = key.split("/").map(Number) as [number, number, number];
      if (cache.get(ns, table, offset) !== undefined) sum += weight;
    }
    expect(sum).toBe(cache.size);
  });

  it("serves a table's own handle and the (namespace, table, offset) calls from the same entries", () => {
    const cache = new BlockCache(3 * (100 + W));
    const t = cache.forTable(4, 9);
    expect(cache.forTable(4, 9)).toBe(t);
    cache.store(t, 0, block(0), 100);
    cache.insert(4, 9, 100, block(1), 100);
    expect(cache.get(4, 9, 0)).toEqual(block(0));
    expect(cache.lookup(t, 100)).toEqual(block(1));
    expect(cache.lookup(t, 200)).toBeUndefined();
    expect([cache.hits, cache.misses]).toEqual([2, 1]);
    // LRU order is shared too: 0 and 100 were used, so a third and fourth block push out 0 first.
    cache.store(t, 200, block(2), 100);
    cache.store(t, 300, block(3), 100);
    expect(cache.lookup(t, 0)).toBeUndefined();
    expect(cache.count).toBe(3);
    expect(cache.size).toBe(3 * (100 + W));
  });

  it("detaches a handle when its table is evicted, and a store through it attaches it again", () => {
    const cache = new BlockCache();
    const t = cache.forTable(1, 5);
    cache.store(t, 0, block(0), 10);
    expect(cache.evictTable(1, 5)).toBe(1);
    expect(cache.lookup(t, 0)).toBeUndefined();
    expect(cache.get(1, 5, 0)).toBeUndefined();
    // A cursor of a closed table may still read and cache blocks: they must stay evictable by key.
    cache.store(t, 4096, block(1), 10);
    expect(cache.forTable(1, 5)).toBe(t);
    expect(cache.get(1, 5, 4096)).toEqual(block(1));
    expect(cache.evictTable(1, 5)).toBe(1);
    // When another handle was listed meanwhile, a store through the old one lands in the listed one.
    const u = cache.forTable(1, 5);
    expect(u).not.toBe(t);
    cache.store(t, 8192, block(2), 10);
    expect(cache.lookup(u, 8192)).toEqual(block(2));
    cache.clear();
    expect(cache.lookup(u, 8192)).toBeUndefined();
    expect([cache.count, cache.size]).toEqual([0, 0]);
    cache.store(u, 0, block(3), 10);
    expect(cache.get(1, 5, 0)).toEqual(block(3));
  });

  it("keeps namespaces apart", () => {
    const a = newCacheNamespace();
    const b = newCacheNamespace();
    expect(a).not.toBe(b);
    const cache = new BlockCache();
    cache.insert(a, 7, 0, block(1), 10);
    cache.insert(b, 7, 0, block(2), 10);
    expect(cache.get(a, 7, 0)).toEqual(block(1));
    expect(cache.get(b, 7, 0)).toEqual(block(2));
    cache.insert(a, 7, 4096, block(3), 10);
    expect(cache.evictTable(a, 7)).toBe(2);
    expect(cache.get(a, 7, 0)).toBeUndefined();
    expect(cache.get(b, 7, 0)).toEqual(block(2));
    expect(cache.evictNamespace(b)).toBe(1);
    expect(cache.size).toBe(0);
  });

  it("replaces an entry, drops one heavier than the capacity, and clears", () => {
    const cache = new BlockCache(1000);
    expect(cache.capacity).toBe(1000);
    expect(new BlockCache().capacity).toBe(DEFAULT_BLOCK_CACHE_BYTES);
    cache.insert(1, 1, 0, block(1), 100);
    cache.insert(1, 1, 0, block(2), 200);
    expect(cache.count).toBe(1);
    expect(cache.size).toBe(200 + W);
    expect(cache.get(1, 1, 0)).toEqual(block(2));
    cache.insert(1, 1, 0, block(3), 5000);
    expect(cache.get(1, 1, 0)).toBeUndefined();
    expect(cache.size).toBe(0);
    cache.insert(1, 1, 8, block(4), 1);
    expect(cache.remove(1, 1, 8)).toBe(true);
    expect(cache.remove(1, 1, 8)).toBe(false);
    cache.insert(1, 2, 8, block(5), 1);
    cache.clear();
    expect([cache.size, cache.count, cache.get(1, 2, 8)]).toEqual([0, 0, undefined]);
    expect(() => new BlockCache(-1)).toThrow(RangeError);
  });
});

/** A MemFs with `n` small files /f0 ... /f(n-1), and a log of which handles were closed. */
function filesystem(n: number): { fs: Fs; closed: string[] } {
  const mem = new MemFs();
  for (let i = 0; i < n; i++) {
    const f = mem.open(`/f${i}`, { write: true, createNew: true });
    f.write(new Uint8Array([i]));
    f.close();
  }
  const closed: string[] = [];
  const fs: Fs = {
    open: (path, options) => {
      const file = mem.open(path, options);
      const close = file.close.bind(file);
      file.close = () => {
        closed.push(path);
        close();
      };
      return file;
    },
    createDir: (path) => mem.createDir(path),
    createDirAll: (path) => mem.createDirAll(path),
    readDir: (path) => mem.readDir(path),
    removeFile: (path) => mem.removeFile(path),
    removeDirAll: (path) => mem.removeDirAll(path),
    rename: (from, to) => mem.rename(from, to),
    exists: (path) => mem.exists(path),
    metadata: (path) => mem.metadata(path),
    syncDirectory: (path) => mem.syncDirectory(path),
    hardLink: (src, dst) => mem.hardLink(src, dst),
    backendId: () => mem.backendId(),
    readMany: (requests) => mem.readMany(requests),
    tryLock: (path) => mem.tryLock(path),
  };
  return { fs, closed };
}

function firstByte(cache: FileDescriptorCache, fs: Fs, path: string): number {
  const buffer = new Uint8Array(1);
  cache.readAt(fs, path, buffer, 0);
  return buffer[0] as number;
}

describe("FileDescriptorCache", () => {
  it("keeps the most recently used handles and closes the least recently used", () => {
    const { fs, closed } = filesystem(4);
    const cache = new FileDescriptorCache(2);
    expect(new FileDescriptorCache().capacity).toBe(DEFAULT_MAX_OPEN_FILES);
    firstByte(cache, fs, "/f0");
    firstByte(cache, fs, "/f1");
    firstByte(cache, fs, "/f0");
    firstByte(cache, fs, "/f2");
    expect(closed).toEqual(["/f1"]);
    expect(firstByte(cache, fs, "/f0")).toBe(0);
    expect(cache.openCount).toBe(3);
    expect(cache.size).toBe(2);
  });

  it("never exceeds its capacity and never closes a pinned handle", () => {
    const { fs } = filesystem(20);
    const rng = new Random(2);
    const cache = new FileDescriptorCache(5);
    const leases: { path: string; lease: ReturnType<FileDescriptorCache["acquire"]> }[] = [];
    for (let i = 0; i < 5000; i++) {
      const path = `/f${rng.int(20)}`;
      if (rng.chance(0.2) && leases.length < 4) leases.push({ path, lease: cache.acquire(fs, path) });
      else if (rng.chance(0.3) && leases.length > 0) leases.splice(rng.int(leases.length), 1)[0]?.lease.release();
      else if (rng.chance(0.1)) cache.withFile(fs, path, () => expect(firstByte(cache, fs, `/f${rng.int(20)}`)).toBeGreaterThanOrEqual(0));
      else expect(firstByte(cache, fs, path)).toBe(Number(path.slice(2)));
      // Every pinned handle still reads.
      for (const { path: p, lease } of leases) {
        const buffer = new Uint8Array(1);
        lease.file.readAt(buffer, 0);
        expect(buffer[0]).toBe(Number(p.slice(2)));
      }
      expect(cache.size).toBeLessThanOrEqual(5);
    }
  });

  it("opens past capacity only while every handle is pinned, and closes the extra one on release", () => {
    const { fs, closed } = filesystem(4);
    const cache = new FileDescriptorCache(2);
    const a = cache.acquire(fs, "/f0");
    const b = cache.acquire(fs, "/f1");
    cache.withFile(fs, "/f2", (file) => {
      expect(cache.size).toBe(3);
      expect(cache.pinnedCount).toBe(3);
      const buffer = new Uint8Array(1);
      file.readAt(buffer, 0);
      expect(buffer[0]).toBe(2);
    });
    expect(closed).toEqual(["/f2"]);
    expect(cache.size).toBe(2);
    a.release();
    a.release();
    b.release();
    expect(cache.pinnedCount).toBe(0);
    expect(cache.size).toBe(2);
  });

  it("evict closes the handle, at once or when the last pin goes", () => {
    const { fs, closed } = filesystem(3);
    const cache = new FileDescriptorCache(4);
    firstByte(cache, fs, "/f0");
    expect(cache.evict("/f0")).toBe(1);
    expect(closed).toEqual(["/f0"]);
    expect(cache.evict("/f0")).toBe(0);
    const lease = cache.acquire(fs, "/f1");
    expect(cache.evict("/f1", fs)).toBe(1);
    expect(closed).toEqual(["/f0"]);
    const buffer = new Uint8Array(1);
    lease.file.readAt(buffer, 0);
    expect(buffer[0]).toBe(1);
    lease.release();
    expect(closed).toEqual(["/f0", "/f1"]);
    expect(() => lease.file.readAt(buffer, 0)).toThrow(expect.objectContaining({ code: "EBADF" }));
    expect(cache.size).toBe(0);
    // After eviction the path opens afresh; once the file is gone that is ENOENT.
    fs.removeFile("/f1");
    expect(() => firstByte(cache, fs, "/f1")).toThrow(expect.objectContaining({ code: "ENOENT" }));
    expect(cache.size).toBe(0);
    firstByte(cache, fs, "/f2");
    cache.closeAll();
    expect(cache.size).toBe(0);
    expect(closed).toEqual(["/f0", "/f1", "/f2"]);
  });

  it("keys handles by filesystem as well as path", () => {
    const one = filesystem(1);
    const two = filesystem(1);
    const cache = new FileDescriptorCache(4);
    firstByte(cache, one.fs, "/f0");
    firstByte(cache, two.fs, "/f0");
    expect(cache.size).toBe(2);
    expect(cache.evict("/f0", one.fs)).toBe(1);
    expect([one.closed, two.closed]).toEqual([["/f0"], []]);
    expect(cache.evict("/f0")).toBe(1);
    expect(two.closed).toEqual(["/f0"]);
  });
});
