// I/O errors injected at every step of a job (FaultFs over MemFs): each I/O call of a flush, a
// compaction, a dropRange, a clear and an open fails once (EIO, ENOSPC, torn writes). The job must
// reject with that error, the tree must go on answering every read exactly as before, a retry must
// succeed, and after a reopen everything flushed must be there with no leftover files.
import { describe, expect, it } from "vitest";
import { MemFs, type Fs } from "@talus/fs";
import { CrashFs, FaultFs, isInjected, PowerCutError, type FaultError, type FsOpKind } from "@talus/testkit";
import { Leveled, SEQNO_MAX, SequenceNumberCounter, Tree } from "../src/index.ts";
import {
  codeOf,
  dec,
  entriesAt,
  expectCleanTreeDir,
  expectLsmError,
  expectPointReadsMatch,
  rejectionOf,
  tableFileIds,
  versionTableIds,
  viewAt,
} from "./tree-test-support.ts";

const PATH = "/db";
const TREE_OPTIONS = { blockSize: 256, flushTableSize: 1200 } as const;
const TABLE_TARGET = 1200;

const value = (phase: string, key: string): string => `${phase}:${key}:${"y".repeat(20)}`;
const keyRange = (prefix: string, from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `${prefix}${String(from + i).padStart(3, "0")}`);

/** A tree on a FaultFs with tables in L0 and L6, unflushed writes in the memtable, and what it should read. */
interface Scenario {
  readonly fs: FaultFs;
  readonly seqno: SequenceNumberCounter;
  readonly tree: Tree;
  readonly boundaries: number[];
  readonly keys: string[];
  put(phase: string, keys: readonly string[]): void;
  del(keys: readonly string[]): void;
  /** The model's contents at SEQNO_MAX. */
  expected(): string[];
}

