// A data block miss reads the blocks after it too while the block cache has room (src/table/table.ts,
// `#readAhead`): each is checked and cached on its own, a damaged one is left out.
import { MemFs } from "@talus/fs";
import { Random } from "@talus/testkit";
import { describe, expect, it } from "vitest";
import { newPointLookup } from "../src/iter/cursor.ts";
import { LsmError } from "../src/errors.ts";
import { ValueKind } from "../src/key/value-kind.ts";
import { caches, enc, openTable, readFile, writeFile, writeTable, type ModelEntry } from "./table-support.ts";
import { READ_AHEAD_BYTES } from "../src/table/table.ts";

function model(count: number): ModelEntry[] {
  const rng = new Random(21);
  return Array.from({ length: count }, (_, i) => ({ key: enc(`k${String(i).padStart(5, "0")}`), seqno: i + 1, kind: ValueKind.Value, value: rng.bytes(50) }));
}

function setup(cacheBytes: number): { fs: MemFs; entries: ModelEntry[]; c: ReturnType<typeof caches> } {
  const fs = new MemFs();
  const entries = model(2000);
  writeTable(fs, "/t.sst", entries, { blockSize: 512 });
  return { fs, entries, c: caches(cacheBytes) };
}

describe("data block read-ahead", () => {
  it("caches the blocks after a missed one while the cache has room, and reads them from there", () => {
    const { fs, entries, c } = setup(8 << 20);
    const table = openTable(fs, "/t.sst", c);
    const out = newPointLookup();
    expect(table.get((entries[0] as ModelEntry).key, 1e9, out)).toBe(true);
    const cached = c.blockCache.count;
    expect(cached).toBeGreaterThan(10);
    const misses = c.blockCache.misses;
    // Every entry of those blocks is now a cache hit, with the right value.
    for (const e of entries.slice(0, 5 * cached)) {
      expect(table.get(e.key, 1e9, out)).toBe(true);
      expect(Buffer.compare(out.value, e.value)).toBe(0);
    }
    expect(c.blockCache.misses - misses).toBeLessThan(8);
    for (const e of entries) {
      expect(table.get(e.key, 1e9, out)).toBe(true);
      expect(Buffer.compare(out.value, e.value)).toBe(0);
    }
  });

  it("reads one block per miss when the cache has little room left", () => {
    const { fs, entries, c } = setup(2 * READ_AHEAD_BYTES);
    const table = openTable(fs, "/t.sst", c);
    expect(table.get((entries[0] as ModelEntry).key, 1e9, newPointLookup())).toBe(true);
    expect(c.blockCache.count).toBe(1);
  });

  it("leaves a damaged neighbour out and reports it when that block is read", () => {
    const { fs, entries, c } = setup(8 << 20);
    const probe = openTable(fs, "/t.sst", caches());
    const index = probe.index();
    const damagedAt = index.blockOffset(3) + 10;
    probe.close();
    const bytes = readFile(fs, "/t.sst");
    bytes[damagedAt] = (bytes[damagedAt] as number) ^ 0x40;
    writeFile(fs, "/t.sst", bytes);
    const table = openTable(fs, "/t.sst", c);
    const out = newPointLookup();
    expect(table.get((entries[0] as ModelEntry).key, 1e9, out)).toBe(true);
    const blockThree = table.index().lastKey(3).slice();
    let error: unknown;
    try {
      table.get(blockThree, 1e9, out);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LsmError);
    expect((error as LsmError).code).toBe("CORRUPTION");
    // The blocks after it were cached by the first read and still answer.
    const later = table.index().lastKey(5).slice();
    expect(table.get(later, 1e9, out)).toBe(true);
  });
});
