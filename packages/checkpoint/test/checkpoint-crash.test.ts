// Crashes during a checkpoint, then a look at what is left. Two sweeps: a power cut at every sync point of the
// checkpoint (CrashFs), and the process killed at every filesystem operation of it, from the very first (the
// kernel keeps everything the process did, and nothing after the kill runs, its cleanup included). The source
// must always reopen with everything it had flushed (the memtable the checkpoint flushes is there whole or not
// at all), and a target must either be absent, be refused with INVALID_DATA (no `current`), or open with
// exactly the source's data as of the checkpoint: never a tree that opens with missing data or as a fresh
// empty tree, and never a `current` that names tables which did not survive.
//
// Besides the strict images (only synced state survives) each cut is also looked at with a kernel that had
// already written some directory blocks back (`keepUnsyncedEntries`), which real filesystems do at any time.
//
// Every sweep runs over both kinds of tree: a standard one, and a blob tree (BLOB_SEPARATION: about half of
// the values live in blob files, one per flush) whose checkpoint also links its blob files into `blobs/`. A
// complete blob-tree checkpoint must open as a BlobTree with every value readable and pass `verify()`; its
// source must reopen as a BlobTree just as a standard source reopens.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MemFs, type Fs } from "@talus/fs";
import { LsmError, type Tree } from "@talus/lsm-core";
import { CrashFs, FaultFs, PowerCutError, type CrashOptions, type FaultRule } from "@talus/testkit";
import { createCheckpoint, type CheckpointInfo } from "../src/index.ts";
import { codeOf, contents, diffMaps, key, listing, openSource, openTree, readBytes, TREE_KINDS, type Source, type TreeKind } from "./support.ts";

/**
 * What a crash image holds at a checkpoint target. "empty": a directory with nothing in it, which `Tree.open`
 * would turn into a fresh empty tree: a half-made checkpoint must never look like that.
 */
type TargetOutcome = "absent" | "empty" | "refused" | "complete" | `broken: ${string}`;

interface Cut {
  readonly n: number;
  readonly image: string;
  readonly source: "flushed" | "all" | `broken: ${string}`;
  readonly targets: Record<string, TargetOutcome>;
}

interface Setup {
  readonly kind: TreeKind;
  readonly src: Source;
  /** What the source had flushed before the checkpoint started. */
  readonly flushed: Map<string, string>;
  /** Everything written before the checkpoint started: what a complete checkpoint holds. */
  readonly all: Map<string, string>;
}

/**
 * A tree of `kind` in /data/db on `disk` with three flushed tables (a blob tree: and three blob files) and
 * (optionally) a memtable the checkpoint must flush. `treeFs`: what the tree (and the checkpoint) reach the
 * disk through, default the disk itself.
 */
async function setup(kind: TreeKind, disk: CrashFs, memtable: boolean, treeFs: Fs = disk): Promise<Setup> {
  disk.createDirAll("/data/backups");
  for (const dir of ["/", "/data", "/data/backups"]) disk.syncDirectory(dir);
  const src = await openSource({ path: "/data/db", fs: treeFs }, undefined, kind);
  for (let t = 0; t < 3; t++) {
    src.fill(t * 300, (t + 1) * 300);
    await src.tree.flushActiveMemtable(0);
  }
  expect(src.tree.tableCount()).toBe(3);
  expect(src.tree.blobFileCount()).toBe(kind === "blob" ? 3 : 0);
  const flushed = src.model.at();
  if (memtable) {
    src.fill(900, 1200);
    src.write(key(3), "overwritten");
    src.remove(key(5));
  }
  return { kind, src, flushed, all: src.model.at() };
}

/** `verify()` (every table and blob file checked end to end), as a problem to report, if any. */
function verifyProblem(tree: Tree): string | undefined {
  try {
    tree.verify();
    return undefined;
  } catch (error) {
    return `verify() failed: ${error instanceof LsmError ? `${error.code} ${error.message}` : String(error)}`;
  }
}

