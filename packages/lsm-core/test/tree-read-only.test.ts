import { MemFs, type Fs } from "@talus/fs";
import { describe, expect, it } from "vitest";
import { Leveled, LsmError, SEQNO_MAX, SequenceNumberCounter, Tree } from "../src/index.ts";
import { codeOf, dec, rejectionOf, thrownBy, writeBytes } from "./tree-test-support.ts";

/** Every file under `dir` with its bytes, for "nothing changed" checks. */
function snapshotDir(fs: Fs, dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const entry of fs.readDir(dir)) {
    const path = `${dir}/${entry.fileName}`;
    if (entry.isDir) snapshotDir(fs, path, out);
    else {
      const file = fs.open(path, { read: true });
      const bytes = new Uint8Array(file.len());
      file.readAt(bytes, 0);
      file.close();
      out.set(path, Buffer.from(bytes).toString("base64"));
    }
  }
  return out;
}

/** A tree with tables in two levels, a journal holding unflushed writes, an orphan table and a stale version file. */
async function messyTree(): Promise<{ fs: MemFs; seqno: SequenceNumberCounter }> {
  const fs = new MemFs();
  const seqno = new SequenceNumberCounter();
  const tree = await Tree.open({ path: "/db", fs, seqno, journal: true });
  for (let i = 0; i < 200; i++) tree.insert(`key${String(i).padStart(3, "0")}`, `v${i}`, seqno.next());
  await tree.flushActiveMemtable(0);
  await tree.compact(new Leveled(), 0);
  for (let i = 0; i < 50; i++) tree.insert(`key${String(i).padStart(3, "0")}`, `w${i}`, seqno.next());
  await tree.flushActiveMemtable(0);
  tree.insert("journal-only", "j", seqno.next());
  tree.removeRange("key100", "key110", seqno.next());
  await tree.close({ discard: true });
  // Leftovers a crash could leave, which a writable open would clean up.
  writeBytes(fs, "/db/tables/999", new TextEncoder().encode("orphan"));
  writeBytes(fs, "/db/v9999", new TextEncoder().encode("stale"));
  return { fs, seqno };
}

describe("readOnly trees", () => {
  it("read everything, including what only the journal holds, and change nothing in the directory", async () => {
    const { fs } = await messyTree();
    const before = snapshotDir(fs, "/db");
    const tree = await Tree.open({ path: "/db", fs, readOnly: true });
    expect(dec(tree.get("key010", SEQNO_MAX))).toBe("w10");
    expect(dec(tree.get("key150", SEQNO_MAX))).toBe("v150");
    expect(dec(tree.get("journal-only", SEQNO_MAX))).toBe("j");
    expect(tree.get("key105", SEQNO_MAX)).toBeUndefined();
    expect(tree.len(SEQNO_MAX)).toBe(200 + 1 - 10);
    tree.verify();
    await tree.close();
    expect(snapshotDir(fs, "/db")).toEqual(before);
    // A writable open afterwards still finds the journal's writes (the read-only close kept them).
    const writable = await Tree.open({ path: "/db", fs });
    expect(dec(writable.get("journal-only", SEQNO_MAX))).toBe("j");
    expect(fs.exists("/db/tables/999")).toBe(false);
    await writable.close();
  });

  it("refuse every change with READ_ONLY", async () => {
    const { fs } = await messyTree();
    const tree = await Tree.open({ path: "/db", fs, readOnly: true });
    const refused = (error: unknown): void => {
      expect(error).toBeInstanceOf(LsmError);
      expect(codeOf(error)).toBe("READ_ONLY");
    };
    refused(thrownBy(() => tree.insert("a", "1", 1_000_000)));
    refused(thrownBy(() => tree.remove("a", 1_000_000)));
    refused(thrownBy(() => tree.merge("a", "1", 1_000_000)));
    refused(thrownBy(() => tree.removeRange("a", "b", 1_000_000)));
    refused(thrownBy(() => tree.rotateMemtable()));
    refused(thrownBy(() => tree.ingestion()));
    refused(thrownBy(() => tree.flushActiveMemtable(0)));
    refused(thrownBy(() => tree.compact(new Leveled(), 0)));
    refused(thrownBy(() => tree.dropRange({})));
    refused(thrownBy(() => tree.clear()));
    refused(await rejectionOf(tree.persist()));
    // Reads and snapshots are fine.
    tree.snapshot().release();
    await tree.close();
  });

  it("refuse a directory without a tree, creating nothing, and a tree open elsewhere", async () => {
    const fs = new MemFs();
    expect(codeOf(await rejectionOf(Tree.open({ path: "/nothing", fs, readOnly: true })))).toBe("INVALID_DATA");
    expect(fs.exists("/nothing")).toBe(false);
    fs.createDirAll("/empty");
    expect(codeOf(await rejectionOf(Tree.open({ path: "/empty", fs, readOnly: true })))).toBe("INVALID_DATA");
    expect(fs.readDir("/empty").map((e) => e.fileName).filter((name) => name !== "LOCK")).toEqual([]);
    const open = await Tree.open({ path: "/db", fs });
    expect(codeOf(await rejectionOf(Tree.open({ path: "/db", fs, readOnly: true })))).toBe("LOCKED");
    await open.close();
  });

  it("checks its option against maintenance and journal", async () => {
    const fs = new MemFs();
    await expect(Tree.open({ path: "/db", fs, readOnly: true, maintenance: true })).rejects.toThrow(TypeError);
    await expect(Tree.open({ path: "/db", fs, readOnly: true, journal: true })).rejects.toThrow(TypeError);
    await expect(Tree.open({ path: "/db", fs, readOnly: "yes" as unknown as boolean })).rejects.toThrow(TypeError);
  });
});
