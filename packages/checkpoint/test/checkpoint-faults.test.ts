// Every step of a checkpoint failing once (FaultFs): the promise rejects with that error, the partial target is
// removed, the source is untouched and reopenable, and a retry into the same path succeeds. Named cases for the
// steps the issue lists, then a sweep that fails each single operation of a whole checkpoint in turn. Both run
// over standard trees and blob trees (about half of the values in blob files, one per flush), whose
// checkpoints also link or copy every blob file into `blobs/`; a blob-tree checkpoint and its source must
// open as BlobTrees with every value readable (`verify()` passes).
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { COPY_CHUNK_BYTES, MemFs, StdFs } from "@talus/fs";
import { Tree } from "@talus/lsm-core";
import { FaultFs, isInjected, useTempDirs, type FaultRule, type FsOpKind } from "@talus/testkit";
import { createCheckpoint } from "../src/index.ts";
import { codeOf, contents, diffMaps, isLsmError, listing, openSource, readTree, TREE_KINDS, type Source, type TreeKind } from "./support.ts";

const TARGET = "/data/ck";

interface Fixture {
  /** The source tree's volume. */
  readonly mem: MemFs;
  readonly src: Source;
  /** The checkpoint's filesystem: FaultFs over the source's volume, or over a second one (copies). */
  readonly faults: FaultFs;
}

/**
 * A tree of `kind` (default standard) in /data/db with three flushed tables (a blob tree: and three blob
 * files) and, with `memtable`, unflushed writes the checkpoint flushes. `crossFs`: the target is another
 * MemFs volume, so tables are copied instead of linked.
 */
async function fixture(options: { memtable: boolean; crossFs: boolean; kind?: TreeKind }): Promise<Fixture> {
  const kind = options.kind ?? "standard";
  const mem = new MemFs();
  mem.createDir("/data");
  const src = await openSource({ path: "/data/db", fs: mem }, undefined, kind);
  for (let t = 0; t < 3; t++) {
    src.fill(t * 200, (t + 1) * 200);
    await src.tree.flushActiveMemtable(0);
  }
  expect(src.tree.blobFileCount()).toBe(kind === "blob" ? 3 : 0);
  if (options.memtable) {
    src.fill(600, 700);
    src.remove("key000001");
  }
  let inner = mem;
  if (options.crossFs) {
    inner = new MemFs();
    inner.createDir("/data");
  }
  return { mem, src, faults: new FaultFs(inner) };
}

/**
 * The checkpoint fails with `code`; nothing of it is left; the source still serves everything and is unchanged
 * on disk (when `sourceListing` is given); a retry into the same path succeeds and the result opens complete;
 * and the source, closed and reopened, has everything.
 */
async function expectCleanFailure(f: Fixture, code: string, sourceListing?: Record<string, number | "dir">): Promise<void> {
  const error: unknown = await createCheckpoint(f.src.tree, TARGET, { fs: f.faults }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "the checkpoint should have failed").toBeDefined();
  expect(codeOf(error)).toBe(code);
  expect(isInjected(error)).toBe(true);
  expect(f.faults.inner.exists(TARGET)).toBe(false);
  expect(f.faults.inner.readDir("/data").map((e) => e.fileName)).toEqual(f.faults.inner === f.mem ? ["db"] : []);
  if (sourceListing !== undefined) expect(listing(f.mem, "/data/db")).toEqual(sourceListing);
  expect(diffMaps(contents(f.src.tree), f.src.model.at())).toEqual([]);
  expect(f.src.tree.deletionPause.isActive()).toBe(false);

  const info = await createCheckpoint(f.src.tree, TARGET, { fs: f.faults });
  expect(diffMaps(await readTree(f.faults.inner, TARGET, undefined, f.src.kind), f.src.model.at())).toEqual([]);
  expect(info.sstFiles).toBe(f.src.tree.tableCount());
  expect(info.blobFiles).toBe(f.src.tree.blobFileCount());
  if (f.src.kind === "blob") expect(info.blobFiles).toBeGreaterThanOrEqual(3);
  await f.src.tree.close();
  expect(diffMaps(await readTree(f.mem, "/data/db", undefined, f.src.kind), f.src.model.at())).toEqual([]);
}

interface NamedCase {
  readonly step: string;
  readonly crossFs: boolean;
  readonly rule: FaultRule;
  readonly code: string;
}

const inTarget = (glob: string): string => `${TARGET}/${glob}`;
/** The hidden directory a checkpoint is prepared in beside its target, before it is renamed into place. */
const HIDDEN = "/data/.talus-checkpoint-*";

