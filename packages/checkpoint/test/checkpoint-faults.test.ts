// Every step of a checkpoint failing once (FaultFs): the promise rejects with that error, the partial target is
// removed, the source is untouched and reopenable, and a retry into the same path succeeds. Named cases for the
// steps the issue lists, then a sweep that fails each single operation of a whole checkpoint in turn.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { Tree } from "@talus/lsm-core";
import { FaultFs, isInjected, type FaultRule, type FsOpKind } from "@talus/testkit";
import { createCheckpoint } from "../src/index.ts";
import { codeOf, contents, diffMaps, isLsmError, listing, openSource, readTree, type Source } from "./support.ts";

const TARGET = "/data/ck";

interface Fixture {
  /** The source tree's volume. */
  readonly mem: MemFs;
  readonly src: Source;
  /** The checkpoint's filesystem: FaultFs over the source's volume, or over a second one (copies). */
  readonly faults: FaultFs;
}

/**
 * A tree in /data/db with three flushed tables and, with `memtable`, unflushed writes the checkpoint flushes.
 * `crossFs`: the target is another MemFs volume, so tables are copied instead of linked.
 */
async function fixture(options: { memtable: boolean; crossFs: boolean }): Promise<Fixture> {
  const mem = new MemFs();
  mem.createDir("/data");
  const src = await openSource({ path: "/data/db", fs: mem });
  for (let t = 0; t < 3; t++) {
    src.fill(t * 200, (t + 1) * 200);
    await src.tree.flushActiveMemtable(0);
  }
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
  expect(diffMaps(await readTree(f.faults.inner, TARGET), f.src.model.at())).toEqual([]);
  expect(info.sstFiles).toBe(f.src.tree.tableCount());
  await f.src.tree.close();
  expect(diffMaps(await readTree(f.mem, "/data/db"), f.src.model.at())).toEqual([]);
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

describe("each step of a checkpoint failing once", () => {
  for (const c of NAMED) {
    it(`${c.step}: rejects with ${c.code}, target removed, source intact, retry works`, async () => {
      const f = await fixture({ memtable: true, crossFs: c.crossFs });
      f.faults.addRule(c.rule);
      await expectCleanFailure(f, c.code);
      expect(f.faults.injected).toHaveLength(1);
    });
  }

  it("the last fsync of the target (after `current` is in place)", async () => {
    // Counted on a clean run, so the case stays right whatever number of target fsyncs the algorithm makes.
    const probe = await fixture({ memtable: true, crossFs: false });
    let targetSyncs = 0;
    probe.faults.addRule({ ops: "syncDirectory", path: (p) => p === TARGET && ++targetSyncs < 0, error: "EIO" });
    await createCheckpoint(probe.src.tree, TARGET, { fs: probe.faults });
    expect(targetSyncs).toBeGreaterThanOrEqual(2);

    const f = await fixture({ memtable: true, crossFs: false });
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

describe("a sweep: every single operation of a checkpoint failed once", () => {
  for (const crossFs of [false, true]) {
    it(`${crossFs ? "copy to another volume" : "hard links on the same volume"}: each failure is reported and cleaned up, then a retry works`, async () => {
      const probe = await fixture({ memtable: false, crossFs });
      await createCheckpoint(probe.src.tree, TARGET, { fs: probe.faults });
      const counts = Object.entries(probe.faults.calls).filter(([, n]) => n > 0) as Array<[FsOpKind, number]>;
      const total = counts.reduce((sum, [, n]) => sum + n, 0);
      expect(total).toBeGreaterThan(15);

      const failed: string[] = [];
      for (const [op, n] of counts) {
        for (let after = 0; after < n; after++) {
          const f = await fixture({ memtable: false, crossFs });
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
});
