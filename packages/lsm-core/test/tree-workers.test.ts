// Merge compactions on worker threads: the same tables as inline, callbacks loaded by module, errors
// that keep their codes, a dying worker that leaves the tree as it was, and the cases that stay inline.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { ForwardingFs, MemFs, StdFs, type Fs } from "@talus/fs";
import { counterMerge, Leveled, LsmError, SEQNO_MAX, SequenceNumberCounter, Tree, type TreeOptions } from "../src/index.ts";
import { dec, enc } from "./helpers.ts";
import { entriesAt, tableFileIds, versionTableIds } from "./tree-test-support.ts";
import { dieInWorker, joinWhere, misnamed, threadStamp, throwOnBad } from "./fixtures/thread-callbacks.ts";
import { IOURING_UNAVAILABLE, useIoUringFs } from "./backends.ts";

const ioUringFs = useIoUringFs(afterAll);

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "talus-workers-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  vi.useRealTimers();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const SMALL: Partial<TreeOptions> = { flushTableSize: 4096, blockSize: 512, compression: ["none", "lz4"] };

/** Every table file of a tree directory, by name, with its bytes. */
function tableBytes(dir: string): Map<string, Buffer> {
  const tables = join(dir, "tables");
  return new Map(readdirSync(tables).map((name) => [name, readFileSync(join(tables, name))]));
}

/** A workload that gives merges something of every kind to do: overwrites, deletes, operands, range tombstones, an ingestion. */
async function fillAndCompact(tree: Tree, seqno: SequenceNumberCounter): Promise<void> {
  const strategy = new Leveled({ l0Threshold: 2, tableTargetSize: 8192 });
  const one = new Uint8Array(8);
  one[0] = 1;
  for (let round = 0; round < 8; round++) {
    for (let i = 0; i < 300; i++) {
      const k = (i * 37 + round * 11) % 500;
      tree.insert(`key${String(k).padStart(4, "0")}`, `value-${round}-${i}`.repeat(1 + (k % 3)), seqno.next());
      if (i % 17 === 0) tree.remove(`key${String((k + 5) % 500).padStart(4, "0")}`, seqno.next());
      if (i % 23 === 0) tree.merge(`count${k % 7}`, one, seqno.next());
    }
    if (round === 3) tree.removeRange("key0100", "key0150", seqno.next());
    if (round === 5) {
      const ingestion = tree.ingestion();
      for (let i = 0; i < 50; i++) ingestion.write(`ingested${String(i).padStart(3, "0")}`, `i${i}`);
      await ingestion.finish();
    }
    const watermark = Math.max(0, seqno.get() - 400);
    await tree.flushActiveMemtable(watermark);
    while ((await tree.compact(strategy, watermark)).action !== "nothing");
  }
  await tree.majorCompact(8192, seqno.get());
}

/** What {@link compactOn} leaves of one tree: its directory, contents and table ids. */
interface Compacted {
  readonly dir: string;
  readonly entries: string[];
  readonly tables: number[];
}

/**
 * fillAndCompact on a fresh tree in a temp directory for each `[fs, workers]`, the clock stopped so that
 * table files can match byte for byte.
 */
async function compactOn(setups: readonly (readonly [Fs, number | false])[]): Promise<Compacted[]> {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(new Date("2026-01-02T03:04:05Z"));
  const results: Compacted[] = [];
  for (const [fs, workers] of setups) {
    const dir = tempDir();
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: dir, fs, seqno, workers, mergeOperator: counterMerge, ...SMALL });
    await fillAndCompact(tree, seqno);
    results.push({ dir, entries: entriesAt(tree), tables: versionTableIds(tree) });
    await tree.close();
  }
  return results;
}

/** The worker's tree reads the same, lists the same tables, and its table files are the inline ones byte for byte. */
function expectSameTables(inline: Compacted, worker: Compacted): void {
  expect(worker.entries).toEqual(inline.entries);
  expect(worker.tables).toEqual(inline.tables);
  const a = tableBytes(inline.dir);
  const b = tableBytes(worker.dir);
  expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
  for (const [name, bytes] of a) expect(b.get(name)?.equals(bytes), `table ${name}`).toBe(true);
}

