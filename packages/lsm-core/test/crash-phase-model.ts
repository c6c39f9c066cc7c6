// A small model for power-cut sweeps (the pattern of tree-crash.test.ts) whose steps may have more than
// two legal outcomes: the writes of a workload are grouped in *phases* (all seqnos of a phase lie below
// its boundary and at or above the previous one), and the durable state of the tree is the set of
// phases on disk plus the set of phases a compaction filter has rewritten. A step lists the durable
// states a cut during it may leave (before, after, and for ingestion the flush in between); after each
// cut the reopened tree must show exactly one of them, at every phase boundary and at SEQNO_MAX.
import { expect } from "vitest";
import type { Fs } from "@talus/fs";
import { CrashFs, PowerCutError, type CrashOptions } from "@talus/testkit";
import { SEQNO_MAX, SequenceNumberCounter, Tree, type TreeOptions } from "../src/index.ts";
import { dec, entriesAt, expectCleanTreeDir, expectPointReadsMatch, splitEntry } from "./tree-test-support.ts";

export const PATH = "/db";

export interface Phase {
  readonly name: string;
  /** seqno.get() at the end of the phase: a read there sees the phase and everything before. */
  boundary: number;
  /** key -> value, or undefined for a deletion; each key at most once per phase. */
  readonly ops: Map<string, string | undefined>;
}

export interface Durable {
  readonly phases: ReadonlySet<number>;
  /** Phases whose values a compaction filter has rewritten (see `Model.filtered`). */
  readonly filtered: ReadonlySet<number>;
}

export const EMPTY: Durable = { phases: new Set(), filtered: new Set() };

export class Model {
  readonly phases: Phase[] = [];
  readonly steps: Array<{ name: string; outcomes: Durable[] }> = [];
  step = -1;
  durable: Durable = EMPTY;
  /** For a filtered phase: the value a compaction filter leaves of `value` (undefined: deleted). */
  readonly filtered: (value: string) => string | undefined;
  constructor(filtered: (value: string) => string | undefined = (v) => v) {
    this.filtered = filtered;
  }

  begin(name: string): Phase {
    const phase: Phase = { name, boundary: -1, ops: new Map() };
    this.phases.push(phase);
    return phase;
  }

  /** Starts a step whose cut may leave any of `outcomes`; the last one is the state once it completes. */
  startStep(name: string, outcomes: Durable[]): void {
    this.step = this.steps.length;
    this.steps.push({ name, outcomes });
  }

  finishStep(): void {
    this.durable = (this.steps[this.step] as { outcomes: Durable[] }).outcomes.at(-1) as Durable;
  }

  get boundaries(): number[] {
    return this.phases.filter((p) => p.boundary >= 0).map((p) => p.boundary);
  }

  allKeys(): string[] {
    const keys = new Set<string>(["absent", "zzz-absent"]);
    for (const p of this.phases) for (const k of p.ops.keys()) keys.add(k);
    return [...keys].sort();
  }