const NAMED: readonly NamedCase[] = [
  { step: "creating the hidden directory", crossFs: false, rule: { ops: "createDir", path: HIDDEN, error: "EACCES" }, code: "EACCES" },
  { step: "creating tables/ in it", crossFs: false, rule: { ops: "createDir", path: `${HIDDEN}/tables`, error: "ENOSPC" }, code: "ENOSPC" },
  { step: "fsync of the hidden directory", crossFs: false, rule: { ops: "syncDirectory", path: HIDDEN, error: "EIO" }, code: "EIO" },
  { step: "claiming the target (rename into place)", crossFs: false, rule: { ops: "rename", path: TARGET, error: "EACCES" }, code: "EACCES" },
  { step: "claiming the target (cross-fs)", crossFs: true, rule: { ops: "rename", path: TARGET, error: "EIO" }, code: "EIO" },
  { step: "hard-linking the first table", crossFs: false, rule: { ops: "hardLink", error: "EIO" }, code: "EIO" },
  { step: "hard-linking the last table", crossFs: false, rule: { ops: "hardLink", after: 3, error: "EACCES" }, code: "EACCES" },
  { step: "sizing a linked table", crossFs: false, rule: { ops: "metadata", path: inTarget("tables/*"), error: "EIO" }, code: "EIO" },
  { step: "creating a copy (cross-fs)", crossFs: true, rule: { ops: "open", path: inTarget("tables/*"), after: 1, error: "ENOSPC" }, code: "ENOSPC" },
  {
    step: "a torn copy write (cross-fs)",
    crossFs: true,
    rule: { ops: "write", path: inTarget("tables/*"), after: 2, error: { torn: true, keepBytes: 100 } },
    code: "EIO",
  },
  { step: "fsync of a copy (cross-fs)", crossFs: true, rule: { ops: "sync", path: inTarget("tables/*"), after: 3, error: "EIO" }, code: "EIO" },
  { step: "creating the version file", crossFs: false, rule: { ops: "open", path: inTarget("v*"), error: "ENOSPC" }, code: "ENOSPC" },
  {
    step: "writing the version file (torn)",
    crossFs: false,
    rule: { ops: "write", path: inTarget("v*"), error: { torn: true, code: "ENOSPC", keepBytes: 10 } },
    code: "ENOSPC",
  },
  { step: "fsync of the version file", crossFs: false, rule: { ops: "sync", path: inTarget("v*"), error: "EIO" }, code: "EIO" },
  { step: "writing `current` (its temp file)", crossFs: false, rule: { ops: "write", path: inTarget("current*"), error: "ENOSPC" }, code: "ENOSPC" },
  { step: "fsync of `current`", crossFs: false, rule: { ops: "sync", path: inTarget("current*"), error: "EIO" }, code: "EIO" },
  { step: "renaming `current` into place", crossFs: false, rule: { ops: "rename", path: inTarget("current"), error: "EIO" }, code: "EIO" },
  { step: "fsync of tables/", crossFs: false, rule: { ops: "syncDirectory", path: inTarget("tables"), error: "EIO" }, code: "EIO" },
  { step: "the first fsync of the target", crossFs: false, rule: { ops: "syncDirectory", path: TARGET, error: "EIO" }, code: "EIO" },
  { step: "fsync of the target's parent", crossFs: false, rule: { ops: "syncDirectory", path: "/data", error: "EIO" }, code: "EIO" },
  { step: "fsync of the target's parent (cross-fs)", crossFs: true, rule: { ops: "syncDirectory", path: "/data", error: "EACCES" }, code: "EACCES" },
];

