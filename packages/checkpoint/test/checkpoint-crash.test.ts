// Power cuts during a checkpoint (CrashFs): cut at every sync point of the checkpoint, then look at the crash
// image. The source must always reopen with everything it had flushed (the memtable the checkpoint flushes is
// there whole or not at all), and a target must either be absent, be refused with INVALID_DATA (no `current`),
// or open with exactly the source's data as of the checkpoint: never a tree that opens with missing data,
// and never a `current` that names tables which did not survive.
//
// Besides the strict images (only synced state survives) each cut is also looked at with a kernel that had
// already written some directory blocks back (`keepUnsyncedEntries`), which real filesystems do at any time.
import { describe, expect, it } from "vitest";
import { MemFs, type Fs } from "@talus/fs";
import { LsmError, Tree } from "@talus/lsm-core";
import { CrashFs, PowerCutError, type CrashOptions } from "@talus/testkit";
import { createCheckpoint } from "../src/index.ts";
import { contents, diffMaps, key, openSource, type Source } from "./support.ts";

/**
 * What a crash image holds at a checkpoint target. "empty": the claimed directory and nothing else, which
 * `Tree.open` would turn into a fresh empty tree; only a kernel that writes the parent's entry back on its
 * own, before the checkpoint's first sync of the target, can leave that (see the lenient images).
 */
type TargetOutcome = "absent" | "empty" | "refused" | "complete" | `broken: ${string}`;

interface Cut {
  readonly n: number;
  readonly image: string;
  readonly source: "flushed" | "all" | `broken: ${string}`;
  readonly targets: Record<string, TargetOutcome>;
}

interface Setup {
  readonly src: Source;
  /** What the source had flushed before the checkpoint started. */
  readonly flushed: Map<string, string>;
  /** Everything written before the checkpoint started: what a complete checkpoint holds. */
  readonly all: Map<string, string>;
}

/** A tree in /data/db on `fs` with three flushed tables and (optionally) a memtable the checkpoint must flush. */
async function setup(fs: CrashFs, memtable: boolean): Promise<Setup> {
  fs.createDirAll("/data/backups");
  for (const dir of ["/", "/data", "/data/backups"]) fs.syncDirectory(dir);
  const src = await openSource({ path: "/data/db", fs });
  for (let t = 0; t < 3; t++) {
    src.fill(t * 300, (t + 1) * 300);
    await src.tree.flushActiveMemtable(0);
  }
  const flushed = src.model.at();
  if (memtable) {
    src.fill(900, 1200);
    src.write(key(3), "overwritten");
    src.remove(key(5));
  }
  return { src, flushed, all: src.model.at() };
}

async function openOutcome(fs: Fs, path: string, expected: Map<string, string>): Promise<TargetOutcome> {
  if (!fs.exists(path)) return "absent";
  if (fs.readDir(path).length === 0) return "empty";
  let tree: Tree;
  try {
    tree = await Tree.open({ path, fs });
  } catch (error) {
    if (error instanceof LsmError && error.code === "INVALID_DATA") return "refused";
    return `broken: open failed with ${error instanceof LsmError ? error.code : String(error)}`;
  }
  try {
    const diff = diffMaps(contents(tree), expected, 3);
    return diff.length === 0 ? "complete" : `broken: opens with ${contents(tree).size} of ${expected.size} records (${diff.join("; ")})`;
  } finally {
    await tree.close();
  }
}

async function sourceOutcome(fs: Fs, s: Setup): Promise<Cut["source"]> {
  let tree: Tree;
  try {
    tree = await Tree.open({ path: "/data/db", fs });
  } catch (error) {
    return `broken: open failed with ${String(error)}`;
  }
  try {
    const now = contents(tree);
    if (diffMaps(now, s.flushed).length === 0) return "flushed";
    if (diffMaps(now, s.all).length === 0) return "all";
    return `broken: ${diffMaps(now, s.all, 3).join("; ")}`;
  } finally {
    await tree.close();
  }
}

interface SweepOptions {
  /** Whether the tree has unflushed writes when the checkpoint starts. */
  readonly memtable: boolean;
  /** Checkpoint targets, all started at once. */
  readonly targets: readonly string[];
  /** Images looked at per cut besides the strict one. */
  readonly lenient?: readonly CrashOptions[];
}

/**
 * Runs the checkpoint(s) once per sync point, cutting the power there, and classifies every image. Returns
 * the cuts and the number of sync points a whole run has.
 */
async function sweep(options: SweepOptions): Promise<{ cuts: Cut[]; syncPoints: number }> {
  const cuts: Cut[] = [];
  for (let n = 0; ; n++) {
    const fs = new CrashFs();
    const s = await setup(fs, options.memtable);
    const before = fs.syncCount;
    fs.cutPowerAtSync(n);
    const results = await Promise.allSettled(options.targets.map((target) => createCheckpoint(s.src.tree, target)));
    if (!fs.powerWasCut) {
      // The whole run: every checkpoint completed and opens with everything.
      for (const r of results) expect(r.status).toBe("fulfilled");
      for (const target of options.targets) expect(await openOutcome(fs, target, s.all)).toBe("complete");
      return { cuts, syncPoints: fs.syncCount - before };
    }
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(PowerCutError);
    const images: Array<[string, CrashFs]> = [["strict", fs.powerCutImage as CrashFs]];
    for (const o of options.lenient ?? []) images.push([JSON.stringify(o), fs.crash(o)]);
    for (const [label, image] of images) {
      const targets: Record<string, TargetOutcome> = {};
      for (const target of options.targets) targets[target] = await openOutcome(image, target, s.all);
      cuts.push({ n, image: label, source: await sourceOutcome(image, s), targets });
    }
  }
}

