// Power cuts (CrashFs) at every sync point of the jobs of a blob tree that write blob files: a flush of
// large values, a major compaction that first makes blob files stale and then relocates their live
// values, an incremental (Leveled) merge that relocates a stale file, and an ingestion of large values
// whose finish() first flushes the memtable. After each cut the tree is reopened on what a rebooted
// machine would find, and must:
// - open;
// - show exactly one legal durable state (before the job, after it, or a documented state in between),
//   at every phase boundary and at SEQNO_MAX, with the blob files that state lists: never a mix, never
//   bytes that were not written;
// - answer get / multiGet / sizeOf / containsKey / len / reverse scans consistently with the scan;
// - list only readable blob files (verify()), and hold no orphan in blobs/ or tables/;
// - go on working: a new large write wins, a major compaction leaves no stale blob file, a reopen
//   finds everything.
import { describe, expect, it } from "vitest";
import { ForwardingFs, type Fs, type FsFile, type FsOpenOptions } from "@talus/fs";
import { CrashFs, PowerCutError, type CrashOptions } from "@talus/testkit";
import { Leveled, SEQNO_MAX, SequenceNumberCounter, type CompactionStrategy, type Ingestion, type Tree } from "@talus/lsm-core";
import type { KvSeparationOptions } from "../src/index.ts";
import { dec, entriesAt, expectCleanBlobTreeDir, expectReadsAgree, openBlobTree, ScriptedBlobTree, splitEntry, staleBlobFileIds, versionBlobIds, viewAt } from "./blob-tree-support.ts";

// Small blob files and tables, so that each job writes several of each (more sync points).
const KV: KvSeparationOptions = { separationThreshold: 64, fileTargetSize: 1500 };
const EXTRA = { blockSize: 256, flushTableSize: 1500 } as const;
const TARGET = 1500;
/** The default stalenessThreshold. */
const STALENESS = 0.25;

const keyOf = (prefix: string, i: number): string => `${prefix}${String(i).padStart(3, "0")}`;
const keyRange = (prefix: string, from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => keyOf(prefix, from + i));
/** Large (separated) unless `small`; the phase and key are in the bytes, so a value read from the wrong place shows. */
const value = (phase: string, key: string, small = false): string => (small ? `${phase}:${key}` : `${phase}:${key}:`.padEnd(90 + (key.charCodeAt(key.length - 1) % 7) * 11, phase.toLowerCase()));

/** A tree being driven through a scenario, with what it should hold. */
class Ctx extends ScriptedBlobTree {
  constructor(fs: Fs) {
    super(fs, { kv: KV, extra: EXTRA, value, missingKeys: ["absent", "zzz"] });
  }
}

interface Scenario {
  readonly name: string;
  /** Builds the state before the job on `fs`; deterministic (same calls, same files, every run). */
  prepare(fs: Fs): Promise<Ctx>;
  /** The job the power is cut in. */
  job(ctx: Ctx): Promise<void>;
  /** Reaches the legal state between "before" and "after", when the job has one (a job of two version changes). */
  midway?(ctx: Ctx): Promise<void>;
  /** Facts the uncut reference run must show (that the job does what the scenario is about). */
  checkReference(pre: State, post: State, mid: State | undefined): void;
  /** Fewest syncs the job makes (default 6). */
  readonly minSyncs?: number;
}

/** A durable state: the view at every boundary (SEQNO_MAX last) and the blob files listed. */
interface State {
  readonly view: string[][];
  readonly blobIds: number[];
  /** Garbage bytes (the engine's count) and the stale files (at the default threshold, counted here). */
  readonly stale: number;
  readonly staleFiles: number[];
}

async function stateOf(image: CrashFs, boundaries: readonly number[]): Promise<State> {
  const tree = await openBlobTree(image, new SequenceNumberCounter(), KV, EXTRA);
  try {
    return { view: viewAt(tree, boundaries), blobIds: versionBlobIds(tree), stale: tree.staleBlobBytes(), staleFiles: staleBlobFileIds(tree, STALENESS) };
  } finally {
    await tree.close();
  }
}

const sameState = (a: State, b: State): boolean => JSON.stringify(a.view) === JSON.stringify(b.view) && JSON.stringify(a.blobIds) === JSON.stringify(b.blobIds);

