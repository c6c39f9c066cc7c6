// Power cuts at every sync point of a tree's life (DESIGN.md section 4): create, flush, flush, major
// compaction, flush, leveled compactions, dropRange, clear, flush. After each cut the tree is reopened
// on what a rebooted machine would find and must hold exactly the durable state from just before or
// just after the interrupted operation, with nothing invented, no leftover files, every table intact,
// and a seqno counter that lets new writes win.
import { describe, expect, it } from "vitest";
import type { Fs } from "@talus/fs";
import { CrashFs, PowerCutError, type CrashOptions } from "@talus/testkit";
import { Leveled, SEQNO_MAX, SequenceNumberCounter, Tree, type CompactionResult } from "../src/index.ts";
import { dec, entriesAt, expectCleanTreeDir, expectPointReadsMatch, splitEntry, viewAt } from "./tree-test-support.ts";

const PATH = "/db";
// Small blocks and tables, so that every flush and compaction writes several tables (more sync points).
const TREE_OPTIONS = { blockSize: 256, flushTableSize: 1200 } as const;
const TABLE_TARGET = 1200;

type StepKind = "create" | "flush" | "compact" | "drop" | "clear";

/** What one run of the workload did, as far as it got. */
class Progress {
  /** Index of the step in progress (or last finished). */
  step = -1;
  readonly steps: Array<{ name: string; kind: StepKind }> = [];
  /** The write counter's value at the end of each write phase: reads there see one phase each. */
  readonly boundaries: number[] = [];
  /** Every (key, value) pair ever written. */
  readonly written = new Map<string, Set<string>>();
  /** Contents at SEQNO_MAX as the writes say (memtables included). */
  readonly model = new Map<string, string>();
  readonly results: CompactionResult[] = [];
}

type AfterStep = (progress: Progress, tree: Tree) => void;

const value = (phase: string, key: string): string => `${phase}:${key}:${"x".repeat(24)}`;
const range = (prefix: string, from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `${prefix}${String(from + i).padStart(3, "0")}`);

/** The workload. Deterministic: every run makes the same calls, so sync point n is the same everywhere. */
async function workload(fs: Fs, progress: Progress, afterStep: AfterStep): Promise<void> {
  const seqno = new SequenceNumberCounter();
  let tree: Tree | undefined;
  const step = async <T>(name: string, kind: StepKind, fn: () => Promise<T>): Promise<T> => {
    progress.step = progress.steps.length;
    progress.steps.push({ name, kind });
    const result = await fn();
    afterStep(progress, tree as Tree);
    return result;
  };
  const put = (phase: string, keys: readonly string[]): void => {
    for (const key of keys) {
      const v = value(phase, key);
      (tree as Tree).insert(key, v, seqno.next());
      progress.model.set(key, v);
      let set = progress.written.get(key);
      if (set === undefined) progress.written.set(key, (set = new Set()));
      set.add(v);
    }
  };
  const del = (keys: readonly string[]): void => {
    for (const key of keys) {
      (tree as Tree).remove(key, seqno.next());
      progress.model.delete(key);
      if (!progress.written.has(key)) progress.written.set(key, new Set());
    }
  };
  const endPhase = (): void => {
    progress.boundaries.push(seqno.get());
  };
  const compact = async (name: string, run: () => Promise<CompactionResult>, kind: StepKind = "compact"): Promise<CompactionResult> => {
    const result = await step(name, kind, run);
    progress.results.push(result);
    return result;
  };

  await step("create", "create", async () => {
    tree = await Tree.open({ path: PATH, fs, seqno, ...TREE_OPTIONS });
  });
  const t = tree as unknown as Tree;

  put("A", range("k", 0, 60));
  endPhase();
  await step("flush A", "flush", () => t.flushActiveMemtable(0));

  put("B", range("k", 0, 30));
  del(range("k", 50, 55));
  put("B", range("m", 0, 80));
  endPhase();
  await step("flush B", "flush", () => t.flushActiveMemtable(0));

  put("C", range("k", 10, 20));
  del(range("m", 0, 5));
  put("C", range("n", 0, 20));
  endPhase();
  await step("flush C", "flush", () => t.flushActiveMemtable(0));

  await compact("majorCompact", () => t.majorCompact(TABLE_TARGET, 0));

  put("D", ["k005"]);
  del(["k006", "n000"]);
  put("D", range("z", 0, 30));
  endPhase();
  await step("flush D", "flush", () => t.flushActiveMemtable(0));

  put("E", range("z", 10, 40));
  del(["k007"]);
  endPhase();
  await step("flush E", "flush", () => t.flushActiveMemtable(0));

  // Two overlapping L0 runs below the threshold: Leveled merges them within L0, then moves the result.
  const leveled = new Leveled({ l0Threshold: 4, tableTargetSize: TABLE_TARGET });
  for (let i = 0; i < 6; i++) {
    const result = await compact(`leveled #${i}`, () => t.compact(leveled, 0));
    if (result.action === "nothing") break;
  }

  await compact("dropRange m", () => t.dropRange({ gte: "m", lt: "n" }), "drop");
  await step("clear", "clear", async () => {
    await t.clear();
    progress.model.clear();
  });

  put("F", range("p", 0, 10));
  endPhase();
  await step("flush F", "flush", () => t.flushActiveMemtable(0));
  await t.close();
}

