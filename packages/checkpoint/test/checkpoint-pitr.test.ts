// The fourteen scenarios of the reference's tests/checkpoint_pitr.rs (reference spec section 6.5), adapted to
// Node: a concurrent writer or compactor is an interleaved async task. The checkpoint's own flush yields to
// the event loop every few thousand entries, so each concurrency scenario first fills the memtable with
// ~50k entries and then schedules its writer/compactor through setImmediate before awaiting the checkpoint.
// Real directories (StdFs), as upstream. Scenario 3 (BlobTree) is in checkpoint-blob-tree.test.ts.
import { chmodSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StdFs } from "@talus/fs";
import { SEQNO_MAX, SequenceNumberCounter, Tree } from "@talus/lsm-core";
import { FaultFs, useTempDirs } from "@talus/testkit";
import { createCheckpoint } from "../src/index.ts";
import {
  contents,
  dec,
  diffMaps,
  dirBytes,
  hasErrorCode,
  isLsmError,
  key,
  listing,
  openSource,
  readTree,
  tableFiles,
  tick,
} from "./support.ts";

const dirs = useTempDirs(afterEach);
const std = new StdFs();

/** Entries the checkpoint's flush must write before it can finish: enough for it to yield ~25 times. */
const FILLER = 50_000;

describe("checkpoint_pitr.rs", () => {
  it("1 checkpoint_roundtrip_reopens_independently", async () => {
    const base = dirs.make("pitr");
    const src = await openSource({ path: join(base, "db") });
    src.fill(0, 100);
    await src.tree.flushActiveMemtable(0);
    const info = await createCheckpoint(src.tree, join(base, "ck"));
    expect(info.sstFiles).toBeGreaterThanOrEqual(1);
    expect(info.blobFiles).toBe(0);
    expect(info.totalBytes).toBeGreaterThan(0);
    expect(info.versionId).toBe(src.tree.currentVersion().id);
    expect(info.seqno).toBe(src.visible.get()); // the memtable was empty: nothing moved the watermark since
    const expected = src.model.at();
    await src.tree.close();
    rmSync(join(base, "db"), { recursive: true }); // the checkpoint stands on its own
    const ck = await readTree(std, join(base, "ck"));
    expect(ck.size).toBe(100);
    expect(diffMaps(ck, expected)).toEqual([]);
  });

  it("2 checkpoint_survives_concurrent_writes: every key with seqno < info.seqno is in the checkpoint", async () => {
    const base = dirs.make("pitr");
    const src = await openSource({ path: join(base, "db") });
    src.fill(0, 50);
    src.fill(0, FILLER, "filler");
    let settled = false;
    let writtenDuring = 0;
    const checkpoint = createCheckpoint(src.tree, join(base, "ck")).finally(() => {
      settled = true;
    });
    const writer = (async () => {
      for (let i = 50; i < 200; i++) {
        await tick();
        src.write(key(i), `value-${i}`);
        if (!settled) writtenDuring++;
        if (i % 25 === 0) await src.tree.flushActiveMemtable(0);
      }
    })();
    const info = await checkpoint;
    await writer;
    expect(writtenDuring).toBeGreaterThan(0); // the writer really ran while the checkpoint was in flight

    const ck = await Tree.open({ path: join(base, "ck"), fs: std });
    expect(diffMaps(contents(ck, info.seqno), src.model.at(info.seqno))).toEqual([]);
    for (let i = 0; i < 50; i++) expect(dec(ck.get(key(i), SEQNO_MAX))).toBe(`value-${i}`);
    // Writes at or above info.seqno may or may not be in; whatever is in is a prefix of the writes.
    const highest = ck.highestSeqno() ?? -1;
    expect(highest).toBeGreaterThanOrEqual(info.seqno - 1);
    expect(diffMaps(contents(ck), src.model.at(highest + 1))).toEqual([]);
    await ck.close();
    await src.tree.close();
  });

  it("4 checkpoint_flattens_level_routes: tables of every folder land in the checkpoint's tables/, which opens without routes", async () => {
    const base = dirs.make("pitr");
    const src = await openSource({ path: join(base, "primary"), levelRoutes: [{ levels: [0, 2], path: join(base, "hot") }] });
    src.fill(0, 100);
    await src.tree.flushActiveMemtable(0);
    await src.tree.majorCompact(Number.POSITIVE_INFINITY, 0); // to L6: the primary folder
    src.fill(100, 200);
    await src.tree.flushActiveMemtable(0); // L0: the hot folder
    const hot = tableFiles(std, join(base, "hot", "tables"));
    const primary = tableFiles(std, join(base, "primary", "tables"));
    expect(hot).toHaveLength(1);
    expect(primary).toHaveLength(1);

    const target = join(base, "ck");
    const info = await createCheckpoint(src.tree, target);
    const linked = tableFiles(std, join(target, "tables"));
    expect(linked).toEqual([...primary, ...hot].sort((a, b) => Number(a) - Number(b)));
    expect(info.sstFiles).toBe(2);
    // Same filesystem: hard links to the routed and the primary files alike.
    for (const id of hot) expect(statSync(join(target, "tables", id)).ino).toBe(statSync(join(base, "hot", "tables", id)).ino);
    for (const id of primary) expect(statSync(join(target, "tables", id)).ino).toBe(statSync(join(base, "primary", "tables", id)).ino);
    expect(info.totalBytes).toBe(dirBytes(std, join(target, "tables")));
    expect(readdirSync(target).sort()).toEqual(["current", "tables", `v${info.versionId}`]);

    const expected = src.model.at();
    await src.tree.close();
    rmSync(join(base, "hot"), { recursive: true });
    rmSync(join(base, "primary"), { recursive: true });
    const ck = await readTree(std, target); // no levelRoutes
    expect(ck.size).toBe(200);
    expect(diffMaps(ck, expected)).toEqual([]);
    expect(readdirSync(base)).toEqual(["ck"]);
  });

  it("5 checkpoint_flush_must_not_drop_source_mvcc_history (flush watermark 0)", async () => {
    const base = dirs.make("pitr");
    const src = await openSource({ path: join(base, "db") });
    src.write("k", "v1");
    const second = src.write("k", "v2");
    const info = await createCheckpoint(src.tree, join(base, "ck"));
    expect(src.tree.tableCount()).toBe(1); // the checkpoint flushed the memtable
    expect(dec(src.tree.get("k", second))).toBe("v1");
    expect(dec(src.tree.get("k", SEQNO_MAX))).toBe("v2");
    const ck = await Tree.open({ path: join(base, "ck"), fs: std });
    expect(dec(ck.get("k", second))).toBe("v1"); // the checkpoint keeps the history too
    expect(dec(ck.get("k", info.seqno))).toBe("v2");
    await ck.close();
    await src.tree.close();
    const reopened = await Tree.open({ path: join(base, "db"), fs: std });
    expect(dec(reopened.get("k", second))).toBe("v1");
    await reopened.close();
  });

  it("6 checkpoint_and_source_diverge_after_writes", async () => {
    const base = dirs.make("pitr");
    const src = await openSource({ path: join(base, "db") });
    src.write("shared", "before");
    await createCheckpoint(src.tree, join(base, "ck"));
    src.write("shared", "after");
    src.write("only-source", "s");
    await src.tree.flushActiveMemtable(0);

    const ckSeqno = new SequenceNumberCounter();
    const ck = await Tree.open({ path: join(base, "ck"), fs: std, seqno: ckSeqno });
    expect(dec(ck.get("shared", SEQNO_MAX))).toBe("before");
    expect(ck.get("only-source", SEQNO_MAX)).toBeUndefined();
    ck.insert("only-checkpoint", "c", ckSeqno.next());
    ck.insert("shared", "checkpoint-side", ckSeqno.next());
    await ck.flushActiveMemtable(0);
    expect(dec(src.tree.get("shared", SEQNO_MAX))).toBe("after");
    expect(src.tree.get("only-checkpoint", SEQNO_MAX)).toBeUndefined();
    await ck.close();
    await src.tree.close();

    expect(Object.fromEntries(await readTree(std, join(base, "db")))).toEqual({ shared: "after", "only-source": "s" });
    expect(Object.fromEntries(await readTree(std, join(base, "ck")))).toEqual({ shared: "checkpoint-side", "only-checkpoint": "c" });
  });

  it("7 compaction_during_checkpoint_preserves_source_ssts", async () => {
    const base = dirs.make("pitr");
    // Inline compactions: their time slices interleave with the checkpoint's on one thread, so one
    // finishes while the checkpoint runs; on a worker thread that race depends on the thread's start.
    const src = await openSource({ path: join(base, "db"), workers: false });
    src.fill(0, 100);
    await src.tree.flushActiveMemtable(0);
    for (let t = 0; t < 4; t++) {
      src.fill(t * 5000, (t + 1) * 5000, "old", `old-${t}-`);
      await src.tree.flushActiveMemtable(0);
    }
    src.fill(0, FILLER, "filler");
    let settled = false;
    let compactedDuring = 0;
    const checkpoint = createCheckpoint(src.tree, join(base, "ck")).finally(() => {
      settled = true;
    });
    const compactor = (async () => {
      while (!settled) {
        await tick();
        const result = await src.tree.majorCompact(Number.POSITIVE_INFINITY, 0);
        if (!settled && result.action === "merged") compactedDuring++;
      }
    })();
    const info = await checkpoint;
    await compactor;
    expect(compactedDuring).toBeGreaterThan(0);
    expect(info.sstFiles).toBeGreaterThanOrEqual(1);
    expect(src.tree.deletionPause.isActive()).toBe(false);
    expect(src.tree.deletionPause.pendingCount()).toBe(0);

    const expected = src.model.at();
    await src.tree.close();
    const ck = await readTree(std, join(base, "ck"));
    for (let i = 0; i < 100; i++) expect(ck.get(key(i))).toBe(`value-${i}`);
    expect(diffMaps(ck, expected)).toEqual([]);
    expect(diffMaps(await readTree(std, join(base, "db")), expected)).toEqual([]);
  });

  it("8 checkpoint_of_empty_tree", async () => {
    const base = dirs.make("pitr");
    const src = await openSource({ path: join(base, "db") });
    const info = await createCheckpoint(src.tree, join(base, "ck"));
    expect(info).toMatchObject({ sstFiles: 0, blobFiles: 0, totalBytes: 0, versionId: 0 });
    expect(readdirSync(join(base, "ck", "tables"))).toEqual([]);
    const ck = await Tree.open({ path: join(base, "ck"), fs: std });
    expect(ck.get("anything", SEQNO_MAX)).toBeUndefined();
    expect(ck.isEmpty(SEQNO_MAX)).toBe(true);
    expect(ck.tableCount()).toBe(0);
    await ck.close();
    await src.tree.close();
  });

  it("9 checkpoint_info_total_bytes_matches_disk", async () => {
    const base = dirs.make("pitr");
    const src = await openSource({ path: join(base, "db") });
    for (let t = 0; t < 3; t++) {
      src.fill(t * 1000, (t + 1) * 1000);
      await src.tree.flushActiveMemtable(0);
    }
    src.fill(3000, 3500); // flushed by the checkpoint
    const info = await createCheckpoint(src.tree, join(base, "ck"));
    expect(info.sstFiles).toBe(4);
    expect(tableFiles(std, join(base, "ck", "tables"))).toHaveLength(4);
    expect(info.totalBytes).toBe(dirBytes(std, join(base, "ck", "tables")));
    expect(info.totalBytes).toBe(src.tree.diskSpace());
    await src.tree.close();
  });

  it("10 second_checkpoint_into_same_target_rejected (EEXIST), the first left as it was", async () => {
    const base = dirs.make("pitr");
    const src = await openSource({ path: join(base, "db") });
    src.fill(0, 100);
    const target = join(base, "ck");
    await createCheckpoint(src.tree, target);
    const before = listing(std, target);
    src.fill(100, 200);
    await expect(createCheckpoint(src.tree, target)).rejects.toSatisfy(hasErrorCode("EEXIST"));
    expect(listing(std, target)).toEqual(before);
    expect((await readTree(std, target)).size).toBe(100);
    await src.tree.close();
  });

  it("11a checkpoint_failure_leaves_source_intact: a pre-created target is refused and left as it was", async () => {
    const base = dirs.make("pitr");
    const src = await openSource({ path: join(base, "db") });
    src.fill(0, 100);
    const target = join(base, "ck");
    std.createDir(target);
    writeFileSync(join(target, "keep.txt"), "mine");
    const error: unknown = await createCheckpoint(src.tree, target).catch((e: unknown) => e);
    expect(hasErrorCode("EEXIST")(error)).toBe(true);
    expect(String(error)).toMatch(/already exists/);
    expect(listing(std, target)).toEqual({ "keep.txt": 4 });
    expect(src.tree.tableCount()).toBe(0); // nothing else was done: not even the flush
    await src.tree.close();
  });

  it("11b checkpoint_failure_leaves_source_intact: an unreadable source tables/ fails, removes the partial target, and a retry works", async () => {
    const base = dirs.make("pitr");
    const dbPath = join(base, "db");
    const sourceTables = join(dbPath, "tables");
    // Root ignores permission bits, so as root the unreadable directory is simulated with FaultFs (EACCES on
    // every link or open of a source table, which is what chmod 000 gives everyone else).
    const asRoot = process.getuid?.() === 0;
    const faults = new FaultFs(new StdFs());
    const src = await openSource({ path: dbPath, fs: asRoot ? faults : std });
    src.fill(0, 100);
    await src.tree.flushActiveMemtable(0);
    const sourceBefore = listing(std, dbPath);
    const target = join(base, "ck");

    const makeUnreadable = (): void => {
      if (asRoot) faults.addRule({ ops: ["hardLink", "open"], path: (p) => p.startsWith(`${sourceTables}/`), times: Infinity, error: "EACCES" });
      else chmodSync(sourceTables, 0o000);
    };
    const restore = (): void => {
      if (asRoot) faults.clearRules();
      else chmodSync(sourceTables, 0o755);
    };
    makeUnreadable();
    try {
      await expect(createCheckpoint(src.tree, target)).rejects.toSatisfy(hasErrorCode("EACCES"));
    } finally {
      restore();
    }
    expect(std.exists(target)).toBe(false);
    expect(listing(std, dbPath)).toEqual(sourceBefore);

    const info = await createCheckpoint(src.tree, target);
    expect(info.sstFiles).toBe(1);
    expect(diffMaps(await readTree(std, target), src.model.at())).toEqual([]);
    await src.tree.close();
    expect(diffMaps(await readTree(std, dbPath), src.model.at())).toEqual([]);
  });

  it("12 checkpoint_open_rejects_missing_current_pointer (INVALID_DATA naming `current`)", async () => {
    const base = dirs.make("pitr");
    const src = await openSource({ path: join(base, "db") });
    src.fill(0, 10);
    const target = join(base, "ck");
    const info = await createCheckpoint(src.tree, target);
    await src.tree.close();
    unlinkSync(join(target, "current"));
    const error: unknown = await Tree.open({ path: target, fs: std }).catch((e: unknown) => e);
    expect(isLsmError("INVALID_DATA")(error)).toBe(true);
    expect(String(error)).toContain("current");
    expect(String(error)).toContain("version artifacts");
    // Refused, not overwritten: the only new name is the LOCK file open takes before it reads anything,
    // which the check ignores, so the directory is refused again.
    expect(readdirSync(target).sort()).toEqual(["LOCK", "tables", `v${info.versionId}`]);
    expect(isLsmError("INVALID_DATA")(await Tree.open({ path: target, fs: std }).catch((e: unknown) => e))).toBe(true);
  });

  it("13 checkpoint_open_rejects_corrupt_current_pointer (CORRUPTION)", async () => {
    const base = dirs.make("pitr");
    const src = await openSource({ path: join(base, "db") });
    src.fill(0, 10);
    const target = join(base, "ck");
    await createCheckpoint(src.tree, target);
    await src.tree.close();
    for (const garbage of ["garbage, not a pointer", "TLCP\u0001" + "\u0000".repeat(16)]) {
      writeFileSync(join(target, "current"), garbage);
      const error: unknown = await Tree.open({ path: target, fs: std }).catch((e: unknown) => e);
      expect(isLsmError("CORRUPTION")(error)).toBe(true);
      expect(String(error)).toContain("current");
    }
  });

  it("14 checkpoint_survives_concurrent_manifest_gc_of_captured_version: the version is written from memory", async () => {
    const base = dirs.make("pitr");
    const dbPath = join(base, "db");
    const src = await openSource({ path: dbPath });
    src.fill(0, 100);
    await src.tree.flushActiveMemtable(0);
    const live = src.tree.currentVersion().id;
    unlinkSync(join(dbPath, `v${live}`));
    const info = await createCheckpoint(src.tree, join(base, "ck"));
    expect(info.versionId).toBe(live);
    expect(std.exists(join(base, "ck", `v${live}`))).toBe(true);
    const ck = await readTree(std, join(base, "ck"));
    expect(ck.size).toBe(100);
    expect(diffMaps(ck, src.model.at())).toEqual([]);
    await src.tree.close();
  });
});
