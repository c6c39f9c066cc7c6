// The model and workload of tree-journal-crash.test.ts: random writes of every kind into a journaled
// tree, persist() calls (awaited one by one, or many in flight at once), rotations, flushes and
// close/reopen cycles, with a record of every write in order and of how many of them a resolved
// persist, flush or close made durable; and the check of what a tree reopened after a power cut shows.
//
// Every write gets its own seqno from the tree's counter, and every value names it ("v17", "m23",
// "b31_2"), so the visible state tells which writes survived. Merge operands are concatenated with
// "+" (appendMerge), so a merged value lists the operands it is made of.
import { expect } from "vitest";
import type { Fs } from "@talus/fs";
import { type CrashFs, Random } from "@talus/testkit";
import { appendMerge, JOURNAL_DIR_NAME, SEQNO_MAX, SequenceNumberCounter, Tree, WriteBatch, type JournalOptions, type TreeOptions } from "../src/index.ts";
import { loadLatestVersion } from "../src/version/persist.ts";
import { dec, fileIds, tableFileIds, versionTableIds } from "./tree-test-support.ts";

export const PATH = "/db";
export const MERGE = appendMerge({ separator: "+" });

export interface Config {
  readonly name: string;
  readonly journal: true | JournalOptions;
  /** Automatic maintenance (rotation and flush at `memtableBytes`, compaction), or none: everything by hand. */
  readonly maintenance?: { readonly memtableBytes: number };
  /** Workload steps (a step is a write, a persist, a burst of writes with persists, a rotation, ...). */
  readonly steps: number;
  /** Chance that an insert carries a value of 20..70 KiB (the journal writes its buffer out at 64 KiB). */
  readonly bigValues: number;
  /** Small tables, so that a flush writes several (more sync points). */
  readonly flushTableSize?: number;
  /**
   * Chance of a rotateMemtable() inside a burst of writes and persists, so a new journal file starts
   * while a sync of the old one may be in flight (0: rotations only between bursts).
   */
  readonly rotateInBursts: number;
}

/** Whether a resolved persist() promises durability (sync "group"), or only hands the bytes to the OS. */
export function persistSyncs(config: Config): boolean {
  return config.journal === true || config.journal.sync !== "none";
}

export function treeOptions(fs: Fs, seqno: SequenceNumberCounter, config: Config, maintenance = true): TreeOptions {
  return {
    path: PATH,
    fs,
    seqno,
    journal: config.journal,
    mergeOperator: MERGE,
    ...(config.flushTableSize === undefined ? {} : { flushTableSize: config.flushTableSize }),
    ...(maintenance && config.maintenance !== undefined ? { maintenance: config.maintenance } : {}),
  };
}

// ---- the model ----------------------------------------------------------------------------------

export type Op =
  | { readonly t: "put"; readonly key: string; readonly value: string }
  | { readonly t: "del"; readonly key: string }
  | { readonly t: "merge"; readonly key: string; readonly operand: string }
  | { readonly t: "range"; readonly start: string; readonly end: string }
  | { readonly t: "prefix"; readonly prefix: string }
  /** All at one seqno: the ranges hide what was written below it, the points are on top of them. */
  | { readonly t: "batch"; readonly points: readonly Op[]; readonly ranges: readonly Op[] };

export interface Write {
  readonly seqno: number;
  readonly kind: string;
  readonly op: Op;
}

export function applyOp(state: Map<string, string>, op: Op): void {
  switch (op.t) {
    case "put":
      state.set(op.key, op.value);
      return;
    case "del":
      state.delete(op.key);
      return;
    case "merge": {
      const base = state.get(op.key);
      state.set(op.key, base === undefined ? op.operand : `${base}+${op.operand}`);
      return;
    }
    case "range":
      for (const key of [...state.keys()]) if (key >= op.start && key < op.end) state.delete(key);
      return;
    case "prefix":
      for (const key of [...state.keys()]) if (key.startsWith(op.prefix)) state.delete(key);
      return;
    case "batch":
      for (const range of op.ranges) applyOp(state, range);
      for (const point of op.points) applyOp(state, point);
      return;
  }
}

/** Values are compared with their padding shortened: "v12~~~~…" (40 000 of them) is "v12~40000". */
export function shorten(value: string): string {
  return value.replace(/~+/g, (pad) => `~${pad.length}`);
}

