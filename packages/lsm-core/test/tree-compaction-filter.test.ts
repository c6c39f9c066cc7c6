// Compaction filters (src/compaction/compaction-filter.ts): verdicts, where they apply, TTL expiry through
// majorCompact, snapshots older than a filtered compaction, and a throwing filter.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { LsmError, SequenceNumberCounter, Tree, type CompactionFilter, type CompactionVerdict } from "../src/index.ts";
import { dec } from "./helpers.ts";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

async function open(compactionFilter: CompactionFilter): Promise<{ tree: Tree; seqno: SequenceNumberCounter }> {
  const seqno = new SequenceNumberCounter();
  const tree = await Tree.open({ path: "/db", fs: new MemFs(), seqno, compactionFilter });
  return { tree, seqno };
}

const byValue = (verdicts: Record<string, CompactionVerdict>, calls: string[] = [], lastLevel: boolean[] = []): CompactionFilter => ({
  name: "by-value",
  create: ({ isLastLevel }) => {
    lastLevel.push(isLastLevel);
    return {
      filter: (item) => {
        calls.push(`${dec(item.key)}@${item.seqno}${item.isMergeOperand ? "+" : ""}`);
        return verdicts[dec(item.value()) as string] ?? "keep";
      },
    };
  },
});

describe("compaction filters", () => {
  it("apply their verdicts in merge compactions, not in flushes", async () => {
    const calls: string[] = [];
    const lastLevel: boolean[] = [];
    const { tree, seqno } = await open(byValue({ drop: "destroy", del: "remove", weak: "removeWeak", old: { replace: enc("new") } }, calls, lastLevel));
    tree.insert("a", "keep", seqno.next());
    tree.insert("b", "drop", seqno.next());
    tree.insert("c", "del", seqno.next());
    tree.insert("d", "weak", seqno.next());
    tree.insert("e", "old", seqno.next());
    tree.remove("f", seqno.next());
    tree.merge("g", "old", seqno.next());
    await tree.flushActiveMemtable(0);
    expect(calls).toEqual([]);
    const before = seqno.get();
    await tree.majorCompact(1 << 20, 0);
    // Tombstones are never shown to the filter.
    expect(calls).toEqual(["a@0", "b@1", "c@2", "d@3", "e@4", "g@6+"]);
    expect(lastLevel).toEqual([true]);
    const now = seqno.get();
    expect([...tree.iter(now)].map(([k, v]) => `${dec(k)}=${dec(v)}`)).toEqual(["a=keep", "e=new", "g=new"]);
    // A snapshot from before the compaction still reads the old data from the tree's history.
    expect(dec(tree.get("b", before))).toBe("drop");
    expect(dec(tree.get("e", before))).toBe("old");
    await tree.close();
  });

  it("empties expired keys with a TTL filter and majorCompact", async () => {
    const now = 1_000_000;
    const ttl: CompactionFilter = {
      name: "ttl",
      create: () => ({ filter: (item) => (new DataView(item.value().buffer, item.value().byteOffset, 8).getFloat64(0) < now ? "remove" : "keep") }),
    };
    const { tree, seqno } = await open(ttl);
    const expiring = (at: number, text: string): Uint8Array => {
      const out = new Uint8Array(8 + text.length);
      new DataView(out.buffer).setFloat64(0, at);
      out.set(enc(text), 8);
      return out;
    };
    for (let i = 0; i < 50; i++) tree.insert(`k${i}`, expiring(i % 2 === 0 ? now - 1 : now + 1, `v${i}`), seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(1 << 20, seqno.get());
    expect(tree.len(seqno.get())).toBe(25);
    // The tombstones the filter wrote fall away in the next bottom compaction.
    await tree.majorCompact(1 << 20, seqno.get());
    expect(tree.approximateLen()).toBe(25);
    await tree.close();
  });

  it("a throwing filter fails the compaction with COMPACTION_FILTER and leaves the tree as it was", async () => {
    const boom: CompactionFilter = {
      name: "boom",
      create: () => ({
        filter: (item) => {
          if (dec(item.key) === "m") throw new Error("no");
          return "remove";
        },
      }),
    };
    const { tree, seqno } = await open(boom);
    for (const key of ["a", "m", "z"]) tree.insert(key, key, seqno.next());
    await tree.flushActiveMemtable(0);
    const tables = tree.tableCount();
    const error = await tree.majorCompact(1 << 20, 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LsmError);
    expect((error as LsmError).code).toBe("COMPACTION_FILTER");
    expect(((error as LsmError).cause as Error).message).toBe("no");
    expect(tree.tableCount()).toBe(tables);
    expect(tree.len(seqno.get())).toBe(3);
    tree.verify();
    await tree.close();
  });

  it("refuses an option that is not a filter", async () => {
    await expect(Tree.open({ path: "/db", fs: new MemFs(), compactionFilter: {} as CompactionFilter })).rejects.toThrow(TypeError);
  });
});
