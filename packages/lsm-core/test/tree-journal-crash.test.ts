// Power cuts in a journaled tree (CrashFs): at every sync point of a random workload of writes of every
// kind, persist() calls (one by one and many in flight), rotations, flushes and close/reopen cycles, by
// hand and with automatic maintenance; and at every sync point of the open that replays a journal and
// of what follows it. After each cut the tree is reopened on what a rebooted machine would find and
// must show the state after some prefix of the writes (order kept, a batch whole or not at all, nothing
// invented) at least as long as what a resolved persist(), flush or close made durable; its directory
// holds no journal file below its floor, its tables verify, and it is usable (a new write wins, a clean
// close leaves at most one journal file).
//
// The model and workloads are in tree-journal-crash-support.ts. A failure names the configuration, the
// seed and the sync point: rerun one with `sweep(CONFIG, seed, options, { only: [n] })`.
//
// The tests at the end pin four bugs these sweeps found (each with its diagnosis), all fixed: syncs of a
// new journal file wait for the previous file's, each file's header records its predecessor's length so
// replay stops at a break in the chain, a zero header reads as an empty journal, and a clean close
// removes its empty journal file.
//
// Determinism: a workload makes the same calls in every run (seeded Random), CrashFs is synchronous,
// and background jobs never run out of their time slice (setTurnBudgetMs below), so sync point n is
// the same moment in every run; a sweep checks that every cut run reaches its sync point.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CrashFs, Random, type CrashOptions } from "@talus/testkit";
import { JOURNAL_DIR_NAME, SEQNO_MAX, SequenceNumberCounter, Tree } from "../src/index.ts";
import { setTurnBudgetMs } from "../src/sched/turns.ts";
import {
  checkUsable,
  journalFiles,
  openAndCheck,
  PATH,
  reopenWorkload,
  Run,
  treeOptions,
  workload,
  type Config,
} from "./tree-journal-crash-support.ts";
import { dec } from "./tree-test-support.ts";

/** Writes, persists and flushes by hand; small tables so a flush writes several. */
const BY_HAND: Config = { name: "journal: true, by hand", journal: true, steps: 100, bigValues: 0.02, flushTableSize: 2048, rotateInBursts: 0.3 };
/** Memtables sealed at 1.5 KB and flushed (and compacted) in the background. */
const MAINTAINED: Config = {
  name: "journal: true, maintenance { memtableBytes: 1500 }",
  journal: true,
  maintenance: { memtableBytes: 1500 },
  steps: 100,
  bigValues: 0.02,
  rotateInBursts: 0.3,
};
const LONG: Config = { ...BY_HAND, name: `${BY_HAND.name}, 300 steps`, steps: 300 };
const UNSYNCED: Config = { name: 'journal: { sync: "none" }, by hand', journal: { sync: "none" }, steps: 100, bigValues: 0.02, flushTableSize: 2048, rotateInBursts: 0.3 };

/** Some of what was never synced survives: writes (the last one torn) and directory entries. */
const LUCKY: CrashOptions = { keepUnsyncedWrites: 0.5, tearLastWrite: true, keepUnsyncedEntries: 0.5, seed: 7 };

interface SweepOptions {
  /** Cut at a seeded sample of this many sync points instead of every one. */
  readonly sample?: number;
  /** Only these sync points (to rerun a failure). */
  readonly only?: readonly number[];
  /** Check usability (a write, a clean close, a reopen) after every k-th cut only; default every one. */
  readonly usableEvery?: number;
}

