// Prefix extractors (src/prefix/prefix-extractor.ts): tables record each key's extracted prefix in their
// filter, and prefix scans (and range scans whose bounds extract one prefix) skip tables ruled out.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { SequenceNumberCounter, Tree, type PrefixExtractor } from "../src/index.ts";
import { dec } from "./helpers.ts";
import { ReadCountingFs } from "./tree-support.ts";


const upToColon: PrefixExtractor = {
  name: "up-to-colon",
  extract: (key) => {
    const i = key.indexOf(0x3a);
    return i < 0 ? undefined : key.subarray(0, i + 1);
  },
};

async function build(prefixExtractor: PrefixExtractor | undefined): Promise<{ tree: Tree; fs: ReadCountingFs; seqno: SequenceNumberCounter }> {
  const fs = new ReadCountingFs(new MemFs());
  const seqno = new SequenceNumberCounter();
  const tree = await Tree.open({ path: "/db", fs, seqno, cacheBytes: 0, blockSize: 256, ...(prefixExtractor === undefined ? {} : { prefixExtractor }) });
  // Twenty L0 tables, each holding the keys of a few users, interleaved so every table spans the key space.
  for (let t = 0; t < 20; t++) {
    for (let u = t; u < 200; u += 20) for (let i = 0; i < 5; i++) tree.insert(`user${String(u).padStart(3, "0")}:${i}`, `v${t}`, seqno.next());
    tree.insert(`zzz:${t}`, "end", seqno.next());
    await tree.flushActiveMemtable(0);
  }
  return { tree, fs, seqno };
}

describe("prefix extractors", () => {
  it("prefix scans skip tables whose filter rules the prefix out, and answer the same", async () => {
    const plain = await build(undefined);
    const filtered = await build(upToColon);
    expect(filtered.tree.tableCount()).toBe(20);
    for (const probe of ["user042:", "user042:3", "user199:", "nobody:"]) {
      const read = (t: { tree: Tree; fs: ReadCountingFs; seqno: SequenceNumberCounter }): [string[], number] => {
        const before = t.fs.reads;
        const keys = [...t.tree.prefix(probe, t.seqno.get())].map(([k, v]) => `${dec(k)}=${dec(v)}`);
        return [keys, t.fs.reads - before];
      };
      const [expected, plainReads] = read(plain);
      const [keys, filteredReads] = read(filtered);
      expect(keys, probe).toEqual(expected);
      if (probe === "nobody:") expect(filteredReads).toBeLessThanOrEqual(plainReads);
      else expect(filteredReads, probe).toBeLessThan(plainReads);
    }
    expect([...filtered.tree.prefix("user042:", filtered.seqno.get())]).toHaveLength(5);
    // A range whose bounds extract one prefix uses the filter too.
    const before = filtered.fs.reads;
    const inRange = [...filtered.tree.range({ gte: "user042:1", lte: "user042:3" }, filtered.seqno.get())].map(([k]) => dec(k));
    expect(inRange).toEqual(["user042:1", "user042:2", "user042:3"]);
    const rangeReads = filtered.fs.reads - before;
    const plainBefore = plain.fs.reads;
    [...plain.tree.range({ gte: "user042:1", lte: "user042:3" }, plain.seqno.get())];
    expect(rangeReads).toBeLessThan(plain.fs.reads - plainBefore);
    await plain.tree.close();
    await filtered.tree.close();
  });

  it("a tree reopened with another extractor (or none) ignores the old prefix filters and answers the same", async () => {
    const { tree, fs, seqno } = await build(upToColon);
    const expected = [...tree.prefix("user007:", seqno.get())].map(([k]) => dec(k));
    await tree.close();
    const other: PrefixExtractor = Object.assign((key: Uint8Array) => key.subarray(0, 4), { displayName: "x" });
    Object.defineProperty(other, "name", { value: "first-4" });
    for (const prefixExtractor of [undefined, other]) {
      const reopened = await Tree.open({ path: "/db", fs, seqno, ...(prefixExtractor === undefined ? {} : { prefixExtractor }) });
      expect([...reopened.prefix("user007:", seqno.get())].map(([k]) => dec(k))).toEqual(expected);
      await reopened.close();
    }
  });

  it("refuses an extractor without a name or returning something that is not a leading part of the key", async () => {
    const anonymous = { name: "", extract: (key: Uint8Array) => key } as PrefixExtractor;
    await expect(Tree.open({ path: "/b", fs: new MemFs(), prefixExtractor: anonymous })).rejects.toThrow(TypeError);
    const bad: PrefixExtractor = { name: "bad", extract: () => new Uint8Array([1]) };
    const tree = await Tree.open({ path: "/c", fs: new MemFs(), prefixExtractor: bad });
    tree.insert("a", "1", 0);
    await expect(tree.flushActiveMemtable(0)).rejects.toThrow(/leading part/);
    // A clean close tries the flush again: it fails the same way, and the tree is closed all the same.
    await expect(tree.close()).rejects.toThrow(/leading part/);
    expect(() => tree.get("a", 1)).toThrow(/closed/);
    const again = await Tree.open({ path: "/c", fs: tree.fs, prefixExtractor: bad });
    await again.close({ discard: true });
  });
});