export function render(state: ReadonlyMap<string, string>): string[] {
  return [...state]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${shorten(v)}`);
}

/** What one run of a workload did, as far as it got. */
export class Run {
  /** Every write attempted, in order (a write that threw at the power cut is the last one). */
  readonly writes: Write[] = [];
  /** How many of `writes` a resolved persist (sync "group"), flush or close made durable. */
  persisted = 0;
  /** What the workload was doing last, for messages. */
  doing = "open";
  /** Rejections of calls left in flight (only power cuts are expected). */
  readonly errors: unknown[] = [];
  /** Cycles of close + reopen within the run, and how many of them were clean. */
  reopens = 0;
  /** persist() calls that resolved, and how many of them were in flight together with others. */
  persists = 0;
  concurrentPersists = 0;

  constructor(writes: readonly Write[] = [], persisted = 0) {
    this.writes.push(...writes);
    this.persisted = persisted;
  }

  covered(count: number): void {
    this.persisted = Math.max(this.persisted, count);
  }

  /** The state after the first `count` writes, rendered. */
  stateAfter(count: number): string[] {
    const state = new Map<string, string>();
    for (let i = 0; i < count; i++) applyOp(state, (this.writes[i] as Write).op);
    return render(state);
  }

  /** Every key written, and the raw values (and operands) written to each. */
  written(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    const add = (op: Op): void => {
      if (op.t === "batch") {
        op.points.forEach(add);
        return;
      }
      if (op.t !== "put" && op.t !== "del" && op.t !== "merge") return;
      let set = out.get(op.key);
      if (set === undefined) out.set(op.key, (set = new Set()));
      if (op.t === "put") set.add(op.value);
      if (op.t === "merge") set.add(op.operand);
    };
    for (const w of this.writes) add(w.op);
    return out;
  }
}

// ---- the workload -------------------------------------------------------------------------------

const KEYS = Array.from({ length: 24 }, (_, i) => `k${String(i).padStart(2, "0")}`);
const BOUNDS = [...KEYS, "k24", "k99"];
const PREFIXES = ["k0", "k1", "k2", "k05", "k1", "w", "k"];

/** Picks and applies random writes; remembers the weak keys (each written once, deleted at most once). */
class Writer {
  readonly #rng: Random;
  readonly #config: Config;
  /** Weak keys written and not yet weakly deleted. */
  readonly #weak: string[] = [];

  constructor(rng: Random, config: Config) {
    this.#rng = rng;
    this.#config = config;
  }

  /** One random write at a fresh seqno; recorded in `run` before the tree sees it. */
  write(tree: Tree, seqno: SequenceNumberCounter, run: Run): void {
    const rng = this.#rng;
    const s = seqno.next();
    const dice = rng.int(100);
    const record = (kind: string, op: Op): void => {
      run.writes.push({ seqno: s, kind, op });
      run.doing = `${kind} #${run.writes.length - 1} at seqno ${s}`;
    };
    if (dice < 32) {
      const key = rng.pick(KEYS);
      const value = rng.chance(this.#config.bigValues) ? `v${s}${"~".repeat(rng.range(20_000, 70_000))}` : `v${s}`;
      record("insert", { t: "put", key, value });
      tree.insert(key, value, s);
    } else if (dice < 42) {
      const key = rng.pick(KEYS);
      record("remove", { t: "del", key });
      tree.remove(key, s);
    } else if (dice < 52) {
      // removeWeak is only for keys written once: weak keys are inserted once, deleted at most once.
      if (this.#weak.length > 0 && rng.chance(0.5)) {
        const key = this.#weak.splice(rng.int(this.#weak.length), 1)[0] as string;
        record("removeWeak", { t: "del", key });
        tree.removeWeak(key, s);
      } else {
        const key = `w${s}`;
        this.#weak.push(key);
        record("insert", { t: "put", key, value: `v${s}` });
        tree.insert(key, `v${s}`, s);
      }
    } else if (dice < 66) {
      const key = rng.pick(KEYS);
      record("merge", { t: "merge", key, operand: `m${s}` });
      tree.merge(key, `m${s}`, s);
    } else if (dice < 72) {
      // Now and then an empty range (start >= end): deletes nothing, journals nothing.
      const start = rng.pick(BOUNDS);
      const end = rng.chance(0.1) ? start : rng.pick(BOUNDS);
      record("removeRange", { t: "range", start, end });
      tree.removeRange(start, end, s);
    } else if (dice < 76) {
      const prefix = rng.pick(PREFIXES);
      record("removePrefix", { t: "prefix", prefix });
      tree.removePrefix(prefix, s);
    } else {
      const batch = new WriteBatch();
      const points: Op[] = [];
      const ranges: Op[] = [];
      const keys = rng.shuffle([...KEYS]).slice(0, rng.range(0, 6));
      keys.forEach((key, i) => {
        const which = rng.int(4);
        if (which <= 1) {
          batch.insert(key, `b${s}_${i}`);
          points.push({ t: "put", key, value: `b${s}_${i}` });
        } else if (which === 2) {
          batch.remove(key);
          points.push({ t: "del", key });
        } else {
          batch.merge(key, `n${s}_${i}`);
          points.push({ t: "merge", key, operand: `n${s}_${i}` });
        }
      });
      if (rng.chance(0.3)) {
        const key = `w${s}`;
        this.#weak.push(key);
        batch.insert(key, `b${s}_w`);
        points.push({ t: "put", key, value: `b${s}_w` });
      }
      if (rng.chance(0.3)) {
        const start = rng.pick(BOUNDS);
        const end = rng.pick(BOUNDS);
        batch.removeRange(start, end);
        ranges.push({ t: "range", start, end });
      }
      record(`batch of ${points.length + ranges.length}`, { t: "batch", points, ranges });
      tree.applyBatch(batch, s);
    }
  }
}