interface Reference {
  readonly states: State[];
  readonly boundaries: number[];
  readonly keys: string[];
  readonly jobSyncs: number;
  readonly written: Set<string>;
}

async function reference(scenario: Scenario): Promise<Reference> {
  const fs = new CrashFs();
  const ctx = await scenario.prepare(fs);
  const preImage = fs.crash();
  const written = new Set(ctx.modelLines());
  const syncsBefore = fs.syncCount;
  await scenario.job(ctx);
  const jobSyncs = fs.syncCount - syncsBefore;
  const postImage = fs.crash();
  for (const line of ctx.modelLines()) written.add(line);
  let midImage: CrashFs | undefined;
  if (scenario.midway !== undefined) {
    const other = new CrashFs();
    const c = await scenario.prepare(other);
    await scenario.midway(c);
    midImage = other.crash();
    await c.tree.close();
  }
  // Every contents line the job or the setup ever wrote (for naming invented values).
  const boundaries = [...ctx.boundaries];
  await ctx.tree.close();
  const pre = await stateOf(preImage, boundaries);
  const post = await stateOf(postImage, boundaries);
  const mid = midImage === undefined ? undefined : await stateOf(midImage, boundaries);
  // Once the job is done everything is flushed: the durable state is the model.
  expect(post.view.at(-1), `${scenario.name}: reference after the job`).toEqual(ctx.modelLines());
  scenario.checkReference(pre, post, mid);
  const states = mid === undefined ? [pre, post] : [pre, mid, post];
  return { states, boundaries, keys: [...ctx.keys].sort(), jobSyncs, written };
}

/**
 * Cuts the power at each sync point of the job in turn; returns how many cuts left each state. `wrap`
 * puts a layer between the tree and the volume (a broken engine, to check that the sweep notices);
 * failed checks are then collected in `problems` instead of failing at once.
 */
async function sweep(scenario: Scenario, ref: Reference, options: CrashOptions, wrap?: (fs: CrashFs) => Fs, problems?: string[]): Promise<number[]> {
  const outcomes = ref.states.map(() => 0);
  for (let n = 0; ; n++) {
    const fs = new CrashFs();
    const ctx = await scenario.prepare(wrap === undefined ? fs : wrap(fs));
    fs.cutPowerAtSync(n, options);
    let failure: unknown;
    try {
      await scenario.job(ctx);
    } catch (error) {
      failure = error;
    }
    if (!fs.powerWasCut) {
      expect(failure, `${scenario.name}: uncut run ${n}`).toBeUndefined();
      if (wrap === undefined) expect(n, `${scenario.name}: the job makes as many syncs as the reference`).toBe(ref.jobSyncs);
      await ctx.tree.close();
      return outcomes;
    }
    const context = `${scenario.name}: cut at sync ${n} of ${ref.jobSyncs}, options ${JSON.stringify(options)}`;
    // The engine must not swallow the cut (that would report success for something not durable).
    expect(failure, `${context}: the job rejects with the power cut`).toBeInstanceOf(PowerCutError);
    const image = fs.powerCutImage as CrashFs;
    if (problems === undefined) {
      const i = await checkImage(ref, image, context);
      outcomes[i] = (outcomes[i] as number) + 1;
    } else {
      await checkImage(ref, image, context).then(
        (i) => (outcomes[i] = (outcomes[i] as number) + 1),
        (error: unknown) => problems.push(`${context}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`),
      );
    }
  }
}

/** A view of `fs` on which syncs of blob files, or of the blobs directory, do nothing: an engine that forgets them. */
function skippingBlobSyncs(fs: CrashFs, what: "files" | "directory"): Fs {
  return new (class extends ForwardingFs {
    override open(path: string, options: FsOpenOptions): FsFile {
      const file = super.open(path, options);
      if (what === "files" && path.includes("/blobs/")) {
        file.sync = () => {};
        file.syncData = () => {};
      }
      return file;
    }

    override syncDirectory(path: string): void {
      if (!(what === "directory" && path.endsWith("/blobs"))) super.syncDirectory(path);
    }
  })(fs);
}