  /** `key=value` lines a tree in durable state `d` shows at read seqno `r`. */
  entries(d: Durable, r: number): string[] {
    const out = new Map<string, string | undefined>();
    this.phases.forEach((phase, i) => {
      if (!d.phases.has(i) || phase.boundary < 0 || phase.boundary > r) return;
      for (const [k, v] of phase.ops) out.set(k, v === undefined || !d.filtered.has(i) ? v : this.filtered(v));
    });
    return [...out]
      .filter((e): e is [string, string] => e[1] !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`);
  }

  view(d: Durable, boundaries: readonly number[]): string[][] {
    return [...boundaries, SEQNO_MAX].map((r) => this.entries(d, r));
  }
}

export const withPhases = (d: Durable, ...phases: number[]): Durable => ({ phases: new Set([...d.phases, ...phases]), filtered: d.filtered });
export const allFiltered = (d: Durable): Durable => ({ phases: d.phases, filtered: new Set(d.phases) });

export type Workload = (fs: Fs, model: Model) => Promise<void>;

export interface SweepStats {
  cuts: number;
  /** Per step name: how many cuts fell in it, and which outcome (index) each cut left. */
  perStep: Map<string, number[]>;
}

function viewAtTree(tree: Tree, boundaries: readonly number[]): string[][] {
  return [...boundaries, SEQNO_MAX].map((s) => entriesAt(tree, s));
}

/**
 * Runs `workload` once uncut (the reference: its boundaries and phases), then cuts the power at sync
 * point 0, 1, 2, ... until a run completes, checking every image.
 */
export async function sweep(
  workload: Workload,
  newModel: () => Model,
  openOn: (fs: Fs, seqno?: SequenceNumberCounter) => Promise<Tree>,
  options: CrashOptions,
): Promise<{ stats: SweepStats; reference: Model; syncCount: number }> {
  const referenceFs = new CrashFs();
  const reference = newModel();
  await workload(referenceFs, reference);
  const stats: SweepStats = { cuts: 0, perStep: new Map() };
  for (let n = 0; ; n++) {
    const fs = new CrashFs().cutPowerAtSync(n, options);
    const model = newModel();
    let failure: unknown;
    try {
      await workload(fs, model);
    } catch (error) {
      failure = error;
    }
    if (!fs.powerWasCut) {
      expect(failure, `run ${n} completed`).toBeUndefined();
      expect(n, "as many syncs as the reference").toBe(referenceFs.syncCount);
      return { stats, reference, syncCount: referenceFs.syncCount };
    }
    expect(failure, `cut at sync ${n}: the interrupted call rejects with the power cut`).toBeInstanceOf(PowerCutError);
    const image = fs.powerCutImage as CrashFs;
    const step = reference.steps[model.step] as { name: string; outcomes: Durable[] };
    expect(step.name, `cut at sync ${n}: same step as the reference`).toBe(model.steps[model.step]?.name);
    const context = `cut at sync ${n} during step ${model.step} (${step.name}), options ${JSON.stringify(options)}`;
    stats.cuts++;
    const outcome = await checkImage(reference, image, model.step, openOn, context);
    const list = stats.perStep.get(step.name) ?? [];
    list.push(outcome);
    stats.perStep.set(step.name, list);
  }
}

/** Returns the index of the outcome the image shows. */
async function checkImage(
  reference: Model,
  image: CrashFs,
  step: number,
  openOn: (fs: Fs, seqno?: SequenceNumberCounter) => Promise<Tree>,
  context: string,
): Promise<number> {
  const { outcomes } = reference.steps[step] as { outcomes: Durable[] };
  let tree: Tree;
  try {
    tree = await openOn(image);
  } catch (error) {
    // No cut may leave a directory open refuses: not even an interrupted creation (v0 without
    // `current`), which holds no data and is created again.
    throw new Error(`${context}: open failed: ${String(error)}`, { cause: error });
  }
  const boundaries = reference.boundaries;
  const view = viewAtTree(tree, boundaries);
  const candidates = outcomes.map((d) => reference.view(d, boundaries));
  const index = candidates.findIndex((c) => JSON.stringify(c) === JSON.stringify(view));
  if (index < 0) {
    // Name what is wrong: compare with the closest legal outcome (the first).
    const written = new Set<string>();
    for (const p of reference.phases) for (const [k, v] of p.ops) if (v !== undefined) written.add(`${k}=${v}`);
    const filteredValues = new Set<string>();
    for (const p of reference.phases) for (const [k, v] of p.ops) if (v !== undefined) filteredValues.add(`${k}=${reference.filtered(v)}`);
    const invented = (view.at(-1) as string[]).filter((line) => !written.has(line) && !filteredValues.has(line));
    expect(invented, `${context}: values never written`).toEqual([]);
    expect(view, `${context}: the view must equal one of ${outcomes.length} legal outcomes (shown: the last)`).toEqual(candidates.at(-1));
  }
  expectPointReadsMatch(tree, reference.allKeys(), context);
  tree.verify();
  // No orphan tables, temp files or stale versions after the reopen.
  expectCleanTreeDir(image, PATH, tree, context);

  // The recovered tree is usable and its counter is past every seqno on disk (ingested global seqnos
  // included): a new write to the newest key wins, survives a flush and a reopen.
  const recovered = entriesAt(tree);
  await tree.close();
  const seqno = new SequenceNumberCounter();
  tree = await openOn(image, seqno);
  const probe = recovered.length > 0 ? splitEntry(recovered[recovered.length >> 1] as string)[0] : "probe";
  tree.insert(probe, "after-crash", seqno.next());
  expect(dec(tree.get(probe, SEQNO_MAX)), `${context}: a new write after recovery wins`).toBe("after-crash");
  await tree.flushActiveMemtable(0);
  await tree.close();
  tree = await openOn(image);
  const expected = [...recovered.filter((line) => splitEntry(line)[0] !== probe), `${probe}=after-crash`].sort();
  expect(entriesAt(tree), `${context}: after a flush on the recovered tree`).toEqual(expected);
  expectCleanTreeDir(image, PATH, tree, `${context}, second reopen`);
  await tree.close();
  return index;
}

export function treeOpener(options: Omit<TreeOptions, "path" | "fs" | "seqno">): (fs: Fs, seqno?: SequenceNumberCounter) => Promise<Tree> {
  return (fs, seqno = new SequenceNumberCounter()) => Tree.open({ path: PATH, fs, seqno, ...options });
}