async function microtasks(rng: Random): Promise<void> {
  if (rng.chance(0.2)) {
    // A whole event-loop turn: background flushes and compactions (time-sliced) get to run.
    await new Promise<void>((resolve) => setImmediate(resolve));
    return;
  }
  for (let i = rng.int(6); i >= 0; i--) await Promise.resolve();
}

/**
 * Leaves `promise` in flight in `inFlight`: its rejection goes to `run.errors` (handled at once, so a
 * power cut leaves no unhandled rejection), and its resolution marks the first `covers` writes durable
 * (undefined: none).
 */
function track(run: Run, inFlight: Promise<void>[], promise: Promise<unknown>, covers: number | undefined): void {
  inFlight.push(
    promise.then(
      () => {
        if (covers !== undefined) run.covered(covers);
      },
      (error: unknown) => {
        run.errors.push(error);
      },
    ),
  );
}

/**
 * The end of a workload, after its last step or the power cut: waits for the calls in flight and throws
 * the first of their failures unless the power was cut; after a power cut, stops what the dead tree
 * still runs (maintenance), and lets go of it.
 */
async function settle(fs: CrashFs, run: Run, inFlight: readonly Promise<void>[], tree: Tree | undefined): Promise<void> {
  await Promise.all(inFlight);
  if (!fs.powerWasCut && run.errors.length > 0) throw run.errors[0];
  if (tree !== undefined) await tree.close({ discard: true }).catch(() => undefined);
}

/** How a workload ends when nothing cut the power. */
export type Finish = "close" | "discard";

/**
 * The workload: `config.steps` random steps on a journaled tree at PATH on `fs`, then a clean close
 * (or a close that discards the memtables). Deterministic for a seed, so sync point n is the same
 * moment in every run. Stops at the first sign of a power cut; any other failure is thrown.
 */