/** The steps only a blob tree's checkpoint has (its four blob files: three flushed, one from the checkpoint's flush). */
const NAMED_BLOB: readonly NamedCase[] = [
  { step: "creating blobs/ in the hidden directory", crossFs: false, rule: { ops: "createDir", path: `${HIDDEN}/blobs`, error: "ENOSPC" }, code: "ENOSPC" },
  { step: "hard-linking the first blob file", crossFs: false, rule: { ops: "hardLink", path: inTarget("blobs/*"), error: "EIO" }, code: "EIO" },
  { step: "hard-linking the last blob file", crossFs: false, rule: { ops: "hardLink", path: inTarget("blobs/*"), after: 3, error: "EACCES" }, code: "EACCES" },
  { step: "sizing a linked blob file", crossFs: false, rule: { ops: "metadata", path: inTarget("blobs/*"), after: 1, error: "EIO" }, code: "EIO" },
  { step: "creating a blob file's copy (cross-fs)", crossFs: true, rule: { ops: "open", path: inTarget("blobs/*"), after: 1, error: "ENOSPC" }, code: "ENOSPC" },
  {
    step: "a torn blob copy write (cross-fs)",
    crossFs: true,
    rule: { ops: "write", path: inTarget("blobs/*"), after: 2, error: { torn: true, keepBytes: 1000 } },
    code: "EIO",
  },
  { step: "fsync of a blob file's copy (cross-fs)", crossFs: true, rule: { ops: "sync", path: inTarget("blobs/*"), after: 3, error: "EIO" }, code: "EIO" },
  { step: "fsync of blobs/", crossFs: false, rule: { ops: "syncDirectory", path: inTarget("blobs"), error: "EIO" }, code: "EIO" },
  { step: "fsync of blobs/ (cross-fs)", crossFs: true, rule: { ops: "syncDirectory", path: inTarget("blobs"), error: "EACCES" }, code: "EACCES" },
];

describe.each(TREE_KINDS)("each step of a checkpoint of a %s tree failing once", (kind) => {
  for (const c of kind === "blob" ? [...NAMED, ...NAMED_BLOB] : NAMED) {
    it(`${c.step}: rejects with ${c.code}, target removed, source intact, retry works`, async () => {
      const f = await fixture({ memtable: true, crossFs: c.crossFs, kind });
      f.faults.addRule(c.rule);
      await expectCleanFailure(f, c.code);
      expect(f.faults.injected).toHaveLength(1);
    });
  }

  it("the last fsync of the target (after `current` is in place)", async () => {
    // Counted on a clean run, so the case stays right whatever number of target fsyncs the algorithm makes.
    const probe = await fixture({ memtable: true, crossFs: false, kind });
    let targetSyncs = 0;
    probe.faults.addRule({ ops: "syncDirectory", path: (p) => p === TARGET && ++targetSyncs < 0, error: "EIO" });
    await createCheckpoint(probe.src.tree, TARGET, { fs: probe.faults });
    expect(targetSyncs).toBeGreaterThanOrEqual(2);

    const f = await fixture({ memtable: true, crossFs: false, kind });
    f.faults.addRule({ ops: "syncDirectory", path: TARGET, after: targetSyncs - 1, error: "EIO" });
    await expectCleanFailure(f, "EIO");
  });
});