async function scenario(inner: Fs = new MemFs(), cacheBytes?: number): Promise<Scenario> {
  const fs = new FaultFs(inner);
  const seqno = new SequenceNumberCounter();
  const tree = await Tree.open({ path: PATH, fs, seqno, ...TREE_OPTIONS, ...(cacheBytes === undefined ? {} : { cacheBytes }) });
  const model = new Map<string, string>();
  const boundaries: number[] = [];
  const keys = new Set<string>(["absent"]);
  const s: Scenario = {
    fs,
    seqno,
    tree,
    boundaries,
    get keys() {
      return [...keys].sort();
    },
    put(phase, ks) {
      for (const k of ks) {
        tree.insert(k, value(phase, k), seqno.next());
        model.set(k, value(phase, k));
        keys.add(k);
      }
    },
    del(ks) {
      for (const k of ks) {
        tree.remove(k, seqno.next());
        model.delete(k);
        keys.add(k);
      }
    },
    expected() {
      return [...model].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`);
    },
  };
  s.put("A", keyRange("k", 0, 50));
  boundaries.push(seqno.get());
  await tree.flushActiveMemtable(0);
  s.put("B", keyRange("k", 20, 40));
  s.del(keyRange("k", 40, 45));
  s.put("B", keyRange("m", 0, 30));
  boundaries.push(seqno.get());
  await tree.flushActiveMemtable(0);
  await tree.majorCompact(TABLE_TARGET, 0);
  s.put("C", keyRange("k", 0, 10));
  s.del(["m005"]);
  boundaries.push(seqno.get());
  await tree.flushActiveMemtable(0);
  s.put("D", keyRange("k", 5, 15));
  s.put("D", keyRange("n", 0, 20));
  boundaries.push(seqno.get());
  await tree.flushActiveMemtable(0);
  // Unflushed writes: what a failed flush must keep serving from memory.
  s.put("E", keyRange("k", 25, 35));
  s.del(["m010", "n001"]);
  s.put("E", keyRange("p", 0, 25));
  boundaries.push(seqno.get());
  expect(tree.levelTableCount(0)).toBeGreaterThanOrEqual(2);
  expect(tree.levelTableCount(6)).toBeGreaterThanOrEqual(2);
  return s;
}

interface Job {
  readonly name: string;
  /** Runs the job once; resolves to a description of what it did. */
  run(s: Scenario): Promise<unknown>;
  /** After a successful retry, the tree's shape shows the job is done. */
  done(s: Scenario): void;
  /** Block cache size of the tree (0: every block read hits the filesystem, where the fault is). */
  readonly cacheBytes?: number;
  /** Sweep only these operation kinds (default all the job does). */
  readonly kinds?: readonly FsOpKind[];
}

const JOBS: readonly Job[] = [
  {
    name: "flush",
    run: (s) => s.tree.flushActiveMemtable(0),
    done: (s) => {
      expect(s.tree.sealedMemtableCount()).toBe(0);
      expect(s.tree.approximateLen()).toBeGreaterThan(0);
    },
  },
  {
    name: "majorCompact",
    run: (s) => s.tree.majorCompact(TABLE_TARGET, 0),
    done: (s) => {
      expect(s.tree.levelTableCount(0)).toBe(0);
      expect(s.tree.levelTableCount(6)).toBe(s.tree.tableCount());
    },
  },
  {
    // Without a block cache the compaction reads every input from disk: faults hit its input scan, which
    // reads the first window of every input run with one readMany, then a read per further window.
    name: "majorCompact without block cache",
    cacheBytes: 0,
    kinds: ["read", "readMany"],
    run: (s) => s.tree.majorCompact(TABLE_TARGET, 0),
    done: (s) => {
      expect(s.tree.levelTableCount(0)).toBe(0);
      expect(s.tree.levelTableCount(6)).toBe(s.tree.tableCount());
    },
  },
  {
    name: "Leveled compaction",
    run: (s) => s.tree.compact(new Leveled({ l0Threshold: 4, tableTargetSize: TABLE_TARGET }), 0),
    done: (s) => {
      expect(s.tree.l0RunCount()).toBeLessThanOrEqual(1);
    },
  },
];

/** What a clean run of `job` does, by operation kind. */
async function callsOf(job: Job): Promise<Array<[FsOpKind, number]>> {
  const s = await scenario(new MemFs(), job.cacheBytes);
  // As failOnce does before its job: the same reads leave the same blocks cached.
  viewAt(s.tree, s.boundaries);
  s.fs.resetHistory();
  await job.run(s);
  const calls = Object.entries(s.fs.calls).filter(([, n]) => n > 0) as Array<[FsOpKind, number]>;
  await s.tree.close();
  return calls;
}

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown };

async function settle(promise: Promise<unknown>): Promise<Settled> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The id of a table file path (`/db/tables/<id>`), or undefined for another file. */
function tableIdOf(path: string): number | undefined {
  const match = /\/tables\/(0|[1-9][0-9]*)$/.exec(path);
  return match === null ? undefined : Number(match[1]);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] as string;
}

function describeFault(error: FaultError): string {
  return typeof error === "string" ? error : `torn ${error.code ?? "EIO"}${error.keepBytes === undefined ? "" : ` keep ${error.keepBytes}`}`;
}

function faultsFor(kind: FsOpKind): FaultError[] {
  // A disk that is full fails what writes (data, names, syncs); reads and stats fail with EIO.
  if (kind === "read" || kind === "len" || kind === "readDir" || kind === "exists" || kind === "metadata") return ["EIO"];
  const plain: FaultError[] = ["EIO", "ENOSPC"];
  return kind === "write" ? [...plain, { torn: true, code: "EIO" }, { torn: true, code: "ENOSPC", keepBytes: 1 }] : plain;
}

/**
 * Fails call `after` of kind `kind` during `job`, then checks: the job rejects with that error, reads are
 * unchanged, no partial table is left behind, a retry succeeds, and a reopen finds everything.
 */
async function failOnce(job: Job, kind: FsOpKind, after: number, error: FaultError): Promise<void> {
  const context = `${job.name}: ${describeFault(error)} on ${kind} #${after}`;
  const code = typeof error === "string" ? error : (error.code ?? "EIO");
  const s = await scenario(new MemFs(), job.cacheBytes);
  const viewBefore = viewAt(s.tree, s.boundaries);
  const tablesBefore = versionTableIds(s.tree);
  s.fs.addRule({ ops: kind, after, error });

  const outcome = await settle(job.run(s));
  expect(s.fs.injected.length, `${context}: the fault fired`).toBe(1);
  s.fs.clearRules();
  const installed = JSON.stringify(versionTableIds(s.tree)) !== JSON.stringify(tablesBefore);
  // Faults after the job's result is durable, while deleting what it made garbage (unlinking a
  // replaced input or closing its handle first, unlinking the superseded version file): the job may
  // report them or not, and only that one file may be left over (the next open removes it).
  const fault = s.fs.injected[0];
  const faultPath = fault?.path ?? "";
  const faultTable = tableIdOf(faultPath);
  const inputCleanup = installed && (kind === "removeFile" || kind === "close") && faultTable !== undefined && tablesBefore.includes(faultTable);
  const versionCleanup = kind === "removeFile" && /\/v\d+$/.test(faultPath);
  if (!(inputCleanup || versionCleanup) || !outcome.ok) {
    expect(outcome.ok, `${context}: the job rejects`).toBe(false);
    const failure = outcome.ok ? undefined : outcome.error;
    expect(isInjected(failure), `${context}: rejects with the injected error, got ${String(failure)}`).toBe(true);
    expect(codeOf(failure), context).toBe(code);
  }
  // When only the directory sync after the rename of `current` failed, the change is installed but the
  // old version may be what a crash brings back: its tables may stay until the next open.
  const unsureDurable = installed && kind === "syncDirectory";
  const mayRemain = inputCleanup && faultTable !== undefined ? [faultTable] : unsureDurable ? tablesBefore : [];
  const expectedFiles = (): number[] => {
    const live = versionTableIds(s.tree);
    const kept = tableFileIds(s.fs, PATH).filter((id) => mayRemain.includes(id) && !live.includes(id));
    return [...live, ...kept].sort((a, b) => a - b);
  };

  // Nothing read changed: unflushed data is still served from memory, old snapshots still answer.
  expect(viewAt(s.tree, s.boundaries), `${context}: reads after the failure`).toEqual(viewBefore);
  expectPointReadsMatch(s.tree, s.keys, context);
  // No partial or orphan output left in tables/ (a failed write removes every table it created), and
  // the inputs an installed compaction replaced are gone.
  expect(tableFileIds(s.fs, PATH), `${context}: tables/ after the failure`).toEqual(expectedFiles());

  // The tree takes writes and the job succeeds when retried.
  s.put("F", ["k001", "q000"]);
  s.del(["k002"]);
  s.boundaries.push(s.seqno.get());
  await job.run(s);
  job.done(s);
  // Only flushed data survives a reopen (there is no write-ahead log): flush what the memtable holds.
  await s.tree.flushActiveMemtable(0);
  expect(entriesAt(s.tree), `${context}: after the retry`).toEqual(s.expected());
  const viewAfter = viewAt(s.tree, s.boundaries);
  expect(tableFileIds(s.fs, PATH), `${context}: tables/ after the retry`).toEqual(expectedFiles());
  if (mayRemain.length === 0) expectCleanTreeDir(s.fs, PATH, s.tree, `${context}, after the retry (installed before: ${installed})`, "ignore");
  s.tree.verify();
  await s.tree.close();

  // A reopen finds everything that was flushed, and nothing else in the directory.
  const tree = await Tree.open({ path: PATH, fs: s.fs.inner, ...TREE_OPTIONS });
  expect(viewAt(tree, s.boundaries), `${context}: after reopen`).toEqual(viewAfter);
  expectCleanTreeDir(s.fs.inner, PATH, tree, `${context}, after reopen`);
  tree.verify();
  await tree.close();
}

describe("Tree: an I/O error at each step of a job", () => {
  for (const job of JOBS) {
    it(`${job.name}: every failing call rejects the job, loses nothing, and a retry succeeds`, async () => {
      const calls = (await callsOf(job)).filter(([kind]) => job.kinds === undefined || job.kinds.includes(kind));
      const kinds = calls.map(([kind]) => kind);
      // The job does every kind of I/O the sweep is about.
      expect(kinds).toEqual(expect.arrayContaining([...(job.kinds ?? ["open", "write", "sync", "close", "syncDirectory", "rename"])]));
      let cases = 0;
      // Every case runs; the failures are reported together, so one problem does not hide the others.
      const problems: string[] = [];
      for (const [kind, count] of calls) {
        for (let after = 0; after < count; after++) {
          for (const error of faultsFor(kind)) {
            await failOnce(job, kind, after, error).catch((e: unknown) => problems.push(firstLine(e)));
            cases++;
          }
        }
      }
      expect(problems).toEqual([]);
      // The read-only sweep is short: a job's outputs open from their writers' own index and filter
      // (Table.fromWriter), so only the input scan reads, a read-ahead window (256 KiB) at a time.
      expect(cases).toBeGreaterThan(job.kinds?.includes("read") === true ? 2 : 30);
    });
  }

  it("dropRange and clear: every failing call rejects, and a retry succeeds", async () => {
    const jobs: ReadonlyArray<{ name: string; run: (tree: Tree) => Promise<unknown> }> = [
      { name: "dropRange", run: (tree) => tree.dropRange({ gte: "m", lt: "o" }) },
      { name: "clear", run: (tree) => tree.clear() },
    ];
    for (const job of jobs) {
      const probe = await scenario();
      await probe.tree.flushActiveMemtable(0);
      probe.fs.resetHistory();
      await job.run(probe.tree);
      const calls = Object.entries(probe.fs.calls).filter(([, n]) => n > 0) as Array<[FsOpKind, number]>;
      const reference = entriesAt(probe.tree);
      await probe.tree.close();
      expect(calls.map(([kind]) => kind), job.name).toEqual(expect.arrayContaining(["open", "write", "sync", "syncDirectory", "rename"]));
      const problems: string[] = [];
      for (const [kind, count] of calls) {
        for (let after = 0; after < count; after++) {
          const context = `${job.name}: EIO on ${kind} #${after}`;
          await dropOrClearOnce(job, kind, after, reference, context).catch((e: unknown) => problems.push(firstLine(e)));
        }
      }
      expect(problems, job.name).toEqual([]);
    }
  });
});

async function dropOrClearOnce(job: { run: (tree: Tree) => Promise<unknown> }, kind: FsOpKind, after: number, reference: string[], context: string): Promise<void> {
  const s = await scenario();
  await s.tree.flushActiveMemtable(0);
  const before = entriesAt(s.tree);
  const tablesBefore = versionTableIds(s.tree);
  s.fs.addRule({ ops: kind, after, error: "EIO" });
  const outcome = await settle(job.run(s.tree));
  s.fs.clearRules();
  // Unlinking the superseded version file comes after the change is durable: it may fail quietly.
  const versionCleanup = kind === "removeFile" && /\/v\d+$/.test(s.fs.injected[0]?.path ?? "");
  if (!versionCleanup || !outcome.ok) expect(outcome.ok ? "resolved" : codeOf(outcome.error), context).toBe("EIO");
  const installed = JSON.stringify(versionTableIds(s.tree)) !== JSON.stringify(tablesBefore);
  // Either nothing happened, or (the pointer was renamed, only its directory sync failed) all of it.
  expect(entriesAt(s.tree), context).toEqual(installed ? reference : before);
  // Dropped tables stay while older snapshots may read them (GC watermark 0): nothing is deleted yet.
  expect(tableFileIds(s.fs, PATH), `${context}: tables/`).toEqual(tablesBefore);
  await job.run(s.tree);
  expect(entriesAt(s.tree), `${context}: after the retry`).toEqual(reference);
  expect(tableFileIds(s.fs, PATH), `${context}: tables/ after the retry`).toEqual(tablesBefore);
  await s.tree.close();
  const tree = await Tree.open({ path: PATH, fs: s.fs.inner, ...TREE_OPTIONS });
  expect(entriesAt(tree), `${context}: after reopen`).toEqual(reference);
  expectCleanTreeDir(s.fs.inner, PATH, tree, `${context}, reopened`);
  await tree.close();
}

describe("Tree.open: an I/O error while opening", () => {
  it("reports an error at each call of opening an existing tree, and a later open succeeds", async () => {
    const s = await scenario();
    await s.tree.flushActiveMemtable(0);
    const expected = entriesAt(s.tree);
    await s.tree.close();
    const inner = s.fs.inner;

    // The first open removes the version files the session left; count the calls of a steady open.
    await (await Tree.open({ path: PATH, fs: inner, ...TREE_OPTIONS })).close();
    const counter = new FaultFs(inner);
    const clean = await Tree.open({ path: PATH, fs: counter, ...TREE_OPTIONS });
    const calls = Object.entries(counter.calls).filter(([, n]) => n > 0) as Array<[FsOpKind, number]>;
    await clean.close();
    expect(calls.map(([kind]) => kind)).toEqual(expect.arrayContaining(["open", "read", "readDir"]));

    let cases = 0;
    for (const [kind, count] of calls) {
      for (let after = 0; after < count; after++) {
        for (const error of ["EIO", "EACCES"] as const) {
          const context = `open: ${error} on ${kind} #${after}`;
          const fs = new FaultFs(inner, [{ ops: kind, after, error }]);
          const failure = await rejectionOf(Tree.open({ path: PATH, fs, ...TREE_OPTIONS }), context);
          // The filesystem's error, as it was: not disguised as corruption, not swallowed.
          expect(isInjected(failure), `${context}: ${String(failure)}`).toBe(true);
          expect(codeOf(failure), context).toBe(error);
          const tree = await Tree.open({ path: PATH, fs: inner, ...TREE_OPTIONS });
          expect(entriesAt(tree), context).toEqual(expected);
          expectCleanTreeDir(inner, PATH, tree, context);
          await tree.close();
          cases++;
        }
      }
    }
    expect(cases).toBeGreaterThan(20);
  });

  it("reports an error at each call of creating a new tree, and a later open creates it", async () => {
    const counter = new FaultFs(new MemFs());
    await (await Tree.open({ path: PATH, fs: counter, ...TREE_OPTIONS })).close();
    const calls = Object.entries(counter.calls).filter(([, n]) => n > 0) as Array<[FsOpKind, number]>;
    expect(calls.map(([kind]) => kind)).toEqual(expect.arrayContaining(["open", "write", "sync", "syncDirectory", "rename"]));
    for (const [kind, count] of calls) {
      for (let after = 0; after < count; after++) {
        for (const error of ["EIO", "ENOSPC"] as const) {
          const context = `create: ${error} on ${kind} #${after}`;
          const inner = new MemFs();
          const fs = new FaultFs(inner, [{ ops: kind, after, error }]);
          const failure = await rejectionOf(Tree.open({ path: PATH, fs, ...TREE_OPTIONS }), context);
          expect(codeOf(failure), `${context}: ${String(failure)}`).toBe(error);
          // The half-made tree is neither refused (INVALID_DATA) nor broken: the next open finishes it.
          const seqno = new SequenceNumberCounter();
          const tree = await Tree.open({ path: PATH, fs: inner, seqno, ...TREE_OPTIONS });
          expect(tree.isEmpty(SEQNO_MAX), context).toBe(true);
          tree.insert("a", "1", seqno.next());
          await tree.flushActiveMemtable(0);
          await tree.close();
          const again = await Tree.open({ path: PATH, fs: inner, ...TREE_OPTIONS });
          expect(dec(again.get("a", SEQNO_MAX)), context).toBe("1");
          expectCleanTreeDir(inner, PATH, again, context);
          await again.close();
        }
      }
    }
  });
});

describe("Tree: cleanup after failures, in focus", () => {
  it("a flush whose new table fails to reopen for reading leaves no table file behind", async () => {
    // The writer creates and syncs the table, then the store opens it for reading: fail that open.
    const s = await scenario();
    const tables = versionTableIds(s.tree);
    s.fs.addRule({ ops: "open", path: "**/tables/*", after: 1, error: "EIO" });
    const failure = await rejectionOf(s.tree.flushActiveMemtable(0), "flush");
    expect(codeOf(failure)).toBe("EIO");
    expect(s.fs.injected[0]?.path).toMatch(/\/tables\/\d+$/);
    expect(versionTableIds(s.tree)).toEqual(tables);
    // TableStore.write: "A failed write removes every table it created" — including this one.
    expect(tableFileIds(s.fs, PATH), "tables/ holds only the version's tables").toEqual(tables);
    await s.tree.close();
  });

  it("a failure deleting one replaced input still deletes the others, and the compaction's result stands", async () => {
    const s = await scenario();
    await s.tree.flushActiveMemtable(0);
    const inputs = versionTableIds(s.tree);
    const expected = entriesAt(s.tree);
    s.fs.addRule({ ops: "removeFile", path: "**/tables/*", error: "EIO" });
    const outcome = await settle(s.tree.majorCompact(TABLE_TARGET, 0));
    expect(s.fs.injected).toHaveLength(1);
    if (!outcome.ok) expect(codeOf(outcome.error)).toBe("EIO");
    const outputs = versionTableIds(s.tree);
    expect(outputs.some((id) => inputs.includes(id)), "the new version is installed").toBe(false);
    expect(entriesAt(s.tree)).toEqual(expected);
    const failed = tableIdOf(s.fs.injected[0]?.path ?? "") as number;
    // Only the input whose unlink failed may remain (the next open removes it).
    expect(tableFileIds(s.fs, PATH)).toEqual([...outputs, failed].sort((a, b) => a - b));
    await s.tree.close();
    const tree = await Tree.open({ path: PATH, fs: s.fs.inner, ...TREE_OPTIONS });
    expectCleanTreeDir(s.fs.inner, PATH, tree, "reopened");
    expect(entriesAt(tree)).toEqual(expected);
    await tree.close();
  });

  for (const op of ["removeFile", "close"] as const) {
    it(`closing an iterator that held the last reference to replaced tables does not throw when a ${op} fails`, async () => {
      await iteratorReleaseWithFault(op);
    });
  }

  it("a read never fails because closing some other, least recently used file handle failed", async () => {
    // With room for one open table file, each read of another table closes the previous handle.
    const inner = new MemFs();
    const seed = await scenario(inner);
    await seed.tree.flushActiveMemtable(0);
    const expected = new Map(entriesAt(seed.tree).map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]));
    await seed.tree.close();
    const fs = new FaultFs(inner);
    const tree = await Tree.open({ path: PATH, fs, ...TREE_OPTIONS, maxOpenFiles: 1, cacheBytes: 0 });
    expect(tree.tableCount()).toBeGreaterThan(2);
    fs.addRule({ ops: "close", path: "**/tables/*", times: Infinity, error: "EIO" });
    for (const [key, value] of expected) {
      const got = thrownByAsValue(() => dec(tree.get(key, SEQNO_MAX)));
      expect(got, `get(${key})`).toBe(value);
    }
    expect(fs.injected.length, "handles were closed (and failed) along the way").toBeGreaterThan(0);
    fs.clearRules();
    await tree.close();
  });

  it("deletes superseded version files while running, not only at the next open", async () => {
    // Once `current` durably names v<n+1>, nothing needs v<n>: the history of snapshots is in memory and
    // checkpoints write their version from memory. With a GC watermark past every snapshot even the
    // reference engine deletes them.
    const fs = new MemFs();
    const seqno = new SequenceNumberCounter();
    const tree = await Tree.open({ path: PATH, fs, seqno, ...TREE_OPTIONS });
    for (let round = 0; round < 5; round++) {
      tree.insert(`key${round}`, "v", seqno.next());
      await tree.flushActiveMemtable(seqno.get());
    }
    await tree.majorCompact(TABLE_TARGET, seqno.get());
    const versionFiles = fs.readDir(PATH).filter((e) => /^v\d+$/.test(e.fileName)).map((e) => e.fileName);
    expect(versionFiles, "version files in a running tree").toEqual([`v${tree.currentVersion().id}`]);
    await tree.close();
  });
});

