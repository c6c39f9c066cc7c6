// Power cuts at every sync point of compactions that run a compaction filter (the sweep of
// tree-crash.test.ts): a TTL filter removes the entries whose value is marked expired (about half of
// them), in two major compactions between flushes. After each cut and reopen the tree shows exactly
// the state before or after the interrupted step at every phase boundary: never part of a filtered
// compaction, nothing flushed lost, no orphan tables, and a new write wins.
import { describe, expect, it } from "vitest";
import type { Fs } from "@talus/fs";
import { SequenceNumberCounter, type CompactionFilter, type Tree } from "../src/index.ts";
import { allFiltered, EMPTY, Model, sweep, treeOpener, withPhases, type Durable, type Phase } from "./crash-phase-model.ts";

const EXPIRED = 0x45; // "E"
const ttl: CompactionFilter = {
  name: "ttl",
  create: () => ({ filter: (item) => (item.value()[0] === EXPIRED ? "remove" : "keep") }),
};
const TREE_OPTIONS = { blockSize: 256, flushTableSize: 1200, compactionFilter: ttl } as const;
const TABLE_TARGET = 1200;
const openOn = treeOpener(TREE_OPTIONS);
/** What the filter leaves of a value: expired ones become deletions. */
const newModel = (): Model => new Model((v) => (v.startsWith("E") ? undefined : v));

const keyRange = (prefix: string, from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `${prefix}${String(from + i).padStart(3, "0")}`);

async function workload(fs: Fs, model: Model): Promise<void> {
  const seqno = new SequenceNumberCounter();
  let tree: Tree | undefined;
  const t = (): Tree => tree as Tree;
  const step = async <T>(name: string, outcomes: Durable[], fn: () => Promise<T>): Promise<T> => {
    model.startStep(name, outcomes);
    const result = await fn();
    model.finishStep();
    return result;
  };
  const put = (phase: Phase, keys: readonly string[], expired: (i: number) => boolean): void => {
    keys.forEach((key, i) => {
      const v = `${expired(i) ? "E" : "L"}:${phase.name}:${key}:${"x".repeat(24)}`;
      t().insert(key, v, seqno.next());
      phase.ops.set(key, v);
    });
  };
  const del = (phase: Phase, keys: readonly string[]): void => {
    for (const key of keys) {
      t().remove(key, seqno.next());
      phase.ops.set(key, undefined);
    }
  };
  const flush = async (phase: Phase): Promise<void> => {
    phase.boundary = seqno.get();
    await step(`flush ${phase.name}`, [model.durable, withPhases(model.durable, model.phases.indexOf(phase))], () => t().flushActiveMemtable(0));
  };
  const filteredMajor = async (name: string): Promise<void> => {
    const result = await step(name, [model.durable, allFiltered(model.durable)], () => t().majorCompact(TABLE_TARGET, 0));
    expect(result.action).toBe("merged");
  };

  model.startStep("create", [EMPTY]);
  tree = await openOn(fs, seqno);
  model.finishStep();

  const A = model.begin("A");
  put(A, keyRange("k", 0, 60), (i) => i % 2 === 0);
  await flush(A);
  const B = model.begin("B");
  put(B, keyRange("k", 30, 90), (i) => i % 3 === 0);
  del(B, keyRange("k", 0, 5));
  await flush(B);
  const C = model.begin("C");
  put(C, keyRange("m", 0, 40), (i) => i % 2 === 1);
  await flush(C);
  // Half the keys expire: the filter turns their versions into tombstones, in one compaction.
  await filteredMajor("majorCompact 1 (filtered)");

  const D = model.begin("D");
  put(D, keyRange("m", 20, 30), () => false);
  put(D, keyRange("n", 0, 30), (i) => i % 2 === 0);
  await flush(D);
  const E = model.begin("E");
  put(E, keyRange("k", 40, 50), (i) => i % 2 === 0);
  await flush(E);
  await filteredMajor("majorCompact 2 (filtered)");
  await t().close();
}

describe("compaction filter: a power cut at every sync point", () => {
  it("the filtered compactions change what reads return (the sweep can tell before from after)", async () => {
    const model = newModel();
    const { CrashFs } = await import("@talus/testkit");
    await workload(new CrashFs(), model);
    for (const name of ["majorCompact 1 (filtered)", "majorCompact 2 (filtered)"]) {
      const [before, after] = (model.steps.find((s) => s.name === name) as { outcomes: Durable[] }).outcomes as [Durable, Durable];
      const b = model.view(before, model.boundaries);
      const a = model.view(after, model.boundaries);
      expect(JSON.stringify(a), name).not.toBe(JSON.stringify(b));
      expect((a.at(-1) as string[]).length, name).toBeLessThan((b.at(-1) as string[]).length);
    }
  });

  it("recovers the state before or after each step, never a partly filtered compaction", async () => {
    const { stats, syncCount } = await sweep(workload, newModel, openOn, {});
    expect(stats.cuts).toBe(syncCount);
    for (const name of ["majorCompact 1 (filtered)", "majorCompact 2 (filtered)"]) {
      expect(stats.perStep.get(name)?.length ?? 0, name).toBeGreaterThan(2);
    }
  }, 120_000);

  for (const seed of [1, 2]) {
    it(`the same when unsynced writes and entries partly survive and the last write tears (seed ${seed})`, async () => {
      const { stats, syncCount } = await sweep(workload, newModel, openOn, { keepUnsyncedWrites: 0.5, tearLastWrite: true, keepUnsyncedEntries: 0.5, seed });
      expect(stats.cuts).toBe(syncCount);
    }, 120_000);
  }
});