export async function workload(fs: CrashFs, seed: number, config: Config, run: Run, finish: Finish = "close"): Promise<void> {
  const rng = new Random(seed);
  const writer = new Writer(rng.fork(), config);
  const seqno = new SequenceNumberCounter();
  const syncs = persistSyncs(config);
  const inFlight: Promise<void>[] = [];
  let tree: Tree | undefined;
  try {
    tree = await Tree.open(treeOptions(fs, seqno, config));
    for (let step = 0; step < config.steps && !fs.powerWasCut; step++) {
      const t: Tree = tree;
      const dice = rng.int(100);
      if (dice < 62) {
        writer.write(t, seqno, run);
      } else if (dice < 70) {
        const covers = run.writes.length;
        run.doing = `persist() of ${covers} writes`;
        await t.persist();
        run.persists++;
        if (syncs) run.covered(covers);
      } else if (dice < 76) {
        // Group commit: writes, each followed by a persist() left in flight.
        // Each one is tracked at once (its rejection handled), so a power cut in the middle of the
        // burst leaves no unhandled rejection behind.
        const burst: Promise<void>[] = [];
        for (let i = rng.range(2, 8); i > 0; i--) {
          writer.write(t, seqno, run);
          const covers = run.writes.length;
          run.doing = `persist() #${i} of a burst, of ${covers} writes`;
          const persisted = t.persist().then(() => {
            run.persists++;
            run.concurrentPersists++;
            if (syncs) run.covered(covers);
          });
          track(run, inFlight, persisted, undefined);
          burst.push(inFlight.at(-1) as Promise<void>);
          // A tick lets the group commit start its sync; more, or a turn, let it finish.
          const pause = rng.int(10);
          if (pause < 4) await Promise.resolve();
          else if (pause < 5) await microtasks(rng);
          // A new memtable (and journal file) while a sync of the old file may be in flight.
          if (rng.chance(config.rotateInBursts)) t.rotateMemtable();
        }
        if (rng.chance(0.5)) await Promise.all(burst);
      } else if (dice < 84) {
        await microtasks(rng);
      } else if (dice < 89) {
        run.doing = "rotateMemtable()";
        t.rotateMemtable();
      } else if (dice < 94) {
        const covers = run.writes.length;
        run.doing = `flushActiveMemtable(0) of ${covers} writes`;
        const flush = t.flushActiveMemtable(0);
        if (rng.chance(0.6)) {
          await flush;
          run.covered(covers);
        } else {
          track(run, inFlight, flush, covers);
        }
      } else if (dice < 98) {
        const discard = rng.chance(0.75);
        const covers = run.writes.length;
        run.doing = `close(${discard ? "{ discard: true }" : ""}) of ${covers} writes`;
        await t.close({ discard });
        if (!discard || syncs) run.covered(covers);
        run.doing = "reopen";
        tree = undefined;
        tree = await Tree.open(treeOptions(fs, seqno, config));
        run.reopens++;
      } else {
        // A seal and a flush at once, the flush left in flight while the writes go on.
        run.doing = "rotate + flush";
        t.rotateMemtable();
        track(run, inFlight, t.flushActiveMemtable(0), run.writes.length);
      }
    }
    if (!fs.powerWasCut) {
      await Promise.all(inFlight);
      const covers = run.writes.length;
      run.doing = `final close(${finish === "discard" ? "{ discard: true }" : ""}) of ${covers} writes`;
      await tree.close({ discard: finish === "discard" });
      if (finish === "close" || syncs) run.covered(covers);
      tree = undefined;
    }
  } catch (error) {
    if (!fs.powerWasCut) throw error;
  }
  await settle(fs, run, inFlight, tree);
}

/**
 * What follows a crash (item 3 of the issue): a tree opened on a directory with journal files to replay,
 * some writes and persists, the first flush after the replay, more writes (a burst, a rotation), a close
 * that discards the memtables, a second reopen (a second replay) and a clean close. The writes are
 * appended to `run`, whose earlier writes are the ones on the volume already.
 */
export async function reopenWorkload(fs: CrashFs, seed: number, config: Config, run: Run): Promise<void> {
  const rng = new Random(seed + 1_000_003);
  const writer = new Writer(rng.fork(), config);
  const seqno = new SequenceNumberCounter();
  const syncs = persistSyncs(config);
  const inFlight: Promise<void>[] = [];
  const writes = (count: number, t: Tree): void => {
    for (let i = 0; i < count; i++) writer.write(t, seqno, run);
  };
  let tree: Tree | undefined;
  try {
    run.doing = "the open that replays the journal";
    tree = await Tree.open(treeOptions(fs, seqno, config, false));
    writes(8, tree);
    let covers = run.writes.length;
    run.doing = "the first persist() after the replay";
    await tree.persist();
    if (syncs) run.covered(covers);
    writes(6, tree);
    covers = run.writes.length;
    run.doing = "the first flush after the replay";
    await tree.flushActiveMemtable(0);
    run.covered(covers);
    for (let i = 0; i < 4; i++) {
      writes(2, tree);
      const c = run.writes.length;
      run.doing = "a burst of persists after the flush";
      track(run, inFlight, tree.persist(), syncs ? c : undefined);
      if (i === 1) tree.rotateMemtable();
    }
    writes(4, tree);
    covers = run.writes.length;
    run.doing = "close({ discard: true }) after the replay";
    await tree.close({ discard: true });
    if (syncs) run.covered(covers);
    run.doing = "the second reopen (a second replay)";
    tree = undefined;
    tree = await Tree.open(treeOptions(fs, seqno, config, false));
    writes(5, tree);
    covers = run.writes.length;
    run.doing = "the clean close after the second reopen";
    await tree.close();
    run.covered(covers);
    tree = undefined;
  } catch (error) {
    if (!fs.powerWasCut) throw error;
  }
  await settle(fs, run, inFlight, tree);
}

