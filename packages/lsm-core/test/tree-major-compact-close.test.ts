// A major compaction accepted before close() began runs to completion on a blob tree too (found by the
// blob tree model test, packages/vlog/test/blob-tree-model.test.ts, seed 11 of blob-stdfs-reverse-lz4):
// its second pass, which relocates the blob files the first left stale, went through compact(), which
// refuses new work once close() has begun, so the whole majorCompact() rejected with CLOSED.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { SequenceNumberCounter, Tree } from "../src/index.ts";
import { k, pairsOf } from "./tree-support.ts";
import { FakeValueLog } from "./value-log-support.ts";

const THRESHOLD = 64;
const big = (i: number): string => `${i}:`.padEnd(THRESHOLD + 10, "v");

describe("majorCompact() and close()", () => {
  it("a major compaction started before close() relocates and resolves; close() waits for it", async () => {
    const fs = new MemFs();
    const seqno = new SequenceNumberCounter();
    const log = new FakeValueLog(fs, "/db", THRESHOLD);
    const tree = await Tree.open({ path: "/db", fs, seqno, valueLog: log });
    for (let i = 0; i < 20; i++) tree.insert(k(i), big(i), seqno.next());
    await tree.flushActiveMemtable(0);
    // Overwrite 12 of the 20 values: once the first pass drops the old versions, the blob file is stale.
    for (let i = 0; i < 12; i++) tree.insert(k(i), `new${i}`, seqno.next());
    await tree.flushActiveMemtable(0);
    const major = tree.majorCompact(1 << 20, seqno.get());
    const closing = tree.close();
    await expect(major).resolves.toMatchObject({ action: "merged" });
    await closing;
    // The second pass ran: the 8 live values moved out of the stale file, which is gone.
    expect(log.relocations).toBe(8);
    const again = await Tree.open({ path: "/db", fs, seqno, valueLog: new FakeValueLog(fs, "/db", THRESHOLD) });
    expect(again.staleBlobBytes()).toBe(0);
    expect(again.blobFileCount()).toBe(1);
    expect(pairsOf(again.iter(seqno.get()))).toEqual(Array.from({ length: 20 }, (_, i) => `${k(i)}=${i < 12 ? `new${i}` : big(i)}`));
    await again.close();
  });
});