/** Opens the tree of `kind` at `path`, if it is there, and says what it holds; `expected`: a complete checkpoint's contents. */
async function openOutcome(fs: Fs, path: string, expected: Map<string, string>, kind: TreeKind): Promise<TargetOutcome> {
  if (!fs.exists(path)) return "absent";
  if (fs.readDir(path).length === 0) return "empty";
  let tree: Tree;
  try {
    tree = await openTree(kind, { path, fs });
  } catch (error) {
    if (error instanceof LsmError && error.code === "INVALID_DATA") return "refused";
    return `broken: open failed with ${error instanceof LsmError ? `${error.code} ${error.message}` : String(error)}`;
  }
  try {
    const problem = verifyProblem(tree);
    if (problem !== undefined) return `broken: ${problem}`;
    const diff = diffMaps(contents(tree), expected, 3);
    return diff.length === 0 ? "complete" : `broken: opens with ${contents(tree).size} of ${expected.size} records (${diff.join("; ")})`;
  } finally {
    await tree.close();
  }
}

async function sourceOutcome(fs: Fs, s: Setup): Promise<Cut["source"]> {
  let tree: Tree;
  try {
    tree = await openTree(s.kind, { path: "/data/db", fs });
  } catch (error) {
    return `broken: open failed with ${String(error)}`;
  }
  try {
    const problem = verifyProblem(tree);
    if (problem !== undefined) return `broken: ${problem}`;
    const now = contents(tree);
    if (diffMaps(now, s.flushed).length === 0) return "flushed";
    if (diffMaps(now, s.all).length === 0) return "all";
    return `broken: ${diffMaps(now, s.all, 3).join("; ")}`;
  } finally {
    await tree.close();
  }
}

interface SweepOptions {
  readonly kind: TreeKind;
  /** Whether the tree has unflushed writes when the checkpoint starts. */
  readonly memtable: boolean;
  /** Checkpoint targets, all started at once. */
  readonly targets: readonly string[];
  /** Images looked at per cut besides the strict one. */
  readonly lenient?: readonly CrashOptions[];
}

/**
 * Everything below `dir` in `fs` (names, kinds, and a hash of every file's bytes), or "absent": two images of
 * one cut that agree on it hold the same tree there, which opens the same way (opening reads nothing else).
 */
function fingerprint(fs: Fs, dir: string): string {
  if (!fs.exists(dir)) return "absent";
  const hash = createHash("sha1");
  const walk = (abs: string, rel: string): void => {
    for (const e of [...fs.readDir(abs)].sort((a, b) => (a.fileName < b.fileName ? -1 : 1))) {
      const r = `${rel}/${e.fileName}`;
      hash.update(`${r}${e.isDir ? "/" : ":"}\0`);
      if (e.isDir) walk(e.path, r);
      else hash.update(readBytes(fs, e.path));
    }
  };
  walk(dir, "");
  return hash.digest("hex");
}

/**
 * Looks at one cut's images: what each holds at the source and at every target. Images that hold the same
 * files at a path (the lenient ones often agree with each other or with the strict one) are opened once.
 */
async function classify(n: number, images: ReadonlyArray<readonly [string, CrashFs]>, s: Setup, targets: readonly string[]): Promise<Cut[]> {
  const cuts: Cut[] = [];
  const seen = new Map<string, string>();
  const once = async <T extends string>(fs: Fs, path: string, look: () => Promise<T>): Promise<T> => {
    const id = `${path}|${fingerprint(fs, path)}`;
    const known = seen.get(id);
    if (known !== undefined) return known as T;
    const outcome = await look();
    seen.set(id, outcome);
    return outcome;
  };
  for (const [label, image] of images) {
    const outcomes: Record<string, TargetOutcome> = {};
    for (const target of targets) outcomes[target] = await once(image, target, () => openOutcome(image, target, s.all, s.kind));
    cuts.push({ n, image: label, source: await once(image, "/data/db", () => sourceOutcome(image, s)), targets: outcomes });
  }
  return cuts;
}

/**
 * Runs the checkpoint(s) once per sync point, cutting the power there, and classifies every image. Returns
 * the cuts and the number of sync points a whole run has.
 */