// ---- checking a recovered tree -------------------------------------------------------------------

export function journalFiles(fs: Fs): number[] {
  return fileIds(fs, `${PATH}/${JOURNAL_DIR_NAME}`);
}

/** The journal floor the durable version records (0 when there is no version yet). */
export function journalFloor(fs: Fs): number {
  if (!fs.exists(PATH)) return 0;
  return loadLatestVersion(fs, PATH)?.record.journalFloor ?? 0;
}

/** Every visible entry, rendered as the model renders its state. */
export function visible(tree: Tree): string[] {
  const out: string[] = [];
  for (const [k, v] of tree.range({}, SEQNO_MAX)) out.push(`${dec(k)}=${shorten(dec(v) as string)}`);
  return out;
}

/**
 * The directory of a freshly opened tree: `current`, its version, `tables/` holding exactly the
 * version's tables, `journal/` holding the files at or above the floor that were there before the open
 * (all of them, or those up to a break in the chain: the files past it, which hold only writes made
 * after lost ones, are removed) plus the one it opened for new writes, and `LOCK`.
 */
export function expectTreeDir(fs: Fs, tree: Tree, floor: number, before: readonly number[], context: string): void {
  const id = tree.currentVersion().id;
  const names = fs
    .readDir(PATH)
    .map((e) => e.fileName)
    .sort();
  expect(names, `${context}: the tree's directory`).toEqual(["LOCK", "current", JOURNAL_DIR_NAME, "tables", `v${id}`].sort());
  expect(tableFileIds(fs, PATH), `${context}: tables/`).toEqual(versionTableIds(tree));
  const kept = before.filter((n) => n >= floor);
  const next = Math.max(floor, (before.at(-1) ?? -1) + 1);
  const files = journalFiles(fs);
  const where = `${context}: journal/ after the open (floor ${floor}, before it ${before.join(",")}): ${files.join(",")}`;
  expect(files.at(-1), where).toBe(next);
  const replayed = files.slice(0, -1);
  expect(kept.slice(0, replayed.length), where).toEqual(replayed);
}

/**
 * Checks what a tree opened on `fs` shows against `run`: (a) every write a resolved persist covered is
 * there, (b) no value that was never written, (c) the state after some prefix of the writes at least as
 * long as the persisted one (a batch whole or not at all). Returns the tree, still open, and the length
 * of the prefix it shows. No cut may leave a directory open refuses, not even one while the tree was
 * being created (v0 without `current` holds no data and is created again).
 */
