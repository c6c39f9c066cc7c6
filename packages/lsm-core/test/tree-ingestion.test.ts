// Bulk ingestion (src/tree/ingestion.ts): sorted entries into new tables, visible at once at one global
// seqno above everything before; order errors, abort, reopen, compaction of ingested tables.
import { describe, expect, it } from "vitest";
import { MemFs, type Fs } from "@talus/fs";
import { FaultFs, isInjected } from "@talus/testkit";
import { Leveled, LsmError, SequenceNumberCounter, Tree } from "../src/index.ts";
import { dec } from "./helpers.ts";
import { k } from "./tree-support.ts";

async function open<F extends Fs = MemFs>(fs: F = new MemFs() as Fs as F, seqno = new SequenceNumberCounter()): Promise<{ tree: Tree; fs: F; seqno: SequenceNumberCounter }> {
  const tree = await Tree.open({ path: "/db", fs, seqno, flushTableSize: 2048, blockSize: 256 });
  return { tree, fs, seqno };
}

const view = (tree: Tree, s: number): string[] => [...tree.iter(s)].map(([key, value]) => `${dec(key)}=${dec(value)}`);

describe("ingestion", () => {
  it("makes every entry visible at once, at one seqno above everything written before", async () => {
    const { tree, seqno } = await open();
    tree.insert(k(5), "old", seqno.next());
    tree.insert(k(7), "old", seqno.next());
    await tree.flushActiveMemtable(0);
    tree.insert(k(6), "memtable", seqno.next());
    const ingestion = tree.ingestion();
    for (let i = 0; i < 300; i++) {
      if (i === 7) ingestion.writeTombstone(k(i));
      else ingestion.write(k(i), `ingested${i}`);
    }
    const before = seqno.get();
    // Nothing is visible before finish.
    expect(dec(tree.get(k(5), seqno.get()))).toBe("old");
    expect(tree.get(k(100), SEQNO_MAX_READ)).toBeUndefined();
    const result = await ingestion.finish();
    expect(result.entries).toBe(300);
    expect(result.tables).toBeGreaterThan(1);
    const now = seqno.get();
    expect(dec(tree.get(k(5), now))).toBe("ingested5");
    expect(dec(tree.get(k(6), now))).toBe("ingested6");
    expect(tree.get(k(7), now)).toBeUndefined();
    expect(tree.len(now)).toBe(299);
    // Reads from before the finish still see the old data.
    expect(view(tree, before)).toEqual([`${k(5)}=old`, `${k(6)}=memtable`, `${k(7)}=old`]);
    expect([...tree.iter(now, { reverse: true })]).toHaveLength(299);
    // Writes after the ingestion are newer.
    tree.insert(k(5), "newer", seqno.next());
    expect(dec(tree.get(k(5), seqno.get()))).toBe("newer");
    tree.verify();
    await tree.close();
  });

  it("survives reopen and compaction with the same answers", async () => {
    const { tree, fs, seqno } = await open();
    const ingestion = tree.ingestion();
    for (let i = 0; i < 200; i++) ingestion.write(k(i), `v${i}`);
    await ingestion.finish();
    const at = seqno.get();
    const expected = view(tree, at);
    await tree.close();
    const reopened = (await open(fs, seqno)).tree;
    expect(view(reopened, at)).toEqual(expected);
    expect(reopened.get(k(3), at - 1)).toBeUndefined(); // at the global seqno itself: not yet visible
    for (let i = 0; i < 5; i++) await reopened.compact(new Leveled({ tableTargetSize: 2048, l0Threshold: 1 }), 0);
    await reopened.majorCompact(4096, seqno.get());
    expect(view(reopened, seqno.get())).toEqual(expected);
    reopened.verify();
    await reopened.close();
  });

  it("refuses keys out of order with RangeError and can still be aborted, leaving no trace", async () => {
    const { tree, fs, seqno } = await open();
    const ingestion = tree.ingestion();
    ingestion.write("b", "1");
    expect(() => ingestion.write("b", "2")).toThrow(RangeError);
    expect(() => ingestion.write("a", "2")).toThrow(RangeError);
    for (let i = 0; i < 200; i++) ingestion.write(`c${String(i).padStart(4, "0")}`, "x".repeat(50));
    await ingestion.abort();
    expect(() => ingestion.write("z", "1")).toThrow(LsmError);
    expect(tree.tableCount()).toBe(0);
    expect(fs.readDir("/db/tables")).toEqual([]);
    expect(tree.isEmpty(seqno.get())).toBe(true);
    const empty = await tree.ingestion().finish();
    expect(empty).toEqual({ tables: 0, entries: 0 });
    await tree.close();
  });

  it("keeps every entry when creating the next table fails, and checks order across table cuts", async () => {
    const fs = new FaultFs(new MemFs());
    const { tree, seqno } = await open(fs);
    const ingestion = tree.ingestion();
    ingestion.write(k(0), "v".repeat(40));
    // The first table file was opened; the next one (the first rotation) fails once.
    fs.addRule({ ops: "open", path: "**/tables/*", error: "EIO" });
    let i = 1;
    let failures = 0;
    while (ingestion.entries < 400) {
      try {
        ingestion.write(k(i), "v".repeat(40));
        i++;
      } catch (error) {
        expect(isInjected(error)).toBe(true);
        failures++;
      }
    }
    expect(failures).toBe(1);
    expect(() => ingestion.write(k(i - 1), "again")).toThrow(RangeError);
    expect(() => ingestion.write(k(0), "again")).toThrow(RangeError);
    const result = await ingestion.finish();
    expect(result).toEqual({ tables: result.tables, entries: 400 });
    expect(result.tables).toBeGreaterThan(1);
    expect(tree.len(seqno.get())).toBe(400);
    expect([...tree.iter(seqno.get())].map(([key]) => dec(key))).toEqual(Array.from({ length: 400 }, (_, j) => k(j)));
    await tree.close();
  });

  it("copies the keys it is handed: a caller reusing one Buffer for every key loses nothing", async () => {
    // Buffer#slice is a view: a writer that "copied" the first key with slice() kept the caller's memory,
    // so the table's smallest key changed when the caller refilled its buffer and reads below it missed.
    const { tree, seqno } = await open();
    const ingestion = tree.ingestion();
    const scratch = Buffer.alloc(k(0).length);
    for (let i = 0; i < 50; i++) {
      scratch.write(k(i));
      ingestion.write(scratch, `v${i}`);
    }
    scratch.fill(0x7a);
    await ingestion.finish();
    const now = seqno.get();
    for (let i = 0; i < 50; i++) expect(dec(tree.get(k(i), now)), k(i)).toBe(`v${i}`);
    tree.verify();
    await tree.close();
  });
});

const SEQNO_MAX_READ = Number.MAX_SAFE_INTEGER;