async function checkImage(ref: Reference, image: CrashFs, context: string): Promise<number> {
  let tree = await openBlobTree(image, new SequenceNumberCounter(), KV, EXTRA);
  const state: State = { view: viewAt(tree, ref.boundaries), blobIds: versionBlobIds(tree), stale: tree.staleBlobBytes(), staleFiles: staleBlobFileIds(tree, STALENESS) };
  const index = ref.states.findIndex((s) => sameState(s, state));
  if (index < 0) {
    const invented = (state.view.at(-1) as string[]).filter((line) => !ref.written.has(line));
    expect(invented, `${context}: values never written`).toEqual([]);
    const byView = ref.states.findIndex((s) => JSON.stringify(s.view) === JSON.stringify(state.view));
    expect(state.view, `${context}: contents must be one of ${ref.states.length} legal states (shown: the last)`).toEqual(byView >= 0 ? state.view : ref.states.at(-1)?.view);
    expect(state.blobIds, `${context}: blob files of the state with these contents`).toEqual(ref.states[byView]?.blobIds);
  }
  expect(state.stale, `${context}: garbage of the state`).toBe(ref.states[index]?.stale);
  expectReadsAgree(tree, ref.keys, SEQNO_MAX, context);
  // Every listed blob file is whole and readable; nothing else is in blobs/ or tables/.
  tree.verify();
  expectCleanBlobTreeDir(image, tree, context);

  // The recovered tree goes on: a fresh counter is past every seqno on disk, so a new large write wins;
  // a major compaction leaves no stale blob file; a reopen finds it all.
  const recovered = entriesAt(tree);
  await tree.close();
  const seqno = new SequenceNumberCounter();
  tree = await openBlobTree(image, seqno, KV, EXTRA);
  const probe = recovered.length > 0 ? splitEntry(recovered[recovered.length >> 1] as string)[0] : "probe";
  const probeValue = value("after-crash", probe);
  tree.insert(probe, probeValue, seqno.next());
  expect(dec(tree.get(probe, SEQNO_MAX)), `${context}: a new write after recovery wins`).toBe(probeValue);
  await tree.flushActiveMemtable(0);
  await tree.majorCompact(TARGET, seqno.get());
  expect(staleBlobFileIds(tree, STALENESS), `${context}: no stale blob file after a major compaction`).toEqual([]);
  await tree.close();
  tree = await openBlobTree(image, new SequenceNumberCounter(), KV, EXTRA);
  const expected = [...recovered.filter((line) => splitEntry(line)[0] !== probe), `${probe}=${probeValue}`].sort();
  expect(entriesAt(tree), `${context}: after a flush and a compaction on the recovered tree`).toEqual(expected);
  tree.verify();
  expectCleanBlobTreeDir(image, tree, `${context}, second reopen`);
  await tree.close();
  return index;
}

/** Every table merged into the last level, without the second (relocating) pass of majorCompact. */
function allToLastLevel(targetSize: number): CompactionStrategy {
  return {
    name: "AllToLastLevel",
    choose(version) {
      const ids = [...version.tables()].map((t) => t.id).sort((a, b) => a - b);
      return ids.length === 0 ? { kind: "nothing" } : { kind: "merge", tableIds: ids, destLevel: 6, targetSize, canonicalLevel: 6 };
    },
  };
}

/** The ingestion of the ingestion scenario, written but not finished. */
function ingest(c: Ctx): Ingestion {
  c.endPhase();
  const ingestion = c.tree.ingestion();
  for (const key of [...keyRange("k", 25, 35), ...keyRange("q", 0, 20)].sort()) {
    if (key === "k027" || key === "k028") {
      ingestion.writeTombstone(key);
      c.model.delete(key);
    } else {
      const v = value("I", key, key.endsWith("9"));
      ingestion.write(key, v);
      c.model.set(key, v);
    }
    c.keys.add(key);
  }
  return ingestion;
}

const newIds = (from: State, to: State): number[] => to.blobIds.filter((id) => !from.blobIds.includes(id));