export async function openAndCheck(
  fs: Fs,
  run: Run,
  config: Config,
  context: string,
  seqno = new SequenceNumberCounter(),
): Promise<{ tree: Tree; prefix: number }> {
  const floor = journalFloor(fs);
  const before = journalFiles(fs);
  let tree: Tree;
  try {
    tree = await Tree.open(treeOptions(fs, seqno, config, false));
  } catch (error) {
    throw new Error(`${context}: the tree does not open: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error });
  }
  const shown = visible(tree);
  const prefix = matchingPrefix(run, shown);
  if (prefix < 0) {
    const written = run.written();
    const invented = shown.filter((line) => {
      const [k, v] = splitLine(line);
      return !v.split("+").every((part) => [...(written.get(k) ?? [])].some((w) => shorten(w) === part));
    });
    expect(invented, `${context}: (b) values that were never written`).toEqual([]);
    // Name the damage: the closest prefix at or above the persisted one, and what differs from it.
    const { count, diff } = closestPrefix(run, shown);
    const near = run.writes
      .slice(Math.max(0, count - 3), count + 3)
      .map((w, i) => `#${Math.max(0, count - 3) + i} ${w.kind} ${JSON.stringify(w.op).slice(0, 160)}`);
    throw new Error(
      `${context}: (a)/(c) the tree shows no prefix of the ${run.writes.length} writes at least as long as the ${run.persisted} persisted ones;` +
        ` closest: the first ${count} writes, differing in\n  ${diff.join("\n  ")}\nwrites around it:\n  ${near.join("\n  ")}`,
    );
  }
  // Point reads agree with the scan, for every key ever written and one never written.
  const scanned = new Map(shown.map(splitLine));
  for (const key of [...run.written().keys(), "k99", "absent"]) {
    const value = tree.get(key, SEQNO_MAX);
    expect(value === undefined ? undefined : shorten(dec(value) as string), `${context}: get(${key})`).toBe(scanned.get(key));
  }
  tree.verify();
  expectTreeDir(fs, tree, floor, before, context);
  expect(journalFloor(fs), `${context}: opening changes no version`).toBe(floor);
  return { tree, prefix };
}

/**
 * The longest prefix of the writes at least as long as the persisted one whose state the tree shows,
 * or -1. (States of several prefixes can be equal: a write that changes nothing visible.)
 */
function matchingPrefix(run: Run, shown: readonly string[]): number {
  const target = shown.join("\n");
  const state = new Map<string, string>();
  let found = -1;
  for (let count = 0; count <= run.writes.length; count++) {
    if (count > 0) applyOp(state, (run.writes[count - 1] as Write).op);
    if (count >= run.persisted && render(state).join("\n") === target) found = count;
  }
  return found;
}

function closestPrefix(run: Run, shown: readonly string[]): { count: number; diff: string[] } {
  const have = new Set(shown);
  let best = { count: run.persisted, diff: [] as string[], size: Number.POSITIVE_INFINITY };
  for (let count = run.persisted; count <= run.writes.length; count++) {
    const want = run.stateAfter(count);
    const wanted = new Set(want);
    const diff = [...want.filter((l) => !have.has(l)).map((l) => `missing ${l}`), ...shown.filter((l) => !wanted.has(l)).map((l) => `unexpected ${l}`)];
    if (diff.length < best.size) best = { count, diff, size: diff.length };
  }
  return { count: best.count, diff: best.diff };
}

function splitLine(line: string): [string, string] {
  const i = line.indexOf("=");
  return [line.slice(0, i), line.slice(i + 1)];
}

/**
 * The recovered tree is usable: its counter was raised past every replayed seqno, so a new write wins;
 * a clean close flushes it all and leaves at most one (empty) journal file; a reopen shows the same.
 */
export async function checkUsable(fs: Fs, tree: Tree, seqno: SequenceNumberCounter, config: Config, context: string): Promise<void> {
  const recovered = visible(tree);
  const probe = recovered.length > 0 ? splitLine(recovered[recovered.length >> 1] as string)[0] : "k00";
  tree.insert(probe, "after-crash", seqno.next());
  expect(dec(tree.get(probe, SEQNO_MAX)), `${context}: a new write after recovery wins over the replayed ones`).toBe("after-crash");
  await tree.persist();
  await tree.close();
  expect(journalFiles(fs).length, `${context}: journal files after a clean close`).toBeLessThanOrEqual(1);
  const expected = [...recovered.filter((line) => splitLine(line)[0] !== probe), `${probe}=after-crash`].sort((a, b) => {
    const [ka, kb] = [splitLine(a)[0], splitLine(b)[0]];
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const floor = journalFloor(fs);
  const before = journalFiles(fs);
  const again = await Tree.open(treeOptions(fs, new SequenceNumberCounter(), config, false));
  expect(visible(again), `${context}: after a clean close and reopen`).toEqual(expected);
  expect(again.sealedMemtableCount(), `${context}: nothing sealed after a clean close`).toBe(0);
  again.verify();
  expectTreeDir(fs, again, floor, before, `${context}, reopened after a clean close`);
  await again.close();
}