async function sweep(options: SweepOptions): Promise<{ cuts: Cut[]; syncPoints: number }> {
  const cuts: Cut[] = [];
  for (let n = 0; ; n++) {
    const fs = new CrashFs();
    const s = await setup(options.kind, fs, options.memtable);
    const before = fs.syncCount;
    fs.cutPowerAtSync(n);
    const results = await Promise.allSettled(options.targets.map((target) => createCheckpoint(s.src.tree, target)));
    if (!fs.powerWasCut) {
      // The whole run: every checkpoint completed and opens with everything.
      for (const r of results) expect(r.status).toBe("fulfilled");
      for (const target of options.targets) expect(await openOutcome(fs, target, s.all, s.kind)).toBe("complete");
      return { cuts, syncPoints: fs.syncCount - before };
    }
    for (const r of results) if (r.status === "rejected") expect(r.reason).toBeInstanceOf(PowerCutError);
    const images: Array<[string, CrashFs]> = [["strict", fs.powerCutImage as CrashFs]];
    for (const o of options.lenient ?? []) images.push([JSON.stringify(o), fs.crash(o)]);
    cuts.push(...(await classify(n, images, s, options.targets)));
  }
}

/** What SIGKILL leaves on the disk: every change the process made, synced or not (the kernel has them all). */
const KILLED: CrashOptions = { keepUnsyncedEntries: 1, keepUnsyncedWrites: 1 };

/**
 * Runs the checkpoint(s) once per filesystem operation, from the very first one, killing the process there:
 * that operation and every later one fails without touching the disk (a FaultFs over the CrashFs), so nothing
 * the process would still do, cleanup included, reaches it. Each cut is looked at as the killed process left
 * it ("killed"), and as a power cut at that same operation would (strict, and the lenient images); the
 * state after the whole run is looked at as a power cut would leave it, too (cut `operations`).
 * `onKilled` gets every killed image, for checks beyond the classification. Returns the cuts and the number
 * of operations a whole run has.
 */
async function killSweep(
  options: SweepOptions & {
    /** A fault injected first (once), so that the kills also land in the cleanup of a failed checkpoint. */
    readonly failure?: FaultRule;
    readonly onKilled?: (image: CrashFs, cut: Cut) => Promise<void>;
  },
): Promise<{ cuts: Cut[]; operations: number }> {
  const cuts: Cut[] = [];
  for (let n = 0; ; n++) {
    const disk = new CrashFs();
    const fs = new FaultFs(disk);
    const s = await setup(options.kind, disk, options.memtable, fs);
    const before = fs.callCount;
    if (options.failure !== undefined) fs.addRule(options.failure);
    const kill = fs.addRule({ after: n, times: Infinity, error: "EIO" });
    const results = await Promise.allSettled(options.targets.map((target) => createCheckpoint(s.src.tree, target)));
    if (!fs.injected.some((f) => f.rule === kill)) {
      // The whole run: every checkpoint completed and opens with everything, or failed and left nothing.
      for (const r of results) expect(r.status).toBe(options.failure === undefined ? "fulfilled" : "rejected");
      for (const target of options.targets) {
        expect(await openOutcome(disk, target, s.all, s.kind)).toBe(options.failure === undefined ? "complete" : "absent");
      }
      // And a power cut right after it returned (or failed and cleaned up).
      const images: Array<[string, CrashFs]> = [["strict", disk.crash()]];
      for (const o of options.lenient ?? []) images.push([JSON.stringify(o), disk.crash(o)]);
      cuts.push(...(await classify(n, images, s, options.targets)));
      return { cuts, operations: fs.callCount - before };
    }
    const killed = disk.crash(KILLED);
    const images: Array<[string, CrashFs]> = [["killed", killed], ["strict", disk.crash()]];
    for (const o of options.lenient ?? []) images.push([JSON.stringify(o), disk.crash(o)]);
    const classified = await classify(n, images, s, options.targets);
    cuts.push(...classified);
    if (options.onKilled !== undefined) await options.onKilled(killed, classified[0] as Cut);
  }
}

const LENIENT: readonly CrashOptions[] = [0, 1, 2, 3, 4, 5, 6, 7].map((seed) => ({ keepUnsyncedEntries: 0.5, seed }));

const badSources = (cuts: readonly Cut[]): Cut[] => cuts.filter((c) => c.source.startsWith("broken"));
/** Acceptable: absent, refused, complete; never a bare directory that would open as a fresh tree. */
const acceptable = (outcome: TargetOutcome): boolean => outcome === "absent" || outcome === "refused" || outcome === "complete";
const badTargets = (cuts: readonly Cut[]): string[] =>
  cuts.flatMap((c) =>
    Object.entries(c.targets)
      .filter(([, o]) => !acceptable(o))
      .map(([t, o]) => `cut ${c.n} (${c.image}) ${t}: ${o}`),
  );