const SCENARIOS: readonly Scenario[] = [
  {
    name: "flush of large values",
    async prepare(fs) {
      const c = new Ctx(fs);
      await c.open();
      c.put("A", keyRange("k", 0, 30), (key) => key.endsWith("3"));
      c.endPhase();
      await c.tree.flushActiveMemtable(0);
      c.put("B", keyRange("k", 10, 40), (key) => key.endsWith("5"));
      c.del(["k002", "k004"]);
      c.put("B", keyRange("m", 0, 20));
      c.endPhase();
      return c;
    },
    job: (c) => c.tree.flushActiveMemtable(0).then(() => undefined),
    checkReference(pre, post) {
      // The flush writes several blob files, and the state before it does not have them.
      expect(newIds(pre, post).length).toBeGreaterThanOrEqual(3);
      expect(pre.blobIds.every((id) => post.blobIds.includes(id))).toBe(true);
    },
  },
  {
    name: "majorCompact that makes blob files stale and relocates them",
    async prepare(fs) {
      const c = new Ctx(fs);
      await c.open();
      c.put("A", keyRange("k", 0, 48));
      c.endPhase();
      await c.tree.flushActiveMemtable(0);
      // Overwrite three of every four large values: once the old versions are dropped, the first
      // flush's files are 75% garbage (stale), each still holding live values.
      c.put("B", keyRange("k", 0, 48).filter((_, i) => i % 4 !== 0), (key) => key.endsWith("7"));
      c.del(["k005"]);
      c.endPhase();
      await c.tree.flushActiveMemtable(0);
      return c;
    },
    job: (c) => c.tree.majorCompact(TARGET, c.seqno.get()).then(() => undefined),
    // The first pass alone: old versions dropped, the files stale, nothing relocated yet.
    midway: (c) => c.tree.compact(allToLastLevel(TARGET), c.seqno.get()).then(() => undefined),
    checkReference(pre, post, mid) {
      if (mid === undefined) throw new Error("no midway state");
      expect(pre.stale).toBe(0);
      expect(mid.staleFiles.length).toBeGreaterThanOrEqual(2);
      expect(post.staleFiles).toEqual([]);
      expect(post.stale).toBeLessThan(mid.stale);
      expect(mid.view).toEqual(post.view);
      expect(mid.view).not.toEqual(pre.view);
      // Relocation wrote new files; the stale ones left the version.
      expect(newIds(mid, post).length).toBeGreaterThanOrEqual(1);
      expect(mid.blobIds.filter((id) => !post.blobIds.includes(id)).length).toBeGreaterThanOrEqual(2);
      expect(newIds(pre, mid)).toEqual([]);
    },
  },
  {
    name: "Leveled merge relocating a stale blob file",
    async prepare(fs) {
      const c = new Ctx(fs);
      // Staleness 1 (never stale) while the garbage is made, then reopened with the default 0.25.
      await c.open({ ...KV, stalenessThreshold: 1 });
      c.put("A", keyRange("k", 0, 40));
      c.endPhase();
      await c.tree.flushActiveMemtable(0);
      c.put("B", keyRange("k", 0, 40).filter((_, i) => i % 3 !== 0), () => true);
      c.endPhase();
      await c.tree.flushActiveMemtable(0);
      await c.tree.majorCompact(TARGET, c.seqno.get());
      await c.tree.close();
      await c.open();
      c.put("C", ["k017", "k018"]);
      c.endPhase();
      await c.tree.flushActiveMemtable(0);
      return c;
    },
    job: (c) =>
      c.tree.compact(new Leveled({ l0Threshold: 1, tableTargetSize: TARGET }), c.seqno.get()).then((r) => {
        expect(r.action).toBe("merged");
      }),
    checkReference(pre, post) {
      expect(pre.staleFiles.length).toBeGreaterThanOrEqual(1);
      // The oldest quarter (rounded up) of the stale candidates moved out: fewer stale bytes, new files.
      expect(post.stale).toBeLessThan(pre.stale);
      expect(newIds(pre, post).length).toBeGreaterThanOrEqual(1);
      expect(pre.staleFiles.some((id) => !post.blobIds.includes(id))).toBe(true);
      // The merge ran at the current watermark: old versions of the rewritten keys go, the newest stay.
      expect(post.view.at(-1)).toEqual(pre.view.at(-1));
    },
  },
  {
    name: "ingestion of large values (finish flushes the memtable first)",
    async prepare(fs) {
      const c = new Ctx(fs);
      await c.open();
      c.put("A", keyRange("k", 0, 30));
      c.endPhase();
      await c.tree.flushActiveMemtable(0);
      // Left in the memtable: finish() flushes it (its own version change) before publishing.
      c.put("B", keyRange("k", 20, 30));
      c.put("B", keyRange("p", 0, 12), (key) => key.endsWith("1"));
      return c;
    },
    async job(c) {
      const ingestion = ingest(c);
      await ingestion.finish();
      c.endPhase();
    },
    async midway(c) {
      // What finish() does first: flush the memtable. The ingestion's blob files were started by its
      // writes (taking their ids first), as in the job.
      const ingestion = ingest(c);
      await c.tree.flushActiveMemtable(0);
      await ingestion.abort();
    },
    checkReference(pre, post, mid) {
      if (mid === undefined) throw new Error("no midway state");
      expect(newIds(pre, mid).length).toBeGreaterThanOrEqual(1);
      expect(newIds(mid, post).length).toBeGreaterThanOrEqual(2);
      expect(mid.view.at(-1)).not.toEqual(pre.view.at(-1));
      expect(post.view.at(-1)).not.toEqual(mid.view.at(-1));
    },
  },
  ...(["dropRange", "clear"] as const).map(
    (kind): Scenario => ({
      name: `${kind} of tables whose blob files then leave the version`,
      minSyncs: 2,
      async prepare(fs) {
        const c = new Ctx(fs);
        await c.open();
        for (const prefix of ["a", "b", "c"]) {
          c.put(prefix.toUpperCase(), keyRange(prefix, 0, 15), (key) => key.endsWith("2"));
          c.endPhase();
          await c.tree.flushActiveMemtable(0);
        }
        return c;
      },
      async job(c) {
        if (kind === "clear") {
          await c.tree.clear();
          c.model.clear();
        } else {
          await c.tree.dropRange({ gte: "b", lt: "c" });
          for (const key of keyRange("b", 0, 15)) c.model.delete(key);
        }
      },
      checkReference(pre, post) {
        // The dropped tables' blob files are gone from the version (and, after the reopen, from blobs/).
        expect(newIds(pre, post)).toEqual([]);
        expect(post.blobIds.length).toBeLessThan(pre.blobIds.length);
        if (kind === "clear") expect(post.blobIds).toEqual([]);
      },
    }),
  ),
];

