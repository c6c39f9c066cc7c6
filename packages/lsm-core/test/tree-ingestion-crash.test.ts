// Power cuts at every sync point of a workload built around bulk ingestion (the sweep of
// tree-crash.test.ts): an ingestion whose finish() must first flush memtable writes, an ingestion of
// tombstones and a weak tombstone over flushed keys, a major compaction of ingested tables (global
// seqnos), a second ingestion with nothing to flush, and leveled compactions. After a cut and reopen:
// open succeeds (but for an interrupted creation), either none or all of an ingestion's entries are
// visible (its memtable flush may have landed on its own), nothing flushed before is lost, the state
// matches the model at every phase boundary, no orphan table file is left, and a new write wins.
import { describe, expect, it } from "vitest";
import type { Fs } from "@talus/fs";
import { Leveled, SequenceNumberCounter, Tree } from "../src/index.ts";
import { EMPTY, Model, sweep, treeOpener, withPhases, type Phase, PATH } from "./crash-phase-model.ts";

const TREE_OPTIONS = { blockSize: 256, flushTableSize: 1200 } as const;
const TABLE_TARGET = 1200;
const openOn = treeOpener(TREE_OPTIONS);

const value = (phase: string, key: string): string => `${phase}:${key}:${"x".repeat(24)}`;
const keyRange = (prefix: string, from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `${prefix}${String(from + i).padStart(3, "0")}`);

async function workload(fs: Fs, model: Model): Promise<void> {
  const seqno = new SequenceNumberCounter();
  let tree: Tree | undefined;
  const t = (): Tree => tree as Tree;
  const step = async <T>(name: string, outcomes: ReturnType<typeof withPhases>[], fn: () => Promise<T>): Promise<T> => {
    model.startStep(name, outcomes);
    const result = await fn();
    model.finishStep();
    return result;
  };
  const put = (phase: Phase, keys: readonly string[]): void => {
    for (const key of keys) {
      const v = value(phase.name, key);
      t().insert(key, v, seqno.next());
      phase.ops.set(key, v);
    }
  };
  const del = (phase: Phase, keys: readonly string[]): void => {
    for (const key of keys) {
      t().remove(key, seqno.next());
      phase.ops.set(key, undefined);
    }
  };
  const flush = async (phase: Phase): Promise<void> => {
    phase.boundary = seqno.get();
    const i = model.phases.indexOf(phase);
    await step(`flush ${phase.name}`, [model.durable, withPhases(model.durable, i)], () => t().flushActiveMemtable(0));
  };
  /** Ingests `entries` (sorted); `pending` is the phase still in the memtable (flushed by finish first). */
  const ingest = async (name: string, pending: Phase | undefined, entries: ReadonlyArray<[string, "value" | "tombstone" | "weak"]>): Promise<void> => {
    if (pending !== undefined) pending.boundary = seqno.get();
    const phase = model.begin(name);
    const ingestion = t().ingestion();
    for (const [key, kind] of entries) {
      if (kind === "value") {
        const v = value(name, key);
        ingestion.write(key, v);
        phase.ops.set(key, v);
      } else {
        if (kind === "tombstone") ingestion.writeTombstone(key);
        else ingestion.writeWeakTombstone(key);
        phase.ops.set(key, undefined);
      }
    }
    const p = pending === undefined ? [] : [model.phases.indexOf(pending)];
    const q = model.phases.indexOf(phase);
    const outcomes = [model.durable, ...(p.length > 0 ? [withPhases(model.durable, ...p)] : []), withPhases(model.durable, ...p, q)];
    await step(`ingest ${name}`, outcomes, async () => {
      const result = await ingestion.finish();
      expect(result.entries).toBe(entries.length);
    });
    phase.boundary = seqno.get();
  };

  model.startStep("create", [EMPTY]);
  tree = await openOn(fs, seqno);
  model.finishStep();

  const A = model.begin("A");
  put(A, keyRange("a", 0, 60));
  put(A, keyRange("i", 10, 20));
  await flush(A);

  // B stays in the memtable: the ingestion's finish() flushes it first.
  const B = model.begin("B");
  put(B, keyRange("b", 0, 30));
  del(B, keyRange("a", 0, 5));
  put(B, keyRange("i", 15, 25));
  const I: Array<[string, "value" | "tombstone" | "weak"]> = [
    ...keyRange("a", 50, 55).map((k): [string, "tombstone"] => [k, "tombstone"]),
    ["a055", "weak"],
    ["b010", "tombstone"],
    ...keyRange("i", 0, 200).map((k): [string, "value"] => [k, "value"]),
  ];
  await ingest("I", B, I);

  const C = model.begin("C");
  put(C, keyRange("i", 100, 110));
  put(C, keyRange("c", 0, 20));
  await flush(C);

  await step("majorCompact", [model.durable], () => t().majorCompact(TABLE_TARGET, 0));

  // An ingestion with nothing to flush: none or all of it.
  await ingest("J", undefined, [...keyRange("i", 150, 160).map((k): [string, "tombstone"] => [k, "tombstone"]), ...keyRange("j", 0, 50).map((k): [string, "value"] => [k, "value"])]);

  const leveled = new Leveled({ l0Threshold: 2, tableTargetSize: TABLE_TARGET });
  for (let i = 0; i < 4; i++) {
    const result = await step(`leveled #${i}`, [model.durable], () => t().compact(leveled, 0));
    if (result.action === "nothing") break;
  }
  await t().close();
}

describe("ingestion: a power cut at every sync point", () => {
  it("the workload's reference run: ingested tables, tombstones and the memtable flush are all there", async () => {
    const fs = new (await import("@talus/testkit")).CrashFs();
    const model = new Model();
    await workload(fs, model);
    const tree = await openOn(fs.crash());
    const all = model.durable;
    expect([...all.phases].sort()).toEqual([0, 1, 2, 3, 4]);
    expect([...tree.iter(Number.MAX_SAFE_INTEGER)].length).toBe(model.entries(all, Number.MAX_SAFE_INTEGER).length);
    expect(model.steps.map((s) => s.name)).toEqual(expect.arrayContaining(["ingest I", "ingest J", "majorCompact", "leveled #0"]));
    await tree.close();
    expect(fs.exists(PATH)).toBe(true);
  });

  it("recovers none or all of each ingestion, never loses flushed data, leaves no orphans", async () => {
    const { stats, syncCount } = await sweep(workload, () => new Model(), openOn, {});
    expect(stats.cuts).toBe(syncCount);
    const ingestI = stats.perStep.get("ingest I") ?? [];
    // Cuts before the flush (B lost) and after the flush but before the install (B only). (A cut at the
    // last sync of finish() finds `current` not yet durable; the state after it is the next step's "before".)
    expect(ingestI).toContain(0);
    expect(ingestI).toContain(1);
    const ingestJ = stats.perStep.get("ingest J") ?? [];
    expect(ingestJ.length).toBeGreaterThan(0);
    expect(stats.perStep.get("flush C")?.length ?? 0).toBeGreaterThan(0);
    expect(stats.perStep.get("majorCompact")?.length ?? 0).toBeGreaterThan(0);
  }, 120_000);

  for (const seed of [1, 2]) {
    it(`the same when unsynced writes and entries partly survive and the last write tears (seed ${seed})`, async () => {
      const { stats, syncCount } = await sweep(workload, () => new Model(), openOn, { keepUnsyncedWrites: 0.5, tearLastWrite: true, keepUnsyncedEntries: 0.5, seed });
      expect(stats.cuts).toBe(syncCount);
    }, 120_000);
  }
});