describe.each(TREE_KINDS)("a power cut at every sync point of a checkpoint (%s tree and target on one CrashFs)", (kind) => {
  for (const memtable of [true, false]) {
    it(`strict images${memtable ? "" : ", memtable already flushed"}: source reopens, target absent, refused or complete`, async () => {
      const { cuts, syncPoints } = await sweep({ kind, memtable, targets: ["/data/ck"] });
      expect(syncPoints).toBeGreaterThanOrEqual(kind === "blob" ? 6 : 5);
      expect(cuts).toHaveLength(syncPoints);
      expect(badSources(cuts)).toEqual([]);
      expect(badTargets(cuts)).toEqual([]);
      // The flush inside the checkpoint is all-or-nothing on the source.
      if (!memtable) expect(cuts.every((c) => c.source === "flushed")).toBe(true);
      else expect(new Set(cuts.map((c) => c.source))).toEqual(new Set(["flushed", "all"]));
    });
  }

  // Catches `current` becoming durable before the links in tables/ (and blobs/) are (both must be fsynced
  // before the version and `current` are written), which leaves a checkpoint open refuses with UNRECOVERABLE.
  it("images where the kernel had written back some directory entries: a target with `current` always opens complete", async () => {
    const { cuts } = await sweep({ kind, memtable: true, targets: ["/data/ck"], lenient: LENIENT });
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
    const { cuts } = await sweep({ kind, memtable: true, targets: ["/data/backups/a", "/data/backups/b"] });
    expect(badSources(cuts)).toEqual([]);
    expect(badTargets(cuts)).toEqual([]);
  });
});

describe.each(TREE_KINDS)("the process killed at every filesystem operation of a checkpoint, from the first (%s tree and target on one volume)", (kind) => {
  /**
   * After a kill, a retry does what the README says: into an absent target it succeeds; a target that is
   * there is refused with EEXIST and left as it was, and once it is deleted the retry succeeds. Returns
   * what went wrong, if anything.
   */
  async function retry(image: CrashFs, target: string, outcome: TargetOutcome): Promise<string | undefined> {
    const src = await openSource({ path: "/data/db", fs: image }, undefined, kind);
    try {
      const expected = contents(src.tree);
      const attempt = (): Promise<unknown> => createCheckpoint(src.tree, target).then(() => undefined, (e: unknown) => e);
      if (outcome !== "absent") {
        const before = listing(image, target);
        const error = await attempt();
        if (codeOf(error) !== "EEXIST") return `a retry into the ${outcome} target did not fail with EEXIST: ${String(error)}`;
        if (JSON.stringify(listing(image, target)) !== JSON.stringify(before)) return `a refused retry changed the ${outcome} target`;
        image.removeDirAll(target);
      }
      const error = await attempt();
      if (error !== undefined) return `the retry failed: ${String(error)}`;
      const now = await openOutcome(image, target, expected, kind);
      return now === "complete" ? undefined : `the retried checkpoint is ${now}`;
    } finally {
      await src.tree.close();
    }
  }

  for (const memtable of [true, false]) {
    it(`${memtable ? "with a memtable to flush" : "memtable already flushed"}: the target is absent, refused or complete, never a bare directory; a retry works`, async () => {
      const retries: string[] = [];
      const leftovers: string[] = [];
      const { cuts, operations } = await killSweep({
        kind,
        memtable,
        targets: ["/data/ck"],
        lenient: LENIENT,
        onKilled: async (image, cut) => {
          // Whatever else a kill leaves beside the target is hidden, never a name anyone would open as a tree.
          const names = image.readDir("/data").map((e) => e.fileName);
          for (const name of names) if (!["db", "backups", "ck"].includes(name) && !name.startsWith(".")) leftovers.push(`cut ${cut.n}: ${name}`);
          const problem = await retry(image, "/data/ck", cut.targets["/data/ck"] as TargetOutcome);
          if (problem !== undefined) retries.push(`cut ${cut.n} (${cut.targets["/data/ck"]}): ${problem}`);
        },
      });
      expect(operations).toBeGreaterThanOrEqual(kind === "blob" ? 20 : 10);
      expect(new Set(cuts.map((c) => c.n)).size).toBe(operations + 1); // a cut before each operation, one after the last
      expect(badSources(cuts)).toEqual([]);
      expect(badTargets(cuts)).toEqual([]);
      expect(retries).toEqual([]);
      expect(leftovers).toEqual([]);
      // Kills before the claim leave no target, kills from the claim on a refused one (INVALID_DATA), kills
      // after `current` is in place a whole one: in that order, nothing else, nothing in between.
      const killed = cuts.filter((c) => c.image === "killed").map((c) => c.targets["/data/ck"]);
      expect(killed.filter((o, i) => o !== killed[i - 1])).toEqual(["absent", "refused", "complete"]);
    });
  }

  // A failed checkpoint takes its partial target away: killed (or the power cut) anywhere in that cleanup,
  // the target is still refused or already gone, never emptied in place. In a blob tree the failure is the
  // link of its second blob file, after every table is linked, so the cleanup removes tables/ and blobs/.
  const failure: FaultRule =
    kind === "blob" ? { ops: "hardLink", path: "**/blobs/*", after: 1, error: "EIO" } : { ops: "hardLink", after: 2, error: "EIO" };
  it(`a checkpoint that fails (${kind === "blob" ? "a blob file's" : "a"} hard link, EIO) and cleans up: killed at every operation, cleanup included`, async () => {
    const { cuts, operations } = await killSweep({ kind, memtable: true, targets: ["/data/ck"], lenient: LENIENT, failure });
    expect(operations).toBeGreaterThanOrEqual(10);
    expect(badSources(cuts)).toEqual([]);
    expect(badTargets(cuts)).toEqual([]);
    const killed = new Set(cuts.filter((c) => c.image === "killed").map((c) => c.targets["/data/ck"]));
    expect(killed).toEqual(new Set(["absent", "refused"]));
  });

  it("two checkpoints into one backups directory at once", async () => {
    const { cuts } = await killSweep({ kind, memtable: true, targets: ["/data/backups/a", "/data/backups/b"], lenient: LENIENT });
    expect(badSources(cuts)).toEqual([]);
    expect(badTargets(cuts)).toEqual([]);
  });
});

