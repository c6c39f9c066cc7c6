// Checkpoints of a tree that keeps working: compactions that finish while a checkpoint is in flight, reads
// and writes during it, two checkpoints at once, and a seeded model check of a busy tree. Concurrency here is
// interleaved async tasks: the checkpoint's flush yields to the event loop every few thousand entries, so
// each test first fills the memtable with ~50k entries and schedules the other tasks through setImmediate.
import { describe, expect, it } from "vitest";
import { MemFs } from "@talus/fs";
import { Leveled, SEQNO_MAX, Tree } from "@talus/lsm-core";
import { Random } from "@talus/testkit";
import { createCheckpoint, type CheckpointInfo } from "../src/index.ts";
import { contents, dec, diffMaps, key, openSource, readTree, tableFiles, tick, type Source } from "./support.ts";

/** Entries the checkpoint's flush must write: enough for it to yield to the event loop a dozen times. */
const FILLER = 25_000;

/** Whether `promise` has settled yet, without turning a rejection into an unhandled one. */
function track(promise: Promise<unknown>): { readonly settled: boolean } {
  const state = { settled: false };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

/** Three flushed L0 tables of 4000 entries each (a major compaction of them yields a few times). */
async function threeTables(src: Source): Promise<string[]> {
  for (let t = 0; t < 3; t++) {
    src.fill(t * 4000, (t + 1) * 4000, "old", `old-${t}-`);
    await src.tree.flushActiveMemtable(0);
  }
  return [...src.tree.currentVersion().tables()].map((t) => t.path);
}

/** The checkpoint holds every record below info.seqno, and whatever else it holds is a prefix of the writes. */
async function expectConsistent(fs: MemFs, target: string, src: Source, info: CheckpointInfo): Promise<void> {
  const ck = await Tree.open({ path: target, fs });
  try {
    expect(diffMaps(contents(ck, info.seqno), src.model.at(info.seqno))).toEqual([]);
    const highest = ck.highestSeqno() ?? -1;
    expect(diffMaps(contents(ck), src.model.at(highest + 1))).toEqual([]);
  } finally {
    await ck.close();
  }
}

describe("a compaction in flight during a checkpoint", () => {
  it("finishing before the checkpoint does: its obsolete inputs stay until the checkpoint returns (DeletionPause), then go", async () => {
    const mem = new MemFs();
    const src = await openSource({ path: "/db", fs: mem });
    const inputs = await threeTables(src);
    // Jobs share each event-loop turn by time, and a flush writes an entry faster than a compaction
    // merges one: the checkpoint's flush gets 8x the compaction's entries so that it surely ends later.
    src.fill(0, 8 * FILLER, "filler");

    const compaction = src.tree.majorCompact(Number.POSITIVE_INFINITY, 0); // starts now, yields at its awaits
    const checkpoint = createCheckpoint(src.tree, "/ck");
    const ck = track(checkpoint);
    const result = await compaction;
    expect(result).toMatchObject({ action: "merged", tablesIn: 3 });
    expect(ck.settled).toBe(false); // the compaction really finished first
    expect(src.tree.deletionPause.isActive()).toBe(true);
    expect(src.tree.deletionPause.pendingCount()).toBe(inputs.length);
    for (const path of inputs) expect(mem.exists(path)).toBe(true);

    const info = await checkpoint;
    for (const path of inputs) expect(mem.exists(path)).toBe(false);
    expect(src.tree.deletionPause.isActive()).toBe(false);
    expect(src.tree.deletionPause.pendingCount()).toBe(0);
    // The captured version is the one after the compaction and the checkpoint's flush.
    const current = src.tree.currentVersion();
    expect(info.versionId).toBe(current.id);
    expect(tableFiles(mem, "/ck/tables")).toEqual([...current.tables()].map((t) => String(t.id)).sort((a, b) => Number(a) - Number(b)));
    await expectConsistent(mem, "/ck", src, info);
    await src.tree.close();
  });

  it("without a checkpoint the same inputs are deleted as soon as the compaction installs (control)", async () => {
    const mem = new MemFs();
    const src = await openSource({ path: "/db", fs: mem });
    const inputs = await threeTables(src);
    await src.tree.majorCompact(Number.POSITIVE_INFINITY, 0);
    for (const path of inputs) expect(mem.exists(path)).toBe(false);
    expect(src.tree.deletionPause.pendingCount()).toBe(0);
    await src.tree.close();
  });

  it("finishing after the checkpoint captured its inputs: the checkpoint keeps them (links) after the source deletes them", async () => {
    const mem = new MemFs();
    const src = await openSource({ path: "/db", fs: mem });
    for (let t = 0; t < 3; t++) {
      src.fill(t * 10_000, (t + 1) * 10_000, "old", `old-${t}-`);
      await src.tree.flushActiveMemtable(0);
    }
    const inputs = [...src.tree.currentVersion().tables()];
    src.fill(0, 1000, "small"); // a short flush: the checkpoint ends long before the compaction

    const compaction = src.tree.majorCompact(Number.POSITIVE_INFINITY, 0);
    const info = await createCheckpoint(src.tree, "/ck");
    const linked = tableFiles(mem, "/ck/tables");
    for (const t of inputs) expect(linked).toContain(String(t.id));
    expect(info.sstFiles).toBe(4);
    await compaction;
    for (const t of inputs) expect(mem.exists(t.path)).toBe(false);
    for (const t of inputs) expect(mem.exists(`/ck/tables/${t.id}`)).toBe(true);
    await expectConsistent(mem, "/ck", src, info);
    await src.tree.close();
  });
});

describe("the source keeps serving while a checkpoint is in flight", () => {
  it("reads see the right values and writes land, during the checkpoint; the checkpoint is consistent", async () => {
    const mem = new MemFs();
    const src = await openSource({ path: "/db", fs: mem });
    const latest = new Map<string, string>();
    const write = (k: string, v: string): void => {
      src.write(k, v);
      latest.set(k, v);
    };
    for (let i = 0; i < 1000; i++) write(key(i), `v0-${i}`);
    await src.tree.flushActiveMemtable(0);
    for (let i = 0; i < FILLER; i++) write(key(i, "filler"), `f-${i}`);

    const checkpoint = createCheckpoint(src.tree, "/ck");
    const ck = track(checkpoint);
    const rng = new Random(7);
    let rounds = 0;
    const worker = (async () => {
      for (let round = 0; !ck.settled; round++) {
        await tick();
        if (ck.settled) break;
        rounds++;
        for (let n = 0; n < 20; n++) {
          const k = key(rng.int(1000));
          expect(dec(src.tree.get(k, SEQNO_MAX))).toBe(latest.get(k));
        }
        const from = rng.int(990);
        const scanned = [...src.tree.range({ gte: key(from), lt: key(from + 10) }, SEQNO_MAX)].map(([k, v]) => `${dec(k)}=${dec(v)}`);
        expect(scanned).toEqual(Array.from({ length: 10 }, (_, j) => `${key(from + j)}=${latest.get(key(from + j))}`));
        for (let n = 0; n < 10; n++) write(key(rng.int(1000)), `during-${round}-${n}`);
        write(key(round, "new"), `new-${round}`);
      }
    })();
    const info = await checkpoint;
    await worker;
    expect(rounds).toBeGreaterThan(3);
    expect(diffMaps(contents(src.tree), latest)).toEqual([]);
    await expectConsistent(mem, "/ck", src, info);
    await src.tree.flushActiveMemtable(0); // no write-ahead log: only flushed data survives a close
    await src.tree.close();
    expect(diffMaps(await readTree(mem, "/db"), src.model.at())).toEqual([]);
  });

  it("two checkpoints to different targets at once (and a writer): both complete and consistent", async () => {
    const mem = new MemFs();
    mem.createDir("/backups");
    const src = await openSource({ path: "/db", fs: mem });
    src.fill(0, 1000);
    await src.tree.flushActiveMemtable(0);
    src.fill(0, FILLER, "filler");

    const first = createCheckpoint(src.tree, "/backups/a");
    const firstState = track(first);
    const writer = (async () => {
      for (let i = 0; !firstState.settled; i++) {
        await tick();
        src.fill(i * 100, i * 100 + 100, "during");
      }
    })();
    await tick();
    await tick();
    const second = createCheckpoint(src.tree, "/backups/b");
    const [a, b] = await Promise.all([first, second]);
    await writer;
    expect(b.seqno).toBeGreaterThan(a.seqno); // the second sampled later, after writes
    expect(b.versionId).toBeGreaterThanOrEqual(a.versionId);
    expect(mem.readDir("/backups").map((e) => e.fileName).sort()).toEqual(["a", "b"]);
    await expectConsistent(mem, "/backups/a", src, a);
    await expectConsistent(mem, "/backups/b", src, b);
    expect(src.tree.deletionPause.isActive()).toBe(false);
    await src.tree.close();
  });

  it("two checkpoints into the same target at once: exactly one wins, the loser changes nothing", async () => {
    const mem = new MemFs();
    const src = await openSource({ path: "/db", fs: mem });
    src.fill(0, FILLER);
    const results = await Promise.allSettled([createCheckpoint(src.tree, "/ck"), createCheckpoint(src.tree, "/ck")]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const loser = results.find((r) => r.status === "rejected");
    expect(loser?.status === "rejected" && (loser.reason as { code?: string }).code).toBe("EEXIST");
    const winner = results.find((r) => r.status === "fulfilled");
    if (winner?.status !== "fulfilled") throw new Error("no winner");
    await expectConsistent(mem, "/ck", src, winner.value);
    await src.tree.close();
  });
});

describe("closing the tree during a checkpoint", () => {
  for (const when of ["at once", "after the flush started"] as const) {
    it(`close() ${when}: the checkpoint completes or is refused (CLOSED), never leaves a partial target`, async () => {
      const mem = new MemFs();
      const src = await openSource({ path: "/db", fs: mem });
      src.fill(0, 1000);
      await src.tree.flushActiveMemtable(0);
      src.fill(0, FILLER, "filler");
      const checkpoint = createCheckpoint(src.tree, "/ck").then(
        (info) => ({ info }),
        (error: unknown) => ({ error }),
      );
      if (when !== "at once") await tick();
      await src.tree.close();
      const result = await checkpoint;
      if ("error" in result) {
        expect((result.error as { code?: string }).code).toBe("CLOSED");
        expect(mem.exists("/ck")).toBe(false);
      } else {
        const ck = await Tree.open({ path: "/ck", fs: mem });
        expect(diffMaps(contents(ck, result.info.seqno), src.model.at(result.info.seqno))).toEqual([]);
        await ck.close();
      }
      expect(src.tree.deletionPause.isActive()).toBe(false);
    });
  }
});

describe("model check: every record with seqno < info.seqno is in the checkpoint", () => {
  for (const seed of [1, 2, 3]) {
    it(`a busy tree (writes, overwrites, deletes, flushes, leveled compactions), seed ${seed}`, async () => {
      const rng = new Random(seed);
      const mem = new MemFs();
      mem.createDir("/ck");
      const src = await openSource({ path: "/db", fs: mem, flushTableSize: 64 * 1024 });
      const strategy = new Leveled({ l0Threshold: 2, tableTargetSize: 64 * 1024 });
      const keySpace = 20_000;
      const writeSome = (n: number): void => {
        for (let i = 0; i < n; i++) {
          const k = key(rng.int(keySpace));
          if (rng.chance(0.1)) src.remove(k);
          else src.write(k, `s${seed}-${src.seqno.get()}`);
        }
      };
      writeSome(10_000);
      await src.tree.flushActiveMemtable(0);

      let stop = false;
      const background = (async () => {
        while (!stop) {
          await tick();
          writeSome(rng.range(50, 500));
          if (rng.chance(0.2)) await src.tree.flushActiveMemtable(0);
          if (rng.chance(0.2)) await src.tree.compact(strategy, 0);
        }
      })();
      const checkpoints: Array<{ target: string; info: CheckpointInfo }> = [];
      const racing: Array<Promise<unknown>> = [];
      for (let c = 0; c < 3; c++) {
        writeSome(8_000);
        const target = `/ck/${c}`;
        const pending = createCheckpoint(src.tree, target);
        if (c === 1) {
          // A compaction started right after the checkpoint, racing its flush.
          racing.push(src.tree.compact(strategy, 0));
        }
        checkpoints.push({ target, info: await pending });
        for (let i = rng.int(5); i > 0; i--) await tick();
      }
      stop = true;
      await background;
      await Promise.all(racing);
      for (const { target, info } of checkpoints) await expectConsistent(mem, target, src, info);
      expect(src.tree.deletionPause.pendingCount()).toBe(0);
      await src.tree.flushActiveMemtable(0); // no write-ahead log: only flushed data survives a close
      await src.tree.close();
      expect(diffMaps(await readTree(mem, "/db"), src.model.at())).toEqual([]);
    });
  }
});