const OPTIONS: readonly CrashOptions[] = [{}, { keepUnsyncedWrites: 0.5, tearLastWrite: true, keepUnsyncedEntries: 0.5, seed: 1 }, { keepUnsyncedWrites: 0.7, tearLastWrite: true, keepUnsyncedEntries: 0.7, seed: 2 }];

describe("BlobTree: a power cut at every sync point of a job that writes blob files", () => {
  for (const scenario of SCENARIOS) {
    it(scenario.name, async () => {
      const ref = await reference(scenario);
      expect(ref.jobSyncs, "the job syncs several times").toBeGreaterThanOrEqual(scenario.minSyncs ?? 6);
      const totals = ref.states.map(() => 0);
      for (const options of OPTIONS) {
        const outcomes = await sweep(scenario, ref, options);
        expect(outcomes.reduce((a, b) => a + b, 0)).toBe(ref.jobSyncs);
        outcomes.forEach((n, i) => (totals[i] = (totals[i] as number) + n));
      }
      // Cuts landed before the change was durable, and after; and in between when there is a between.
      for (const [i, n] of totals.entries()) expect(n, `cuts leaving state ${i} of ${totals.length}`).toBeGreaterThan(0);
    });
  }

  it("notices an engine that does not sync its blob files, or blobs/, before publishing (the sweep is sensitive)", async () => {
    const scenario = SCENARIOS[0] as Scenario;
    const ref = await reference(scenario);
    for (const what of ["files", "directory"] as const) {
      const problems: string[] = [];
      await sweep(scenario, ref, {}, (fs) => skippingBlobSyncs(fs, what), problems);
      // A version naming blob files is durable while the files (or their names) are not: the files are
      // lost or empty, and the reopen refuses.
      expect(problems.length, `skipping ${what} syncs`).toBeGreaterThan(0);
      const symptom = what === "files" ? /corrupt blob file \/db\/blobs\/\d+: .*torn/ : /the current version lists (a blob file that is|blob files that are) missing/;
      expect(problems.every((p) => symptom.test(p)), problems.join("\n")).toBe(true);
    }
  });
});