interface Sweep {
  /** Sync points of the uncut run. */
  readonly total: number;
  readonly cuts: number;
  readonly failures: string[];
  /** The uncut run. */
  readonly reference: Run;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs the workload once uncut (its sync count, and a check of its end state), then once more for
 * every sync point n (or a sample), cutting the power at sync n, and checks the tree reopened on the
 * image. Failures are collected, each naming the configuration, seed and sync point.
 */
async function sweep(config: Config, seed: number, crash: CrashOptions, options: SweepOptions = {}): Promise<Sweep> {
  const label = `${config.name}, seed ${seed}, crash options ${JSON.stringify(crash)}`;
  const referenceFs = new CrashFs();
  const reference = new Run();
  await workload(referenceFs, seed, config, reference);
  const total = referenceFs.syncCount;
  const failures: string[] = [];
  {
    // Uncut, the run ends with a clean close: everything is there, even on a crash image.
    const seqno = new SequenceNumberCounter();
    const image = referenceFs.crash();
    expect(reference.persisted, `${label}: a clean close covers every write`).toBe(reference.writes.length);
    const opened = await openAndCheck(image, reference, config, `${label}, uncut`, seqno);
    expect(opened?.prefix, `${label}, uncut: every write`).toBe(reference.writes.length);
    await checkUsable(image, (opened as { tree: Tree }).tree, seqno, config, `${label}, uncut`);
  }
  let points = Array.from({ length: total }, (_, i) => i);
  if (options.only !== undefined) points = [...options.only];
  else if (options.sample !== undefined && options.sample < total) {
    points = new Random(seed).shuffle(points).slice(0, options.sample).sort((a, b) => a - b);
  }
  let cuts = 0;
  for (const n of points) {
    const fs = new CrashFs().cutPowerAtSync(n, crash);
    const run = new Run();
    await workload(fs, seed, config, run);
    const context = `${label}: power cut at sync ${n} of ${total}, during ${run.doing}`;
    const image = fs.powerCutImage;
    if (!fs.powerWasCut || image === undefined) {
      failures.push(`${context}: the run never reached sync ${n} (the workload is not deterministic)`);
      continue;
    }
    cuts++;
    try {
      const seqno = new SequenceNumberCounter();
      const opened = await openAndCheck(image, run, config, context, seqno);
      if (cuts % (options.usableEvery ?? 1) === 0) await checkUsable(image, opened.tree, seqno, config, context);
      else await opened.tree.close();
    } catch (error) {
      failures.push(describeError(error));
    }
  }
  return { total, cuts, failures, reference };
}

/**
 * Item 3 of the issue: a volume with journal files to replay (`base`, whose writes are `prior`), and a
 * power cut at every sync point of the open that replays them and of what follows (the first persist
 * and flush after it, a burst, a discarding close, a second replay, a clean close).
 */
async function replaySweep(label: string, base: CrashFs, prior: Run, seed: number, config: Config, crash: CrashOptions): Promise<Sweep> {
  const referenceFs = base.crash();
  const reference = new Run(prior.writes, prior.persisted);
  await reopenWorkload(referenceFs, seed, config, reference);
  const total = referenceFs.syncCount;
  const failures: string[] = [];
  {
    // Uncut, it ends with a clean close: every write is there.
    expect(reference.persisted, `${label}: a clean close covers every write`).toBe(reference.writes.length);
    const opened = await openAndCheck(referenceFs.crash(), reference, config, `${label}, uncut`);
    expect(opened?.prefix, `${label}, uncut: every write`).toBe(reference.writes.length);
    await opened?.tree.close();
  }
  let cuts = 0;
  for (let n = 0; n < total; n++) {
    const fs = base.crash().cutPowerAtSync(n, crash);
    const run = new Run(prior.writes, prior.persisted);
    await reopenWorkload(fs, seed, config, run);
    const context = `${label}, crash options ${JSON.stringify(crash)}: power cut at sync ${n} of ${total} after the open, during ${run.doing}`;
    const image = fs.powerCutImage;
    if (!fs.powerWasCut || image === undefined) {
      failures.push(`${context}: the run never reached sync ${n}`);
      continue;
    }
    cuts++;
    try {
      const seqno = new SequenceNumberCounter();
      const opened = await openAndCheck(image, run, config, context, seqno);
      await checkUsable(image, opened.tree, seqno, config, context);
    } catch (error) {
      failures.push(describeError(error));
    }
  }
  return { total, cuts, failures, reference };
}

function expectNoFailures(result: Sweep): void {
  expect(result.failures, `${result.failures.length} of ${result.cuts} cuts failed:\n${result.failures.slice(0, 5).join("\n\n")}`).toEqual([]);
}

let turnBudget: number;
beforeAll(() => {
  // Background jobs never run out of their time slice: the same interleaving on a slow machine too,
  // so sync point n is the same moment in every run.
  turnBudget = setTurnBudgetMs(1e9);
});
afterAll(() => {
  setTurnBudgetMs(turnBudget);
});

describe("a journaled tree: a power cut at every sync point of a random workload", () => {
  it("by hand: writes of every kind, persists one by one and in flight together, rotations, flushes, closes and reopens", async () => {
    for (const seed of [1, 2, 3]) {
      const result = await sweep(BY_HAND, seed, {});
      expectNoFailures(result);
      expect(result.cuts).toBe(result.total);
      // The workload did what it says.
      const ref = result.reference;
      const kinds = new Set(ref.writes.map((w) => w.kind.replace(/ of \d+$/, "")));
      expect([...kinds].sort()).toEqual(["batch", "insert", "merge", "remove", "removePrefix", "removeRange", "removeWeak"]);
      expect(ref.reopens).toBeGreaterThan(0);
      expect(ref.concurrentPersists).toBeGreaterThan(0);
      expect(result.total).toBeGreaterThan(50);
    }
  });

  it("by hand, when unsynced writes partly survive, the last one torn, and unsynced directory entries too", async () => {
    for (const seed of [4, 5, 7]) expectNoFailures(await sweep(BY_HAND, seed, LUCKY));
  });

  it("with automatic maintenance: memtables sealed at memtableBytes, flushed and compacted in the background", async () => {
    for (const seed of [1, 2, 7]) expectNoFailures(await sweep(MAINTAINED, seed, {}));
    for (const seed of [3, 4]) expectNoFailures(await sweep(MAINTAINED, seed, LUCKY));
  });

  it("a longer workload (300 steps), at a seeded sample of its sync points", async () => {
    const result = await sweep(LONG, 8, {}, { sample: 80, usableEvery: 4 });
    expectNoFailures(result);
    expect(result.total).toBeGreaterThan(200);
  });

  it('with journal: { sync: "none" }: what a flush made durable stays, and nothing is invented or reordered', async () => {
    const result = await sweep(UNSYNCED, 6, {});
    expectNoFailures(await sweep(UNSYNCED, 1, LUCKY));
    expectNoFailures(result);
  });
});

describe("a power cut at every sync point of the open that replays a journal, and of what follows", () => {
  it("a tree closed with { discard: true } (everything in several journal files)", async () => {
    for (const [seed, crash] of [
      [11, {}],
      [12, LUCKY],
    ] as const) {
      const fs = new CrashFs();
      const prior = new Run();
      await workload(fs, seed, BY_HAND, prior, "discard");
      expect(prior.persisted).toBe(prior.writes.length);
      const base = fs.crash();
      expect(journalFiles(base).length, "journal files to replay").toBeGreaterThan(1);
      const result = await replaySweep(`${BY_HAND.name}, seed ${seed}, closed with { discard: true }`, base, prior, seed, BY_HAND, crash);
      expectNoFailures(result);
      expect(result.total).toBeGreaterThan(10);
    }
  });

  it("a tree that lost its power in the middle of a workload (torn journal tails), reopened and cut again", async () => {
    const seed = 13;
    const reference = new CrashFs();
    await workload(reference, seed, BY_HAND, new Run());
    for (const at of [0.4, 0.7]) {
      const n = Math.floor(reference.syncCount * at);
      const fs = new CrashFs().cutPowerAtSync(n, LUCKY);
      const cut = new Run();
      await workload(fs, seed, BY_HAND, cut);
      const base = fs.powerCutImage as CrashFs;
      const label = `${BY_HAND.name}, seed ${seed}, first cut at sync ${n}`;
      // What the first recovery shows (checked), on a copy: the base itself stays as the cut left it.
      const opened = await openAndCheck(base.crash(), cut, BY_HAND, label);
      await opened.tree.close({ discard: true });
      const prior = new Run(cut.writes.slice(0, opened.prefix), opened.prefix);
      const result = await replaySweep(label, base, prior, seed, BY_HAND, {});
      expectNoFailures(result);
    }
  });
});

describe("known bugs", () => {
  // BUG: a newer journal file can become durable before an older one. The first persist() of a file
  // syncs the file, then (separately) the journal directory. If the memtable rotates while that round
  // is in flight, the write made meanwhile (b) and the old file's close wait for the file's next
  // round, which only starts when the running one ends; but the new file's own first persist() (after
  // c) starts its round at once and syncs the new file first. A cut at the old file's second sync then
  // leaves a and c but not b: a later write survives an earlier lost one. (The random sweeps find the
  // same with `rotateInBursts`, below.) Fix: the new file's syncs wait for the old file's close, e.g.
  // JournalSet passes the closing promise of the rotated file to the new JournalWriter, whose #sync()
  // awaits it before syncing (a failure of the old file then fails the new one too).
  it("a rotation while the old journal's first sync is in flight: a newer write never survives an older lost one", async () => {
    const script = async (fs: CrashFs, run: Run): Promise<void> => {
      const seqno = new SequenceNumberCounter();
      const put = (tree: Tree, key: string): void => {
        const s = seqno.next();
        run.writes.push({ seqno: s, kind: "insert", op: { t: "put", key, value: `v${s}` } });
        tree.insert(key, `v${s}`, s);
      };
      try {
        run.doing = "open";
        const tree = await Tree.open(treeOptions(fs, seqno, BY_HAND));
        put(tree, "a");
        const first = tree.persist().then(() => run.covered(1));
        first.catch(() => undefined);
        // One tick: the group commit has synced journal 0 and waits to sync the directory.
        await Promise.resolve();
        put(tree, "b");
        tree.rotateMemtable();
        put(tree, "c");
        run.doing = "the persists";
        await Promise.all([first, tree.persist().then(() => run.covered(3))]);
        await tree.close();
        run.covered(3);
      } catch (error) {
        if (!fs.powerWasCut) throw error;
      }
    };
    const reference = new CrashFs();
    await script(reference, new Run());
    const failures: string[] = [];
    for (let n = 0; n < reference.syncCount; n++) {
      const fs = new CrashFs().cutPowerAtSync(n);
      const run = new Run();
      await script(fs, run);
      const opened = await openAndCheck(fs.powerCutImage as CrashFs, run, BY_HAND, `cut at sync ${n} during ${run.doing}`).catch((error: unknown) => {
        failures.push(describeError(error));
        return undefined;
      });
      await opened?.tree.close();
    }
    expect(failures).toEqual([]);
  });

  // BUG: a journal file whose first write (the header and the first records) never reached the disk
  // while a later write did (the kernel writes dirty pages back in any order; CrashFs keepUnsyncedWrites)
  // starts with zeros, and replay refuses it as CORRUPTION ("bad magic"): the tree does not open at all
  // after the power cut. With sync "group" this takes more than 64 KiB written to a file before its
  // first persist() (each 64 KiB is written out); with sync "none", where nothing is ever synced, any
  // two persists. Nothing in such a file was ever synced (a sync covers the header), so nothing promised
  // is in it: replay could treat a header of zeros like a file shorter than a header (an empty journal,
  // its bytes a torn tail), but see the next bug for what dropping a whole file does to the order.
  it("a journal file whose header never reached the disk while a later write did: the tree still opens", async () => {
    const seqno = new SequenceNumberCounter();
    const fs = new CrashFs();
    const tree = await Tree.open(treeOptions(fs, seqno, BY_HAND));
    const big = "~".repeat(70_000);
    tree.insert("a", `v1${big}`, seqno.next()); // written out at once (past 64 KiB): the header and a
    tree.insert("b", `v2${big}`, seqno.next()); // a second write-out, never synced either
    const file = `${PATH}/${JOURNAL_DIR_NAME}/0`;
    let image: CrashFs | undefined;
    for (let seed = 0; image === undefined && seed < 200; seed++) {
      const candidate = fs.crash({ keepUnsyncedWrites: 0.5, keepUnsyncedEntries: 1, seed });
      if (!candidate.exists(file) || candidate.metadata(file).len <= 17) continue;
      const head = new Uint8Array(4);
      const handle = candidate.open(file, { read: true });
      handle.readAt(head, 0);
      handle.close();
      if (head.every((byte) => byte === 0)) image = candidate;
    }
    if (image === undefined) throw new Error("no crash image lost the first write-out but kept the second");
    const reopened = await Tree.open(treeOptions(image, new SequenceNumberCounter(), BY_HAND, false));
    // Neither write was persisted: none, or a (never b without a), may be there.
    expect(reopened.get("b", SEQNO_MAX)).toBeUndefined();
    await reopened.close();
    await tree.close();
  });

  // BUG: the order of writes is not kept across journal files when unsynced writes partly survive. At
  // a rotation the old file's last records are written out and synced in the background, but the new
  // file takes writes at once, and a value past 64 KiB is written out at once: the kernel may put the
  // new file's pages on disk and not the old file's. Replay reads every file it finds, so it shows the
  // newer write without the older one. (With sync "none" any rotation does it: nothing is ever synced.)
  // Syncing in order cannot prevent it; replay must notice: e.g. each new file's header records how long
  // its predecessor is, and replay stops at the first file that is shorter than its successor says
  // (RocksDB's point-in-time recovery stops at such a gap in the same way).
  it("unsynced writes of a newer journal file that reached the disk while an older file's did not: not replayed", async () => {
    const failures: string[] = [];
    for (const [config, seed] of [
      [BY_HAND, 1],
      [UNSYNCED, 1],
    ] as const) {
      const script = async (fs: CrashFs, run: Run): Promise<void> => {
        const seqno = new SequenceNumberCounter();
        const put = (tree: Tree, key: string, value: string): void => {
          const s = seqno.next();
          run.writes.push({ seqno: s, kind: "insert", op: { t: "put", key, value: `v${s}${value}` } });
          tree.insert(key, `v${s}${value}`, s);
        };
        try {
          run.doing = "open";
          const tree = await Tree.open(treeOptions(fs, seqno, config));
          put(tree, "a", "");
          run.doing = "writes";
          await tree.persist(); // sync "none": written out, not synced
          if (config === BY_HAND) run.covered(1);
          put(tree, "b", "");
          tree.rotateMemtable(); // journal 0 is written out and synced in the background
          put(tree, "c", "~".repeat(70_000)); // journal 1: written out at once
          await tree.close();
        } catch (error) {
          if (!fs.powerWasCut) throw error;
        }
      };
      const reference = new CrashFs();
      await script(reference, new Run());
      for (let n = 0; n < reference.syncCount; n++) {
        for (let luck = seed; luck < seed + 8; luck++) {
          const fs = new CrashFs().cutPowerAtSync(n, { keepUnsyncedWrites: 0.5, keepUnsyncedEntries: 1, seed: luck });
          const run = new Run();
          await script(fs, run);
          const opened = await openAndCheck(fs.powerCutImage as CrashFs, run, config, `${config.name}: cut at sync ${n} (luck ${luck}) during ${run.doing}`).catch(
            (error: unknown) => {
              failures.push(describeError(error));
              return undefined;
            },
          );
          await opened?.tree.close();
        }
      }
    }
    expect(failures).toEqual([]);
  });

  // BUG: empty journal files pile up. A clean close flushes only when a memtable holds something: a
  // tree opened and closed without writes commits no version, so the journal floor stays where it was,
  // and the file the open started for new writes (empty) is kept; the next open keeps both and starts
  // a third. Every open/close cycle without writes leaves one more empty file (replayed at every open)
  // until a flush raises the floor. Fix: JournalSet.open could remove a file that replays no group
  // instead of keeping it (it holds no write: removing it is safe even without a directory sync).
  it("an open and a clean close without writes leave no more journal files than they found", async () => {
    const fs = new CrashFs();
    const seqno = new SequenceNumberCounter();
    let tree = await Tree.open(treeOptions(fs, seqno, BY_HAND));
    tree.insert("a", "1", seqno.next());
    await tree.close();
    const counts = [journalFiles(fs).length];
    for (let i = 0; i < 3; i++) {
      tree = await Tree.open(treeOptions(fs, seqno, BY_HAND));
      expect(dec(tree.get("a", SEQNO_MAX))).toBe("1");
      await tree.close();
      counts.push(journalFiles(fs).length);
    }
    // A clean close removes the empty file it started for new writes: nothing piles up.
    expect(Math.max(...counts)).toBeLessThanOrEqual(1);
    expect(new Set(counts).size).toBe(1);
  });

  // The random sweeps find these bugs too, at other seeds than the sweeps above use (seed 7 of BY_HAND
  // and MAINTAINED, for instance; which is also why those run without `rotateInBursts`, and UNSYNCED
  // without LUCKY): here at sync points where they show. Once the bugs are fixed, widen the sweeps
  // above (more seeds, LUCKY everywhere, `rotateInBursts: 0.3`, UNSYNCED with LUCKY) and drop this test.
  it("the random sweeps, at sync points where they find the bugs above", async () => {
    const failures: string[] = [];
    // The first bug, with rotations inside bursts of persists.
    failures.push(...(await sweep({ ...BY_HAND, name: `${BY_HAND.name}, rotations in bursts`, rotateInBursts: 0.3 }, 4, {}, { only: [91, 92] })).failures);
    // The first bug, with a rotation as a step of its own while a burst's persists are still in flight.
    failures.push(...(await sweep(BY_HAND, 7, {}, { only: [31, 32, 33, 34] })).failures);
    // Unsynced writes partly surviving: the first bug, and once it is fixed, the third.
    failures.push(...(await sweep(BY_HAND, 7, LUCKY, { only: [28, 29] })).failures);
    // sync "none": a journal header that never reached the disk (the second bug).
    failures.push(...(await sweep(UNSYNCED, 1, LUCKY, { only: [8, 9] })).failures);
    expect(failures).toEqual([]);
  });
});