describe("failures of the source side", () => {
  it("the checkpoint's flush fails (tree fs: table fsync EIO): rejects, no target, the memtable's data still served, retry works", async () => {
    const mem = new MemFs();
    mem.createDir("/data");
    const treeFs = new FaultFs(mem);
    const src = await openSource({ path: "/data/db", fs: treeFs });
    src.fill(0, 300);
    await src.tree.flushActiveMemtable(0);
    src.fill(300, 500);
    const before = listing(mem, "/data/db");
    treeFs.addRule({ ops: "sync", path: "/data/db/tables/*", error: "EIO" });
    await expect(createCheckpoint(src.tree, TARGET)).rejects.toSatisfy((e: unknown) => isInjected(e) && codeOf(e) === "EIO");
    expect(mem.exists(TARGET)).toBe(false);
    expect(listing(mem, "/data/db")).toEqual(before); // the failed table was removed again
    expect(diffMaps(contents(src.tree), src.model.at())).toEqual([]);

    await createCheckpoint(src.tree, TARGET);
    expect(diffMaps(await readTree(mem, TARGET), src.model.at())).toEqual([]);
    await src.tree.close();
    expect(diffMaps(await readTree(mem, "/data/db"), src.model.at())).toEqual([]);
  });

  it("the checkpoint's flush fails publishing the source's version (rename of its `current`)", async () => {
    const mem = new MemFs();
    mem.createDir("/data");
    const treeFs = new FaultFs(mem);
    const src = await openSource({ path: "/data/db", fs: treeFs });
    src.fill(0, 300);
    treeFs.addRule({ ops: "rename", path: "/data/db/current", error: "EIO" });
    await expect(createCheckpoint(src.tree, TARGET)).rejects.toSatisfy((e: unknown) => codeOf(e) === "EIO");
    expect(mem.exists(TARGET)).toBe(false);
    expect(diffMaps(contents(src.tree), src.model.at())).toEqual([]);
    await createCheckpoint(src.tree, TARGET);
    expect(diffMaps(await readTree(mem, TARGET), src.model.at())).toEqual([]);
    await src.tree.close();
    expect(diffMaps(await readTree(mem, "/data/db"), src.model.at())).toEqual([]);
  });

  it("a cleanup that fails itself: the original error is reported, and what is left is refused on open", async () => {
    const f = await fixture({ memtable: false, crossFs: false });
    f.faults.addRule({ ops: "hardLink", after: 1, error: "EIO" });
    // The claim renames the hidden directory to the target; the cleanup's rename back is the one that fails.
    f.faults.addRule({ ops: "rename", path: TARGET, after: 1, error: "EACCES" });
    await expect(createCheckpoint(f.src.tree, TARGET, { fs: f.faults })).rejects.toSatisfy((e: unknown) => codeOf(e) === "EIO");
    expect(f.mem.exists(TARGET)).toBe(true);
    expect(f.mem.exists(`${TARGET}/current`)).toBe(false);
    await expect(Tree.open({ path: TARGET, fs: f.mem })).rejects.toSatisfy(isLsmError("INVALID_DATA"));
    await f.src.tree.close();
  });

  it("a cleanup whose removal fails: the target is gone, and the hidden directory left beside it is refused on open", async () => {
    const f = await fixture({ memtable: false, crossFs: false });
    f.faults.addRule({ ops: "hardLink", after: 1, error: "EIO" });
    f.faults.addRule({ ops: "removeDirAll", error: "EACCES" });
    await expect(createCheckpoint(f.src.tree, TARGET, { fs: f.faults })).rejects.toSatisfy((e: unknown) => codeOf(e) === "EIO");
    expect(f.mem.exists(TARGET)).toBe(false);
    const left = f.mem.readDir("/data").filter((e) => e.fileName !== "db");
    expect(left.map((e) => e.fileName)).toEqual([expect.stringMatching(/^\.talus-checkpoint-[0-9a-f]{16}$/)]);
    await expect(Tree.open({ path: left[0]?.path ?? "", fs: f.mem })).rejects.toSatisfy(isLsmError("INVALID_DATA"));
    // It does not stand in the way of a retry.
    await createCheckpoint(f.src.tree, TARGET, { fs: f.faults });
    expect(diffMaps(await readTree(f.mem, TARGET), f.src.model.at())).toEqual([]);
    await f.src.tree.close();
  });
});