describe("merges on worker threads", () => {
  it("write byte for byte the tables the main thread writes, and read the same", async () => {
    const [inline, worker] = (await compactOn([
      [new StdFs(), false],
      [new StdFs(), 1],
    ])) as [Compacted, Compacted];
    // Several tables to compare.
    expect(inline.tables.length).toBeGreaterThan(1);
    expectSameTables(inline, worker);
  });

  it.skipIf(IOURING_UNAVAILABLE !== undefined)(
    `on IoUringFs (each worker makes its own through threadShare) write byte for byte StdFs's inline tables${IOURING_UNAVAILABLE === undefined ? "" : ` (skipped: io_uring is unavailable, ${IOURING_UNAVAILABLE})`}`,
    async () => {
      const [inline, worker] = (await compactOn([
        [new StdFs(), false],
        [ioUringFs(), 2],
      ])) as [Compacted, Compacted];
      expectSameTables(inline, worker);
    },
  );

  it("run on a worker when every callback is tagged with fromModule, and inline otherwise", async () => {
    const stamped = async (options: Partial<TreeOptions>): Promise<string | undefined> => {
      const seqno = new SequenceNumberCounter();
      const tree = await Tree.open({ path: tempDir(), seqno, ...options });
      for (let i = 0; i < 2; i++) {
        tree.insert("k", `v${i}`, seqno.next());
        await tree.flushActiveMemtable(0);
      }
      await tree.majorCompact(1 << 20, 0);
      const value = dec(tree.get("k", SEQNO_MAX));
      await tree.close();
      return value;
    };
    expect(await stamped({ compactionFilter: threadStamp, workers: 1 })).toBe("v1@worker");
    expect(await stamped({ compactionFilter: threadStamp, workers: false })).toBe("v1@main");
    // The same filter, untagged: a closure cannot cross to another thread.
    expect(await stamped({ compactionFilter: { name: threadStamp.name, create: threadStamp.create }, workers: 1 })).toBe("v1@main");
    // A filesystem another thread cannot use (a wrapper that must see every call).
    expect(await stamped({ compactionFilter: threadStamp, workers: 2, fs: new ForwardingFs(new StdFs()) })).toBe("v1@main");
    // By default: on for StdFs, off for MemFs.
    expect(await stamped({ compactionFilter: threadStamp })).toBe("v1@worker");
    expect(await stamped({ compactionFilter: threadStamp, fs: new MemFs() })).toBe("v1@main");
    // IoUringFs shares itself with workers as StdFs does.
    if (IOURING_UNAVAILABLE === undefined) expect(await stamped({ compactionFilter: threadStamp, fs: ioUringFs() })).toBe("v1@worker");
  });

  it("merge operands with a tagged operator in the worker, and reads see the merged value", async () => {
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: tempDir(), seqno, mergeOperator: joinWhere, workers: 1 });
    tree.insert("k", "a", seqno.next());
    await tree.flushActiveMemtable(0);
    tree.merge("k", "b", seqno.next());
    await tree.flushActiveMemtable(0);
    tree.merge("k", "c", seqno.next());
    await tree.flushActiveMemtable(0);
    await tree.majorCompact(1 << 20, seqno.get());
    expect(tree.tableCount()).toBe(1);
    // Merged fully in the worker (the read itself has nothing left to merge).
    expect(dec(tree.get("k", SEQNO_MAX))).toBe("a+b+c@worker");
    await tree.close();
  });

  it("flush sealed memtables on a worker, reading them in place from shared memory", async () => {
    for (const [workers, where] of [[1, "worker"], [false, "main"]] as const) {
      const seqno = new SequenceNumberCounter();
      const tree = await Tree.open({ path: tempDir(), seqno, mergeOperator: joinWhere, workers });
      tree.insert("k", "a", seqno.next());
      tree.merge("k", "b", seqno.next());
      for (let i = 0; i < 3000; i++) tree.insert(`x${String(i).padStart(5, "0")}`, `v${i}`, seqno.next());
      tree.merge("k", "c", seqno.next());
      tree.removeRange("x00100", "x00200", seqno.next());
      // Below the watermark, the flush collapses the operands of the sealed memtables into one value.
      await tree.flushActiveMemtable(seqno.get());
      expect(dec(tree.get("k", SEQNO_MAX))).toBe(`a+b+c@${where}`);
      expect(entriesAt(tree).length).toBe(1 + 3000 - 100);
      expect(tree.tableCount()).toBe(1);
      await tree.close();
    }
  });

  it("fail with the job's own error code, leaving the tree as it was", async () => {
    const seqno = new SequenceNumberCounter();
    const dir = tempDir();
    const tree = await Tree.open({ path: dir, seqno, compactionFilter: throwOnBad, workers: 1 });
    tree.insert("a", "fine", seqno.next());
    await tree.flushActiveMemtable(0);
    tree.insert("b", "bad", seqno.next());
    await tree.flushActiveMemtable(0);
    const before = { entries: entriesAt(tree), tables: versionTableIds(tree) };
    const error = await tree.majorCompact(1 << 20, 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LsmError);
    expect((error as LsmError).code).toBe("COMPACTION_FILTER");
    expect((error as LsmError).message).toContain("bad value in worker");
    expect({ entries: entriesAt(tree), tables: versionTableIds(tree) }).toEqual(before);
    expect(tableFileIds(new StdFs(), dir)).toEqual(before.tables);
    await tree.close();
  });

  it("refuse a tag whose module exports a callback of another name (nothing is written)", async () => {
    const seqno = new SequenceNumberCounter();
    const dir = tempDir();
    const tree = await Tree.open({ path: dir, seqno, compactionFilter: misnamed, workers: 1 });
    for (let i = 0; i < 2; i++) {
      tree.insert("k", `v${i}`, seqno.next());
      await tree.flushActiveMemtable(0);
    }
    const before = versionTableIds(tree);
    await expect(tree.majorCompact(1 << 20, 0)).rejects.toThrow(/named "thread-stamp", not "not-thread-stamp"/);
    expect(versionTableIds(tree)).toEqual(before);
    expect(tableFileIds(new StdFs(), dir)).toEqual(before);
    await tree.close();
  });

  it("survive a worker that dies mid-job: WORKER_FAILED, no file left behind, the next job gets a fresh thread", async () => {
    const seqno = new SequenceNumberCounter();
    const dir = tempDir();
    const tree = await Tree.open({ path: dir, seqno, compactionFilter: dieInWorker, workers: 1, ...SMALL });
    // Enough entries before the fatal one that the worker has written tables when it dies.
    for (let i = 0; i < 2000; i++) tree.insert(`a${String(i).padStart(5, "0")}`, `value ${i}`.repeat(3), seqno.next());
    await tree.flushActiveMemtable(0);
    const marker = join(tempDir(), "die");
    writeFileSync(marker, "");
    tree.insert("z", `die:${marker}`, seqno.next());
    await tree.flushActiveMemtable(0);
    const before = { entries: entriesAt(tree), tables: versionTableIds(tree) };
    const error = await tree.majorCompact(8192, 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LsmError);
    expect((error as LsmError).code).toBe("WORKER_FAILED");
    expect((error as LsmError).cause).toBeDefined();
    expect({ entries: entriesAt(tree), tables: versionTableIds(tree) }).toEqual(before);
    expect(tableFileIds(new StdFs(), dir)).toEqual(before.tables);
    // Without the marker the same job succeeds, on a new thread.
    rmSync(marker);
    const result = await tree.majorCompact(8192, seqno.get());
    expect(result.action).toBe("merged");
    expect(dec(tree.get("z", SEQNO_MAX))).toBe(`die:${marker}`);
    expect(entriesAt(tree).length).toBe(2001);
    await tree.close();
    const reopened = await Tree.open({ path: dir, seqno, workers: false });
    expect(entriesAt(reopened).length).toBe(2001);
    await reopened.close();
  });

  it("let close() wait for a running worker job, and reopen to what it installed", async () => {
    const seqno = new SequenceNumberCounter();
    const dir = tempDir();
    const tree = await Tree.open({ path: dir, seqno, workers: 1, ...SMALL });
    for (let r = 0; r < 3; r++) {
      for (let i = 0; i < 1000; i++) tree.insert(`k${String(i).padStart(5, "0")}`, `r${r}`, seqno.next());
      await tree.flushActiveMemtable(0);
    }
    const compaction = tree.majorCompact(8192, seqno.get());
    await tree.close();
    expect((await compaction).action).toBe("merged");
    const reopened = await Tree.open({ path: dir, seqno, workers: false });
    expect(entriesAt(reopened)).toEqual(Array.from({ length: 1000 }, (_, i) => `k${String(i).padStart(5, "0")}=r2`));
    expect(tableFileIds(new StdFs(), dir)).toEqual(versionTableIds(reopened));
    await reopened.close();
  });

  it("check the workers option", async () => {
    for (const workers of [-1, 1.5, 65, "2"] as unknown[]) {
      await expect(Tree.open({ path: tempDir(), workers: workers as number })).rejects.toThrow(RangeError);
    }
    const tree = await Tree.open({ path: tempDir(), workers: 0 });
    tree.insert("k", "v", 1);
    await tree.close();
    expect(enc("x").length).toBe(1);
  });
});