describe.each(TREE_KINDS)("a power cut while copying into another volume (%s tree)", (kind) => {
  it("MemFs tree → CrashFs target: at every sync point of the target the target is absent, refused or complete", async () => {
    const outcomes: string[] = [];
    const bad: string[] = [];
    for (let n = 0; ; n++) {
      const src = await openSource({ path: "/db", fs: new MemFs() }, undefined, kind);
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
      const result: unknown = await createCheckpoint(src.tree, "/backups/ck", { fs: target }).then(
        (info) => info,
        (error: unknown) => error,
      );
      if (!target.powerWasCut) {
        const info = result as CheckpointInfo;
        expect(info.blobFiles).toBe(kind === "blob" ? 4 : 0);
        expect(await openOutcome(target, "/backups/ck", all, kind)).toBe("complete");
        // Every copy (table or blob file) is a sync point of its own, and so are the hidden directory, the
        // target and its parent, all swept.
        expect(n).toBeGreaterThanOrEqual(info.sstFiles + info.blobFiles + 3);
        break;
      }
      expect(result).toBeInstanceOf(PowerCutError);
      // The source is another volume: untouched by the cut, it still holds everything.
      expect(diffMaps(contents(src.tree), all)).toEqual([]);
      const images: Array<[string, CrashFs]> = [["strict", target.powerCutImage as CrashFs]];
      for (const o of LENIENT) images.push([JSON.stringify(o), target.crash(o)]);
      for (const [label, image] of images) {
        const outcome = await openOutcome(image, "/backups/ck", all, kind);
        outcomes.push(outcome);
        if (!acceptable(outcome)) bad.push(`cut ${n} (${label}): ${outcome}`);
      }
      await src.tree.close();
    }
    expect(outcomes.length).toBeGreaterThan(0);
    expect(bad).toEqual([]);
  });
});

// A bare relative target ("ck") has the current directory as its parent, which must be fsynced too.
describe.each(TREE_KINDS)("a checkpoint of a %s tree that has returned is durable", (kind) => {
  it.each(["/data/ck", "data/ck", "/data/./ck/.", "ck", "./ck"])("a power cut right after it returned keeps %j complete", async (target) => {
    const fs = new CrashFs();
    const s = await setup(kind, fs, true);
    await createCheckpoint(s.src.tree, target);
    const image = fs.crash();
    const resolved = target.includes("data") ? "/data/ck" : "/ck";
    expect(await openOutcome(image, resolved, s.all, kind)).toBe("complete");
  });
});