/** The durable state after each step of an uncut run, and facts about that run. */
interface Reference {
  readonly progress: Progress;
  readonly syncCount: number;
  /** Views (see viewAt) of a tree reopened on the durable image after each step. */
  readonly views: string[][][];
  readonly allKeys: string[];
}

async function openOn(fs: CrashFs, seqno = new SequenceNumberCounter()): Promise<Tree> {
  return Tree.open({ path: PATH, fs, seqno, ...TREE_OPTIONS });
}

async function buildReference(): Promise<Reference> {
  const fs = new CrashFs();
  const progress = new Progress();
  const images: CrashFs[] = [];
  const liveAtStep: string[][] = [];
  const modelAtStep: string[][] = [];
  await workload(fs, progress, (p, tree) => {
    images.push(fs.crash());
    liveAtStep.push(entriesAt(tree));
    modelAtStep.push([...p.model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`));
  });
  const views: string[][][] = [];
  for (const image of images) {
    const tree = await openOn(image);
    views.push(viewAt(tree, progress.boundaries));
    await tree.close();
  }
  // The reference is only as good as these facts about it.
  progress.steps.forEach((s, i) => {
    const durable = (views[i] as string[][]).at(-1) as string[];
    const context = `reference after step ${i} (${s.name})`;
    // With no memtable data pending between a phase's flush and the next writes, live = durable = model.
    expect(liveAtStep[i], context).toEqual(durable);
    if (s.kind === "flush" || s.kind === "clear" || s.kind === "create") expect(durable, context).toEqual(modelAtStep[i]);
    if (s.kind === "compact") expect(views[i], context).toEqual(views[i - 1]);
  });
  const drop = progress.steps.findIndex((s) => s.kind === "drop");
  const beforeDrop = new Set((views[drop - 1] as string[][]).at(-1));
  const afterDrop = (views[drop] as string[][]).at(-1) as string[];
  expect(afterDrop.every((line) => beforeDrop.has(line)), "dropRange only removes").toBe(true);
  expect(afterDrop.length, "dropRange removed whole tables").toBeLessThan(beforeDrop.size);
  expect(afterDrop.some((line) => line.startsWith("m")), "tables straddling the bound stay").toBe(true);
  expect(progress.results.filter((r) => r.action === "merged").length, "majorCompact and Leveled both merged").toBeGreaterThanOrEqual(2);
  expect(progress.steps.map((s) => s.name)).toContain("leveled #1");
  const allKeys = [...progress.written.keys(), "absent", "k999"].sort();
  return { progress, syncCount: fs.syncCount, views, allKeys };
}

interface SweepStats {
  cuts: number;
  before: number;
  after: number;
  perStep: Map<string, number>;
}

/**
 * Cuts the power at sync point 0, 1, 2, ... until the workload completes; checks each image. `wrap`
 * puts a layer between the tree and the volume (to check that the sweep notices a broken engine);
 * failed checks are then collected in `problems` instead of failing at once.
 */
async function sweep(ref: Reference, options: CrashOptions, wrap?: (fs: CrashFs) => Fs, problems?: string[]): Promise<SweepStats> {
  const stats: SweepStats = { cuts: 0, before: 0, after: 0, perStep: new Map() };
  for (let n = 0; ; n++) {
    const fs = new CrashFs().cutPowerAtSync(n, options);
    const progress = new Progress();
    let failure: unknown;
    try {
      await workload(wrap === undefined ? fs : wrap(fs), progress, () => {});
    } catch (error) {
      failure = error;
    }
    if (!fs.powerWasCut) {
      expect(failure, `run ${n} completed`).toBeUndefined();
      if (wrap === undefined) expect(n, "the workload makes as many syncs as the reference").toBe(ref.syncCount);
      return stats;
    }
    // A cut the engine swallowed would mean it reported success for something not durable.
    expect(failure, `cut at sync ${n}: the interrupted call rejects with the power cut`).toBeInstanceOf(PowerCutError);
    const image = fs.powerCutImage;
    if (image === undefined) throw new Error("power was cut but no image was taken");
    const stepName = (progress.steps[progress.step] as { name: string }).name;
    stats.cuts++;
    stats.perStep.set(stepName, (stats.perStep.get(stepName) ?? 0) + 1);
    const context = `cut at sync ${n} during step ${progress.step} (${stepName}), options ${JSON.stringify(options)}`;
    if (problems === undefined) {
      stats[outcome(await checkImage(ref, image, progress.step, context))]++;
    } else {
      await checkImage(ref, image, progress.step, context).then(
        (o) => stats[outcome(o)]++,
        (error: unknown) => problems.push(`${context}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`),
      );
    }
  }
}

function outcome(o: "before" | "after"): "before" | "after" {
  return o;
}

/** A view of `fs` on which `syncDirectory` of the paths `skip` selects does nothing: an engine that forgets a sync. */
function skippingDirectorySync(fs: CrashFs, skip: (path: string) => boolean): Fs {
  return new Proxy(fs, {
    get(target, property) {
      if (property === "syncDirectory") {
        return (path: string): void => {
          if (!skip(path)) target.syncDirectory(path);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function checkImage(ref: Reference, image: CrashFs, step: number, context: string): Promise<"before" | "after"> {
  const createStep = step === 0;
  let tree: Tree;
  try {
    tree = await openOn(image);
  } catch (error) {
    // No cut may leave a directory open refuses, not even one during creation: what an interrupted
    // creation leaves (v0 without `current`) holds no data and is created again.
    throw new Error(`${context}: open failed: ${String(error)}`, { cause: error });
  }

  const view = viewAt(tree, ref.progress.boundaries);
  let outcome: "before" | "after";
  if (createStep) {
    // An interrupted creation opens as a new, empty tree, whatever it left.
    expect(view.every((entries) => entries.length === 0), `${context}: empty`).toBe(true);
    outcome = "after";
  } else {
    const before = ref.views[step - 1] as string[][];
    const after = ref.views[step] as string[][];
    const asBefore = JSON.stringify(view) === JSON.stringify(before);
    const asAfter = JSON.stringify(view) === JSON.stringify(after);
    if (!asBefore && !asAfter) {
      // Name what is wrong: lost data, or data never written.
      const written = ref.progress.written;
      const invented = (view.at(-1) as string[]).filter((line) => {
        const [k, v] = splitEntry(line);
        return written.get(k)?.has(v) !== true;
      });
      expect(invented, `${context}: values never written`).toEqual([]);
      expect(view, `${context}: the state before or after the interrupted step`).toEqual(before);
    }
    outcome = asBefore ? "before" : "after";
  }

  expectPointReadsMatch(tree, ref.allKeys, context);
  tree.verify();
  expectCleanTreeDir(image, PATH, tree, context);

  // The recovered tree is fully usable: a fresh counter was raised past every seqno on disk, so a new
  // write wins over the stored versions; it flushes, reopens and still holds everything.
  const seqno = new SequenceNumberCounter();
  await tree.close();
  tree = await openOn(image, seqno);
  const recovered = entriesAt(tree);
  const probe = recovered[0] !== undefined ? splitEntry(recovered[0])[0] : "k000";
  tree.insert(probe, "after-crash", seqno.next());
  tree.remove("k999", seqno.next());
  expect(dec(tree.get(probe, SEQNO_MAX)), `${context}: a new write after recovery wins`).toBe("after-crash");
  await tree.flushActiveMemtable(0);
  await tree.close();
  tree = await openOn(image);
  const expected = [...recovered.filter((line) => splitEntry(line)[0] !== probe), `${probe}=after-crash`].sort();
  expect(entriesAt(tree), `${context}: after a flush on the recovered tree`).toEqual(expected);
  tree.verify();
  expectCleanTreeDir(image, PATH, tree, `${context}, second reopen`);
  await tree.close();
  return outcome;
}

describe("Tree: a power cut at every sync point", () => {
  let reference: Promise<Reference> | undefined;
  const ref = (): Promise<Reference> => (reference ??= buildReference());

  it("the reference workload creates, flushes, compacts (major and leveled), drops and clears", async () => {
    const r = await ref();
    expect(r.progress.steps.map((s) => s.kind)).toEqual(expect.arrayContaining(["create", "flush", "compact", "drop", "clear"]));
    expect(r.syncCount).toBeGreaterThan(40);
  });

  it("recovers the state before or after the interrupted step, with only synced data surviving", async () => {
    const r = await ref();
    const stats = await sweep(r, {});
    expect(stats.cuts).toBe(r.syncCount);
    // Every step that syncs was cut at least once.
    for (const s of r.progress.steps) {
      if (s.name === "create" || s.kind === "flush" || s.kind === "clear" || s.name === "majorCompact") {
        expect(stats.perStep.get(s.name) ?? 0, `cuts during ${s.name}`).toBeGreaterThan(0);
      }
    }
    // Cuts during creation open as an empty tree (counted as "after"), including those that left v0
    // durable without `current`, which open used to refuse.
    expect(stats.after).toBeGreaterThan(0);
    expect(stats.before).toBeGreaterThan(0);
  });

  it("notices an engine that never syncs tables/ before publishing (the sweep is sensitive)", async () => {
    const r = await ref();
    const problems: string[] = [];
    await sweep(r, {}, (fs) => skippingDirectorySync(fs, (path) => path.endsWith("/tables")), problems);
    // Cut after a version naming new tables is durable, but before anything synced tables/: the tables are lost.
    expect(problems.some((p) => p.includes("listed by the current version are missing")), problems.join("\n")).toBe(true);
  });

  for (const seed of [1, 2, 3, 4]) {
    it(`recovers when unsynced writes and entries partly survive and the last write tears (seed ${seed})`, async () => {
      const r = await ref();
      const stats = await sweep(r, { keepUnsyncedWrites: 0.5, tearLastWrite: true, keepUnsyncedEntries: 0.5, seed });
      expect(stats.cuts).toBe(r.syncCount);
    });
  }
});