describe("Tree.open: an I/O error while removing leftovers", () => {
  it("reports or tolerates a failed removal of an orphan, a stale version or a temp pointer; a later open cleans up", async () => {
    const s = await scenario();
    await s.tree.flushActiveMemtable(0);
    const expected = entriesAt(s.tree);
    await s.tree.close();
    const inner = s.fs.inner;
    const clean = await Tree.open({ path: PATH, fs: inner, ...TREE_OPTIONS });
    const id = clean.currentVersion().id;
    await clean.close();
    const leftovers = (): void => {
      for (const [path, bytes] of [
        [`${PATH}/tables/999`, "half a table"],
        [`${PATH}/v${id + 1}`, "a version never published"],
        [`${PATH}/current.tmp-0`, "a pointer never renamed"],
      ] as const) {
        const file = inner.open(path, { write: true, create: true, truncate: true });
        file.write(new TextEncoder().encode(bytes));
        file.close();
      }
    };
    for (let after = 0; after < 3; after++) {
      const context = `EIO on removeFile #${after}`;
      leftovers();
      const fs = new FaultFs(inner, [{ ops: "removeFile", after, error: "EIO" }]);
      const outcome = await settle(Tree.open({ path: PATH, fs, ...TREE_OPTIONS }));
      expect(fs.injected, context).toHaveLength(1);
      if (outcome.ok) {
        const tree = outcome.value as Tree;
        expect(entriesAt(tree), context).toEqual(expected);
        await tree.close();
      } else {
        expect(codeOf(outcome.error), context).toBe("EIO");
      }
      const tree = await Tree.open({ path: PATH, fs: inner, ...TREE_OPTIONS });
      expect(entriesAt(tree), context).toEqual(expected);
      expectCleanTreeDir(inner, PATH, tree, context);
      await tree.close();
    }
  });
});