const LENIENT: readonly CrashOptions[] = [0, 1, 2, 3, 4, 5, 6, 7].map((seed) => ({ keepUnsyncedEntries: 0.5, seed }));

const badSources = (cuts: readonly Cut[]): Cut[] => cuts.filter((c) => c.source.startsWith("broken"));
/** Acceptable: absent, refused, complete; and, on lenient images only, the bare claimed directory. */
const acceptable = (outcome: TargetOutcome, image: string): boolean =>
  outcome === "absent" || outcome === "refused" || outcome === "complete" || (outcome === "empty" && image !== "strict");
const badTargets = (cuts: readonly Cut[]): string[] =>
  cuts.flatMap((c) =>
    Object.entries(c.targets)
      .filter(([, o]) => !acceptable(o, c.image))
      .map(([t, o]) => `cut ${c.n} (${c.image}) ${t}: ${o}`),
  );

describe("a power cut at every sync point of a checkpoint (tree and target on one CrashFs)", () => {
  for (const memtable of [true, false]) {
    it(`strict images${memtable ? "" : ", memtable already flushed"}: source reopens, target absent, refused or complete`, async () => {
      const { cuts, syncPoints } = await sweep({ memtable, targets: ["/data/ck"] });
      expect(syncPoints).toBeGreaterThanOrEqual(5);
      expect(cuts).toHaveLength(syncPoints);
      expect(badSources(cuts)).toEqual([]);
      expect(badTargets(cuts)).toEqual([]);
      // The flush inside the checkpoint is all-or-nothing on the source.
      if (!memtable) expect(cuts.every((c) => c.source === "flushed")).toBe(true);
      else expect(new Set(cuts.map((c) => c.source))).toEqual(new Set(["flushed", "all"]));
    });
  }

  // Catches `current` becoming durable before the links in tables/ are (tables/ must be fsynced before the
  // version and `current` are written), which leaves a checkpoint open refuses with UNRECOVERABLE.
  it("images where the kernel had written back some directory entries: a target with `current` always opens complete", async () => {
    const { cuts } = await sweep({ memtable: true, targets: ["/data/ck"], lenient: LENIENT });
    expect(badSources(cuts)).toEqual([]);
    expect(badTargets(cuts)).toEqual([]);
    const seen = new Set(cuts.map((c) => c.targets["/data/ck"]));
    expect(seen.has("refused")).toBe(true); // the half-written checkpoints the sweep produced were refused
  });

  it("two checkpoints into one backups directory at once: neither is ever left half-written but openable", async () => {
    // The first checkpoint's final sync of /data/backups makes the second's directory entry durable while the
    // second is still being written, as any other activity in the parent directory could. Catches a claimed
    // target whose tables/ entry is not yet durable (it opens as a fresh, empty tree) as well as the
    // `current`-before-tables/ ordering above.
    const { cuts } = await sweep({ memtable: true, targets: ["/data/backups/a", "/data/backups/b"] });
    expect(badSources(cuts)).toEqual([]);
    expect(badTargets(cuts)).toEqual([]);
  });
});

describe("a power cut while copying into another volume", () => {
  it("MemFs tree → CrashFs target: at every sync point of the target the target is absent, refused or complete", async () => {
    const outcomes: string[] = [];
    const bad: string[] = [];
    for (let n = 0; ; n++) {
      const src = await openSource({ path: "/db", fs: new MemFs() });
      for (let t = 0; t < 3; t++) {
        src.fill(t * 300, (t + 1) * 300);
        await src.tree.flushActiveMemtable(0);
      }
      src.fill(900, 1000);
      const all = src.model.at();
      const target = new CrashFs();
      target.createDir("/backups");
      target.syncDirectory("/");
      target.syncDirectory("/backups");
      target.cutPowerAtSync(n);
      const result = await createCheckpoint(src.tree, "/backups/ck", { fs: target }).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (!target.powerWasCut) {
        expect(result).toBeUndefined();
        expect(await openOutcome(target, "/backups/ck", all)).toBe("complete");
        break;
      }
      expect(result).toBeInstanceOf(PowerCutError);
      // The source is another volume: untouched by the cut, it still holds everything.
      expect(diffMaps(contents(src.tree), all)).toEqual([]);
      const images: Array<[string, CrashFs]> = [["strict", target.powerCutImage as CrashFs]];
      for (const o of LENIENT) images.push([JSON.stringify(o), target.crash(o)]);
      for (const [label, image] of images) {
        const outcome = await openOutcome(image, "/backups/ck", all);
        outcomes.push(outcome);
        if (!acceptable(outcome, label)) bad.push(`cut ${n} (${label}): ${outcome}`);
      }
      await src.tree.close();
    }
    expect(outcomes.length).toBeGreaterThan(0);
    expect(bad).toEqual([]);
  });
});

// A bare relative target ("ck") has the current directory as its parent, which must be fsynced too.
describe("a checkpoint that has returned is durable", () => {
  it.each(["/data/ck", "data/ck", "/data/./ck/.", "ck", "./ck"])("a power cut right after it returned keeps %j complete", async (target) => {
    const fs = new CrashFs();
    const s = await setup(fs, true);
    await createCheckpoint(s.src.tree, target);
    const image = fs.crash();
    const resolved = target.includes("data") ? "/data/ck" : "/ck";
    expect(await openOutcome(image, resolved, s.all)).toBe("complete");
  });
});
