// How range tombstones are laid out in tables (src/tree/table-store.ts, src/range-tombstone/tombstone-share.ts):
// clipped at table cuts so a level's key ranges stay disjoint, the sentinel of a tombstone-only table,
// the unbounded end of an all-0xff prefix, and cuts postponed under a custom comparator.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { SequenceNumberCounter, Tree, type TableFile, type Version } from "../src/index.ts";
import { MAX_KEY_BYTES } from "../src/key/validate.ts";
import { dec, REVERSE_COMPARATOR } from "./helpers.ts";
import { k } from "./tree-support.ts";

function tablesOf(version: Version<TableFile>): TableFile[][] {
  return version.levels.flatMap((level) => level.runs.map((run) => [...run.tables]));
}

async function openTiny(extra: Partial<Parameters<typeof Tree.open>[0]> = {}): Promise<{ tree: Tree; seqno: SequenceNumberCounter }> {
  const seqno = new SequenceNumberCounter();
  const tree = await Tree.open({ path: "/db", fs: new MemFs(), seqno, blockSize: 64, flushTableSize: 600, ...extra });
  return { tree, seqno };
}

describe("range tombstones in tables", () => {
  it("a tombstone spanning a flush's table cuts is clipped at each cut: bytewise, the next table starts just after the last key", async () => {
    const { tree, seqno } = await openTiny();
    for (let i = 0; i < 60; i++) tree.insert(k(i), "v".repeat(40), seqno.next());
    const deletedAt = seqno.next();
    tree.removeRange(k(5), k(55), deletedAt);
    await tree.flushActiveMemtable(0);
    const [run] = tablesOf(tree.currentVersion());
    expect(run!.length).toBeGreaterThan(3);
    let covered = 0;
    for (let i = 0; i < run!.length; i++) {
      const table = run![i]!;
      for (const f of table.rangeTombstones) {
        covered++;
        // Every fragment lies inside its table's key range.
        expect(Buffer.compare(f.start, table.minKey)).toBeGreaterThanOrEqual(0);
        expect(Buffer.compare(f.start, table.maxKey)).toBeLessThanOrEqual(0);
      }
      const next = run![i + 1];
      if (next !== undefined && table.rangeTombstones.length > 0 && next.rangeTombstones.length > 0) {
        // The cut: this table's tombstone ends at `last ‖ 0x00`, where the next table's range begins.
        expect(dec(next.minKey)).toBe(`${dec(table.maxKey)}\u0000`);
        expect(table.rangeTombstones.at(-1)!.end).toEqual(next.minKey);
      }
    }
    expect(covered).toBeGreaterThan(1);
    expect(tree.len(seqno.get())).toBe(10);
    expect(tree.get(k(30), seqno.get())).toBeUndefined();
    expect(tree.len(deletedAt)).toBe(60);
    tree.verify();
    await tree.close();
  });

  it("a memtable that only deleted a range flushes into one table holding a sentinel tombstone", async () => {
    const { tree, seqno } = await openTiny();
    tree.insert("b", "old", seqno.next());
    await tree.flushActiveMemtable(0);
    tree.removeRange("a", "c", seqno.next());
    expect(tree.rotateMemtable()).toBe(true);
    await tree.flushActiveMemtable(0);
    const newest = tablesOf(tree.currentVersion())[0]![0]!;
    expect(newest.table.meta.entryCount).toBe(1);
    expect(newest.table.meta.tombstoneCount).toBe(1);
    expect(dec(newest.minKey)).toBe("a");
    expect(dec(newest.maxKey)).toBe("c");
    expect(tree.get("b", seqno.get())).toBeUndefined();
    expect(tree.isEmpty(seqno.get())).toBe(true);
    tree.verify();
    await tree.close();
  });

  it("an all-0xff prefix deletes to the end of the key space, through flush and a major compaction", async () => {
    const { tree, seqno } = await openTiny();
    const high = (suffix: string): Uint8Array => Buffer.concat([Buffer.from([0xff, 0xff]), Buffer.from(suffix)]);
    tree.insert("a", "1", seqno.next());
    tree.insert(high("x"), "2", seqno.next());
    tree.insert(high("y\xff\xff"), "3", seqno.next());
    tree.removePrefix(Uint8Array.of(0xff, 0xff), seqno.next());
    await tree.flushActiveMemtable(0);
    const table = tablesOf(tree.currentVersion())[0]![0]!;
    expect(table.maxKey).toEqual(new Uint8Array(MAX_KEY_BYTES).fill(0xff));
    expect(table.rangeTombstones[0]!.end.length).toBe(0);
    expect([...tree.iter(seqno.get())].map(([key]) => dec(key))).toEqual(["a"]);
    tree.insert(high("z"), "4", seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(1 << 20, 0);
    expect([...tree.iter(seqno.get(), { reverse: true })].map(([key]) => key)).toEqual([high("z"), Buffer.from("a")].map((b) => new Uint8Array(b)));
    tree.verify();
    await tree.close();
  });

  it("under a custom comparator a table is not cut where a tombstone reaches between two keys", async () => {
    const { tree, seqno } = await openTiny({ comparator: REVERSE_COMPARATOR });
    for (let i = 0; i < 60; i++) tree.insert(k(i), "v".repeat(40), seqno.next());
    // Reverse order: k(50) sorts before k(10).
    tree.removeRange(k(50), k(10), seqno.next());
    await tree.flushActiveMemtable(0);
    const [run] = tablesOf(tree.currentVersion());
    const holders = run!.filter((t) => t.rangeTombstones.length > 0);
    expect(holders).toHaveLength(1);
    const holder = holders[0]!;
    expect(REVERSE_COMPARATOR.compare(holder.minKey, Buffer.from(k(50)))).toBeLessThanOrEqual(0);
    expect(REVERSE_COMPARATOR.compare(holder.maxKey, Buffer.from(k(11)))).toBeGreaterThanOrEqual(0);
    expect(run!.length).toBeGreaterThan(2);
    expect(tree.len(seqno.get())).toBe(20);
    expect([...tree.iter(seqno.get())].map(([key]) => dec(key))).toEqual([...Array.from({ length: 9 }, (_, i) => k(59 - i)), ...Array.from({ length: 11 }, (_, i) => k(10 - i))]);
    tree.verify();
    await tree.close();
  });
});

describe("scans over deleted stretches", () => {
  it("jump over what older sources hold under a tombstone and still see what newer sources wrote inside it", async () => {
    const { tree, seqno } = await openTiny({ flushTableSize: 4096 });
    for (let i = 0; i < 200; i++) tree.insert(k(i), `old${i}`, seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(4096, 0);
    tree.insert(k(150), "sealed", seqno.next());
    tree.rotateMemtable();
    const before = seqno.get();
    tree.removeRange(k(10), k(190), seqno.next());
    tree.insert(k(50), "after", seqno.next()); // newer than the tombstone, inside it
    tree.insert(k(120), "after", seqno.next());
    const now = seqno.get();
    const keys = (s: number, opts: { gte?: string; lt?: string; reverse?: boolean } = {}): string[] =>
      [...tree.range(opts, s)].map(([key, value]) => `${dec(key)}=${dec(value)}`);
    const expected = [...Array.from({ length: 10 }, (_, i) => `${k(i)}=old${i}`), `${k(50)}=after`, `${k(120)}=after`, ...Array.from({ length: 10 }, (_, i) => `${k(190 + i)}=old${190 + i}`)];
    expect(keys(now)).toEqual(expected);
    expect(keys(now, { reverse: true })).toEqual([...expected].reverse());
    expect(keys(now, { gte: k(5), lt: k(195) })).toEqual(expected.slice(5, -5));
    expect(keys(before)).toHaveLength(200);
    expect(keys(before)).toContain(`${k(150)}=sealed`);
    // Tombstones flushed too: the tombstone's table is newer than the data, so the data's run is skipped.
    await tree.flushActiveMemtable(0);
    expect(keys(now)).toEqual(expected);
    expect(tree.len(now)).toBe(22);
    await tree.close();
  });
});