describe("Tree: an I/O error and a power cut together", () => {
  it("does not delete compaction inputs while the version that replaced them may not be durable", async () => {
    // The last step of publishing a version is the directory sync after `current` is renamed. If it
    // fails, the engine installs the new version anyway (the live directory names it), but nothing says
    // the rename will survive a power cut: until a later sync of the tree directory succeeds, the old
    // version is what a crash may bring back, so the tables it lists must still exist.
    const crash = new CrashFs();
    const s = await scenario(crash);
    await s.tree.flushActiveMemtable(0);
    const flushed = entriesAt(s.tree);
    expect(flushed).toEqual(s.expected());
    const inputs = versionTableIds(s.tree);
    // Fail only the second sync of /db in the compaction: the one after the rename of `current`.
    s.fs.addRule({ ops: "syncDirectory", path: PATH, after: 1, error: "EIO" });
    const failure = await rejectionOf(s.tree.majorCompact(TABLE_TARGET, 0));
    expect(codeOf(failure)).toBe("EIO");
    expect(s.fs.injected).toHaveLength(1);
    s.fs.clearRules();
    expect(entriesAt(s.tree)).toEqual(flushed);
    // A flush then syncs tables/ (making whatever happened there durable) before it publishes its own
    // version; cut the power at the first sync of that publication.
    s.put("G", ["k003"]);
    // Syncs of the flush: its table (0), tables/ (1), its version file (2), /db (3), ...
    const image = await cutDuring(crash, 2, () => s.tree.flushActiveMemtable(0));
    expect(image.exists(`${PATH}/tables`)).toBe(true);
    const tree = await Tree.open({ path: PATH, fs: image, ...TREE_OPTIONS }).catch((error: unknown) => {
      expectLsmError(error, ["UNRECOVERABLE"], undefined, "reopen after the cut");
      throw new Error(
        `the durable \`current\` names a version whose tables were deleted (inputs ${inputs.join(", ")} of the compaction whose directory sync failed): ${error.message}`,
      );
    });
    // Before the cut, all of `flushed` was durable: the compaction preserved it and the flush only adds.
    expect(entriesAt(tree)).toEqual(flushed);
    await tree.close();
  });
});

