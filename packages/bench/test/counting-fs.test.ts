import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemFs, StdFs } from "@talus/fs";
import { SequenceNumberCounter, Tree } from "@talus/lsm-core";
import { describe, expect, it } from "vitest";
import { CountingFs } from "../src/counting-fs.ts";

describe("CountingFs", () => {
  it("counts bytes written and read, files created and syncs, and delegates the rest", () => {
    const fs = new CountingFs(new MemFs());
    fs.createDirAll("/d");
    const f = fs.open("/d/a", { write: true, createNew: true, read: true });
    f.write(new Uint8Array(10));
    f.write(new Uint8Array(5));
    f.sync();
    expect(f.readAt(new Uint8Array(8), 0)).toBe(8);
    expect(fs.readMany([{ file: f, position: 10, buffer: new Uint8Array(10) }])).toEqual([5]);
    f.close();
    fs.syncDirectory("/d");
    expect(fs.counts).toEqual({ bytesWritten: 15, bytesRead: 13, reads: 2, filesCreated: 1, syncs: 2 });
    expect(fs.metadata("/d/a").len).toBe(15);
    expect(fs.readDir("/d").map((e) => e.fileName)).toEqual(["a"]);
  });

  it("counts async syncs and forwards them to the inner backend's async form", async () => {
    const fs = new CountingFs(new MemFs());
    fs.createDirAll("/d");
    const f = fs.open("/d/a", { write: true, createNew: true });
    expect(f.syncAsync).toBeTypeOf("function");
    await f.syncAsync?.();
    await fs.syncDirectoryAsync("/d");
    f.close();
    expect(fs.counts.syncs).toBe(2);
  });

  it("sees every byte a tree flushes", async () => {
    const fs = new CountingFs(new MemFs());
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: "/db", fs, seqno });
    for (let i = 0; i < 1000; i++) tree.insert(`key${String(i).padStart(6, "0")}`, "v".repeat(100), seqno.next());
    await tree.flushActiveMemtable(0);
    expect(fs.counts.bytesWritten).toBeGreaterThanOrEqual(tree.diskSpace());
    expect(fs.counts.bytesWritten).toBeGreaterThan(100_000);
    await tree.close();
  });

  it("counts what a compaction on a worker thread writes, into the same counters", async () => {
    const written: number[] = [];
    for (const workers of [false, 1] as const) {
      const dir = mkdtempSync(join(tmpdir(), "talus-counting-"));
      try {
        const fs = new CountingFs(new StdFs());
        expect(fs.threadShare()?.exportName).toBe("CountingStdFs");
        const seqno = new SequenceNumberCounter();
        const tree = await Tree.open({ path: dir, fs, seqno, workers });
        for (let round = 0; round < 3; round++) {
          for (let i = 0; i < 1000; i++) tree.insert(`key${String(i).padStart(6, "0")}`, `v${round}`.repeat(50), seqno.next());
          await tree.flushActiveMemtable(0);
        }
        const before = fs.counts.bytesWritten;
        await tree.majorCompact(1 << 20, seqno.get());
        // The merged table (a third of what the flushes wrote, in LZ4) was counted wherever it was written.
        expect(fs.counts.bytesWritten - before).toBeGreaterThan(tree.diskSpace() / 2);
        written.push(fs.counts.bytesWritten);
        await tree.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    expect(written[1]).toBe(written[0]);
  });

  it("offers no thread share over a filesystem other threads cannot use", () => {
    expect(new CountingFs(new MemFs()).threadShare()).toBeUndefined();
  });
});