describe.each(TREE_KINDS)("a sweep: every single operation of a checkpoint of a %s tree failed once", (kind) => {
  for (const crossFs of [false, true]) {
    it(`${crossFs ? "copy to another volume" : "hard links on the same volume"}: each failure is reported and cleaned up, then a retry works`, async () => {
      const probe = await fixture({ memtable: false, crossFs, kind });
      await createCheckpoint(probe.src.tree, TARGET, { fs: probe.faults });
      const counts = Object.entries(probe.faults.calls).filter(([, n]) => n > 0) as Array<[FsOpKind, number]>;
      const total = counts.reduce((sum, [, n]) => sum + n, 0);
      expect(total).toBeGreaterThan(kind === "blob" ? 25 : 15);

      const failed: string[] = [];
      for (const [op, n] of counts) {
        for (let after = 0; after < n; after++) {
          const f = await fixture({ memtable: false, crossFs, kind });
          const sourceBefore = listing(f.mem, "/data/db");
          f.faults.addRule({ ops: op, after, error: "EIO" });
          try {
            await expectCleanFailure(f, "EIO", sourceBefore);
          } catch (error) {
            failed.push(`${op} #${after + 1}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
          }
        }
      }
      expect(failed).toEqual([]);
    });
  }

  // The sweep above fails the target's operations; this one fails every operation of a checkpoint that has
  // a memtable to flush, the flush's own (the tables and blob files it writes, the source's version) included.
  it("the tree and the target on one FaultFs, a memtable to flush: each failure is reported and cleaned up, or had no effect; the source keeps everything", async () => {
    const make = async (): Promise<{ mem: MemFs; faults: FaultFs; src: Source }> => {
      const mem = new MemFs();
      mem.createDir("/data");
      const faults = new FaultFs(mem);
      const src = await openSource({ path: "/data/db", fs: faults }, undefined, kind);
      for (let t = 0; t < 3; t++) {
        src.fill(t * 200, (t + 1) * 200);
        await src.tree.flushActiveMemtable(0);
      }
      src.fill(600, 700);
      src.remove("key000001");
      faults.resetHistory();
      return { mem, faults, src };
    };
    const probe = await make();
    await createCheckpoint(probe.src.tree, TARGET);
    const counts = Object.entries(probe.faults.calls).filter(([, n]) => n > 0) as Array<[FsOpKind, number]>;
    const total = counts.reduce((sum, [, n]) => sum + n, 0);
    expect(total).toBeGreaterThan(kind === "blob" ? 40 : 30);
    await probe.src.tree.close();

    const failed: string[] = [];
    let rejected = 0;
    for (const [op, n] of counts) {
      for (let after = 0; after < n; after++) {
        const { mem, faults, src } = await make();
        faults.addRule({ ops: op, after, error: "EIO" });
        const expected = src.model.at();
        try {
          const error: unknown = await createCheckpoint(src.tree, TARGET).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(faults.injected, "the fault should have been injected").toHaveLength(1);
          if (error !== undefined) {
            rejected++;
            expect(isInjected(error) && codeOf(error) === "EIO", String(error)).toBe(true);
            expect(mem.exists(TARGET)).toBe(false);
            expect(mem.readDir("/data").map((e) => e.fileName)).toEqual(["db"]);
            expect(diffMaps(contents(src.tree), expected)).toEqual([]);
            expect(src.tree.deletionPause.isActive()).toBe(false);
            await createCheckpoint(src.tree, TARGET);
          }
          expect(diffMaps(await readTree(mem, TARGET, undefined, kind), expected)).toEqual([]);
          await src.tree.close();
          expect(diffMaps(await readTree(mem, "/data/db", undefined, kind), expected)).toEqual([]);
        } catch (error) {
          failed.push(`${op} #${after + 1}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
        }
      }
    }
    expect(failed).toEqual([]);
    expect(rejected).toBeGreaterThan(total / 2);
  });
});

describe("a blob tree checkpointed from MemFs to disk, a blob file's copy failing mid-way", () => {
  const dirs = useTempDirs(afterEach);

  it("rejects with the injected error, removes the partial target, leaves the source untouched; a retry succeeds", async () => {
    const mem = new MemFs();
    const src = await openSource({ path: "/db", fs: mem }, undefined, "blob");
    for (let t = 0; t < 2; t++) {
      src.fill(t * 600, (t + 1) * 600);
      await src.tree.flushActiveMemtable(0);
    }
    const blobs = mem.readDir("/db/blobs");
    expect(blobs).toHaveLength(2);
    // Each blob file takes several chunks to copy, so the second write of the first copy is mid-way through it.
    for (const b of blobs) expect(mem.metadata(b.path).len).toBeGreaterThan(COPY_CHUNK_BYTES);
    const sourceBefore = listing(mem, "/db");

    const base = dirs.make("ck-blob-fault");
    const target = join(base, "ck");
    const disk = new FaultFs(new StdFs());
    disk.addRule({ ops: "write", path: "**/blobs/*", after: 1, error: { torn: true, keepBytes: 4096 } });
    const error: unknown = await createCheckpoint(src.tree, target, { fs: disk }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isInjected(error) && codeOf(error) === "EIO", String(error)).toBe(true);
    const first = blobs[0] as (typeof blobs)[number];
    // The second chunk of the first copy: 64 KiB of it are on disk, then 4 KiB of the next write, then EIO.
    const rest = mem.metadata(first.path).len - COPY_CHUNK_BYTES;
    expect(disk.injected).toEqual([expect.objectContaining({ op: "write", path: `${target}/blobs/${first.fileName}`, torn: { written: 4096, of: rest } })]);
    // Nothing is left at the target or beside it (no hidden directory either).
    expect(disk.inner.exists(target)).toBe(false);
    expect(disk.inner.readDir(base)).toEqual([]);
    // The source: unchanged on its volume, serving everything, its deletions no longer held back.
    expect(listing(mem, "/db")).toEqual(sourceBefore);
    expect(diffMaps(contents(src.tree), src.model.at())).toEqual([]);
    expect(src.tree.deletionPause.isActive()).toBe(false);

    const info = await createCheckpoint(src.tree, target, { fs: disk });
    expect(info).toMatchObject({ sstFiles: 2, blobFiles: 2 });
    expect(diffMaps(await readTree(disk.inner, target, undefined, "blob"), src.model.at())).toEqual([]);
    await src.tree.close();
    expect(diffMaps(await readTree(mem, "/db", undefined, "blob"), src.model.at())).toEqual([]);
  });
});