/** Runs `job` with the power cut at its sync number `n` (from 0); returns the crash image. */
async function cutDuring(fs: CrashFs, n: number, job: () => Promise<unknown>): Promise<CrashFs> {
  const start = fs.syncCount;
  fs.cutPowerAtSync(n);
  const failure = await rejectionOf(job());
  expect(failure).toBeInstanceOf(PowerCutError);
  expect(fs.syncCount - start).toBe(n);
  const image = fs.powerCutImage;
  if (image === undefined) throw new Error("no power cut happened");
  return image;
}

/** An iterator pins the inputs of a compaction; releasing it deletes them while `op` fails once. */
async function iteratorReleaseWithFault(op: "removeFile" | "close"): Promise<void> {
  const s = await scenario();
  await s.tree.flushActiveMemtable(0);
  const expected = entriesAt(s.tree);
  const inputs = versionTableIds(s.tree);
  const it = s.tree.iter(SEQNO_MAX);
  const first = it.next();
  expect(first.done).toBe(false);
  await s.tree.majorCompact(TABLE_TARGET, 0);
  // The iterator's snapshot still pins every input: nothing was deleted yet.
  expect(tableFileIds(s.fs, PATH).filter((id) => inputs.includes(id))).toEqual(inputs);
  s.fs.addRule({ ops: op, path: "**/tables/*", error: "EIO" });
  // Releasing a read snapshot is not the place to report a failed unlink of garbage (and when the
  // iterator is garbage-collected instead, it runs in a FinalizationRegistry callback, where a throw
  // is an uncaught exception).
  expect(() => it.return()).not.toThrow();
  expect(s.fs.injected).toHaveLength(1);
  // Every other input is gone; the one whose removal failed may remain until the next open.
  const failed = tableIdOf(s.fs.injected[0]?.path ?? "") as number;
  const live = versionTableIds(s.tree);
  expect(tableFileIds(s.fs, PATH).filter((id) => id !== failed)).toEqual(live);
  expect(entriesAt(s.tree)).toEqual(expected);
  await s.tree.close();
  const tree = await Tree.open({ path: PATH, fs: s.fs.inner, ...TREE_OPTIONS });
  expectCleanTreeDir(s.fs.inner, PATH, tree, "reopened");
  await tree.close();
}

/** Runs `fn`; returns its value, or the error it threw (so that a comparison shows which). */
function thrownByAsValue(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (error) {
    return error;
  }
}
